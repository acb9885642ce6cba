#include "pipeline/dist.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "pipeline/error.hpp"

#ifdef AEPIPE_WITH_MPI
#include <mpi.h>
#endif

namespace aepipe::dist {

namespace {
int g_rank = 0, g_size = 1, g_local = 1;
}

int rank() { return g_rank; }
int size() { return g_size; }
int ranks_on_this_host() { return g_local; }

double timeout_s() {
    static const double t = [] {
        const char *v = std::getenv("AEPIPE_DIST_TIMEOUT");
        double s = v ? std::atof(v) : 0;
        return s > 0 ? s : 600.0;
    }();
    return t;
}

#ifdef AEPIPE_WITH_MPI

namespace {
MPI_Comm g_comm[2] = {MPI_COMM_NULL, MPI_COMM_NULL};
std::vector<MPI_Request> g_started[2];

void finalize_at_exit() {
    int done = 0;
    MPI_Finalized(&done);
    if (done) return;
    for (MPI_Comm &c : g_comm)
        if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
    MPI_Finalize();
}

// Started by mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE; PMIx launchers PMIX_RANK).
bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK"); }

// Waits for a nonblocking collective with a deadline: Open MPI has no timeout of its own,
// and a rank that never arrives would otherwise hang every other rank for good.
void wait_bounded(MPI_Request &req, const char *what) {
    using clk = std::chrono::steady_clock;
    const auto start = clk::now();
    const auto deadline = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(timeout_s()));
    for (long spins = 0;; ++spins) {
        int done = 0;
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        if (spins > 2000) std::this_thread::sleep_for(std::chrono::microseconds(50));  // long waits: stop spinning
        if ((spins & 63) == 0 && clk::now() > deadline)
            abort(std::string(what) + ": the other ranks did not arrive within " + std::to_string(int(timeout_s())) +
                      " s (a rank failed or hangs; AEPIPE_DIST_TIMEOUT sets the limit)",
                  1);
    }
}

void allreduce(void *data, size_t n, MPI_Datatype type, Channel ch) {
    if (g_size == 1 || n == 0) return;
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, data, int(n), type, MPI_SUM, g_comm[int(ch)], &req);
    wait_bounded(req, ch == Channel::Train ? "gradient allreduce" : "test-set allreduce");
}
}  // namespace

bool built_with_mpi() { return true; }

void init(int &argc, char **&argv) {
    if (!launched_by_mpirun()) return;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    std::atexit(finalize_at_exit);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (provided < MPI_THREAD_MULTIPLE)
        abort("this MPI library does not provide MPI_THREAD_MULTIPLE (training and evaluation reduce on two threads)",
              1);
    for (MPI_Comm &c : g_comm) MPI_Comm_dup(MPI_COMM_WORLD, &c);
    MPI_Comm host;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host);
    MPI_Comm_size(host, &g_local);
    MPI_Comm_free(&host);
}

void allreduce_sum(float *data, size_t n, Channel ch) { allreduce(data, n, MPI_FLOAT, ch); }

void start_allreduce_sum(float *data, size_t n, Channel ch) {
    if (g_size == 1 || n == 0) return;
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, g_comm[int(ch)], &req);
    g_started[int(ch)].push_back(req);
}

void progress(Channel ch) {
    auto &reqs = g_started[int(ch)];
    if (reqs.empty()) return;
    int done = 0;
    MPI_Testall(int(reqs.size()), reqs.data(), &done, MPI_STATUSES_IGNORE);
}

void wait_started(Channel ch) {
    for (MPI_Request &req : g_started[int(ch)])
        if (req != MPI_REQUEST_NULL) wait_bounded(req, "gradient allreduce");
    g_started[int(ch)].clear();
}
void allreduce_sum(double *data, size_t n, Channel ch) { allreduce(data, n, MPI_DOUBLE, ch); }

void barrier() {
    if (g_size == 1) return;
    MPI_Request req;
    MPI_Ibarrier(g_comm[int(Channel::Train)], &req);
    wait_bounded(req, "barrier");
}

void broadcast(void *data, size_t bytes, int root) {
    if (g_size == 1 || bytes == 0) return;
    MPI_Request req;
    MPI_Ibcast(data, int(bytes), MPI_BYTE, root, g_comm[int(Channel::Train)], &req);
    wait_bounded(req, "broadcast");
}

void abort(const std::string &message, int code) {
    std::cout.flush();
    std::fprintf(stderr, "rank %d: %s\n", g_rank, message.c_str());
    std::fflush(stderr);
    if (g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
}

#else  // one process, no MPI

bool built_with_mpi() { return false; }
void init(int &, char **&) {}
void allreduce_sum(float *, size_t, Channel) {}
void allreduce_sum(double *, size_t, Channel) {}
void start_allreduce_sum(float *, size_t, Channel) {}
void progress(Channel) {}
void wait_started(Channel) {}
void barrier() {}
void broadcast(void *, size_t, int) {}
void abort(const std::string &message, int code) {
    std::cout.flush();
    std::fprintf(stderr, "rank 0: %s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(code);
}

#endif

}  // namespace aepipe::dist
