// aepipe generate: images from a trained VAE's decoder (the layers after its `sample` layer).
//   --n N [--seed S]     N codes z ~ N(0, I) (counter-based draws, stream -2: a function of
//                        (S, i, j) only) decoded into a grid of ceil(sqrt(N)) columns
//   --interpolate A,B    test images A and B, their mean codes (encoder, no sampling), and
//                        --steps decodings along the straight line between the codes, in one row
//   --manifold N         2-D latent only: an N x N grid of codes at the normal quantiles
//                        Phi^-1((i + 0.5) / N) (Kingma & Welling's manifold figure)
// The checkpoint's model card (nodes/sink/model_card.hpp) gives the model, its input shape,
// the pixel normalisation and the test set (the evaluate node's); for older checkpoints
// without one, the run's config.yaml beside the checkpoint (or --config) does.
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "formats/idx.hpp"
#include "nodes/nn/noise.hpp"
#include "nodes/sink/image_grid.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/cli/cli.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {
namespace {

const char *kGenerateUsage =
    "Decodes images with a trained VAE (a model with a sample layer) into a PNG grid:\n"
    "  --n N [--seed S]    N samples from the prior N(0, I)               (default samples.png)\n"
    "  --interpolate A,B   test images A and B with decodings between their codes (interpolate.png)\n"
    "  --manifold N        2-D latent only: N x N decodings over the latent plane (manifold.png)\n"
    "One grid per call: options of two grids (e.g. --n with --interpolate) are an error.\n"
    "The model comes from the checkpoint alone (its model card); older checkpoints need the run's config.\n"
    "Files go beside the checkpoint unless --out says otherwise.\n";

// Layers [first, last) of the model on n rows of x.
std::vector<float> run_layers(Model &m, const float *params, size_t first, size_t last, int64_t n,
                              std::vector<float> x) {
    std::vector<float> y;
    std::vector<char> scratch;
    for (size_t i = first; i < last; ++i) {
        Layer &l = m.layer(i);
        scratch.resize(std::max(scratch.size(), l.prepare(n)));
        y.assign(size_t(n * l.out_dim()), 0.f);
        l.forward(n, x.data(), y.data(), params + m.offset(i), scratch.data());
        std::swap(x, y);
    }
    return x;
}

struct Vae {
    TrainedModel t;
    int64_t h = 0, w = 0, c = 1, k = 0;
    size_t sample = 0;

