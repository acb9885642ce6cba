// aepipe reconstruct: a trained model applied to the user's own pictures.
//   aepipe reconstruct --checkpoint RUN/model.safetensors [--config RUN/config.yaml] IMAGE.png ... [--out DIR]
// The model, its input shape (HxWxC) and its normalisation come from the checkpoint's model
// card (nodes/sink/model_card.hpp; older checkpoints: the run's config); each picture is brought
// to that shape (formats/image_prep.hpp), run through the model in one batch, and written
// as DIR/<name>_input.png and DIR/<name>_recon.png (name: the file's stem), plus DIR/grid.png (inputs above their
// reconstructions). Every picture is read and checked before anything is written.
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "formats/image_prep.hpp"
#include "nodes/sink/image_grid.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

namespace {

// Output base names: the file stems; stems that repeat get their folder's name in front
// (circle/0000.png, triangle/0000.png -> circle_0000, triangle_0000), then -2, -3... if still equal.
std::vector<std::string> out_names(const std::vector<std::string> &images) {
    std::map<std::string, int> stems;
    for (const auto &img : images) ++stems[fs::path(img).stem().string()];
    std::vector<std::string> names;
    std::set<std::string> used;
    for (const auto &img : images) {
        fs::path p(img);
        std::string stem = p.stem().string(), folder = fs::absolute(p).parent_path().filename().string();
        if (stems[stem] > 1 && !folder.empty()) stem = folder + "_" + stem;
        std::string name = stem;
        for (int k = 2; used.count(name); ++k) name = stem + "-" + std::to_string(k);
        used.insert(name);
        names.push_back(name);
    }
    return names;
}

std::string describe(const Image &src, const Prepared &p, const PrepOptions &opt) {
    static const char *kinds[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    std::string s = std::to_string(src.w) + "x" + std::to_string(src.h) + " " + kinds[src.c];
    const std::string side = std::to_string(p.img.w), box = std::to_string(std::lround(double(p.img.w) * 20.0 / 28.0));
    s += p.mnist ? ", fitted " + box + "x" + box + " in " + side + "x" + side : std::string(", resized");
    if (p.inverted) s += ", inverted";
    if (p.inverted && opt.invert == PrepOptions::Invert::Auto) s += " (dark on light)";
    return s;
}

struct Options {
    std::vector<std::string> images;
    std::string checkpoint, config, out;
    int64_t zoom = 4;
    PrepOptions prep;
};

Options parse_options(const std::vector<std::string> &args) {
    Options o;
    po::options_description opts("aepipe reconstruct --checkpoint FILE [--config FILE] IMAGE.png ... [options]");
    opts.add_options()("help,h", "show this help")("checkpoint", po::value<std::string>(),
                                                   "a trained model (RUN/model.safetensors)")(
        "config", po::value<std::string>(),
        "the run's config, for checkpoints without a model card (default: the checkpoint's own card, else "
        "config.yaml beside it)")(
        "out", po::value<std::string>(&o.out)->default_value("reconstructions"), "folder for the output PNGs")(
        "zoom", po::value<int64_t>(&o.zoom)->default_value(4), "pixel enlargement in grid.png");
    add_prep_options(opts);
    po::options_description hidden;
    hidden.add_options()("images", po::value<std::vector<std::string>>(&o.images));
    po::positional_options_description pos;
    pos.add("images", -1);
    auto vm =
        parse_with(args, opts, hidden, pos,
                   "Runs a trained model on your own PNG pictures (any size; gray, RGB, with alpha or palette).\n"
                   "28x28 gray models get MNIST's recipe: gray, dark-on-light inverted to light-on-dark, the ink\n"
                   "fitted into 20x20 and centred by mass in 28x28; other shapes a plain resize. Writes\n"
                   "OUT/<name>_input.png (what the model saw), OUT/<name>_recon.png and OUT/grid.png.\n"
                   "--raw feeds the pictures as they are (resized only), e.g. noisy photos for a denoiser.\n");
    if (!vm.count("checkpoint")) throw po::error("missing --checkpoint FILE (a run's model.safetensors)");
    if (o.images.empty()) throw po::error("no IMAGE.png given");
    if (o.zoom < 1) throw po::error("--zoom must be at least 1");
    o.prep = prep_options(vm);
    o.checkpoint = vm["checkpoint"].as<std::string>();
    if (vm.count("config")) o.config = vm["config"].as<std::string>();
    return o;
}

// All pictures through the model in one batch; reconstructions as images of the input shape.
std::vector<Image> reconstruct(TrainedModel &t, const std::vector<Prepared> &inputs) {
    const Shape in = t.card.input;
    const int64_t n = int64_t(inputs.size()), dim = in.size();
    std::vector<float> x(size_t(n * dim)), y(size_t(n * dim));
    for (int64_t k = 0; k < n; ++k) t.card.norm.apply(inputs[size_t(k)].img.px.data(), dim, x.data() + k * dim);
    Workspace ws(*t.model, n);
    ws.prepare(n);
    t.model->loss().to_image(n * dim, ws.forward(n, x.data(), t.params.data()), y.data());
    std::vector<Image> out;
    for (int64_t k = 0; k < n; ++k) {
        Image r{in.w, in.h, in.c, std::vector<uint8_t>(size_t(dim))};
        for (int64_t i = 0; i < dim; ++i) r.px[size_t(i)] = t.card.norm.to_byte(y[size_t(k * dim + i)]);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

int cmd_reconstruct(const std::vector<std::string> &args) {
    const Options o = parse_options(args);
    TrainedModel t = load_trained_model(o.checkpoint, o.config);
    const Shape in = t.card.input;
    // Every picture is read and prepared before anything is written.
    std::vector<Prepared> inputs;
    std::vector<std::string> notes;
    for (const auto &path : o.images) {
        Image src = read_png(path);
        inputs.push_back(prepare_input(src, in.h, in.w, in.c, path, o.prep));
        notes.push_back(describe(src, inputs.back(), o.prep));
    }
    const std::vector<Image> recons = reconstruct(t, inputs);
    bool fitted = false;
    for (const auto &p : inputs) fitted = fitted || p.mnist;
    if (t.card.corruption && fitted)
        std::cout << "note: this model was trained as a denoiser, and MNIST's fit cuts the background level, which "
                     "removes most noise before the model sees it; --raw feeds the pictures as they are\n";

    fs::create_directories(o.out);
    const auto names = out_names(o.images);
    std::vector<std::vector<const uint8_t *>> rows(2);
    for (size_t k = 0; k < inputs.size(); ++k) {
        const std::string base = o.out + "/" + names[k];
        write_png(base + "_input.png", inputs[k].img);
        write_png(base + "_recon.png", recons[k]);
        rows[0].push_back(inputs[k].img.px.data());
        rows[1].push_back(recons[k].px.data());
        std::cout << o.images[k] << ": " << notes[k] << " -> " << base << "_recon.png\n";
    }
    write_png(o.out + "/grid.png", tile_rows(rows, in.h, in.w, in.c, o.zoom));
    std::cout << "grid: " << o.out << "/grid.png (inputs above their reconstructions)\n";
    return 0;
}

}  // namespace aepipe::cli
