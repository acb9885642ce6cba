// image_grid: eval -> PNG. `count` test images in the top row, the model's reconstructions
// below, each cell `zoom` times enlarged: NAME_epoch<E>.png every `snapshot_every_epochs` epochs and
// `file` (NAME.png, default recon.png) after the last epoch. When the evaluation corrupts
// its inputs (denoising) there are three rows: original / corrupted / restored, with the test
// set's fixed corruption (the images the PSNR columns measure).
// YAML keys: count, seed (-1: the first `count` test images; else a seeded random pick),
// snapshot_every_epochs (the checkpoint node's name for the same meaning; was `every`), zoom, file.
#include <omp.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "nodes/data/corrupt.hpp"
#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/reports.hpp"
#include "nodes/sink/image_grid.hpp"
#include "pipeline/dnnl_ctx.hpp"

namespace aepipe {

Image tile_rows(const std::vector<std::vector<const uint8_t *>> &rows, int64_t h, int64_t w, int64_t c, int64_t zoom) {
    const int64_t gap = 2, cols = rows.empty() ? 0 : int64_t(rows[0].size());
    Image img;
    img.c = c;
    img.w = cols * (w * zoom + gap) + gap;
    img.h = int64_t(rows.size()) * (h * zoom + gap) + gap;
    img.px.assign(size_t(img.w * img.h * c), 64);
    for (size_t r = 0; r < rows.size(); ++r)
        for (size_t k = 0; k < rows[r].size(); ++k) {
            const uint8_t *src = rows[r][k];
            int64_t x0 = gap + int64_t(k) * (w * zoom + gap), y0 = gap + int64_t(r) * (h * zoom + gap);
            for (int64_t y = 0; y < h * zoom; ++y)
                for (int64_t x = 0; x < w * zoom; ++x)
                    for (int64_t ch = 0; ch < c; ++ch)
                        img.px[size_t(((y0 + y) * img.w + x0 + x) * c + ch)] = src[((y / zoom) * w + x / zoom) * c + ch];
        }
    return img;
}

namespace {

struct ImageGridParams {
    int64_t count = 0, seed = -1, snapshot_every_epochs = 0, zoom = 1;
    std::string file;
    static const Keys<ImageGridParams> &keys();
};
const Keys<ImageGridParams> &ImageGridParams::keys() {
    using P = ImageGridParams;
    static const Keys<P> k{
        key(&P::count, {"count", Kind::Int, "8", "images per row", {}, false, size_range(1, 1024)}),
        key(&P::seed, {"seed", Kind::Int, "-1", "-1: the first test images; else a seeded random pick", {}, false,
                       at_least(-1, 9007199254740992.0)}),
        key(&P::snapshot_every_epochs, {"snapshot_every_epochs", Kind::Int, "0",
                        "also write NAME_epoch<E>.png (NAME: file without .png) every N epochs (0: off)", {}, false,
                        at_least(0, 1e9)}),
        key(&P::zoom, {"zoom", Kind::Int, "2", "pixel enlargement", {}, false, size_range(1, 64)}),
        key(&P::file, {"file", Kind::String, "recon.png", "file name after the last epoch"})};
    return k;
}

class ImageGrid : public FlowNode {
public:
    explicit ImageGrid(const Params &p) : prm_(parse<ImageGridParams>(p)) {}
    void resolve(Pipeline &p, Diags &d) override {
        if (prm_.count < 1) d.error(params_.pos("count"), params_.context() + ": 'count' must be at least 1");
        if (prm_.zoom < 1) d.error(params_.pos("zoom"), params_.context() + ": 'zoom' must be at least 1");
        check_run_file_name("file", prm_.file, d);
        if (FlowNode *ev = p.upstream(id_, "in"))
            if (FlowNode *test = p.upstream(ev->id(), "data")) check_grid(test->sample_shape(p), d);
        if (!d.empty()) return;
        try {
            model_ = std::make_unique<Model>(model_spec_of(p, *this));
        } catch (const ConfigError &) {
            // reported by the training node
        }
    }
    void build(Pipeline &p) override {
        threads_ = p.side_threads();  // runs beside the training shards
        const OmpTeam team(threads_);  // its primitives run on that team (pipeline/dnnl_ctx.hpp)
        ws_ = std::make_unique<Workspace>(*model_, prm_.count);
        node_ = std::make_unique<flow::function_node<EvalMsg>>(p.graph(), flow::serial, [this, &p](const EvalMsg &m) {
            p.guard(*this, m, [&] { draw(p, m); });
            return flow::continue_msg();
        });
    }
    InPort in(const std::string &, const std::string &) override { return *node_; }
    // The grid and its PNG rows, and the inputs and outputs of `count` test images.
    void memory(const Pipeline &, std::vector<MemoryItem> &out) const override {
        const double bytes = 2 * grid_bytes_ + double(prm_.count) * double(dim_) * 10;
        out.push_back({params_.context(), params_.where(), bytes, "the image grid " + human_bytes(bytes)});
    }

private:
    // count and zoom are each in range, their product need not be: count 1024 at zoom 64 of
    // 28x28 images is a 6.6 GB picture that took minutes to draw, estimated nowhere.
    static constexpr double kMaxGridBytes = double(1 << 28);
    void check_grid(const Shape &s, Diags &d) {
        const double z = double(prm_.zoom), gap = 2;
        const double w = double(prm_.count) * (double(s.w) * z + gap) + gap, h = 3 * (double(s.h) * z + gap) + gap;
        dim_ = s.size();
        grid_bytes_ = w * h * double(s.c);  // three rows when denoising (original, corrupted, restored)
        if (grid_bytes_ > kMaxGridBytes)
            d.error(params_.pos("zoom"),
                    params_.context() + ": the grid of " + std::to_string(prm_.count) + " images at zoom " +
                        std::to_string(prm_.zoom) + " would be up to " + std::to_string(int64_t(w)) + "x" +
                        std::to_string(int64_t(h)) + " pixels (" + human_bytes(grid_bytes_) + "), more than 268 MB",
                    "lower 'count' or 'zoom'");
    }
    void draw(Pipeline &p, const EvalMsg &m) {
        const auto &r = epoch_report(m);
        const EvalReport &ev = eval_report(m);
        const int64_t e = r.epoch + 1;
        const bool periodic = periodic_epoch(prm_.snapshot_every_epochs, r);
        const std::string &dir = p.settings().run_dir;
        if ((!periodic && !r.last) || dir.empty()) return;
        omp_set_num_threads(threads_);  // this TBB thread's OpenMP team for oneDNN
        const Dataset &ds = *m.data;
        int64_t count = std::min(prm_.count, ds.n), dim = ds.dim(), seed = prm_.seed;
        std::vector<int64_t> pick(size_t(ds.n));
        std::iota(pick.begin(), pick.end(), 0);
        if (seed >= 0) {
            std::mt19937_64 rng{uint64_t(seed)};
            for (int64_t i = 0; i < count; ++i)
                std::swap(pick[size_t(i)], pick[size_t(i + int64_t(rng() % uint64_t(ds.n - i)))]);
        }
        std::vector<float> x(size_t(count * dim)), img(size_t(count * dim));
        for (int64_t k = 0; k < count; ++k) {
            const int64_t i = pick[size_t(k)];
            if (ev.corrupt)
                ev.corrupt->apply(ds.image(i), ds.h, ds.w, ds.c, ev.corrupt->key(Corruption::kTestEpoch, i), *ev.norm,
                                 x.data() + k * dim);
            else
                ev.norm->apply(ds.image(i), dim, x.data() + k * dim);
        }
        ws_->prepare(count);
        const float *y = ws_->forward(count, x.data(), r.params->data());
        model_->loss().to_image(count * dim, y, img.data());
        std::vector<uint8_t> recon(size_t(count * dim)), noisy(ev.corrupt ? size_t(count * dim) : 0);
        for (int64_t i = 0; i < count * dim; ++i) recon[size_t(i)] = ev.norm->to_byte(img[size_t(i)]);
        for (size_t i = 0; i < noisy.size(); ++i) noisy[i] = ev.norm->to_byte(x[i]);
        std::vector<std::vector<const uint8_t *>> rows(ev.corrupt ? 3 : 2);
        for (int64_t k = 0; k < count; ++k) {
            rows[0].push_back(ds.image(pick[size_t(k)]));
            if (ev.corrupt) rows[1].push_back(noisy.data() + k * dim);
            rows.back().push_back(recon.data() + k * dim);
        }
        Image grid = tile_rows(rows, ds.h, ds.w, ds.c, prm_.zoom);
        const std::string &file = prm_.file;
        const std::string stem = file.ends_with(".png") ? file.substr(0, file.size() - 4) : file;
        if (periodic) write_png(dir + "/" + stem + "_epoch" + std::to_string(e) + ".png", grid);
        if (r.last) {
            write_png(dir + "/" + file, grid);
            p.console().after_epoch(r.epoch, "images: " + dir + "/" + file);
        }
    }
    ImageGridParams prm_;
    double grid_bytes_ = 0;
    int64_t dim_ = 0;  // values per test image
    int threads_ = 1;
    std::unique_ptr<Model> model_;
    std::unique_ptr<Workspace> ws_;
    std::unique_ptr<flow::function_node<EvalMsg>> node_;
};

Registrar<FlowNodeRegistry> reg({"image_grid",
                                 Category::Sink,
                                 "PNG of test originals (top row) and their reconstructions (below); when "
                                 "denoising: original / corrupted / restored rows",
                                 ImageGridParams::keys().specs(),
                                 {{"in", {"eval"}, "evaluated epochs (carry the test set)"}},
                                 {},
                                 "",
                                 {{"every", "renamed: 'snapshot_every_epochs' (NAME_epoch<E>.png every N epochs), "
                                            "the checkpoint node's name for the same meaning"}}},
                                [](const Params &p) { return std::make_unique<ImageGrid>(p); });

}  // namespace
}  // namespace aepipe
