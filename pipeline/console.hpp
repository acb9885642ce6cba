// Terminal output shared by all nodes: a live progress line on a terminal (redrawn in place)
// and whole log lines, which never interleave with it.
//
// Each epoch's lines come out in order, its epoch line first: sinks (checkpoint:, images:) get
// an epoch's report before the evaluation that its epoch line waits for, so once a node has
// said that epoch lines will come (expect_epoch_lines), their lines are held until then.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace aepipe {

class Console {
public:
    explicit Console(bool tty, bool quiet = false) : tty_(tty), quiet_(quiet) {}
    bool tty() const { return tty_; }
    // A full line on stdout (clears a pending progress line first).
    void line(const std::string &s) {
        std::lock_guard<std::mutex> lock(mu_);
        put(s);
    }
    // A line on stderr that --quiet keeps: what a user must not miss ("note: ...").
    void note(const std::string &s) {
        std::lock_guard<std::mutex> lock(mu_);
        clear_progress();
        std::fprintf(stderr, "note: %s\n", s.c_str());
        std::fflush(stderr);
    }
    // A node prints one line per evaluated epoch (epoch_line): after_epoch holds lines until then.
    void expect_epoch_lines() {
        std::lock_guard<std::mutex> lock(mu_);
        ordered_ = true;
    }
    // The line of epoch `epoch` (0-based), then the held lines of that epoch and earlier ones.
    void epoch_line(int64_t epoch, const std::string &s) {
        std::lock_guard<std::mutex> lock(mu_);
        put(s);
        shown_ = std::max(shown_, epoch);
        release(shown_);
    }
    // A line about epoch `epoch`: now when its epoch line is out (or none will come), else held.
    void after_epoch(int64_t epoch, const std::string &s) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!ordered_ || epoch <= shown_) return put(s);
        held_.emplace_back(epoch, s);
    }
    // At the end of a run: what is still held (an epoch that was never evaluated).
    void flush_held() {
        std::lock_guard<std::mutex> lock(mu_);
        release(INT64_MAX);
    }
    // The progress line; only on a terminal.
    void progress(const std::string &s) {
        if (!tty_ || quiet_) return;
        std::lock_guard<std::mutex> lock(mu_);
        std::fputs(("\r\033[K" + s).c_str(), stdout);
        std::fflush(stdout);
        progress_shown_ = true;
    }
    void end_progress() {
        std::lock_guard<std::mutex> lock(mu_);
        clear_progress();
    }

private:
    void clear_progress() {  // the caller holds mu_
        if (progress_shown_) std::fputs("\r\033[K", stdout), std::fflush(stdout), progress_shown_ = false;
    }
    void put(const std::string &s) {
        if (quiet_) return;
        clear_progress();
        std::fputs(s.c_str(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    void release(int64_t upto) {
        std::vector<std::pair<int64_t, std::string>> keep;
        for (auto &h : held_)
            if (h.first <= upto)
                put(h.second);
            else
                keep.push_back(std::move(h));
        held_ = std::move(keep);
    }

    std::mutex mu_;
    bool tty_, quiet_;
    bool progress_shown_ = false, ordered_ = false;
    int64_t shown_ = -1;  // the newest epoch whose line is out
    std::vector<std::pair<int64_t, std::string>> held_;
};

}  // namespace aepipe
