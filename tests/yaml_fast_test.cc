// The fast YAML path must build exactly what yaml-cpp builds, or decline.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

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

// Folded block scalars (">", ">-") whose lines sit at the block's
// indentation: yaml-cpp 0.7 folds them as YAML does.
const char* const kFolded[] = {
    "a: >\n  folded\n",
    "desc: >\n  one\n  two\n\n  three\nnext: 1\n",
    "desc: >-\n  one\n  two\nnext: 1\n",
    "d: >\n  a\n  b\n\n\nnext: 1\n",   // blank lines at the end, clipped
    "d: >-\n  a\n  b\n\n\nnext: 1\n",  // and stripped
    "d: >\n\n\n  a\n  b\nnext: 1\n",   // blank lines before the first line stay
    "d: >\n  a\n\n\n\n  b\n",          // three blank lines: three line breaks
    "d: >\n  a\n  \n  b\n \n  c\n",    // lines of spaces, no more than the block's
    "d: >\n  a  \n  b \n",             // trailing spaces stay
    "d: >\n  a\n\n",                   // blank lines at the end of the file
    "d: >-\n  a\n\n\n",
    "d: > # a comment\n  x\n",
    "d: >- # a comment\n  x\n",
    "d: >\n  - item\n  - item\n\n  # not a comment\n  'not quoted'\n  key: no\n",
    "crlf: >\r\n  one\r\n  two\r\n\r\n  three\r\nz: 1\r\n",
    "crlf: >-\r\n  one\r\n\r\n\r\nz: 1\r\n",
    "- >\n  a\n  b\n- >-\n  c\n\n- x\n",
    "list:\n  - id: x\n    text: >\n      a b\n      c\n  - y\n",
    "list:\n- >\n  at the key's indentation\n- |\n  literal\nz: 1\n",
    "a:\n  b: >\n    x\n    y\n  c: 1\n",
    "d: >\n  a\n  b\n# comment\n\n # comment\ne: 1\n",
    "d: >\n  a\n\n# comment\ne: >-\n  z\n",
    "d: >\n      deep\n      block\nz: 1\n",
    "d: >\n  Größe 日本語 🚀\n  naïve\n",
};

// Anchors on values, and aliases to them.
const char* const kAnchors[] = {
    "a: &x 1\nb: *x\n",
    "a: &x hello\nb: *x\n",
    "a: &x 'it''s'\nb: *x\nc: &y \"dq\"\nd: *y\n",
    "a: &x ~\nb: *x\nc: &y true\nd: *y\n",
    "a: &x [p, q]\nb: *x\n",
    "a: &x []\nb: *x\n",
    "a: &x\n  - p\n  - q\nb: *x\n",
    "a: &x\n- p\n- q\nb: *x\n",  // a sequence at its key's indentation
    "a: &x\n  k: v\n  l: [1, 2]\nb: *x\n",
    "a: &x |\n  literal\n  text\nb: *x\n",
    "a: &x >-\n  folded\n  text\nb: *x\n",
    "list:\n  - &x one\n  - *x\n  - *x\n",
    "list:\n  - &x\n    k: v\n  - *x\n",
    "list:\n  - &x\n    - p\n  - *x\n",
    "list:\n  - k: &x v\n    j: *x\n  - *x\n",
    "a: &x 1\nb: *x\nc: &x 2\nd: *x\n",  // a redefined anchor: the latest
    "a: &x [p]\nb: [*x, *x, z]\nc: [ *x ]\n",
    "a: &x [p]\nb: &y\n  - *x\n  - *x\nc: *y\nd: *y\n",  // aliases inside an anchored node
    "a: &x # comment\n  - p\nb: *x # comment\nc: &y  v  # comment\n",
    "a: &my-anchor_1 v\nb: *my-anchor_1\n",
    "a: &x\n  b: &x 1\n  c: *x\nd: *x\n",  // the inner anchor, opened last
    "tasks:\n  - id: T-1\n    files: &common [a/b.cc, c.h]\n  - id: T-2\n    files: *common\n"
    "  - id: T-3\n    files: &common\n      - d.h\n  - id: T-4\n    files: *common\n",
    "crlf: &x\r\n  - a\r\nb: *x\r\n",
};

std::vector<std::string_view> AllAccepted() {
  std::vector<std::string_view> all(std::begin(kAccepted), std::end(kAccepted));
  all.insert(all.end(), std::begin(kFolded), std::end(kFolded));
  all.insert(all.end(), std::begin(kAnchors), std::end(kAnchors));
  return all;
}

