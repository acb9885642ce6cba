#include "nodes/sink/latent_report.hpp"

#include <filesystem>

#include "nodes/nn/code_layer.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "nodes/data/infer_data.hpp"
#include "pipeline/report/latent_plot.hpp"

namespace aepipe {

std::string write_run_latent(const std::string &run_dir) {
    const std::string ckpt = run_dir + "/model.safetensors";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ckpt, ec)) return "";
    TrainedModel t = load_trained_model(ckpt);
    if (t.card.test_images.empty()) return "";
    CodeLayer code;
    try {
        code = code_layer(*t.model, ckpt);
    } catch (const RuntimeError &) {
        return "";  // no bottleneck, no latent space to draw
    }
    const InferData d = load_infer_data("", "", t.card);
    std::vector<float> codes(size_t(d.n * code.width));
    const int64_t batch = 256;
    Workspace ws(*t.model, std::min(batch, d.n));
    for_batches(d, t.card.norm, batch, [&](int64_t b, int64_t rows, const float *x) {
        encode_rows(*t.model, ws, code, rows, x, t.params.data(), codes.data() + b * code.width);
    });
    const LatentPicture pic = latent_svg(codes.data(), d.n, code.width, d.labels, "test codes");
    write_file_atomic(run_dir + "/latent.svg", pic.svg);
    write_file_atomic(run_dir + "/latent.txt", pic.caption + ", from " + code.what);
    return run_dir + "/latent.svg (" + pic.caption + ")";
}

}  // namespace aepipe
