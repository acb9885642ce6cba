// Arithmetic precision of training's matmuls and convolutions (train.precision), and whether
// this CPU can run bf16 natively.
//
// bf16 keeps f32 master weights, gradients and optimizer state; only the operands of the
// oneDNN matmuls / convolutions are rounded to bf16 (results accumulate in f32). Without the
// CPU's bf16 instructions oneDNN would fall back to slow emulated kernels (or none), which
// defeats the point, so a config that asks for bf16 there is refused up front.
#pragma once

#include <string>

namespace aepipe {

enum class Precision { F32, BF16 };

const char *precision_name(Precision p);

// What this CPU offers for bf16, as oneDNN sees it (dnnl::get_effective_cpu_isa(), which also
// honours DNNL_MAX_CPU_ISA): true from avx512_core_bf16 (AVX512-BF16) and AMX up.
bool cpu_has_bf16();
// oneDNN's name of the ISA it dispatches to ("avx512_core", ...), for error messages.
std::string cpu_isa_name();

}  // namespace aepipe
