// Data parallelism across processes: the only door to MPI (no other file includes <mpi.h>).
//
// `mpirun -np N aepipe run CONFIG` starts N ranks. Each reads its slice of every global batch,
// `train` sums the gradients of all ranks with allreduce_sum and every rank applies the same
// update; rank 0 alone writes the run folder. Without mpirun (or in a build without MPI:
// AEPIPE_MPI=OFF) there is one rank and every call here is a no-op.
//
// Threads: collectives are called from two threads at once (the training step on a TBB
// thread, the test-set evaluation on the
// evaluate node's Worker thread), each on its own communicator
// (Channel), so MPI must provide MPI_THREAD_MULTIPLE; init() fails clearly otherwise.
// Every wait is bounded: a rank that does not arrive within timeout_s() seconds (another rank
// died or hangs) brings the job down with MPI_Abort and a message naming the waiting rank.
#pragma once

#include <cstddef>
#include <string>

namespace aepipe::dist {

enum class Channel { Train, Eval };

// Joins the MPI job when the process was started by mpirun (an Open MPI/PMIx environment);
// otherwise does nothing. MPI_Finalize runs at exit (also after std::exit).
void init(int &argc, char **&argv);
bool built_with_mpi();
int rank();                // 0 without MPI
int size();                // 1 without MPI
inline bool parallel() { return size() > 1; }
int ranks_on_this_host();  // 1 without MPI
// Seconds a collective may wait for the other ranks (AEPIPE_DIST_TIMEOUT, default 600).
double timeout_s();

// In-place sum over all ranks (no-op with one rank).
void allreduce_sum(float *data, size_t n, Channel ch);
void allreduce_sum(double *data, size_t n, Channel ch);
// Nonblocking sum: starts reducing `data` in place and returns; wait_started(ch) finishes
// every reduction started on `ch` (in order; all ranks must start the same sequence).
// progress(ch) lets them advance meanwhile: Open MPI moves them on only inside MPI calls.
// One thread at a time per channel.
void start_allreduce_sum(float *data, size_t n, Channel ch);
void progress(Channel ch);
void wait_started(Channel ch);
// Returns when every rank has called it.
void barrier();
// Copies root's bytes to every rank.
void broadcast(void *data, size_t bytes, int root = 0);

// Prints "rank R: message" on stderr and ends the whole job with `code` (MPI_Abort); with one
// rank it only prints and exits. Never returns.
[[noreturn]] void abort(const std::string &message, int code);

}  // namespace aepipe::dist
