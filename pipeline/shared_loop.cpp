#include "pipeline/shared_loop.hpp"

namespace aepipe {

SharedLoop::SharedLoop(int64_t n) : n_(n < 0 ? 0 : n), left_(n_) {}

int64_t SharedLoop::run(const std::function<void(int64_t)> &body) {
    int64_t ran = 0;
    for (int64_t i; (i = next_.fetch_add(1)) < n_;) {
        std::exception_ptr err;
        try {
            body(i);
            ++ran;
        } catch (...) {
            err = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mu_);
        int64_t done = 1;
        if (err) {
            if (!error_) error_ = err;
            // Skip what nobody has claimed yet: claim it all at once, and count it as done.
            const int64_t from = next_.exchange(n_);
            if (from < n_) done += n_ - from;
        }
        left_ -= done;
        if (left_ == 0) cv_.notify_all();
    }
    return ran;
}

void SharedLoop::wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return left_ == 0; });
    if (error_) std::rethrow_exception(error_);
}

}  // namespace aepipe
