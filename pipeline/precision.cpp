#include "pipeline/precision.hpp"

#include <oneapi/dnnl/dnnl.hpp>

namespace aepipe {

const char *precision_name(Precision p) { return p == Precision::BF16 ? "bf16" : "f32"; }

// oneDNN's ISA values are bit masks, each a superset of the ones below it (AMX includes
// avx512_core_bf16's bits), so "has bf16" is "contains avx512_core_bf16's mask".
bool cpu_has_bf16() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
}

std::string cpu_isa_name() {
    using I = dnnl::cpu_isa;
    switch (dnnl::get_effective_cpu_isa()) {
        case I::sse41: return "sse41";
        case I::avx: return "avx";
        case I::avx2: return "avx2";
        case I::avx512_mic: return "avx512_mic";
        case I::avx512_mic_4ops: return "avx512_mic_4ops";
        case I::avx512_core: return "avx512_core";
        case I::avx512_core_vnni: return "avx512_core_vnni";
        case I::avx512_core_bf16: return "avx512_core_bf16";
        case I::avx512_core_amx: return "avx512_core_amx";
        case I::avx2_vnni: return "avx2_vnni";
        default: return "generic";
    }
}

}  // namespace aepipe