TEST(YamlFast, AgreesWithYamlCppOnSpecShapes) {
  for (std::string_view text : AllAccepted()) {
    EXPECT_EQ(FastPathDisagreement(text), "") << text;
  }
}

TEST(YamlFast, TakesTheFastPathForOrdinarySpecs) {
  int taken = 0;
  for (std::string_view text : AllAccepted()) {
    Document doc;
    bool fast = LoadYamlFast(text, LoadLimits{}, &doc);
    EXPECT_TRUE(fast || text == "x-ext: {}\n") << text;
    taken += fast;
  }
  EXPECT_EQ(taken, static_cast<int>(AllAccepted().size()) - 1);  // all but the flow mapping
}

TEST(YamlFast, FoldsAsYamlSays) {
  Document doc;
  ASSERT_TRUE(LoadYamlFast("d: >\n\n  a\n  b\n\n  c\n\n\n  d\ne: >-\n  x\n  y\n\n", LoadLimits{}, &doc));
  EXPECT_EQ(doc.FieldText(doc.root(), "d"), "\na b\nc\n\nd\n");
  EXPECT_EQ(doc.FieldText(doc.root(), "e"), "x y");
}

TEST(YamlFast, AnAliasIsItsAnchorsNode) {
  Document doc;
  ASSERT_TRUE(LoadYamlFast("a: &x [p]\nb: *x\nc: [*x]\n", LoadLimits{}, &doc));
  const Node& root = doc.root();
  EXPECT_EQ(root.entries[0].value, root.entries[1].value);
  EXPECT_EQ(doc.node(root.entries[2].value).items[0], root.entries[0].value);
  EXPECT_EQ(doc.node(root.entries[0].value).offset, 3u);  // at the '&', as yaml-cpp marks it
}

