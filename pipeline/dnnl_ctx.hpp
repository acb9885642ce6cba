// The process-wide oneDNN CPU engine and stream, plus small memory helpers.
//
// Threads: Debian's libdnnl uses the OpenMP runtime. Every primitive runs on the OpenMP
// team of the calling thread; main() sizes that team once (omp_set_num_threads).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <unordered_map>
#include <vector>

namespace aepipe {

dnnl::engine &cpu_engine();
dnnl::stream &cpu_stream();

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

inline dnnl::memory::desc f32_md(const dims &d, tag t) { return dnnl::memory::desc(d, dt::f32, t); }

// A memory object without a buffer; its handle is set before each execution.
inline dnnl::memory unbound(const dnnl::memory::desc &md) {
    return dnnl::memory(md, cpu_engine(), DNNL_MEMORY_NONE);
}

// Primitive attributes every aepipe primitive uses: user-provided scratchpad, so one
// buffer owned by the model serves all primitives (no hidden per-thread allocations).
dnnl::primitive_attr user_scratchpad_attr();

// A primitive with its argument map built once; run() only swaps data handles.
struct Exec {
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
    std::vector<dnnl_exec_arg_t> c_args;  // the same arguments for the C API (built once)
    size_t scratch_bytes = 0;

    void set(int arg, const void *ptr) { args.at(arg).set_data_handle(const_cast<void *>(ptr)); }
    // Executes through the C API with the prebuilt argument array: the C++ wrapper would
    // build a std::vector of arguments on every call.
    void run(void *scratch);
    void finalize();
};

// Makes an Exec: one unbound memory object per argument descriptor, plus the scratchpad.
template <class Prim, class PD>
Exec make_exec(const PD &pd, std::initializer_list<std::pair<int, dnnl::memory::desc>> args) {
    Exec e;
    e.prim = Prim(pd);
    for (const auto &[arg, md] : args) e.args.emplace(arg, unbound(md));
    e.scratch_bytes = pd.scratchpad_desc().get_size();
    e.args.emplace(DNNL_ARG_SCRATCHPAD, unbound(pd.scratchpad_desc()));
    e.finalize();
    return e;
}

}  // namespace aepipe
