#include "pipeline/worker.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace aepipe {
namespace {
thread_local bool tl_worker = false;

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "error: %s\n", what);
    std::fflush(stderr);
    std::_Exit(1);
}
}  // namespace

bool Worker::on_worker_thread() { return tl_worker; }

Worker::Worker() : thread_([this] { loop(); }) {}

Worker::~Worker() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

void Worker::post(std::function<void()> job) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void Worker::loop() {
    tl_worker = true;
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (const std::exception &e) {
            die(e.what());
        } catch (...) {
            die("a Worker job threw a non-standard exception");
        }
    }
}

}  // namespace aepipe