    // Decoder output for codes z (n, k) as image bytes (n, h*w*c).
    std::vector<uint8_t> decode(int64_t n, std::vector<float> z) {
        Model &m = *t.model;
        std::vector<float> y = run_layers(m, t.params.data(), sample + 1, m.num_layers(), n, std::move(z));
        m.loss().to_image(int64_t(y.size()), y.data(), y.data());
        std::vector<uint8_t> px(y.size());
        for (size_t i = 0; i < y.size(); ++i) px[i] = t.card.norm.to_byte(y[i]);
        return px;
    }
    // Mean codes mu (n, k) of images (n, h*w*c bytes).
    std::vector<float> encode(int64_t n, const uint8_t *images) {
        const int64_t dim = h * w * c;
        std::vector<float> x(size_t(n * dim));
        t.card.norm.apply(images, n * dim, x.data());
        std::vector<float> ml = run_layers(*t.model, t.params.data(), 0, sample, n, std::move(x)), mu(size_t(n * k));
        for (int64_t i = 0; i < n; ++i) std::copy_n(ml.data() + i * 2 * k, k, mu.data() + i * k);
        return mu;
    }
};

Vae load_vae(const std::string &checkpoint, const std::string &config) {
    Vae v;
    v.t = load_trained_model(checkpoint, config);
    const Model &m = *v.t.model;
    if (m.sample_layer() < 0)
        throw DataError(checkpoint, "its model (" + m.summary() + ", from " + v.t.source +
                                        ") has no sample layer: aepipe generate needs a VAE such as "
                                        "configs/mnist_vae.yaml");
    v.h = v.t.card.input.h, v.w = v.t.card.input.w, v.c = v.t.card.input.c;
    v.sample = size_t(m.sample_layer());
    v.k = v.t.model->layer(v.sample).out_dim();
    return v;
}

std::pair<int64_t, int64_t> parse_pair(const std::string &s) {
    size_t comma = s.find(',');
    try {
        size_t a_end = 0, b_end = 0;
        if (comma == std::string::npos) throw std::invalid_argument("no comma");
        int64_t a = std::stoll(s.substr(0, comma), &a_end), b = std::stoll(s.substr(comma + 1), &b_end);
        if (a_end != comma || b_end != s.size() - comma - 1) throw std::invalid_argument("trailing text");
        return {a, b};
    } catch (const std::exception &) {
        throw po::error("--interpolate expects two test-set indices A,B (e.g. 3,7), got '" + s + "'");
    }
}

void write_grid(const Vae &v, const std::vector<std::vector<const uint8_t *>> &rows, int64_t zoom,
                const std::string &path) {
    write_png(path, tile_rows(rows, v.h, v.w, v.c, zoom));
    std::cout << "wrote " << path << "\n";
}

// Each grid has its own options; options of two grids in one call would leave one unused.
void check_one_grid(const po::variables_map &vm) {
    static const std::pair<const char *, const char *> kGridOf[] = {{"n", "samples"},
                                                                    {"seed", "samples"},
                                                                    {"interpolate", "interpolation"},
                                                                    {"steps", "interpolation"},
                                                                    {"manifold", "manifold"}};
    std::string first, first_grid;
    for (const auto &[opt, grid] : kGridOf) {
        if (!vm.count(opt) || vm[opt].defaulted()) continue;
        if (first.empty()) {
            first = opt, first_grid = grid;
        } else if (first_grid != grid) {
            throw po::error("--" + first + " and --" + opt + " exclude each other: --" + first + " is for the " +
                            first_grid + " grid, --" + opt + " for the " + grid +
                            " grid (one grid per call: --n/--seed samples, --interpolate/--steps, --manifold)");
        }
    }
    // Without --interpolate the samples grid is drawn and --steps would change nothing.
    if (first == "steps" && !vm.count("interpolate"))
        throw po::error("--steps needs --interpolate A,B: it sets the decodings of the interpolation grid");
}

void write_manifold(Vae &v, int64_t g, int64_t zoom, const std::string &path) {
    if (v.k != 2)
        throw po::error("--manifold needs a 2-D latent code; this model's sample layer gives " + std::to_string(v.k) +
                        " dimensions (set the layer before it to 4 units)");
    if (g < 1 || g > 100) throw po::error("--manifold must be in 1..100, got " + std::to_string(g));
    std::vector<float> z(size_t(g * g * 2));
    auto quantile = [&](int64_t i) {
        return float(std::sqrt(2.0) * boost::math::erf_inv(2.0 * (double(i) + 0.5) / double(g) - 1.0));
    };
    for (int64_t r = 0; r < g; ++r)
        for (int64_t col = 0; col < g; ++col) {
            z[size_t((r * g + col) * 2)] = quantile(col);           // z1 grows to the right
            z[size_t((r * g + col) * 2 + 1)] = quantile(g - 1 - r);  // z2 grows upwards
        }
    std::vector<uint8_t> px = v.decode(g * g, std::move(z));
    std::vector<std::vector<const uint8_t *>> rows(static_cast<size_t>(g));
    for (int64_t i = 0; i < g * g; ++i) rows[size_t(i / g)].push_back(px.data() + i * v.h * v.w * v.c);
    write_grid(v, rows, zoom, path);
}

void write_interpolation(Vae &v, const std::string &pair, int64_t steps, int64_t zoom, const std::string &path) {
    auto [a, b] = parse_pair(pair);
    const std::string &test = v.t.card.test_images;
    if (test.empty())
        throw RuntimeError("--interpolate takes its images from the run's test set, and the model's run had none "
                           "(no evaluate node)");
    Dataset ds = load_dataset(test, "");
    for (int64_t i : {a, b})
        if (i < 0 || i >= ds.n)
            throw po::error("--interpolate: index " + std::to_string(i) + " is out of range: the test set " + test +
                            " has " + std::to_string(ds.n) + " images (0.." + std::to_string(ds.n - 1) + ")");
    const int64_t dim = v.h * v.w * v.c;
    std::vector<uint8_t> ends(size_t(2 * dim));
    std::copy_n(ds.image(a), dim, ends.data());
    std::copy_n(ds.image(b), dim, ends.data() + dim);
    std::vector<float> mu = v.encode(2, ends.data()), z(size_t(steps * v.k));
    for (int64_t s = 0; s < steps; ++s) {
        const float t = float(s) / float(steps - 1);
        for (int64_t j = 0; j < v.k; ++j) z[size_t(s * v.k + j)] = (1 - t) * mu[size_t(j)] + t * mu[size_t(v.k + j)];
    }
    std::vector<uint8_t> px = v.decode(steps, std::move(z));
    std::vector<std::vector<const uint8_t *>> rows(1);
    rows[0].push_back(ds.image(a));
    for (int64_t s = 0; s < steps; ++s) rows[0].push_back(px.data() + s * dim);
    rows[0].push_back(ds.image(b));
    write_grid(v, rows, zoom, path);
}

void write_samples(Vae &v, int64_t n, uint64_t seed, int64_t zoom, const std::string &path) {
    std::vector<float> z(size_t(n * v.k));
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t key = noise_row_key(seed, -2, i);
        for (int64_t j = 0; j < v.k; ++j) z[size_t(i * v.k + j)] = counter_normal(key, j);
    }
    std::vector<uint8_t> px = v.decode(n, std::move(z));
    const int64_t cols = int64_t(std::ceil(std::sqrt(double(n))));
    std::vector<std::vector<const uint8_t *>> rows(size_t((n + cols - 1) / cols));
    for (int64_t i = 0; i < n; ++i) rows[size_t(i / cols)].push_back(px.data() + i * v.h * v.w * v.c);
    write_grid(v, rows, zoom, path);
}

}  // namespace

