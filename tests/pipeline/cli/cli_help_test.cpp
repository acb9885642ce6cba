// The command line's own documentation: every subcommand's --help is titled with its name and
// lists every option its parser accepts; the top-level usage names every one of those options
// too (it is assembled from them, so options added later are covered by construction);
// list-nodes NAME prints that one entry, an unknown NAME is a usage error with a hint.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <regex>
#include <set>

#include "pipeline/cli/cli.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace po = boost::program_options;

// The commands the README documents; the usage may list more, never fewer.
const std::set<std::string> kCommands{"run",  "profile", "bench",       "validate", "graph",     "report",
                                      "compare", "data", "reconstruct", "generate", "list-nodes"};

// Long option names in a --help page: boost lists them as "  --name ..." or "  -h [ --help ] ...".
std::vector<std::string> options_in(const std::string &page) {
    std::vector<std::string> v;
    const size_t from = page.find("\noptions:");
    EXPECT_NE(from, std::string::npos) << page;
    static const std::regex opt(R"(^  (?:-\w \[ )?(--[\w-]+))");
    for (const auto &l : lines_of(page.substr(from == std::string::npos ? 0 : from))) {
        std::smatch m;
        if (std::regex_search(l, m, opt)) v.push_back(m[1]);
    }
    return v;
}

