// Activations: sigmoid, relu, tanh, identity.
//   y = f(x), shapes (N, D) -> (N, D); no keys, no parameters.
//   dx = dy * f'(x), with f' written through y: sigmoid y(1-y), relu [y>0], tanh 1-y^2.
#include "nodes/nn/activation.hpp"

#include <cstring>
#include <stdexcept>

namespace aepipe {

Act parse_act(const std::string &name) {
    if (name == "identity") return Act::Identity;
    if (name == "sigmoid") return Act::Sigmoid;
    if (name == "relu") return Act::Relu;
    if (name == "tanh") return Act::Tanh;
    throw std::invalid_argument("unknown activation " + name);
}

const char *act_name(Act a) {
    switch (a) {
        case Act::Identity: return "identity";
        case Act::Sigmoid: return "sigmoid";
        case Act::Relu: return "relu";
        case Act::Tanh: return "tanh";
    }
    return "?";
}

dnnl::algorithm act_algorithm(Act a) {
    switch (a) {
        case Act::Sigmoid: return dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
        case Act::Relu: return dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
        case Act::Tanh: return dnnl::algorithm::eltwise_tanh_use_dst_for_bwd;
        case Act::Identity: break;
    }
    return dnnl::algorithm::undef;
}

static dnnl::eltwise_forward::primitive_desc fwd_pd(Act act, const dnnl::memory::desc &md) {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_training, act_algorithm(act), md, 0.f, 0.f);
    return dnnl::eltwise_forward::primitive_desc(d, user_scratchpad_attr(), cpu_engine());
}

size_t ActBackward::prepare(int64_t n) {
    if (act_ == Act::Identity) return 0;
    auto it = execs_.find(n);
    if (it == execs_.end()) {
        auto md = f32_md({n, d_}, tag::ab);
        dnnl::eltwise_backward::desc d(act_algorithm(act_), md, md, 0.f, 0.f);
        dnnl::eltwise_backward::primitive_desc pd(d, user_scratchpad_attr(), cpu_engine(), fwd_pd(act_, md));
        it = execs_
                 .emplace(n, make_exec<dnnl::eltwise_backward>(
                                 pd, {{DNNL_ARG_DST, md}, {DNNL_ARG_DIFF_DST, md}, {DNNL_ARG_DIFF_SRC, md}}))
                 .first;
    }
    return it->second.scratch_bytes;
}

void ActBackward::run(int64_t n, const float *y, float *dy, void *scratch) {
    if (act_ == Act::Identity) return;
    Exec &e = execs_.at(n);
    e.set(DNNL_ARG_DST, y);
    e.set(DNNL_ARG_DIFF_DST, dy);
    e.set(DNNL_ARG_DIFF_SRC, dy);  // in place
    e.run(scratch);
}

size_t ActivationLayer::prepare(int64_t n) {
    size_t need = bwd_.prepare(n);
    if (act_ == Act::Identity) return need;
    auto it = fwd_.find(n);
    if (it == fwd_.end()) {
        auto md = f32_md({n, d_}, tag::ab);
        it = fwd_.emplace(n, make_exec<dnnl::eltwise_forward>(fwd_pd(act_, md),
                                                              {{DNNL_ARG_SRC, md}, {DNNL_ARG_DST, md}}))
                 .first;
    }
    return std::max(need, it->second.scratch_bytes);
}

void ActivationLayer::forward(int64_t n, const float *x, float *y, const float *, void *scratch) {
    if (act_ == Act::Identity) {
        if (x != y) std::memcpy(y, x, sizeof(float) * n * d_);
        return;
    }
    Exec &e = fwd_.at(n);
    e.set(DNNL_ARG_SRC, x);
    e.set(DNNL_ARG_DST, y);
    e.run(scratch);
}

void ActivationLayer::backward(int64_t n, const float *, const float *y, float *dy, float *dx, const float *,
                               float *, void *scratch) {
    bwd_.run(n, y, dy, scratch);
    if (dx && dx != dy) std::memcpy(dx, dy, sizeof(float) * n * d_);
}

static NodeSpec act_spec(const char *type, const char *doc) {
    return {type, Category::Layer, doc, {}};
}

template <Act A>
static std::unique_ptr<Layer> make_act(const Params &, const LayerInput &in) {
    return std::make_unique<ActivationLayer>(A, in.in_dim, in.shape);
}

static Registrar<LayerRegistry> reg_sigmoid(act_spec("sigmoid", "y = 1 / (1 + exp(-x)), element-wise"),
                                            make_act<Act::Sigmoid>);
static Registrar<LayerRegistry> reg_relu(act_spec("relu", "y = max(x, 0), element-wise"), make_act<Act::Relu>);
static Registrar<LayerRegistry> reg_tanh(act_spec("tanh", "y = tanh(x), element-wise"), make_act<Act::Tanh>);
static Registrar<LayerRegistry> reg_identity(act_spec("identity", "y = x (no-op; useful as a placeholder)"),
                                             make_act<Act::Identity>);

}  // namespace aepipe