int cmd_generate(const std::vector<std::string> &args) {
    po::options_description opts("aepipe generate --checkpoint FILE [options]");
    opts.add_options()("help,h", "show this help")("checkpoint", po::value<std::string>(),
                                                   "a VAE run's model.safetensors (required)")(
        "config", po::value<std::string>(),
        "the run's config, for checkpoints without a model card (default: the checkpoint's card, else "
        "config.yaml beside it)")(
        "n", po::value<int64_t>()->default_value(64), "samples from the prior")(
        "seed", po::value<uint64_t>()->default_value(0), "seed of the prior samples")(
        "interpolate", po::value<std::string>(), "A,B: interpolate between test images A and B")(
        "steps", po::value<int64_t>()->default_value(10), "decodings between A and B (both ends included)")(
        "manifold", po::value<int64_t>(), "N: N x N grid over a 2-D latent plane")(
        "zoom", po::value<int64_t>()->default_value(2), "pixel enlargement")(
        "out", po::value<std::string>(), "PNG to write (default: beside the checkpoint)");
    po::options_description hidden;
    po::positional_options_description pos;
    auto vm = parse_with(args, opts, hidden, pos, kGenerateUsage);
    if (!vm.count("checkpoint")) throw po::error("missing --checkpoint FILE (a VAE run's model.safetensors)");
    check_one_grid(vm);
    const int64_t n = vm["n"].as<int64_t>(), steps = vm["steps"].as<int64_t>(), zoom = vm["zoom"].as<int64_t>();
    if (n < 1 || n > 10000) throw po::error("--n must be in 1..10000, got " + std::to_string(n));
    if (steps < 2 || steps > 100) throw po::error("--steps must be in 2..100, got " + std::to_string(steps));
    if (zoom < 1 || zoom > 16) throw po::error("--zoom must be in 1..16, got " + std::to_string(zoom));
    const std::string checkpoint = vm["checkpoint"].as<std::string>();
    auto out = [&](const char *name) {
        return vm.count("out") ? vm["out"].as<std::string>() : (fs::path(checkpoint).parent_path() / name).string();
    };
    Vae v = load_vae(checkpoint, vm.count("config") ? vm["config"].as<std::string>() : "");
    if (vm.count("out")) make_parent_dir(vm["out"].as<std::string>());
    if (vm.count("manifold"))
        write_manifold(v, vm["manifold"].as<int64_t>(), zoom, out("manifold.png"));
    else if (vm.count("interpolate"))
        write_interpolation(v, vm["interpolate"].as<std::string>(), steps, zoom, out("interpolate.png"));
    else
        write_samples(v, n, vm["seed"].as<uint64_t>(), zoom, out("samples.png"));
    return 0;
}

}  // namespace aepipe::cli
