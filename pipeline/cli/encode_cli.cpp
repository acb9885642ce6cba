// aepipe encode: the codes a trained model gives its data, for NumPy.
//   aepipe encode --checkpoint RUN/model.safetensors [DATA] [--labels FILE] [--out codes.npy]
// DATA: an IDX file, a folder of PNGs, or the run's own test set (nodes/data/infer_data.hpp).
// Writes OUT (float32 [N, K]), OUT's stem + "-labels.npy" (int64 [N], when the data has labels)
// and OUT's stem + ".svg" (the latent picture, pipeline/report/latent_plot.hpp). The code layer:
// nodes/nn/code_layer.hpp. Everything is computed before anything is written.
#include <filesystem>
#include <iostream>

#include "nodes/nn/code_layer.hpp"
#include "nodes/sink/npy.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/file_io.hpp"
#include "nodes/data/infer_data.hpp"
#include "pipeline/report/latent_plot.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

namespace {

struct EncodeOptions {
    PrepOptions prep;  // how a folder of PNGs becomes model inputs
    std::string checkpoint, config, data, labels, out;
    int64_t batch = 256;
};

EncodeOptions parse_encode(const std::vector<std::string> &args) {
    EncodeOptions o;
    po::options_description opts("aepipe encode --checkpoint FILE [DATA] [options]");
    opts.add_options()("help,h", "show this help")("checkpoint", po::value<std::string>(&o.checkpoint),
                                                   "a trained model (RUN/model.safetensors)")(
        "config", po::value<std::string>(&o.config), "describe the model by this config (older checkpoints)")(
        "labels", po::value<std::string>(&o.labels), "IDX labels of DATA (default: the labels file beside it)")(
        "out", po::value<std::string>(&o.out)->default_value("codes.npy"), "the codes, float32 [N, K]")(
        "batch", po::value<int64_t>(&o.batch)->default_value(256), "rows per forward pass");
    add_prep_options(opts);
    po::options_description hidden;
    hidden.add_options()("data", po::value<std::string>(&o.data));
    po::positional_options_description pos;
    pos.add("data", 1);
    auto vm = parse_with(args, opts, hidden, pos,
                         "Writes the codes of DATA (an IDX file, a folder of PNGs, or the run's test set when omitted)\n"
                         "as a NumPy .npy file, their labels beside it (STEM-labels.npy) and a picture of them "
                         "(STEM.svg).\nThe code is the layer marked 'code: true', else a VAE's mu, else the narrowest "
                         "layer.\nPNGs are prepared as by reconstruct (--fit, --invert); --raw feeds them as they are.\n");
    if (o.checkpoint.empty()) throw po::error("missing --checkpoint FILE (a run's model.safetensors)");
    o.prep = prep_options(vm);
    if (o.batch < 1) throw po::error("--batch must be at least 1");
    if (fs::path(o.out).extension() != ".npy") throw po::error("--out '" + o.out + "': expected a .npy file name");
    return o;
}

// OUT's sibling with the same stem: codes.npy -> codes-labels.npy, codes.svg.
std::string beside(const std::string &out, const std::string &suffix) {
    fs::path p(out);
    return (p.parent_path() / (p.stem().string() + suffix)).string();
}

}  // namespace

int cmd_encode(const std::vector<std::string> &args) {
    const EncodeOptions o = parse_encode(args);
    TrainedModel t = load_trained_model(o.checkpoint, o.config);
    const CodeLayer code = code_layer(*t.model, o.checkpoint);
    const InferData d = load_infer_data(o.data, o.labels, t.card, o.prep);
    std::vector<float> codes(size_t(d.n * code.width));
    Workspace ws(*t.model, std::min(o.batch, d.n));
    for_batches(d, t.card.norm, o.batch, [&](int64_t b, int64_t rows, const float *x) {
        encode_rows(*t.model, ws, code, rows, x, t.params.data(), codes.data() + b * code.width);
    });
    const LatentPicture pic =
        latent_svg(codes.data(), d.n, code.width, d.labels, "codes of " + fs::path(d.source).filename().string());

    check_output_files({o.out, beside(o.out, "-labels.npy"), beside(o.out, ".svg")});
    make_parent_dir(o.out);
    write_npy(o.out, d.n, code.width, codes.data());
    std::cout << "codes: " << o.out << " (" << d.n << " x " << code.width << ", from " << code.what << ") of "
              << d.source << "\n";
    if (!d.labels.empty()) {
        write_npy_labels(beside(o.out, "-labels.npy"), d.labels);
        std::cout << "labels: " << beside(o.out, "-labels.npy") << " (from " << d.labels_source << ")\n";
    } else if (std::error_code ec; fs::remove(beside(o.out, "-labels.npy"), ec)) {
        // An earlier call's labels would sit beside these codes as if they were theirs.
        std::cout << "removed " << beside(o.out, "-labels.npy") << " (an earlier call's; this data has no labels)\n";
    }
    write_file_atomic(beside(o.out, ".svg"), pic.svg);
    std::cout << "picture: " << beside(o.out, ".svg") << " (" << pic.caption << ")\n";
    return 0;
}

}  // namespace aepipe::cli
