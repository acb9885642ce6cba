// idx_reader: a source. Emits the dataset once per training epoch (out: dataset).
//   images: IDX u8 (N, H, W[, C]), raw or .gz; labels (optional): IDX u8 (N);
//   classes (optional, needs labels): keep only the samples with these labels (one-class models).
// The header is checked when the config is validated; the data is loaded when the run
// starts. When it feeds the training node (the node sending step_done credits), a limiter
// keeps it at most two epochs (or that node's FlowNode::epoch_lead) ahead of the last node
// downstream sending epoch_done credits (evaluate, or the training node itself): a credit
// edge `X.epoch_done -> reader.epoch_credit`.
// A reader that feeds only evaluation emits its few small messages freely (a limiter there
// could lose credits that arrive before its puts).

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "nodes/data/idx_reader.hpp"

#include "formats/idx.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

struct IdxReaderParams {
    std::string images, labels;              // resolved against the config's folder; labels "" if unset
    std::optional<std::vector<int64_t>> classes;  // unset: every sample
    static const Keys<IdxReaderParams> &keys();
};
const Keys<IdxReaderParams> &IdxReaderParams::keys() {
    using P = IdxReaderParams;
    static const Keys<P> k{
        key(&P::images, {"images", Kind::Path, "", "IDX file of u8 images N x H x W [x C]", {}, true}),
        key(&P::labels, {"labels", Kind::Path, "", "IDX file of N u8 labels (optional)"}),
        key(&P::classes, {"classes", Kind::IntList, "", "keep only the samples with these labels, e.g. [0] (needs labels)",
                          {}, false, at_least(0, 255)})};
    return k;
}

class IdxReader : public FlowNode {
public:
    explicit IdxReader(const Params &p) : prm_(parse<IdxReaderParams>(p)) {}
    void resolve(Pipeline &p, Diags &d) override {
        epochs_ = p.settings().epochs;
        if (const FlowNode *t = p.credit_source(id_, "step_done"))
            if (const FlowNode *done = p.credit_source(t->id(), "epoch_done", true)) {
                paced_ = true;
                lead_ = done->epoch_lead(p);
                p.add_credit_edge(*done, "epoch_done", *this, "epoch_credit");
            }
        if (prm_.classes) check_classes(d);  // before the data: `validate` needs none for this
        if (!regular_file_problem(prm_.images).empty()) return;  // reported by preflight()
        IdxHeader h = read_idx_header(prm_.images);
        int64_t n, hh, w, c;
        image_dims(prm_.images, h, n, hh, w, c);
        dim_ = hh * w * c;
        n_ = n;
        shape_ = Shape{c, hh, w};
    }
    void memory(const Pipeline &, std::vector<MemoryItem> &out) const override {
        const double bytes = double(n_) * double(dim_) + (prm_.labels.empty() ? 0 : double(n_));
        out.push_back({params_.context(), params_.where(), bytes, "the data set " + human_bytes(bytes)});
    }
    int64_t sample_dim(const Pipeline &) const override { return dim_; }
    Shape sample_shape(const Pipeline &) const override { return shape_; }

    // Everything build() would reject, without reading the data (validate and run share it):
    // each file exists, is a regular readable file with a valid IDX header, and the labels
    // match the images.
    void preflight(Pipeline &) override {
        const std::string &images = prm_.images, &labels = prm_.labels;
        check_file(images);
        int64_t n, h, w, c;
        image_dims(images, read_idx_header(images), n, h, w, c);
        if (labels.empty()) return;
        check_file(labels);
        check_label_dims(labels, read_idx_header(labels), n, images);
    }

