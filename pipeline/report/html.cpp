#include "pipeline/report/html.hpp"

#include <cstdlib>
#include <sstream>

namespace aepipe::html {

std::string esc(const std::string &s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': o += "&amp;"; break;
        case '<': o += "&lt;"; break;
        case '>': o += "&gt;"; break;
        case '"': o += "&quot;"; break;
        default: o += c;
        }
    }
    return o;
}

std::string base64(const std::string &bytes) {
    static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    o.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
        o += abc[v >> 18], o += abc[(v >> 12) & 63], o += abc[(v >> 6) & 63], o += abc[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | (i + 1 < bytes.size() ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0);
        o += abc[v >> 18], o += abc[(v >> 12) & 63];
        o += i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=';
        o += '=';
    }
    return o;
}

std::string data_uri(const std::string &mime, const std::string &bytes) {
    return "data:" + mime + ";base64," + base64(bytes);
}

std::vector<Row> parse_csv(const std::string &text) {
    std::vector<Row> rows;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        Row r;
        std::istringstream cells(line);
        for (std::string c; std::getline(cells, c, ',');) r.push_back(c);
        if (line.back() == ',') r.push_back("");
        rows.push_back(std::move(r));
    }
    return rows;
}

static bool numeric(const std::string &s) {
    if (s.empty()) return false;
    char *end = nullptr;
    std::strtod(s.c_str(), &end);
    return end && *end == '\0';
}

std::string table(const std::string &id, const std::vector<Row> &rows) {
    if (rows.empty()) return "";
    // In a scrolling box: a wide table (a VAE's 14 metrics columns) scrolls instead of widening the page.
    std::string o = "<div class=\"scroll\"><table id=\"" + esc(id) + "\">\n<thead><tr>";
    for (const auto &h : rows[0]) o += "<th>" + esc(h) + "</th>";
    o += "</tr></thead>\n<tbody>\n";
    for (size_t r = 1; r < rows.size(); ++r) {
        o += "<tr>";
        for (const auto &c : rows[r]) o += (numeric(c) ? "<td class=\"num\">" : "<td>") + esc(c) + "</td>";
        o += "</tr>\n";
    }
    return o + "</tbody>\n</table></div>\n";
}

static const char *kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 1.5em 3em; color: #222; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5em 0; }
nav a { margin-right: 1.2em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #eee; padding-bottom: .2em; margin-top: 1.8em; }
.summary { color: #555; }
table { border-collapse: collapse; font-size: .9em; }
div.scroll { overflow-x: auto; max-width: 100%; }
body > svg { max-width: 100%; height: auto; }
th, td { border: 1px solid #ddd; padding: .25em .6em; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: .8em; overflow-x: auto; font-size: .85em; }
figure { display: inline-table; margin: 0 1.5em 1em 0; vertical-align: top; }
figcaption { display: table-caption; caption-side: bottom; color: #555; font-size: .85em; margin-top: .3em; }
img.grid { image-rendering: pixelated; border: 1px solid #ccc; }
img.graph { max-width: 100%; }
.note { color: #a15c00; }
)";

std::string page_head(const std::string &title, const std::vector<std::pair<std::string, std::string>> &nav) {
    std::string o = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + esc(title) +
                    "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<nav>";
    for (const auto &[anchor, text] : nav) o += "<a href=\"#" + esc(anchor) + "\">" + esc(text) + "</a>";
    return o + "</nav>\n<h1>" + esc(title) + "</h1>\n";
}

std::string page_tail() {
    return R"(<script>
window.addEventListener('load', function () {
  var ok = 0, bad = 0;
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    if (im.complete && im.naturalWidth > 0) ok++; else bad++;
  }
  document.body.setAttribute('data-images', document.images.length);
  document.body.setAttribute('data-images-ok', ok);
  document.body.setAttribute('data-images-broken', bad);
});
</script>
</body>
</html>
)";
}

}  // namespace aepipe::html
