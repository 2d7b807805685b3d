// The fast YAML path must build exactly what yaml-cpp builds, or decline.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/tree_compare.h"

namespace specd {
namespace {

using testing::FastPathDisagreement;

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

// Every YAML file in the tree (fixtures, templates, demo) loads the same both ways.
TEST(YamlFast, AgreesOnEveryYamlFileInTheTree) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const char* dir : {"fixtures", "specs"}) {
    fs::path root = fs::path(SPECD_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::string ext = e.path().extension().string();
      if (ext != ".yaml" && ext != ".yml") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
      EXPECT_EQ(FastPathDisagreement(text), "") << e.path();
      ++files;
    }
  }
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace specd
