// report.html of a tiny run (an autoencoder and a VAE) and the compare page, opened in headless
// Chromium: the rendered DOM must hold the loss curves, the image grids and the metrics table,
// and no image may be broken. CI installs
// Chromium (scripts/install_deps.sh); AEPIPE_SKIP_BROWSER=1 skips the test, saying so, and
// without that a missing browser is a failure. AEPIPE_CHROMIUM names another binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "formats/png.hpp"
#include "pipeline/report/dot.hpp"
#include "pipeline/report/tiny_run.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

std::string find_chromium() {
    if (const char *env = std::getenv("AEPIPE_CHROMIUM"); env && *env) return env;
    for (const char *name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"})
        if (std::string p = find_program(name); !p.empty()) return p;
    return "";
}

// Runs `cmd` through the shell; stdout, and the exit status in `status`.
std::string shell(const std::string &cmd, int &status) {
    std::string out;
    FILE *f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    int st = ::pclose(f);
    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return out;
}

// The flags the issue names, a fresh profile folder, and a hard time limit; a container's small
// /dev/shm is not used.
std::string chromium_cmd(const std::string &chromium, const std::string &profile, const std::string &what) {
    return "timeout 60 '" + chromium + "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
           "--disable-background-networking --disable-component-update --disable-sync "
           "--disable-dev-shm-usage --user-data-dir='" + profile +
           "' " + what + " 2>/dev/null";
}

std::string attr(const std::string &tag, const std::string &name) {
    std::smatch m;
    std::regex re(" " + name + "=\"([^\"]*)\"");
    return std::regex_search(tag, m, re) ? m[1].str() : "<missing>";
}

std::string unbase64(const std::string &s, bool &ok) {
    static const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    ok = s.size() % 4 == 0;
    for (size_t i = 0; i < s.size() && ok; ++i) {
        if (s[i] == '=') {
            ok = i >= s.size() - 2;
            continue;
        }
        size_t v = abc.find(s[i]);
        if (v == std::string::npos) ok = false;
        acc = acc << 6 | uint32_t(v), bits += 6;
        if (bits >= 8) out += char((acc >> (bits - 8)) & 0xff), bits -= 8;
    }
    return out;
}

std::string chromium_or_skip() {
    if (const char *skip = std::getenv("AEPIPE_SKIP_BROWSER"); skip && std::string(skip) == "1") return "";
    return find_chromium();
}

#define NEED_CHROMIUM(chromium)                                                                                    \
    if (const char *skip = std::getenv("AEPIPE_SKIP_BROWSER"); skip && std::string(skip) == "1")                    \
        GTEST_SKIP() << "AEPIPE_SKIP_BROWSER=1: pages are not checked in a browser";                                 \
    ASSERT_FALSE(chromium.empty()) << "no Chromium on PATH: install it (apt-get install chromium, or run "           \
                                      "scripts/install_deps.sh), set AEPIPE_CHROMIUM=/path/to/chrome, or set "       \
                                      "AEPIPE_SKIP_BROWSER=1 to skip this test"

// The page as Chromium's DOM after load; every <img> checked: a data: URI that decodes to a PNG or
// an SVG, or a link to an existing file beside the page; the page's own load-time count reports
// none broken. `grids`: the number of image grids (<img class="grid">) expected.
std::string rendered_dom(const std::string &chromium, const TempDir &tmp, const std::string &page, int grids) {
    std::string url = "file://" + fs::absolute(page).string();
    int status = -1;
    std::string dom = shell(chromium_cmd(chromium, tmp / ("profile-dom-" + std::to_string(std::rand())), "--dump-dom '" + url + "'"), status);
    EXPECT_EQ(status, 0) << "chromium --dump-dom failed";
    EXPECT_TRUE(dom.find("</html>") != std::string::npos) << dom.substr(0, 2000);
    std::regex img_re("<img [^>]*>");
    int images = 0, grid_count = 0;
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), img_re); it != std::sregex_iterator(); ++it) {
        std::string tag = it->str(), src = attr(tag, "src");
        ++images;
        grid_count += attr(tag, "class") == "grid";
        EXPECT_FALSE(src.empty() || src == "<missing>") << tag.substr(0, 200);
        if (src.rfind("data:", 0) == 0) {
            size_t comma = src.find(',');
            EXPECT_NE(comma, std::string::npos);
            std::string mime = src.substr(5, comma - 5);
            bool ok = false;
            std::string bytes = unbase64(src.substr(comma + 1), ok);
            EXPECT_TRUE(ok) << "bad base64 in " << mime;
            if (mime == "image/png;base64") {
                EXPECT_EQ(bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
            } else {
                EXPECT_EQ(mime, "image/svg+xml;base64");
                EXPECT_NE(bytes.find("<svg"), std::string::npos);
            }
        } else {
            EXPECT_TRUE(fs::exists(fs::path(page).parent_path() / src)) << "broken link: " << src;
        }
    }
    EXPECT_EQ(grid_count, grids);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(dom, m, std::regex("<body [^>]*>")));
    std::string body = m.str();
    EXPECT_EQ(attr(body, "data-images"), std::to_string(images)) << body;
    EXPECT_EQ(attr(body, "data-images-ok"), std::to_string(images)) << body;
    EXPECT_EQ(attr(body, "data-images-broken"), "0") << body;
    return dom;
}

