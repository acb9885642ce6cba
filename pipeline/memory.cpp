#include "pipeline/memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include <sys/resource.h>

namespace aepipe {

namespace {

double meminfo_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kb = 0;
    std::string unit;
    while (in >> key >> kb) {
        std::getline(in, unit);
        if (key == "MemAvailable:") return kb * 1024;
    }
    return std::numeric_limits<double>::infinity();
}

// cgroup v2: memory.max ("max" or bytes) minus memory.current, for the process's own group.
double cgroup_available() {
    const double inf = std::numeric_limits<double>::infinity();
    std::ifstream self("/proc/self/cgroup");
    std::string line, group;
    while (std::getline(self, line))
        if (line.rfind("0::", 0) == 0) group = line.substr(3);
    if (group.empty()) return inf;
    std::ifstream max_in("/sys/fs/cgroup" + group + "/memory.max"), cur_in("/sys/fs/cgroup" + group + "/memory.current");
    std::string max_s;
    double cur = 0;
    if (!(max_in >> max_s) || max_s == "max" || !(cur_in >> cur)) return inf;
    return std::max(0.0, std::stod(max_s) - cur);
}

// A field of /proc/self/status in bytes ("VmSize:", "VmData:"); 0 when absent.
double self_status_bytes(const std::string &field) {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == field) {
            double kb = 0;
            in >> kb;
            return kb * 1024;
        }
        std::getline(in, key);
    }
    return 0;
}

// What is left of a setrlimit bound (ulimit -v: all mappings count, ulimit -d: data); under
// such a limit MemAvailable can be plenty while every large allocation fails.
double rlimit_left(int resource, const std::string &used_field) {
    struct rlimit r {};
    if (getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return std::numeric_limits<double>::infinity();
    return std::max(0.0, double(r.rlim_cur) - self_status_bytes(used_field));
}

}  // namespace

MemoryBound available_memory_bound() {
    MemoryBound b{meminfo_available(), "MemAvailable"};
    const std::pair<double, const char *> others[] = {
        {cgroup_available(), "the cgroup's memory.max"},
        {rlimit_left(RLIMIT_AS, "VmSize:"), "what the address-space limit, ulimit -v, leaves"},
        {rlimit_left(RLIMIT_DATA, "VmData:"), "what the data-segment limit, ulimit -d, leaves"}};
    for (const auto &[bytes, name] : others)
        if (bytes < b.bytes) b = {bytes, name};
    return b;
}

double available_memory() { return available_memory_bound().bytes; }

std::string human_bytes(double bytes) {
    static const char *units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (bytes >= 1000 && u < 6) bytes /= 1000, ++u;
    char buf[48];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
    return buf;
}

void check_memory(const std::vector<MemoryItem> &items, double available, double max_memory,
                  const SourcePos &max_memory_pos, const std::string &available_name) {
    double total = 0;
    const MemoryItem *largest = nullptr;
    for (const auto &it : items) {
        total += it.bytes;
        if (!largest || it.bytes > largest->bytes) largest = &it;
    }
    const bool own_limit = max_memory > 0 && max_memory < available;
    const double limit = own_limit ? max_memory : available;
    if (!largest || total <= limit) return;
    const std::string bound = own_limit ? "train.max_memory (" + human_bytes(limit) + ", set at " +
                                              max_memory_pos.str() + ")"
                                        : "the " + human_bytes(limit) + " of memory available (" + available_name + ")";
    throw ConfigError(largest->pos,
                      largest->what + ": the run needs about " + human_bytes(total) + " (" +
                          std::to_string(int64_t(total)) + " bytes), more than " + bound + "; " + largest->what +
                          " alone takes " + human_bytes(largest->bytes) + ": " + largest->detail,
                      "make it smaller, lower train.batch, or train where more memory is free");
}

}  // namespace aepipe
