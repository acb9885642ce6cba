// Small pieces for writing self-contained HTML pages (run report, run comparison): escaping,
// base64 data URIs, CSV to table, the page frame. No JavaScript framework; a page reads offline.
#pragma once

#include <string>
#include <vector>

namespace aepipe::html {

std::string esc(const std::string &s);  // & < > " escaped
std::string base64(const std::string &bytes);
// "data:MIME;base64,..." of a file's bytes.
std::string data_uri(const std::string &mime, const std::string &bytes);

using Row = std::vector<std::string>;
std::vector<Row> parse_csv(const std::string &text);  // plain comma-separated, no quoting
// <table id=ID>: the first row as the header; cells that look like numbers are right-aligned.
std::string table(const std::string &id, const std::vector<Row> &rows);

// <!doctype html> ... <body> with the shared style sheet, a title and a navigation bar.
std::string page_head(const std::string &title, const std::vector<std::pair<std::string, std::string>> &nav);
// Closes the page; the tiny script marks <body data-images=N data-images-ok=K
// data-images-broken=B> once the page has loaded (read by the browser test, harmless otherwise).
std::string page_tail();

}  // namespace aepipe::html
