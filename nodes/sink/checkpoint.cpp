// checkpoint: epoch -> files. Writes the parameters as safetensors at the end of the run
// (`file`, default model.safetensors) and every `snapshot_every_epochs` epochs (checkpoint_epoch<E>.safetensors),
// atomically: a crash leaves the previous file intact, never a torn one. It also sets the
// policy of the training checkpoints (checkpoints/step-N.ckpt, written by the training node):
// every `every_epochs` epochs and/or `every_steps` steps and at the end, keeping `keep`.
// YAML keys: snapshot_every_epochs, file, every_epochs, every_steps, keep.
#include "nodes/sink/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>

#include "nodes/nn/reports.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

static bool is_linear_weight(const NamedParam &p) {
    return p.shape.size() == 2 && p.name.size() > 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
}

std::vector<int64_t> saved_shape(const NamedParam &p) {
    return is_linear_weight(p) ? std::vector<int64_t>{p.shape[1], p.shape[0]} : p.shape;
}

StFile to_safetensors(const Model &m, const float *params, const std::map<std::string, std::string> &meta) {
    StFile f;
    f.metadata = meta;
    for (const auto &p : m.named_params()) {
        StTensor t;
        const float *src = params + p.offset;
        if (is_linear_weight(p)) {  // stored (in, out) -> saved (out, in)
            int64_t in = p.shape[0], out = p.shape[1];
            t.shape = {out, in};
            t.data.resize(size_t(in * out));
            for (int64_t i = 0; i < in; ++i)
                for (int64_t o = 0; o < out; ++o) t.data[size_t(o * in + i)] = src[i * out + o];
        } else {
            t.shape = p.shape;
            t.data.assign(src, src + p.size());
        }
        f.tensors[p.name] = std::move(t);
    }
    return f;
}

void from_safetensors(const Model &m, const StFile &f, const std::string &path, float *params) {
    for (const auto &p : m.named_params()) {
        auto it = f.tensors.find(p.name);
        if (it == f.tensors.end()) throw DataError(path, "has no tensor '" + p.name + "' (the model needs it)");
        const StTensor &t = it->second;
        const std::vector<int64_t> want = saved_shape(p);
        if (t.shape != want) {
            auto str = [](const std::vector<int64_t> &s) {
                std::string r;
                for (auto d : s) r += (r.empty() ? "" : "x") + std::to_string(d);
                return r;
            };
            throw DataError(path, "tensor '" + p.name + "' has shape " + str(t.shape) + ", the model needs " +
                                      str(want) + " (was it trained with another config?)");
        }
        float *dst = params + p.offset;
        if (is_linear_weight(p)) {
            int64_t in = p.shape[0], out = p.shape[1];
            for (int64_t i = 0; i < in; ++i)
                for (int64_t o = 0; o < out; ++o) dst[i * out + o] = t.data[size_t(o * in + i)];
        } else {
            std::copy(t.data.begin(), t.data.end(), dst);
        }
    }
}

std::string train_checkpoint_path(const std::string &run_dir, int64_t steps) {
    char name[64];
    std::snprintf(name, sizeof name, "/checkpoints/step-%08lld.ckpt", (long long)steps);
    return run_dir + name;
}

std::vector<std::string> list_train_checkpoints(const std::string &run_dir) {
    namespace fs = std::filesystem;
    static const std::regex re(R"(step-(\d{8,18})\.ckpt)");
    std::vector<std::pair<int64_t, std::string>> found;  // (step, path)
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(run_dir + "/checkpoints", ec)) {
        std::string n = e.path().filename().string();
        std::smatch m;
        if (std::regex_match(n, m, re)) found.emplace_back(std::stoll(m[1]), e.path().string());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto &f : found) out.push_back(f.second);
    return out;
}

bool CheckpointSink::state_due(int64_t steps, bool epoch_end, int64_t epochs_done, bool last) const {
    const int64_t every_steps = prm_.every_steps, every_epochs = prm_.every_epochs;
    return last || (every_steps > 0 && steps % every_steps == 0) ||
           (epoch_end && every_epochs > 0 && epochs_done % every_epochs == 0);
}

std::string CheckpointSink::save_state(const std::string &run_dir, int64_t steps, const CkptFile &f) const {
    std::filesystem::create_directories(run_dir + "/checkpoints");
    std::string path = train_checkpoint_path(run_dir, steps);
    write_ckpt(path, f);
    prune(run_dir);
    return path;
}

// Retention counts only checkpoints that read back whole: a damaged or foreign file named
// like one (step-99999999.ckpt of garbage) would otherwise take a place among the `keep`
// and push out a good one. Such files are reported once and left alone; the newest intact
// checkpoint is always among those kept.
void CheckpointSink::prune(const std::string &run_dir) const {
    const auto all = list_train_checkpoints(run_dir);  // oldest first
    const size_t keep = size_t(std::max<int64_t>(1, prm_.keep));
    size_t intact = 0;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (!reads_back(*it)) continue;
        if (++intact > keep) {
            std::error_code ec;
            std::filesystem::remove(*it, ec);
            verified_.erase(*it);
        }
    }
}

