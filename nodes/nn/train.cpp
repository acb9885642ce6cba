// train: tensor -> epoch. The model's training step as a chain of flow-graph nodes:
//   gate -> fwd[0] -> ... -> fwd[L-1] -> loss -> bwd[L-1] -> ... -> bwd[0] -> update
// Every node in the chain is serial and they share one Workspace (activations, gradients),
// so a gate lets one step into the chain at a time; `update` opens it again. What the
// chain adds over one big node is visibility: each layer's time shows in the profile.
// Uses the config's `model` section and train.optimizer; no keys of its own.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/slot_pool.hpp"

namespace aepipe {
namespace {

using clk = std::chrono::steady_clock;

class Train : public FlowNode {
    using Fn = flow::function_node<Msg, Msg>;
    using Update = flow::multifunction_node<Msg, std::tuple<Msg>>;

public:
    void resolve(Pipeline &p, Diags &d) override {
        int64_t dim = sample_dim(p);
        try {
            model_ = std::make_unique<Model>(p.config(), p.section("model"), dim);
            opt_ = make_optimizer(p.config(), p.train_params(), d);
        } catch (const ConfigError &err) {
            for (const auto &x : err.diagnostics()) d.error(x.pos, x.message, x.hint);
        }
    }

    void build(Pipeline &p) override {
        p_ = &p;
        params_slab_.assign(size_t(model_->num_params()), 0.f);
        grads_.assign(size_t(model_->num_params()), 0.f);
        model_->init_params(params_slab_.data(), p.settings().seed);
        opt_->init(model_->num_params());
        ws_ = std::make_unique<Workspace>(*model_, p.settings().batch);
        p.console().line("model: " + model_->summary());

        auto &g = p.graph();
        gate_ = std::make_unique<flow::limiter_node<Msg>>(g, 1);
        Fn *prev = nullptr;
        auto chain = [&](const std::string &part, std::function<void(Msg &)> body) {
            int probe = p.add_probe(*this, part);
            auto n = std::make_unique<Fn>(g, flow::serial, [this, body, probe](Msg m) {
                return p_->guard(probe, m, [&] {
                    body(m);
                    m.t_ready = p_->now();
                    return m;
                });
            });
            if (prev) flow::make_edge(*prev, *n);
            else flow::make_edge(*gate_, *n);
            prev = n.get();
            chain_.push_back(std::move(n));
        };
        chain("input", [this](Msg &m) {  // the first node also readies primitives for this batch size
            ws_->prepare(m.count);
            ws_->set_input(m.x);
            if (m.step == first_step_of_epoch_) epoch_start_ = clk::now();
        });
        for (size_t i = 0; i < model_->num_layers(); ++i)
            chain("fwd" + std::to_string(i), [this, i](Msg &m) { ws_->forward_layer(i, m.count, params_slab_.data()); });
        chain("loss", [this](Msg &m) {
            const int64_t d = model_->in_dim();
            double l = model_->loss().forward_backward(m.count, d, ws_->output(), m.x, ws_->output_grad());
            if (!std::isfinite(l))
                throw RuntimeError("the loss is " + std::to_string(l) + " (diverged); lower the learning rate");
            loss_sum_ += l * double(m.count);
            samples_ += m.count;
        });
        for (size_t i = model_->num_layers(); i-- > 0;)
            chain("bwd" + std::to_string(i),
                  [this, i](Msg &m) { ws_->backward_layer(i, m.count, params_slab_.data(), grads_.data()); });

        int update_probe = p.add_probe(*this, "update");
        update_ = std::make_unique<Update>(g, flow::serial,
                                           [this, update_probe](const Msg &m, Update::output_ports_type &out) {
                                               p_->guard(update_probe, m, [&] { step_end(m, out); });
                                           });
        flow::make_edge(*prev, *update_);
    }

    Receiver &in(const std::string &) override { return *gate_; }
    Sender &out(const std::string &) override { return flow::output_port<0>(*update_); }

private:
    void step_end(const Msg &m, Update::output_ports_type &out) {
        opt_->step(params_slab_.data(), grads_.data(), model_->num_params());
        m.pool->release(m.slot);
        ++steps_;
        auto &times = p_->step_times();
        if (times.size() < times.capacity()) times.push_back(p_->now());  // never reallocates
        show_progress(m);
        if (m.last_in_epoch) {
            double secs = std::chrono::duration<double>(clk::now() - epoch_start_).count();
            auto r = std::make_shared<EpochReport>();
            r->epoch = m.epoch;
            r->steps = steps_;
            r->samples = samples_;
            r->train_loss = samples_ ? loss_sum_ / double(samples_) : 0.0;
            r->seconds = secs;
            r->samples_per_s = secs > 0 ? double(samples_) / secs : 0.0;
            r->params = std::make_shared<const std::vector<float>>(params_slab_);
            r->model = model_.get();
            r->last = m.epoch + 1 == p_->settings().epochs || m.step + 1 == p_->settings().max_steps;
            loss_sum_ = 0, samples_ = 0;
            first_step_of_epoch_ = m.step + 1;
            Msg o;
            o.epoch = m.epoch;
            o.step = m.step;
            o.report = r;
            std::get<0>(out).try_put(o);
            p_->epoch_done().try_put(flow::continue_msg());
        }
        p_->step_done().try_put(flow::continue_msg());
        gate_->decrementer().try_put(flow::continue_msg());
    }

    void show_progress(const Msg &m) {
        if (!p_->console().tty()) return;
        auto now = clk::now();
        if (now - last_progress_ < std::chrono::milliseconds(200) && !m.last_in_epoch) return;
        last_progress_ = now;
        double secs = std::chrono::duration<double>(now - epoch_start_).count();
        char buf[200];
        std::snprintf(buf, sizeof buf, "epoch %lld/%lld  step %lld  loss %.6f  %.0f samples/s",
                      (long long)m.epoch + 1, (long long)p_->settings().epochs, (long long)m.step + 1,
                      samples_ ? loss_sum_ / double(samples_) : 0.0, secs > 0 ? double(samples_) / secs : 0.0);
        p_->console().progress(buf);
    }

    Pipeline *p_ = nullptr;
    std::unique_ptr<Model> model_;
    std::unique_ptr<Optimizer> opt_;
    std::unique_ptr<Workspace> ws_;
    std::vector<float> params_slab_, grads_;
    std::unique_ptr<flow::limiter_node<Msg>> gate_;
    std::vector<std::unique_ptr<Fn>> chain_;
    std::unique_ptr<Update> update_;
    int64_t steps_ = 0, samples_ = 0, first_step_of_epoch_ = 0;
    double loss_sum_ = 0;
    clk::time_point epoch_start_ = clk::now(), last_progress_{};
};

Registrar<FlowNodeRegistry> reg({"train",
                                 Category::Compute,
                                 "forward, loss, backward and update of the config's model (oneDNN), one step per batch",
                                 {},
                                 {{"in", {"tensor"}, "normalized training batches, in step order"}},
                                 {{"epoch", {"epoch"}, "after each epoch: train statistics and a parameter snapshot"}}},
                                [](const Params &) { return std::make_unique<Train>(); });

}  // namespace
}  // namespace aepipe
