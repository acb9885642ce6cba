// checkpoint: epoch -> files. Writes the parameters as safetensors at the end of the run
// (`file`, default model.safetensors) and every `every` epochs (checkpoint_epoch<E>.safetensors),
// atomically: a crash leaves the previous file intact, never a torn one.
// YAML keys: every, file.
#include "nodes/sink/checkpoint.hpp"

#include <filesystem>

#include "pipeline/graph.hpp"

namespace aepipe {

static bool is_linear_weight(const NamedParam &p) {
    return p.shape.size() == 2 && p.name.size() > 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
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
        std::vector<int64_t> want = p.shape;
        if (is_linear_weight(p)) std::swap(want[0], want[1]);
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

namespace {

class Checkpoint : public FlowNode {
public:
    void build(Pipeline &p) override {
        node_ = std::make_unique<flow::function_node<Msg>>(p.graph(), flow::serial, [this, &p](const Msg &m) {
            p.guard(*this, m, [&] { write(p, m); });
            return flow::continue_msg();
        });
    }
    Receiver &in(const std::string &) override { return *node_; }

private:
    void write(Pipeline &p, const Msg &m) {
        const auto &r = *m.report;
        const int64_t e = r.epoch + 1;
        const bool periodic = periodic_epoch(params_.i("every"), r);
        if ((!periodic && !r.last) || p.settings().run_dir.empty()) return;
        std::map<std::string, std::string> meta{{"format", "aepipe-1"},
                                                {"epoch", std::to_string(e)},
                                                {"steps", std::to_string(r.steps)},
                                                {"train_loss", std::to_string(r.train_loss)}};
        std::string dir = p.settings().run_dir;
        StFile f = to_safetensors(*r.model, r.params->data(), meta);
        if (periodic) write_safetensors(dir + "/checkpoint_epoch" + std::to_string(e) + ".safetensors", f);
        if (r.last) {
            std::string path = dir + "/" + params_.s("file");
            write_safetensors(path, f);
            p.console().line("checkpoint: " + path);
        }
    }
    std::unique_ptr<flow::function_node<Msg>> node_;
};

Registrar<FlowNodeRegistry> reg({"checkpoint",
                                 Category::Sink,
                                 "writes the parameters as safetensors (atomically) at the end and every N epochs",
                                 {{"every", Kind::Int, "0", "also write checkpoint_epoch<E>.safetensors every N epochs (0: off)"},
                                  {"file", Kind::String, "model.safetensors", "file name of the final checkpoint"}},
                                 {{"in", {"epoch", "eval"}, "epoch reports"}},
                                 {}},
                                [](const Params &) { return std::make_unique<Checkpoint>(); });

}  // namespace
}  // namespace aepipe