    void build(Pipeline &p) override {
        const std::string &images = prm_.images, &labels = prm_.labels;
        data_ = load_dataset(images, labels);
        if (prm_.classes) {
            try {
                keep_classes(data_, *prm_.classes, labels);
            } catch (const DataError &e) {
                throw DataError::with_context(e, where());
            }
        }
        if (paced_) next_ = p.settings().start_epoch;  // resuming: the epochs done are not read again
        p.console().line("data: " + id_ + ": " + std::to_string(data_.n) + " images of " + std::to_string(data_.h) +
                         "x" + std::to_string(data_.w) + "x" + std::to_string(data_.c) + " from " + images);
        source_ = std::make_unique<flow::input_node<DatasetMsg>>(p.graph(), [this](tbb::flow_control &fc) {
            if (next_ >= epochs_) {
                fc.stop();
                return DatasetMsg{};
            }
            DatasetMsg m;
            m.epoch = next_++;
            m.data = &data_;
            return m;
        });
        if (!paced_) return;
        ahead_ = std::make_unique<flow::limiter_node<DatasetMsg>>(p.graph(), size_t(lead_));
        flow::make_edge(*source_, *ahead_);
    }
    OutPort out(const std::string &) override {
        if (ahead_) return *ahead_;
        return *source_;
    }
    InPort in(const std::string &port, const std::string &kind) override {
        if (port == "epoch_credit" && ahead_) return ahead_->decrementer();
        return FlowNode::in(port, kind);
    }
    void activate() override { source_->activate(); }
    IdxSource source() const { return {prm_.images, prm_.labels, prm_.classes.value_or(std::vector<int64_t>{})}; }
    int64_t samples() const { return n_ <= 0 ? -1 : kept_ >= 0 ? kept_ : n_; }  // -1: files not readable

private:
    // stat() first (regular_file_problem): opening a FIFO to read it would block until a
    // writer comes.
    void check_file(const std::string &full) const {
        const std::string path = clip_text(full, 400);  // a config may hold a path of any length
        const std::string why = regular_file_problem(full, "an IDX file");
        // MNIST's own file names get the fetch hint; any other file is the user's, whose usual
        // slip is a relative path taken from the wrong folder.
        static const std::regex mnist_name(R"((train|t10k)-(images-idx3|labels-idx1)-ubyte(\.gz)?)");
        if (why == "file not found")
            throw RuntimeError(
                where() + ": data file not found: " + path +
                (std::regex_match(std::filesystem::path(full).filename().string(), mnist_name)
                     ? "\nhint: fetch MNIST with scripts/fetch_mnist.sh; Fashion-MNIST comes with "
                       "'apt-get install dataset-fashion-mnist'"
                     : "\nhint: a relative path in a config file is relative to the file's folder, in a "
                       "command-line override to the current folder"));
        if (!why.empty())  // "is a FIFO (named pipe), ..." or "cannot read (File name too long)"
            throw RuntimeError(where() + ": data file " + path + (why.rfind("is ", 0) == 0 ? " " : ": ") + why);
    }

    // Caught when the config is validated: an empty list, no labels, a label no sample has
    // (the labels file is small: N bytes), so `aepipe validate` reports them at the key.
    void check_classes(Diags &d) {
        const std::vector<int64_t> &classes = *prm_.classes;
        const std::string &labels = prm_.labels, at = params_.context() + ": 'classes'";
        if (classes.empty()) return d.error(params_.pos("classes"), at + " is empty: it would keep no sample",
                                            "list the labels to keep, e.g. classes: [0]");
        if (labels.empty())
            return d.error(params_.pos("classes"), at + " keeps samples by label, but the reader has no 'labels' file",
                           "add labels: PATH (the IDX file of the images' labels)");
        if (!regular_file_problem(labels).empty()) return;  // reported by preflight(); a FIFO would block
        const IdxArray l = read_idx(labels);
        kept_ = std::count_if(l.data.begin(), l.data.end(), [&](uint8_t v) {
            return std::find(classes.begin(), classes.end(), int64_t(v)) != classes.end();
        });
        for (int64_t c : classes)
            if (c < 0 || c > 255 || std::find(l.data.begin(), l.data.end(), uint8_t(c)) == l.data.end())
                d.error(params_.pos("classes"),
                        at + " names label " + std::to_string(c) + ", which no sample of " + labels + " has",
                        "labels present: " + label_set(l.data));
    }

    IdxReaderParams prm_;
    int64_t epochs_ = 1, next_ = 0, dim_ = 0, n_ = 0, kept_ = -1;  // kept_: samples of `classes`
    Shape shape_;
    bool paced_ = false;
    int lead_ = 2;  // epochs it may run ahead of the epoch_done credits (FlowNode::epoch_lead)
    Dataset data_;
    std::unique_ptr<flow::input_node<DatasetMsg>> source_;
    std::unique_ptr<flow::limiter_node<DatasetMsg>> ahead_;
};

Registrar<FlowNodeRegistry> reg({"idx_reader",
                                 Category::Data,
                                 "reads an IDX image file (raw or .gz) and emits it once per epoch",
                                 IdxReaderParams::keys().specs(),
                                 {},
                                 {{"out", {"dataset"}, "the dataset, once per epoch"}}},
                                [](const Params &p) { return std::make_unique<IdxReader>(p); });

}  // namespace

IdxSource idx_source(const FlowNode &n) {
    auto *r = dynamic_cast<const IdxReader *>(&n);
    return r ? r->source() : IdxSource{};
}

int64_t idx_samples(const FlowNode &n) {
    auto *r = dynamic_cast<const IdxReader *>(&n);
    return r ? r->samples() : -1;
}

}  // namespace aepipe
