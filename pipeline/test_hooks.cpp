#include "pipeline/test_hooks.hpp"

#include <cstdio>
#include <stdexcept>

namespace aepipe {

TestHooks parse_test_hooks(const std::vector<std::string> &hooks) {
    TestHooks h;
    for (const std::string &s : hooks) {
        const size_t eq = s.find('=');
        const std::string name = s.substr(0, eq), v = eq == std::string::npos ? "" : s.substr(eq + 1);
        long long a = 0, b = 0;
        double d = 0;
        char end = 0;
        bool ok = false;
        if (name == "raise_at_step" && (ok = std::sscanf(v.c_str(), "%lld:%lld%c", &a, &b, &end) == 2))
            h.raise_at_step = a, h.raise_signal = int(b);
        else if (name == "nan_grad" && (ok = std::sscanf(v.c_str(), "%lld:%lld%c", &a, &b, &end) == 2 && b >= 0))
            h.nan_grad_step = a, h.nan_grad_element = b;
        else if (name == "fail_eval" && (ok = std::sscanf(v.c_str(), "%lld%c", &a, &end) == 1))
            h.fail_eval_epoch = a;
        else if (name == "busy_build_s" && (ok = std::sscanf(v.c_str(), "%lf%c", &d, &end) == 1 && d >= 0))
            h.busy_build_s = d;
        if (!ok)
            throw std::invalid_argument("--test-hook '" + s +
                                        "': expected raise_at_step=N:SIG, nan_grad=N:K, fail_eval=E or busy_build_s=S");
    }
    return h;
}

}  // namespace aepipe
