#include "pipeline/worker.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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

Worker::Worker(Priority priority) : thread_([this, priority] { loop(priority); }) {}

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

void Worker::loop(Priority priority) {
    tl_worker = true;
    // Linux: a thread's nice value is its own (PRIO_PROCESS with a thread id). Raising it
    // needs no privilege; should it fail anyway, the jobs run at normal priority.
    if (priority == Priority::Background) (void)setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), 19);
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
