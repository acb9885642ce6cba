// Terminal output shared by all nodes: a live progress line on a terminal (redrawn in place)
// and whole log lines, which never interleave with it.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace aepipe {

class Console {
public:
    explicit Console(bool tty, bool quiet = false) : tty_(tty), quiet_(quiet) {}
    bool tty() const { return tty_; }
    // A full line on stdout (clears a pending progress line first).
    void line(const std::string &s) {
        if (quiet_) return;
        std::lock_guard<std::mutex> lock(mu_);
        if (progress_shown_) std::fputs("\r\033[K", stdout), progress_shown_ = false;
        std::fputs(s.c_str(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
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
        if (progress_shown_) std::fputs("\r\033[K", stdout), std::fflush(stdout), progress_shown_ = false;
    }

private:
    std::mutex mu_;
    bool tty_, quiet_;
    bool progress_shown_ = false;
};

}  // namespace aepipe
