#include "formats/fingerprint.hpp"

#include <zlib.h>

#include <fstream>
#include <set>

#include "pipeline/registry.hpp"
#include "pipeline/schema.hpp"

namespace aepipe {

using nlohmann::json;

static void flatten(const YAML::Node &n, const std::string &path, json &out) {
    if (n.IsMap()) {
        for (const auto &kv : n) flatten(kv.second, path + "." + kv.first.as<std::string>(), out);
    } else if (n.IsSequence()) {
        for (size_t i = 0; i < n.size(); ++i) flatten(n[i], path + "[" + std::to_string(i) + "]", out);
    } else if (n.IsScalar()) {
        out[path] = n.Scalar();
    }
}

static json file_fingerprint(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    json j{{"path", path}};
    if (!in) return j;
    std::vector<char> buf(1 << 20);
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t size = 0;
    while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        auto got = in.gcount();
        if (got <= 0) break;
        crc = crc32(crc, reinterpret_cast<const Bytef *>(buf.data()), uInt(got));
        size += uint64_t(got);
    }
    j["size"] = size;
    j["crc32"] = uint32_t(crc);
    return j;
}

json config_fingerprint(const ConfigFile &cfg) {
    json fp{{"model", json::object()}, {"train", json::object()}, {"data", json::object()}, {"files", json::object()}};
    flatten(cfg.root["model"], "model", fp["model"]);
    static const std::set<std::string> free_keys{"epochs", "max_steps", "threads", "shards", "in_flight"};
    if (const YAML::Node t = cfg.root["train"]; t && t.IsMap())
        for (const auto &kv : t)
            if (!free_keys.count(kv.first.as<std::string>()))
                flatten(kv.second, "train." + kv.first.as<std::string>(), fp["train"]);
    const YAML::Node nodes = cfg.root["graph"]["nodes"];
    for (size_t i = 0; nodes && i < nodes.size(); ++i) {
        const YAML::Node n = nodes[i];
        const NodeSpec *spec = find_spec(n["type"].as<std::string>(""));
        if (!spec || spec->category != Category::Data || !n.IsMap()) continue;
        const std::string id = n["id"].as<std::string>("");
        for (const auto &kv : n) {
            const std::string key = kv.first.as<std::string>();
            const KeySpec *k = spec->key(key);
            if (k && k->kind == Kind::Path && kv.second.IsScalar())
                fp["files"][id + "." + key] = file_fingerprint(resolve_path(cfg, kv.second.Scalar()));
            else
                flatten(kv.second, "graph.nodes[" + id + "]." + key, fp["data"]);
        }
        fp["data"]["graph.nodes[" + id + "].type"] = spec->type;
    }
    return fp;
}

static std::string show(const json &v) { return v.is_null() ? "(not set)" : v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<std::string> fingerprint_diff(const json &ck, const json &now) {
    std::vector<std::string> out;
    for (const char *sec : {"model", "train", "data"}) {
        const json a = ck.value(sec, json::object()), b = now.value(sec, json::object());
        std::set<std::string> keys;
        for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
        for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
        for (const auto &k : keys) {
            json va = a.value(k, json()), vb = b.value(k, json());
            if (va != vb) out.push_back(k + ": checkpoint " + show(va) + ", config " + show(vb));
        }
    }
    const json fa = ck.value("files", json::object()), fb = now.value("files", json::object());
    std::set<std::string> keys;
    for (auto it = fa.begin(); it != fa.end(); ++it) keys.insert(it.key());
    for (auto it = fb.begin(); it != fb.end(); ++it) keys.insert(it.key());
    for (const auto &k : keys) {
        json va = fa.value(k, json()), vb = fb.value(k, json());
        if (va.is_null() || vb.is_null()) {
            out.push_back("data file " + k + ": " + (va.is_null() ? "not in the checkpoint" : "not in the config"));
        } else if (va.value("size", json()) != vb.value("size", json()) ||
                   va.value("crc32", json()) != vb.value("crc32", json())) {
            out.push_back("data file " + k + ": contents differ (checkpoint: " + show(va["path"]) + ", " +
                          show(va.value("size", json())) + " bytes, crc32 " + show(va.value("crc32", json())) +
                          "; now: " + show(vb["path"]) + ", " + show(vb.value("size", json())) + " bytes, crc32 " +
                          show(vb.value("crc32", json())) + ")");
        }
    }
    return out;
}

}  // namespace aepipe
