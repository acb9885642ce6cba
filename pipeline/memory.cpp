#include "pipeline/memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

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

}  // namespace

double available_memory() { return std::min(meminfo_available(), cgroup_available()); }

std::string human_bytes(double bytes) {
    static const char *units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (bytes >= 1000 && u < 6) bytes /= 1000, ++u;
    char buf[48];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
    return buf;
}

void check_memory(const std::vector<MemoryItem> &items, double available, double max_memory,
                  const SourcePos &max_memory_pos) {
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
                                        : "the " + human_bytes(limit) + " of memory available (MemAvailable)";
    throw ConfigError(largest->pos,
                      largest->what + ": the run needs about " + human_bytes(total) + " (" +
                          std::to_string(int64_t(total)) + " bytes), more than " + bound + "; " + largest->what +
                          " alone takes " + human_bytes(largest->bytes) + ": " + largest->detail,
                      "make it smaller, lower train.batch, or train where more memory is free");
}

}  // namespace aepipe