// A screenshot of the page that is not one flat colour.
void expect_paints(const std::string &chromium, const TempDir &tmp, const std::string &page, const std::string &shot) {
    int status = -1;
    shell(chromium_cmd(chromium, tmp / ("profile-shot-" + shot),
                       "--window-size=1200,1600 --screenshot='" + (tmp / shot) + "' 'file://" + fs::absolute(page).string() + "'"),
          status);
    ASSERT_EQ(status, 0) << "chromium --screenshot failed";
    Image img = read_png(tmp / shot);
    EXPECT_EQ(img.w, 1200);
    std::set<uint8_t> levels(img.px.begin(), img.px.end());
    EXPECT_GT(levels.size(), 16u);
}

// The <th> cells of metrics.csv's header line, as the table must show them.
std::string header_cells(const std::string &csv) {
    std::string header = csv.substr(0, csv.find('\n')), want = "<thead><tr>";
    for (size_t at = 0; at < header.size();) {
        size_t comma = std::min(header.find(',', at), header.size());
        want += "<th>" + header.substr(at, comma - at) + "</th>";
        at = comma + 1;
    }
    return want + "</tr></thead>";
}

TEST(Browser, ReportRendersInHeadlessChromium) {
    std::string chromium = chromium_or_skip();
    NEED_CHROMIUM(chromium);
    TempDir tmp("aepipe-browser");
    const int epochs = 3;
    std::string dir = tiny_run(tmp, epochs);
    ASSERT_FALSE(dir.empty());
    std::string dom = rendered_dom(chromium, tmp, dir + "/report.html", 1);  // the newest grid (recon.png)

    // The loss curves: an inline <svg> with a line per series, one point per epoch.
    size_t curves = dom.find("<h2 id=\"curves\">");
    ASSERT_NE(curves, std::string::npos);
    EXPECT_EQ(count_between(dom, "<h2 id=\"curves\">", "</svg>", "<polyline"), 2);
    std::smatch m;
    std::string after = dom.substr(curves);
    ASSERT_TRUE(std::regex_search(after, m, std::regex("<polyline points=\"([^\"]*)\"")));
    EXPECT_EQ(std::count(m[1].first, m[1].second, ','), epochs) << m[1];
    // The metrics table: a header and one row per epoch.
    EXPECT_EQ(count_between(dom, "id=\"metrics-table\"", "</tbody>", "<tr>"), 1 + epochs);
    expect_paints(chromium, tmp, dir + "/report.html", "shot.png");
}

