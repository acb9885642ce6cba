// A thread of its own that runs jobs in the order they were posted, off the flow graph's
// threads. An async_node hands it work that must not wait for a graph thread: the test-set
// evaluation beside training (which training steps would otherwise starve when the graph has
// one thread) and
// MPI collectives (which must not block a graph thread against another rank's training step).
// A job must not throw: it reports its own errors (Pipeline::fail); one that does ends the
// process with the message (no graph is there to surface it).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace aepipe {

class Worker {
public:
    Worker();
    ~Worker();  // finishes the queued jobs, then joins
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;
    void post(std::function<void()> job);
    // Whether the calling thread is a Worker's. (TBB would report such a thread as slot 0 of
    // an arena of its own, the same slot as the thread that waits for the graph.)
    static bool on_worker_thread();

private:
    void loop();
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stop_ = false;
    std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace aepipe