TEST(YamlFast, DeclinesWhatItDoesNotHandle) {
  const char* const declined[] = {
      "a: !!str 5\n",              // tags
      "a: {b: 1}\n",               // flow mappings
      "a: \"esc\\n\"\n",           // escapes
      "a: one\n  two\n",           // multi-line plain scalar
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
      // folded scalars
      "a: >+\n  keep\n\n",           // keep chomping
      "a: |+\n  keep\n\n",           // (literal too)
      "a: >2\n   indicated\n",       // an indentation indicator
      "a: >-2\n   indicated\n",      // (after the chomping indicator)
      "a: >\n  x\n    more\n  y\n",  // a more-indented line
      "a: >\n  x\n\n    more\n",     // (after a blank line)
      "a: >\n   \n  x\n",            // spaces past the block's indentation
      "a: >-\n  no final newline",   // no final line break
      "a: >\n",                      // an empty block
      "a: >\nb: 1\n",
      "a: >x\n  y\n",   // a glued character
      "a: >#c\n  y\n",  // a glued comment
      // anchors and aliases
      "&k a: 1\nb: *k\n",           // an anchor on a key
      "a: 1\n&k b: 2\n",            // (not the first)
      "- &k a: 1\n",                // (of a mapping in an entry)
      "a: &x 1\n*x : 2\n",          // an alias as a key
      "a: &x 1\nb:\n  *x : 2\n",    // (in a nested mapping)
      "a: *x\n",                    // an alias to no anchor
      "a: &y 1\nb: *x\n",           // (another name)
      "a: [*x]\n",                  // (in a flow sequence)
      "a: &x\n  b: *x\n",           // a cycle
      "a: &x\n  - [*x]\n",          // (in a flow sequence)
      "a: &x.y 1\nb: *x.y\n",       // a name past [A-Za-z0-9_-]
      "a: &x: 1\n",                 // (a ':' is a name character to yaml-cpp)
      "a: &x 1\nb: *x:\n",          // (after an alias too)
      "a: &x\nb: 1\n",              // an anchored null, marked at its anchor
      "a: &x\n",                    // (at the end)
      "a: &x *y\n",                 // an anchor on an alias
      "a: & x\n",                   // no name
      "a: &x [&y p, *y]\n",         // an anchor in a flow sequence
      "a: &x 1\nb: *x trailing\n",  // something after an alias
      "a: &x 1\nb: *x\n  more\n",   // (on the next line)
      "a: &x [p]\nb: [*x p]\n",     // (in a flow sequence)
      "a: &x !!str 1\n",            // a tag after the anchor
      "a: &x {b: 1}\nc: *x\n",      // a flow mapping
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

// An alias counts its anchor's subtree, expanded, against the budgets, as
// TreeBuilder does: at every limit, the fast path takes a text exactly when
// yaml-cpp's path loads it, and builds the same tree.
TEST(YamlFast, CountsAliasesAgainstTheLimitsAsYamlCppDoes) {
  const char* const texts[] = {
      "a: &x [pp, qqq]\nb: *x\nc: [*x, *x]\n",
      "a: &x\n  k: [v, w]\n  l: &y\n    - m\nb:\n  - *x\n  - *y\n  - *x\nc: *y\n",
      "a: &x ~\nb: [*x, *x]\nc: &z zz\nd: *z\n",
      "a: &x\n  - &y\n    - [deep]\n  - *y\nb:\n  c: [*x]\n",
      "a: &x\n  k:\n    l: [p]\nb: &y\n  - *x\nc:\n  d:\n    - *y\n    - [*y]\n",  // heights add up
  };
  for (const char* text : texts) {
    for (int which = 0; which < 3; ++which) {
      for (size_t n = 1; n < 40; ++n) {
        LoadLimits limits;
        if (which == 0) limits.max_nodes = n;
        if (which == 1) limits.max_expanded_bytes = n;
        if (which == 2) limits.max_depth = static_cast<int>(n % 8);
        SCOPED_TRACE(std::string(text) + " limit " + std::to_string(which) + " = " + std::to_string(n));
        EXPECT_EQ(FastPathDisagreement(text, limits), "");
        Document fast, ref;
        Finding problem;
        EXPECT_EQ(LoadYamlFast(text, limits, &fast), LoadYamlReference(text, limits, &ref, &problem));
      }
    }
  }
}

// Each new shape, mutated byte by byte (a byte dropped, or one of the bytes
// that matter to these shapes put in its place or before it), is still
// read as yaml-cpp reads it, or declined.
TEST(YamlFast, AgreesOnMutationsOfFoldedScalarsAndAnchors) {
  const std::string_view bytes(" \n-#>|&*:[],'x\r", 15);
  int taken = 0, texts = 0;
  auto check = [&](const std::string& text) {
    ++texts;
    std::string d = FastPathDisagreement(text);
    EXPECT_EQ(d, "") << "\"" << text << "\"";
    Document doc;
    taken += LoadYamlFast(text, LoadLimits{}, &doc);
  };
  std::vector<std::string_view> shapes(std::begin(kFolded), std::end(kFolded));
  shapes.insert(shapes.end(), std::begin(kAnchors), std::end(kAnchors));
  for (std::string_view shape : shapes) {
    for (size_t i = 0; i < shape.size(); ++i) {
      std::string s(shape);
      check(s.substr(0, i) + s.substr(i + 1));
      for (char b : bytes) {
        if (b != s[i]) check(s.substr(0, i) + b + s.substr(i + 1));
        check(s.substr(0, i) + b + s.substr(i));
      }
    }
  }
  EXPECT_GT(taken, texts / 4);  // the sweep reaches the fast path, not only its refusals
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

// And every file of the benchmarks' generated corpus of valid specs
// (comments, unicode, CRLF, anchors and aliases, literal and folded block
// scalars, flow lists, BOMs), for a few seeds: each agrees with yaml-cpp and
// each takes the fast path (the BOM is dropped first, as every caller of
// LoadYaml does through SourceText).
TEST(YamlFast, AgreesOnTheGeneratedValidCorpus) {
  namespace fs = std::filesystem;
  int files = 0, fast = 0, folded = 0, aliased = 0;
  for (const char* seed : {"1", "2", "3"}) {
    TempDir dir("specd-corpus");
    std::optional<Output> gen = RunProcess(dir.path(), "python3",
                                           {std::string(SPECD_SOURCE_DIR) + "/bench/gen_corpus.py", "--count",
                                            "200", "--seed", seed, "--out", dir.path()});
    ASSERT_TRUE(gen && gen->exit_code == 0) << (gen ? gen->err : "python3 did not run");
    auto [taken, count] = CompareEveryYamlFile(dir.path());
    EXPECT_EQ(count, 200);
    files += count;
    fast += taken;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
      if (!e.is_regular_file()) continue;
      std::string text = FileBytes(e.path());
      folded += text.find(": >") != std::string::npos;
      aliased += text.find(": *") != std::string::npos;
    }
  }
  EXPECT_EQ(fast, files);
  EXPECT_GT(folded, 0);  // the sweep holds the shapes the fast path now takes
  EXPECT_GT(aliased, 0);
}

}  // namespace
}  // namespace specd
