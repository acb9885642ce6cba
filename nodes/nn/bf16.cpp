// f32 -> bf16 with oneDNN's reorder (round to nearest even, as its bf16 kernels expect).
#include "nodes/nn/bf16.hpp"

namespace aepipe {

size_t Bf16Copy::prepare(int64_t rows) {
    auto it = execs_.find(rows);
    if (it == execs_.end()) {
        const dnnl::memory::desc from({rows * width_}, dt::f32, tag::a), to({rows * width_}, dt::bf16, tag::a);
        dnnl::reorder::primitive_desc pd(cpu_engine(), from, cpu_engine(), to, user_scratchpad_attr());
        it = execs_.emplace(rows, make_exec<dnnl::reorder>(pd, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}})).first;
    }
    if (int64_t(buf_.size()) < rows * width_) buf_.resize(size_t(rows * width_));
    return it->second.scratch_bytes;
}

const void *Bf16Copy::convert(int64_t rows, const float *src, void *scratch) {
    Exec &e = execs_.at(rows);
    e.set(DNNL_ARG_FROM, src);
    e.set(DNNL_ARG_TO, buf_.data());
    e.run(scratch);
    return buf_.data();
}

}  // namespace aepipe
