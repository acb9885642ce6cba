#include "nodes/nn/code_layer.hpp"

#include <algorithm>

#include "pipeline/error.hpp"

namespace aepipe {

CodeLayer code_layer(Model &m, const std::string &source) {
    CodeLayer c;
    auto at = [](size_t i) { return "model.layers[" + std::to_string(i) + "]"; };
    if (m.marked_code_layer() >= 0) {
        c.layer = size_t(m.marked_code_layer());
        c.width = c.stride = m.layer(c.layer).out_dim();
        c.what = at(c.layer) + " (marked code: true)";
        return c;
    }
    if (m.sample_layer() > 0) {
        c.layer = size_t(m.sample_layer() - 1);
        c.stride = m.layer(c.layer).out_dim();
        c.width = c.stride / 2;
        c.what = at(c.layer) + " (the VAE's mu, the first half of the sample layer's input)";
        return c;
    }
    // The decoder's last layer reconstructs the input, so only layers before it can be the code.
    int64_t best = m.in_dim();
    for (size_t i = 0; i + 1 < m.num_layers(); ++i)
        if (m.layer(i).out_dim() < best) best = m.layer(i).out_dim(), c.layer = i;
    if (best >= m.in_dim())
        throw RuntimeError(source + ": the model has no code layer: no layer is marked 'code: true' and none is "
                                    "narrower than the input (" + std::to_string(m.in_dim()) +
                           " values)\nhint: mark the layer whose output is the code with 'code: true' in the "
                           "config's model.layers and train again");
    c.width = c.stride = best;
    c.what = at(c.layer) + " (the narrowest layer, " + std::to_string(best) + " numbers)";
    return c;
}

void encode_rows(Model &m, Workspace &ws, const CodeLayer &c, int64_t n, const float *x, const float *params,
                 float *out) {
    ws.prepare(n);
    ws.begin_pass({0, -1, 0, 1.0, false});
    ws.set_input(x);
    for (size_t i = 0; i <= c.layer; ++i) ws.forward_layer(i, n, params);
    const float *y = ws.act(c.layer + 1);
    for (int64_t r = 0; r < n; ++r) std::copy_n(y + r * c.stride + c.offset, c.width, out + r * c.width);
}

}  // namespace aepipe
