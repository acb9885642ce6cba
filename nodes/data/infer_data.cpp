#include "nodes/data/infer_data.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "formats/idx.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe {

namespace {

// MNIST's naming: train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz ("images" ->
// "labels", "idx3" -> "idx1"); "" when the name has no "images" or no such file exists.
std::string labels_beside(const std::string &images) {
    fs::path p(images);
    std::string name = p.filename().string();
    const auto at = name.find("images");
    if (at == std::string::npos) return "";
    name.replace(at, 6, "labels");
    if (const auto i3 = name.find("idx3"); i3 != std::string::npos) name.replace(i3, 4, "idx1");
    const fs::path l = p.parent_path() / name;
    std::error_code ec;
    return fs::is_regular_file(l, ec) ? l.string() : "";
}

// `classes`: keep only the samples with these labels (the run's test reader filtered them).
InferData from_idx(const std::string &images, std::string labels, const Shape &want,
                   const std::vector<int64_t> &classes = {}) {
    require_regular_file(images, "an IDX file", "data file not found");
    if (labels.empty()) labels = labels_beside(images);
    Dataset ds = load_dataset(images, labels);
    if (ds.n == 0) throw DataError(images, "the file holds no images");
    if (!classes.empty()) keep_classes(ds, classes, labels);
    const Shape got{ds.c, ds.h, ds.w};
    if (got.size() != want.size() || (got.spatial() && want.spatial() && got != want))
        throw DataError(images, "the images are " + got.str() + " but the model takes " + want.str() + " inputs");
    InferData d;
    d.source = images, d.labels_source = labels, d.n = ds.n, d.shape = want;
    if (!classes.empty()) d.source += " (classes " + labels_text(classes) + ")";
    d.pixels = std::move(ds.pixels);
    d.labels.assign(ds.labels.begin(), ds.labels.end());
    return d;
}

InferData from_pngs(const std::string &dir, const Shape &want, const PrepOptions &prep) {
    std::vector<std::string> files;
    for (const auto &e : fs::directory_iterator(dir))
        // Not only regular files: a FIFO named x.png is refused by read_png naming what it is,
        // rather than skipped into "no .png files".
        if (!e.is_directory() && e.path().extension() == ".png") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw DataError(dir, "no .png files in this folder");
    InferData d;
    d.source = dir + " (" + std::to_string(files.size()) + " PNGs)", d.n = int64_t(files.size()), d.shape = want,
    d.pngs = true;
    for (const auto &f : files) {
        const Prepared p = prepare_input(read_png(f), want.h, want.w, want.c, f, prep);
        d.pixels.insert(d.pixels.end(), p.img.px.begin(), p.img.px.end());
    }
    return d;
}

}  // namespace

InferData load_infer_data(const std::string &data, const std::string &labels, const ModelCard &card,
                          const PrepOptions &prep) {
    const Shape want = card.input;
    std::error_code ec;
    if (data.empty()) {
        if (card.test_images.empty())
            throw RuntimeError("no DATA given, and the checkpoint does not name its run's test set: pass an IDX file "
                               "or a folder of PNGs");
        // The very set the run evaluated: its reader's labels file and `classes` filter.
        return from_idx(card.test_images, labels.empty() ? card.test_labels : labels, want, card.test_classes);
    }
    if (fs::is_directory(data, ec)) {
        if (!labels.empty()) throw DataError(labels, "--labels goes with an IDX file, not a folder of PNGs");
        return from_pngs(data, want, prep);
    }
    return from_idx(data, labels, want);
}

std::string labels_text(const std::vector<int64_t> &labels) {
    const std::set<int64_t> s(labels.begin(), labels.end());
    std::string t;
    for (int64_t l : s) t += (t.empty() ? "" : ", ") + std::to_string(l);
    return t.empty() ? "none" : t;
}

}  // namespace aepipe
