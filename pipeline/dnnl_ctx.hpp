// The process-wide oneDNN CPU engine and stream, plus small memory helpers.
//
// Threads: Debian's libdnnl uses the OpenMP runtime. Every primitive runs on the OpenMP
// team of the calling thread; main() sizes that team once (omp_set_num_threads). The team's
// size is fixed when the primitive is made (the making thread's omp_get_max_threads()), and a
// primitive run on another thread starts a team of that size there: see OmpTeam.
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

// Within its scope the calling thread's OpenMP team has n threads (then the size it had), for
// primitives made on one thread to run on another: the evaluation's Workspace is built on a
// graph thread (team of omp_per_shard) for a Worker thread (team of side_threads). Made with
// the graph thread's team, each evaluation ran a second team of 2 beside training's on 2
// cores, which (more OpenMP threads than cores) makes libgomp put every waiting thread to
// sleep at once instead of spinning, training's included (measured: fashion_conv_ae, 2
// threads, epoch 2: 9,500-10,300 samples/s, 12,600-14,000 with no evaluation).
class OmpTeam {
public:
    explicit OmpTeam(int n);
    ~OmpTeam();
    OmpTeam(const OmpTeam &) = delete;
    OmpTeam &operator=(const OmpTeam &) = delete;

private:
    int before_;
};

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
