// report.html of a tiny run, opened in headless Chromium: the rendered DOM must hold the loss
// curves, the image grids and the metrics table, and no image may be broken. CI installs
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

#include "nodes/sink/png.hpp"
#include "pipeline/dot.hpp"
#include "report/tiny_run.hpp"

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
    return "timeout 60 '" + chromium + "' --headless --no-sandbox --disable-gpu --no-first-run "
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

TEST(Browser, ReportRendersInHeadlessChromium) {
    if (const char *skip = std::getenv("AEPIPE_SKIP_BROWSER"); skip && std::string(skip) == "1")
        GTEST_SKIP() << "AEPIPE_SKIP_BROWSER=1: report.html is not checked in a browser";
    std::string chromium = find_chromium();
    ASSERT_FALSE(chromium.empty()) << "no Chromium on PATH: install it (apt-get install chromium, or run "
                                      "scripts/install_deps.sh), set AEPIPE_CHROMIUM=/path/to/chrome, or set "
                                      "AEPIPE_SKIP_BROWSER=1 to skip this test";
    TempDir tmp("aepipe-browser");
    const int epochs = 3;
    std::string dir = tiny_run(tmp, epochs);
    ASSERT_FALSE(dir.empty());
    std::string url = "file://" + fs::absolute(dir + "/report.html").string();

    int status = -1;
    std::string dom = shell(chromium_cmd(chromium, tmp / "profile-dom", "--dump-dom '" + url + "'"), status);
    ASSERT_EQ(status, 0) << "chromium --dump-dom failed";
    ASSERT_TRUE(dom.find("</html>") != std::string::npos) << dom.substr(0, 2000);

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

    // Every image: a non-empty src that decodes (data: URI) or names an existing file, and the
    // page's own load-time count (naturalWidth > 0 for each <img>) reports none broken.
    std::regex img_re("<img [^>]*>");
    int images = 0, grids = 0;
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), img_re); it != std::sregex_iterator(); ++it) {
        std::string tag = it->str(), src = attr(tag, "src");
        ++images;
        grids += attr(tag, "class") == "grid";
        ASSERT_FALSE(src.empty() || src == "<missing>") << tag.substr(0, 200);
        if (src.rfind("data:", 0) == 0) {
            size_t comma = src.find(',');
            ASSERT_NE(comma, std::string::npos);
            std::string mime = src.substr(5, comma - 5);
            bool ok = false;
            std::string bytes = unbase64(src.substr(comma + 1), ok);
            ASSERT_TRUE(ok) << "bad base64 in " << mime;
            if (mime == "image/png;base64") {
                EXPECT_EQ(bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
            } else {
                EXPECT_EQ(mime, "image/svg+xml;base64");
                EXPECT_NE(bytes.find("<svg"), std::string::npos);
            }
        } else {
            EXPECT_TRUE(fs::exists(dir + "/" + src)) << "broken link: " << src;
        }
    }
    EXPECT_EQ(grids, 1);  // the newest grid of the run (recon.png)
    EXPECT_GE(images, grids + (find_program("dot").empty() ? 0 : 1));
    ASSERT_TRUE(std::regex_search(dom, m, std::regex("<body [^>]*>")));
    std::string body = m.str();
    EXPECT_EQ(attr(body, "data-images"), std::to_string(images)) << body;
    EXPECT_EQ(attr(body, "data-images-ok"), std::to_string(images)) << body;
    EXPECT_EQ(attr(body, "data-images-broken"), "0") << body;

    // And the page paints: a screenshot that is not one flat colour.
    std::string shot = tmp / "shot.png";
    shell(chromium_cmd(chromium, tmp / "profile-shot", "--window-size=1200,1600 --screenshot='" + shot + "' '" + url + "'"),
          status);
    ASSERT_EQ(status, 0) << "chromium --screenshot failed";
    Image img = read_png(shot);
    EXPECT_EQ(img.w, 1200);
    std::set<uint8_t> levels(img.px.begin(), img.px.end());
    EXPECT_GT(levels.size(), 16u);
}

}  // namespace
}  // namespace aepipe::test