bool CheckpointSink::reads_back(const std::string &path) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto time = fs::last_write_time(path, ec);
    const Stamp stamp{ec ? uintmax_t(-1) : size, ec ? 0 : time.time_since_epoch().count()};
    // A file verified once is read again only when it changed: each save would otherwise
    // read all `keep` checkpoints back.
    if (auto it = verified_.find(path); it != verified_.end() && it->second == stamp) return true;
    try {
        read_ckpt(path);
    } catch (const DataError &e) {
        if (warned_.insert(path).second)
            std::cerr << "warning: not counted toward the checkpoint node's 'keep: " << prm_.keep
                      << "' and left in place: " << e.what() << "\n";
        return false;
    }
    verified_[path] = stamp;
    return true;
}

void CheckpointSink::resolve(Pipeline &p, Diags &d) {
    check_run_file_name("file", prm_.file, d);
    for (FlowNode *n = p.upstream(id_, "in"); n && !train_; n = p.feeder(*n))
        if (auto *client = dynamic_cast<CheckpointClient *>(n)) {
            client->use_checkpoints(*this);
            train_ = n;
        }
}

void CheckpointSink::build(Pipeline &p) {
    // What reconstruct and generate need besides the tensors, from the train node this one follows.
    if (train_) card_ = card_metadata(card_of(p, *train_));
    node_ = std::make_unique<flow::function_node<EpochMsg>>(p.graph(), flow::serial, [this, &p](const EpochMsg &m) {
        p.guard(*this, m, [&] { write(p, m); });
        return flow::continue_msg();
    });
    from_eval_ = std::make_unique<flow::function_node<EvalMsg, EpochMsg>>(
        p.graph(), flow::serial, [](const EvalMsg &m) { return static_cast<const EpochMsg &>(m); });
    flow::make_edge(*from_eval_, *node_);
}

void CheckpointSink::write(Pipeline &p, const EpochMsg &m) {
    const auto &r = epoch_report(m);
    const int64_t e = r.epoch + 1;
    const bool periodic = periodic_epoch(prm_.snapshot_every_epochs, r);
    if ((!periodic && !r.last) || p.settings().run_dir.empty()) return;
    std::map<std::string, std::string> meta{{"format", "aepipe-1"},
                                            {"epoch", std::to_string(e)},
                                            {"steps", std::to_string(r.steps)},
                                            {"train_loss", std::to_string(r.train_loss)}};
    meta.insert(card_.begin(), card_.end());
    std::string dir = p.settings().run_dir;
    StFile f = to_safetensors(*r.model, r.params->data(), meta);
    if (periodic) write_safetensors(dir + "/checkpoint_epoch" + std::to_string(e) + ".safetensors", f);
    if (r.last) {
        std::string path = dir + "/" + prm_.file;
        write_safetensors(path, f);
        p.console().after_epoch(r.epoch, "checkpoint: " + path);
    }
}

const Keys<CheckpointParams> &CheckpointParams::keys() {
    using P = CheckpointParams;
    static const Keys<P> k{
        key(&P::snapshot_every_epochs,
            {"snapshot_every_epochs", Kind::Int, "0",
             "also write the weights to checkpoint_epoch<E>.safetensors every N epochs (0: off)", {}, false,
             at_least(0, 1e9)}),
        key(&P::file, {"file", Kind::String, "model.safetensors", "file name of the final checkpoint"}),
        key(&P::every_epochs,
            {"every_epochs", Kind::Int, "1",
             "training checkpoint (checkpoints/step-N.ckpt, for --resume) every N epochs (0: off)", {}, false,
             at_least(0, 1e9)}),
        key(&P::every_steps, {"every_steps", Kind::Int, "0", "training checkpoint every N steps as well (0: off)", {},
                              false, at_least(0, 1e15)}),
        key(&P::keep, {"keep", Kind::Int, "3", "training checkpoints kept (the oldest are deleted)", {}, false,
                       size_range(1, 1e6)})};
    return k;
}

namespace {

Registrar<FlowNodeRegistry> reg({"checkpoint",
                                 Category::Sink,
                                 "writes the weights as safetensors (atomically) at the end and every snapshot_every_epochs; "
                                 "sets when the training node writes training checkpoints (every_epochs, every_steps)",
                                 CheckpointParams::keys().specs(),
                                 {{"in", {"epoch", "eval"}, "epoch reports"}},
                                 {},
                                 "the training node writes its checkpoints through it, into one checkpoints/ folder",
                                 {{"every", "renamed: 'snapshot_every_epochs' (checkpoint_epoch<E>.safetensors), or "
                                            "'every_epochs' for the training checkpoints that --resume reads"}}},
                                [](const Params &p) { return std::make_unique<CheckpointSink>(p); });

}  // namespace
}  // namespace aepipe
