#include "nodes/nn/train_state.hpp"

#include <cstring>

#include "nodes/sink/checkpoint.hpp"
#include "pipeline/error.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

const ResumeFrom *resume_from(const RunSettings &s) { return dynamic_cast<const ResumeFrom *>(s.resume.get()); }

using nlohmann::json;

static uint64_t bits_of(double d) {
    uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    return u;
}
static double from_bits(uint64_t u) {
    double d;
    std::memcpy(&d, &u, sizeof d);
    return d;
}

CkptFile make_train_checkpoint(const Model &m, const float *params, Optimizer &opt, const TrainProgress &pr,
                               const std::vector<const EpochReport *> &pending, uint64_t seed,
                               const json &fingerprint) {
    CkptFile f;
    for (const auto &p : m.named_params()) f.add(p.name, p.shape, params + p.offset);
    for (auto &[name, buf] : opt.state()) f.add("optimizer." + name, {int64_t(buf->size())}, buf->data());
    json st{{"format", "aepipe-train-state"},
            {"steps", pr.steps},
            {"epochs_done", pr.epochs_done},
            {"epoch", pr.epochs_done},
            {"position_in_epoch", pr.steps - pr.first_step_of_epoch},
            {"first_step_of_epoch", pr.first_step_of_epoch},
            {"epoch_samples", pr.samples},
            {"epoch_loss_sum_bits", bits_of(pr.loss_sum)},
            {"epoch_recon_sum_bits", bits_of(pr.recon_sum)},
            {"epoch_kl_sum_bits", bits_of(pr.kl_sum)},
            {"seed", seed},
            {"optimizer_steps", opt.steps()},
            {"model", m.summary()},
            {"fingerprint", fingerprint},
            {"pending_epochs", json::array()}};
    for (const EpochReport *r : pending) {
        st["pending_epochs"].push_back({{"epoch", r->epoch},
                                        {"steps", r->steps},
                                        {"samples", r->samples},
                                        {"train_loss_bits", bits_of(r->train_loss)},
                                        {"train_recon_bits", bits_of(r->train_recon)},
                                        {"train_kl_bits", bits_of(r->train_kl)},
                                        {"seconds", r->seconds},
                                        {"samples_per_s", r->samples_per_s}});
        if (r->steps != pr.steps)  // else they are the current params
            f.add("epoch_end." + std::to_string(r->epoch) + ".params", {int64_t(r->params->size())}, r->params->data());
    }
    f.state = std::move(st);
    return f;
}

static const CkptTensor &need(const CkptFile &f, const std::string &path, const std::string &name, int64_t size) {
    const CkptTensor *t = f.find(name);
    if (!t) throw DataError(path, "has no tensor '" + name + "' (the model and optimizer need it)");
    if (int64_t(t->data.size()) != size)
        throw DataError(path, "tensor '" + name + "' has " + std::to_string(t->data.size()) + " values, the model needs " +
                                  std::to_string(size) + " (was it trained with another config?)");
    return *t;
}

template <class T>
static T field(const json &j, const char *key, const std::string &path) {
    if (!j.contains(key)) throw DataError(path, std::string("state has no '") + key + "'");
    try {
        return j[key].get<T>();
    } catch (const json::exception &) {
        throw DataError(path, std::string("state field '") + key + "' has the wrong type: " + j[key].dump());
    }
}

void restore_train_checkpoint(const CkptFile &f, const std::string &path, const Model &m, float *params,
                              Optimizer &opt, TrainProgress &pr, std::vector<std::shared_ptr<EpochReport>> &pending) {
    const json &st = f.state;
    for (const auto &p : m.named_params()) {
        const CkptTensor &t = need(f, path, p.name, p.size());
        std::copy(t.data.begin(), t.data.end(), params + p.offset);
    }
    for (auto &[name, buf] : opt.state()) {
        const CkptTensor &t = need(f, path, "optimizer." + name, int64_t(buf->size()));
        std::copy(t.data.begin(), t.data.end(), buf->begin());
    }
    opt.set_steps(field<int64_t>(st, "optimizer_steps", path));
    pr.steps = field<int64_t>(st, "steps", path);
    pr.epochs_done = field<int64_t>(st, "epochs_done", path);
    pr.first_step_of_epoch = field<int64_t>(st, "first_step_of_epoch", path);
    pr.samples = field<int64_t>(st, "epoch_samples", path);
    pr.loss_sum = from_bits(field<uint64_t>(st, "epoch_loss_sum_bits", path));
    pr.recon_sum = from_bits(field<uint64_t>(st, "epoch_recon_sum_bits", path));
    pr.kl_sum = from_bits(field<uint64_t>(st, "epoch_kl_sum_bits", path));
    pending.clear();
    if (!st.contains("pending_epochs") || !st["pending_epochs"].is_array())
        throw DataError(path, "state has no 'pending_epochs' list");
    for (const json &le : st["pending_epochs"]) {
        auto r = std::make_shared<EpochReport>();
        r->epoch = field<int64_t>(le, "epoch", path);
        r->steps = field<int64_t>(le, "steps", path);
        r->samples = field<int64_t>(le, "samples", path);
        r->train_loss = from_bits(field<uint64_t>(le, "train_loss_bits", path));
        r->train_recon = from_bits(field<uint64_t>(le, "train_recon_bits", path));
        r->train_kl = from_bits(field<uint64_t>(le, "train_kl_bits", path));
        r->seconds = field<double>(le, "seconds", path);
        r->samples_per_s = field<double>(le, "samples_per_s", path);
        r->model = &m;
        if (r->steps == pr.steps) {
            r->params = std::make_shared<const std::vector<float>>(params, params + m.num_params());
        } else {
            const CkptTensor &t = need(f, path, "epoch_end." + std::to_string(r->epoch) + ".params", m.num_params());
            r->params = std::make_shared<const std::vector<float>>(t.data);
        }
        pending.push_back(r);
    }
}

void load_weights(const std::string &path, const Model &m, float *params) {
    if (path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0) {
        from_safetensors(m, read_safetensors(path), path, params);
        return;
    }
    CkptFile f = read_ckpt(path);
    for (const auto &p : m.named_params()) {
        const CkptTensor &t = need(f, path, p.name, p.size());
        if (t.shape != p.shape)
            throw DataError(path, "tensor '" + p.name + "' has another shape than the model's (was it trained with "
                                  "another model section?)");
        std::copy(t.data.begin(), t.data.end(), params + p.offset);
    }
}

}  // namespace aepipe
