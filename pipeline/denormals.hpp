// Denormal floats (magnitude below 1.2e-38) read and written as zero: x86's FTZ and DAZ bits of
// MXCSR, set on the calling thread. Threads started afterwards inherit the bits (TBB workers,
// OpenMP teams, aepipe's worker threads), so main() sets them before it starts any thread.
//
// Why: a weight whose gradient stops (a dead ReLU unit, a pixel that is always 0) has Adam's
// first moment decaying by beta1 every step into the denormal range, where every multiply
// takes a microcode assist. Measured (Fashion-MNIST, dense seed model, batch 50, one core of
// an AMD EPYC): steps after the first epoch ran 4-12% slower than the first 300 without these
// bits and 0-8% with them (median step 1,652 -> 1,494 us over 4 interleaved pairs). The
// results differ only in values below 1.2e-38. TensorFlow sets the same bits on its threads.
#pragma once

namespace aepipe {

// No-op where the CPU has no such mode.
void flush_denormals_to_zero();

// Whether the calling thread has both bits set (tests).
bool denormals_flushed();

}  // namespace aepipe
