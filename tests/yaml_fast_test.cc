// The fast YAML path must build exactly what yaml-cpp builds, or decline.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/process_util.h"
#include "tests/test_util.h"
#include "tests/tree_compare.h"

namespace specd {
namespace {

using testing::FastPathDisagreement;
using testing::Output;
using testing::RunProcess;
using testing::TempDir;

// Shapes spec files are made of: each must take the fast path and agree.
const char* const kAccepted[] = {
    "id: spec-2026-02-18-001\nversion: \"1.0.0\"\n",
    "# leading comment\n---\na: 1\n",
    "a:\n  b:\n    c: deep\n  d: [x, \"y\" , 'z''s' ]  # trailing\n",
    "a:\nb: x\n",                                      // a null marked at the next token
    "list:\n  -\n  - \n  - k: v\n    j: w\nend: 1\n",  // empty entries, compact mapping
    "same:\n- s1\n- s2\nnext: 1\n",                    // a sequence at its key's indentation
    "lit: |\n  line one\n\n  line three\n\nnext: 1\n",
    "strip: |-\n  kept\n  text\n\n\nnext: 2\n",
    "crlf: value\r\nother:\r\n  - a\r\n  - b\r\n",
    "crlf_lit: |\r\n  one\r\n  two\r\nz: 1\r\n",
    "title: \"Résumé upload — 日本語 🚀\"\nplain: naïve café\n",
    "key with spaces: value, with commas # and a comment\nhash: a#b\n",
    "n: -5\nf: 1.5e3\nb: true\nnul: ~\nyes: no\noct: 017\n",
    "empty: []\nnested:\n  - [a, b]\n",
    "x-ext: {}\n",  // declined (flow mapping) but must not disagree
    "seq:\n  - id: T-1\n    deps: []\n    files:\n      - a/b.cc\n      - c.h\n  - id: T-2\n",
    "a: 'it''s'\nb: \"#not a comment\"\n",
    "  indented: root\n  second: 2\n",
};

TEST(YamlFast, AgreesWithYamlCppOnSpecShapes) {
  for (const char* text : kAccepted) {
    EXPECT_EQ(FastPathDisagreement(text), "") << text;
  }
}

TEST(YamlFast, TakesTheFastPathForOrdinarySpecs) {
  int taken = 0;
  for (const char* text : kAccepted) {
    Document doc;
    taken += LoadYamlFast(text, LoadLimits{}, &doc);
  }
  EXPECT_EQ(taken, static_cast<int>(std::size(kAccepted)) - 1);  // all but the flow mapping
}

TEST(YamlFast, DeclinesWhatItDoesNotHandle) {
  const char* const declined[] = {
      "a: &x 1\nb: *x\n",          // anchors and aliases
      "a: !!str 5\n",              // tags
      "a: {b: 1}\n",               // flow mappings
      "a: \"esc\\n\"\n",           // escapes
      "a: one\n  two\n",           // multi-line plain scalar
      "a: >\n  folded\n",          // folded scalar
      "a: 1\na: 2\n",              // duplicate key (yaml-cpp path reports it)
      "a: 1\n---\nb: 2\n",         // a second document
      "a:\tb\n",                   // a tab
      "<<: {}\n",                  // merge key
      "a: [1,\n  2]\n",            // multi-line flow
      "a: b: c\n",                 // a map value where a scalar ends
      "just a scalar\n",           // root scalar
      "a: |\n  no final newline",  // literal block at end of file without a break
      "a:",                        // null at the end
      "a: x\x01y\n",               // control byte
      "a: 1\r",                    // a final lone CR (fuzzer): yaml-cpp keeps it in the scalar
      "- [o?]",                    // yaml-cpp rejects this flow scalar (fuzzer)
      "a: [-]\n",                  // a '-' alone: refused on the yaml-cpp path
  };
  for (const char* text : declined) {
    Document doc;
    EXPECT_FALSE(LoadYamlFast(text, LoadLimits{}, &doc)) << text;
  }
}

TEST(YamlFast, RespectsTheLimitsByDeclining) {
  LoadLimits limits;
  limits.max_depth = 2;
  Document doc;
  EXPECT_FALSE(LoadYamlFast("a:\n  b:\n    c: 1\n", limits, &doc));
  limits = LoadLimits{};
  limits.max_nodes = 3;
  EXPECT_FALSE(LoadYamlFast("a: 1\nb: 2\n", limits, &doc));
}

std::string FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

// The YAML files under `root`: how many the fast path took, and how many
// there were. Each must load the same both ways wherever both can load it.
std::pair<int, int> CompareEveryYamlFile(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  int files = 0, fast = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
    std::string text = FileBytes(e.path());
    EXPECT_EQ(FastPathDisagreement(text), "") << e.path();
    Document doc;
    fast += LoadYamlFast(text, LoadLimits{}, &doc);
    ++files;
  }
  return {fast, files};
}

// Every YAML file in the tree (fixtures, fuzz regressions, templates, demo)
// loads the same both ways.
TEST(YamlFast, AgreesOnEveryYamlFileInTheTree) {
  int files = 0;
  for (const char* dir : {"fixtures", "specs"}) {
    files += CompareEveryYamlFile(std::filesystem::path(SPECD_SOURCE_DIR) / dir).second;
  }
  EXPECT_GT(files, 100);
}

// And every file of the benchmarks' generated corpus of valid specs (comments,
// unicode, CRLF, anchors, block scalars, flow lists, BOMs): most take the
// fast path, and each agrees with yaml-cpp.
TEST(YamlFast, AgreesOnTheGeneratedValidCorpus) {
  TempDir dir("specd-corpus");
  std::optional<Output> gen = RunProcess(
      dir.path(), "python3",
      {std::string(SPECD_SOURCE_DIR) + "/bench/gen_corpus.py", "--count", "300", "--out", dir.path()});
  ASSERT_TRUE(gen && gen->exit_code == 0) << (gen ? gen->err : "python3 did not run");
  auto [fast, files] = CompareEveryYamlFile(dir.path());
  EXPECT_EQ(files, 300);
  EXPECT_GT(fast, 200);
}

}  // namespace
}  // namespace specd