// The block of the top-level usage that belongs to `cmd`: its title line and the option lines
// under it, up to the next command.
std::string usage_block(const std::string &usage, const std::string &cmd) {
    const size_t at = usage.find("\n  aepipe " + cmd + " ");
    if (at == std::string::npos) return "";
    const size_t end = usage.find("\n  aepipe ", at + 1);
    return usage.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

bool has_option(const std::string &text, const std::string &opt) {
    return std::regex_search(text, std::regex(opt + R"((?![\w-]))"));
}

TEST(CliHelp, EveryCommandsHelpIsCompleteAndItsOwn) {
    RunResult top = run_aepipe({"--help"});
    ASSERT_EQ(top.exit_code, 0) << top.err;
    std::set<std::string> listed;
    static const std::regex title(R"(^  aepipe ([a-z-]+) )");
    for (const auto &l : lines_of(top.out)) {
        std::smatch m;
        if (std::regex_search(l, m, title) && m[1] != "COMMAND") listed.insert(m[1]);
    }
    for (const auto &c : kCommands) EXPECT_TRUE(listed.count(c)) << c << " missing from the usage:\n" << top.out;
    for (const auto &cmd : listed) {
        RunResult h = run_aepipe({cmd, "--help"});
        ASSERT_EQ(h.exit_code, 0) << cmd << ": " << h.err;
        EXPECT_EQ(h.out.rfind("usage: aepipe " + cmd + " ", 0), 0u) << cmd << "'s help is titled:\n" << h.out;
        const std::vector<std::string> opts = options_in(h.out);
        EXPECT_FALSE(opts.empty()) << cmd;
        const std::string block = usage_block(top.out, cmd);
        for (const auto &o : opts) {
            if (o == "--help") continue;  // the usage says "aepipe COMMAND --help" once
            EXPECT_TRUE(has_option(block, o)) << "aepipe --help leaves out " << cmd << " " << o << "\n" << block;
        }
    }
}

TEST(CliHelp, OptionsTheIssueFoundMissingAreListed) {
    RunResult top = run_aepipe({"--help"});
    for (const char *o : {"--zoom", "--fit", "--invert"})
        EXPECT_TRUE(has_option(usage_block(top.out, "reconstruct"), o)) << o;
    for (const char *o : {"--steps", "--zoom", "--out", "--config"})
        EXPECT_TRUE(has_option(usage_block(top.out, "generate"), o)) << o;
}

TEST(CliHelp, DataHelpIsPacksWholePage) {
    RunResult h = run_aepipe({"data", "--help"});
    ASSERT_EQ(h.exit_code, 0) << h.err;
    for (const char *o : {"--out", "--size", "--gray", "--rgb", "--test-split"}) EXPECT_TRUE(has_option(h.out, o)) << o;
    EXPECT_NE(h.out.find("Packs a folder of PNG pictures"), std::string::npos) << h.out;
}

TEST(CliHelp, UnknownCommandSuggestsTheNearest) {
    RunResult r = run_aepipe({"benhc"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("did you mean 'bench'?"), std::string::npos) << r.err;
}

TEST(CliHelp, HelpPageCarriesTitleAndEveryOption) {
    po::options_description opts("aepipe thing ARG [options]");
    opts.add_options()("help,h", "show this help")("alpha", po::value<int>(), "first")("beta-gamma", "second");
    cli::HelpRequested h = cli::help_page(opts, "Does a thing.\n");
    EXPECT_EQ(h.title, "aepipe thing ARG [options]");
    EXPECT_EQ(h.options, (std::vector<std::string>{"--help", "--alpha", "--beta-gamma"}));
    EXPECT_EQ(h.text.rfind("usage: aepipe thing ARG [options]\n\nDoes a thing.\n", 0), 0u) << h.text;
    EXPECT_EQ(options_in(h.text), h.options);
}

TEST(ListNodes, NamePrintsOnlyThatEntry) {
    RunResult r = run_aepipe({"list-nodes", "dense"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\ndense: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  units: integer, required, between 1 and 16777216."), std::string::npos) << r.out;
    for (const char *other : {"\nrelu: ", "\nadam: ", "\nidx_reader: ", "\ntrain: "})
        EXPECT_EQ(r.out.find(other), std::string::npos) << other << " in\n" << r.out;
}

TEST(ListNodes, SectionAndNodeOfOneNameArePrintedBoth) {
    RunResult r = run_aepipe({"list-nodes", "train"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("== sections of a config file"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("== compute nodes"), std::string::npos) << r.out;
    for (const char *key : {"threads", "in_flight", "shards", "max_steps", "clip_grad_norm", "epochs"})
        EXPECT_NE(r.out.find(std::string("\n  ") + key + ": "), std::string::npos) << key << " in\n" << r.out;
    EXPECT_EQ(r.out.find("\ndense: "), std::string::npos) << r.out;
    RunResult top = run_aepipe({"list-nodes", "config"});
    ASSERT_EQ(top.exit_code, 0) << top.err;
    EXPECT_NE(top.out.find("\n  name: string. names the run"), std::string::npos) << top.out;
}

TEST(ListNodes, UnknownNameIsAUsageErrorWithAHint) {
    RunResult r = run_aepipe({"list-nodes", "trian"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("no node type, layer, loss, optimizer or section 'trian'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'train'?"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

// A key asked for as if it were an entry: the hint names the entries that hold it.
TEST(ListNodes, AKeysNameIsAnsweredWithTheEntriesThatHoldIt) {
    RunResult r = run_aepipe({"list-nodes", "every_epochs"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("hint: 'every_epochs' is a key of checkpoint (aepipe list-nodes checkpoint)"),
              std::string::npos)
        << r.err;
    RunResult name = run_aepipe({"list-nodes", "name"});
    EXPECT_EQ(name.exit_code, 2);
    EXPECT_NE(name.err.find("hint: 'name' is a key of config (aepipe list-nodes config)"), std::string::npos)
        << name.err;
}

void collect_keys(const YAML::Node &n, std::set<std::string> &keys) {
    if (n.IsMap())
        for (const auto &kv : n) {
            keys.insert(kv.first.as<std::string>());
            collect_keys(kv.second, keys);
        }
    else if (n.IsSequence())
        for (const auto &item : n) collect_keys(item, keys);
}

// Every key that a shipped config holds is documented by list-nodes, the keys every layer or
// node takes (type, code, id) included.
TEST(ListNodes, DocumentsEveryKeyOfEveryShippedConfig) {
    RunResult r = run_aepipe({"list-nodes"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> keys;
    for (const auto &e : std::filesystem::directory_iterator(std::string(AEPIPE_SOURCE_DIR) + "/configs"))
        if (e.path().extension() == ".yaml") collect_keys(YAML::LoadFile(e.path().string()), keys);
    EXPECT_TRUE(keys.count("code") && keys.count("id")) << "the configs no longer use what this test is about";
    for (const auto &k : keys)
        EXPECT_TRUE(std::regex_search(r.out, std::regex("[\\n ;]" + k + "(: | \\()"))) << "list-nodes leaves out '" << k << "'";
}

TEST(ListNodes, HelpPrintsHelp) {
    RunResult r = run_aepipe({"list-nodes", "--help"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("usage: aepipe list-nodes", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find("\ndense: "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace aepipe::test
