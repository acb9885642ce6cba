// aepipe data pack: a folder of PNG pictures -> IDX files that idx_reader reads.
//   aepipe data pack DIR --out NAME [--size HxW] [--gray|--rgb] [--test-split F]
// Files are taken in sorted path order (deterministic). Labels come from DIR's first-level
// folders (sorted names; the i-th folder is label i, listed in NAME-labels.txt); with no
// folders there are no labels. Written: NAME-images-idx3-ubyte (gray, N x H x W) or
// NAME-images-idx4-ubyte (RGB, N x H x W x 3), NAME-labels-idx1-ubyte; with --test-split F,
// NAME-train-* and NAME-test-* instead (per class, the j-th picture goes to the test set when
// floor((j+1) F) > floor(j F)). Every picture is checked before anything is written.
#include <cmath>
#include <filesystem>
#include <iostream>

#include "formats/idx.hpp"
#include "formats/image_prep.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

namespace {

struct Entry {
    std::string path;
    int label = -1;  // -1: no class folders
};

bool hidden(const fs::path &p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

bool is_png_name(const fs::path &p) {
    std::string e = p.extension().string();
    for (auto &ch : e) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return e == ".png";
}

// Sorted PNG files under dir (hidden files and folders skipped); any other file is an error.
std::vector<std::string> png_files(const std::string &dir) {
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        if (hidden(it->path())) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (it->is_directory()) continue;
        if (!is_png_name(it->path()))
            throw DataError(it->path().string(),
                            "not a PNG file (aepipe data pack reads *.png pictures only; "
                            "move other files out of the folder)");
        files.push_back(it->path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// Entries with labels from the first-level folders (class names, sorted).
std::vector<Entry> entries(const std::string &dir, std::vector<std::string> &classes) {
    for (const auto &d : fs::directory_iterator(dir))
        if (d.is_directory() && !hidden(d.path())) classes.push_back(d.path().filename().string());
    std::sort(classes.begin(), classes.end());
    if (classes.size() > 256)
        throw DataError(dir, std::to_string(classes.size()) + " class folders; IDX labels are bytes, at most 256");
    std::vector<Entry> out;
    const fs::path root = fs::path(dir).lexically_normal();
    for (const auto &f : png_files(dir)) {
        Entry e{f, -1};
        if (!classes.empty()) {
            fs::path rel = fs::path(f).lexically_normal().lexically_relative(root);
            auto first = rel.begin()->string();
            if (std::next(rel.begin()) == rel.end())
                throw DataError(f, "is not inside a class folder (" + dir +
                                       " has class folders, so every picture needs one: its name is the label)");
            e.label = int(std::lower_bound(classes.begin(), classes.end(), first) - classes.begin());
        }
        out.push_back(e);
    }
    if (out.empty()) throw DataError(dir, "no PNG pictures found (expected DIR/*.png or DIR/CLASS/*.png)");
    return out;
}

void parse_size(const std::string &s, int64_t &h, int64_t &w) {
    size_t x = s.find('x');
    try {
        size_t a = 0, b = 0;
        if (x == std::string::npos) throw std::invalid_argument(s);
        h = std::stoll(s.substr(0, x), &a), w = std::stoll(s.substr(x + 1), &b);
        if (a != x || b != s.size() - x - 1 || h < 1 || w < 1 || h > 4096 || w > 4096) throw std::invalid_argument(s);
    } catch (const std::logic_error &) {
        throw po::error("--size '" + s + "': expected HxW with sides 1..4096, e.g. --size 28x28");
    }
}

struct Split {
    std::vector<uint8_t> px, labels;
    int64_t n = 0;
};

void write_set(const std::string &base, const Split &s, int64_t h, int64_t w, int64_t c, bool labelled,
               std::vector<std::string> &written) {
    std::string images = base + (c == 1 ? "-images-idx3-ubyte" : "-images-idx4-ubyte");
    std::vector<int64_t> dims{s.n, h, w};
    if (c != 1) dims.push_back(c);
    write_idx(images, dims, s.px.data());
    written.push_back(images);
    if (!labelled) return;
    write_idx(base + "-labels-idx1-ubyte", {s.n}, s.labels.data());
    written.push_back(base + "-labels-idx1-ubyte");
}

struct PackOptions {
    std::string dir, name;
    int64_t h = 0, w = 0;  // 0: the first picture's size
    int64_t c = 0;         // 0: gray when every picture is gray, else RGB
    double split = 0;
};

PackOptions parse_pack(const std::vector<std::string> &args) {
    PackOptions o;
    po::options_description opts("aepipe data pack DIR --out NAME [options]");
    opts.add_options()("help,h", "show this help")("out", po::value<std::string>(&o.name),
                                                   "output name prefix (may hold a folder)")(
        "size", po::value<std::string>(), "resize every picture to HxW (default: all must have the first one's size)")(
        "gray", "store gray images (default when every picture is gray)")("rgb", "store RGB images")(
        "test-split", po::value<double>(&o.split),
        "fraction 0..1 of each class for a test set (NAME-train-*, NAME-test-*)");
    po::options_description hid;
    hid.add_options()("dir", po::value<std::string>(&o.dir));
    po::positional_options_description pos;
    pos.add("dir", 1);
    auto vm = parse_with(args, opts, hid, pos,
                         "Packs a folder of PNG pictures into IDX files for idx_reader. Labels come from the\n"
                         "first-level folder names (sorted; NAME-labels.txt lists them). Gray pictures give\n"
                         "NAME-images-idx3-ubyte (N x H x W), RGB ones NAME-images-idx4-ubyte (N x H x W x 3).\n");
    if (o.dir.empty()) throw po::error("missing DIR (a folder of PNG pictures)");
    if (o.name.empty()) throw po::error("missing --out NAME");
    if (vm.count("gray") && vm.count("rgb")) throw po::error("--gray and --rgb exclude each other");
    o.c = vm.count("rgb") ? 3 : vm.count("gray") ? 1 : 0;
    if (!(o.split >= 0 && o.split < 1)) throw po::error("--test-split must be a fraction in [0, 1)");
    if (vm.count("size")) parse_size(vm["size"].as<std::string>(), o.h, o.w);
    return o;
}

// Pass 1: every picture decodes; settles the size (the first one's, all equal) and colour.
void scan(const std::vector<Entry> &list, PackOptions &o) {
    const bool fixed = o.h > 0;
    bool all_gray = true;
    for (const auto &e : list) {
        Image img = read_png(e.path);
        all_gray = all_gray && looks_gray(img);
        if (fixed) continue;
        if (!o.h) o.h = img.h, o.w = img.w;
        if (img.h != o.h || img.w != o.w)
            throw DataError(e.path, "is " + std::to_string(img.w) + "x" + std::to_string(img.h) + " (WxH) but " +
                                        list[0].path + " is " + std::to_string(o.w) + "x" + std::to_string(o.h) +
                                        "; give --size HxW to resize every picture");
    }
    if (!o.c) o.c = all_gray ? 1 : 3;
}

// Pass 2: converted pictures routed to the training and test sets, per class in file order.
void pack_sets(const std::vector<Entry> &list, size_t classes, const PackOptions &o, Split &train, Split &test) {
    std::vector<int64_t> seen(std::max<size_t>(classes, 1), 0);
    for (const auto &e : list) {
        Image img = resize(to_channels(read_png(e.path), o.c), o.w, o.h);
        const int label = std::max(e.label, 0);
        const int64_t j = seen[size_t(label)]++;
        Split &s = std::floor(double(j + 1) * o.split) > std::floor(double(j) * o.split) ? test : train;
        s.px.insert(s.px.end(), img.px.begin(), img.px.end());
        s.labels.push_back(uint8_t(label));
        ++s.n;
    }
    if (o.split > 0 && (test.n == 0 || train.n == 0))
        throw po::error("--test-split " + std::to_string(o.split) + " leaves the " + (test.n ? "training" : "test") +
                        " set empty (" + std::to_string(list.size()) + " pictures)");
}

int cmd_pack(const std::vector<std::string> &args) {
    PackOptions o = parse_pack(args);
    std::error_code ec;
    if (!fs::is_directory(o.dir, ec)) throw DataError(o.dir, "not a folder (expected a folder of PNG pictures)");
    std::vector<std::string> classes;
    const std::vector<Entry> list = entries(o.dir, classes);
    scan(list, o);
    Split train, test;
    pack_sets(list, classes.size(), o, train, test);

    if (fs::path(o.name).has_parent_path()) fs::create_directories(fs::path(o.name).parent_path());
    const bool labelled = !classes.empty();
    std::vector<std::string> written;
    if (o.split > 0) {
        write_set(o.name + "-train", train, o.h, o.w, o.c, labelled, written);
        write_set(o.name + "-test", test, o.h, o.w, o.c, labelled, written);
    } else {
        write_set(o.name, train, o.h, o.w, o.c, labelled, written);
    }
    if (labelled) {
        std::string txt;
        for (size_t i = 0; i < classes.size(); ++i) txt += std::to_string(i) + " " + classes[i] + "\n";
        write_file_atomic(o.name + "-labels.txt", txt);
        written.push_back(o.name + "-labels.txt");
    }
    std::cout << "packed " << list.size() << " pictures of " << o.h << "x" << o.w << "x" << o.c << " ("
              << (o.c == 1 ? "gray" : "RGB") << ")";
    if (labelled) std::cout << ", " << classes.size() << " classes";
    if (o.split > 0) std::cout << ": " << train.n << " train, " << test.n << " test";
    std::cout << "\n";
    for (const auto &f : written) std::cout << "  " << f << "\n";
    return 0;
}

}  // namespace

int cmd_data(const std::vector<std::string> &args) {
    // pack is the only subcommand: `data --help` is pack's whole page.
    if (args.empty()) throw po::error("missing subcommand (expected: pack)");
    if (args[0] == "--help" || args[0] == "-h") return cmd_pack(args);
    if (args[0] != "pack") throw po::error("unknown subcommand '" + args[0] + "' (expected: pack)");
    return cmd_pack(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace aepipe::cli