// A VAE's report: the loss in nats per image on its own axis beside the test MSE, every column
// of metrics.csv, every layer in the summary, and a grid from aepipe generate captioned as such.
TEST(Browser, VaeReportRendersInHeadlessChromium) {
    std::string chromium = chromium_or_skip();
    NEED_CHROMIUM(chromium);
    TempDir tmp("aepipe-browser-vae");
    std::string dir = tiny_run(tmp, 2, "tvae", {}, "run", true);
    ASSERT_FALSE(dir.empty());
    RunResult g = run_aepipe({"generate", "--checkpoint", dir + "/model.safetensors", "--n", "9"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    RunResult r = run_aepipe({"report", dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string dom = rendered_dom(chromium, tmp, dir + "/report.html", 2);  // recon.png and samples.png
    EXPECT_EQ(count_between(dom, "<h2 id=\"curves\">", "<h2 id=\"images\">", "<svg x="), 2);  // loss | test MSE
    EXPECT_EQ(count_between(dom, "<h2 id=\"curves\">", "<h2 id=\"images\">", "<polyline"), 5);
    EXPECT_NE(dom.find(">bce + KL loss, nats per image</text>"), std::string::npos);
    EXPECT_EQ(dom.find("per-pixel mean"), std::string::npos);
    EXPECT_NE(dom.find(header_cells(read_bytes(dir + "/metrics.csv"))), std::string::npos);
    EXPECT_NE(dom.find("tvae: in 64 | dense 32 relu | dense 8 | sample 4 | dense 32 relu | dense 64, loss bce"),
              std::string::npos);
    EXPECT_NE(dom.find("samples.png: decodings of random codes drawn from the prior N(0, I), made by aepipe generate"),
              std::string::npos);
    EXPECT_EQ(dom.find("samples.png: decodings of random codes drawn from the prior N(0, I), after"), std::string::npos);
    expect_paints(chromium, tmp, dir + "/report.html", "vae.png");
}

// The compare page of two runs with one name and a VAE: unique labels used alike everywhere,
// and the VAE's nats on an axis of their own.
TEST(Browser, ComparePageRendersInHeadlessChromium) {
    std::string chromium = chromium_or_skip();
    NEED_CHROMIUM(chromium);
    TempDir tmp("aepipe-browser-cmp"), tmp2("aepipe-browser-cmp2");
    std::string a = tiny_run(tmp, 2, "same"), b = tiny_run(tmp2, 2, "same"), v = tiny_run(tmp, 2, "vae", {}, "run", true);
    ASSERT_FALSE(a.empty() || b.empty() || v.empty());
    RunResult r = run_aepipe({"compare", a, b, v, "--out", tmp / "cmp.html"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string dom = rendered_dom(chromium, tmp, tmp / "cmp.html", 3);
    EXPECT_EQ(count_between(dom, "<h2 id=\"curves\">", "<h2 id=\"final\">", "<svg x="), 3);
    EXPECT_NE(dom.find(">train loss, nats per image</text>"), std::string::npos);
    EXPECT_NE(dom.find(">train loss, squared error per pixel</text>"), std::string::npos);
    std::set<std::string> labels;
    std::string rows = dom.substr(dom.find("id=\"compare-table\""));
    std::regex first_cell("<tr><td>([^<]*)</td>");
    for (auto it = std::sregex_iterator(rows.begin(), rows.end(), first_cell);
         it != std::sregex_iterator(); ++it)
        labels.insert((*it)[1]);
    EXPECT_EQ(labels.size(), 3u);  // unique
    for (const auto &label : labels) {
        EXPECT_NE(dom.find(">" + label + "</text>"), std::string::npos) << label;  // legend of the MSE plot
        EXPECT_NE(dom.find("<figcaption>" + label + ": recon.png"), std::string::npos) << label;
    }
    expect_paints(chromium, tmp, tmp / "cmp.html", "cmp.png");
}

}  // namespace
}  // namespace aepipe::test
