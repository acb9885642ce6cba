#include "pipeline/dnnl_ctx.hpp"

#include <omp.h>

namespace aepipe {

OmpTeam::OmpTeam(int n) : before_(omp_get_max_threads()) { omp_set_num_threads(n); }
OmpTeam::~OmpTeam() { omp_set_num_threads(before_); }

dnnl::engine &cpu_engine() {
    static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    return eng;
}

dnnl::stream &cpu_stream() {
    // A stream must not be used by two threads at once; training and evaluation run
    // concurrently on different threads, so each thread gets its own.
    thread_local dnnl::stream s(cpu_engine());
    return s;
}

dnnl::primitive_attr user_scratchpad_attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

void Exec::finalize() {
    c_args.clear();
    for (auto &[arg, mem] : args) c_args.push_back({arg, mem.get()});
}

void Exec::run(void *scratch) {
    if (scratch_bytes) args.at(DNNL_ARG_SCRATCHPAD).set_data_handle(scratch);
    dnnl::error::wrap_c_api(dnnl_primitive_execute(prim.get(), cpu_stream().get(), int(c_args.size()), c_args.data()),
                            "could not execute a primitive");
}

}  // namespace aepipe
