// The YAML loader: YAML 1.2 core-schema typing and the rules of SPEC_FORMAT.md.
#include "schema/yaml_tree.h"

#include <gtest/gtest.h>

namespace specd {
namespace {

struct Loaded {
  Document doc;
  Finding problem;
  bool ok;
};

Loaded Load(std::string_view text, LoadLimits limits = {}) {
  Loaded l;
  l.ok = LoadYaml(text, limits, &l.doc, &l.problem);
  return l;
}

const Node& Value(const Loaded& l, std::string_view key) {
  const MapEntry* e = l.doc.root().Find(key);
  EXPECT_NE(e, nullptr) << key;
  return l.doc.node(e->value);
}

TEST(TypePlainScalar, FollowsTheYaml12CoreSchema) {
  struct Case {
    const char* text;
    NodeKind kind;
  } cases[] = {
      {"yes", NodeKind::kString},        {"no", NodeKind::kString},
      {"on", NodeKind::kString},         {"off", NodeKind::kString},
      {"true", NodeKind::kBool},         {"False", NodeKind::kBool},
      {"null", NodeKind::kNull},         {"~", NodeKind::kNull},
      {"017", NodeKind::kInt},           {"-3", NodeKind::kInt},
      {"0x1F", NodeKind::kInt},          {"0o17", NodeKind::kInt},
      {"1.0", NodeKind::kFloat},         {"1e3", NodeKind::kFloat},
      {".inf", NodeKind::kFloat},        {"1.0.0", NodeKind::kString},
      {"2h", NodeKind::kString},         {"0x", NodeKind::kString},
      {"2026-02-18", NodeKind::kString},
  };
  for (const Case& c : cases) {
    Node n;
    TypePlainScalar(c.text, &n);
    EXPECT_EQ(n.kind, c.kind) << c.text;
  }
}

TEST(TypePlainScalar, LeadingZeroIsDecimal) {
  Node n;
  TypePlainScalar("017", &n);
  EXPECT_EQ(n.integer, 17);
  TypePlainScalar("0o17", &n);
  EXPECT_EQ(n.integer, 15);
}

TEST(LoadYaml, QuotedScalarsAreStrings) {
  Loaded l = Load("a: \"017\"\nb: 'true'\nc: |\n  42\n");
  ASSERT_TRUE(l.ok) << l.problem.message;
  EXPECT_EQ(Value(l, "a").kind, NodeKind::kString);
  EXPECT_EQ(Value(l, "a").text, "017");
  EXPECT_EQ(Value(l, "b").kind, NodeKind::kString);
  EXPECT_EQ(Value(l, "c").kind, NodeKind::kString);
}

TEST(LoadYaml, KeepsKeyOrderAndOffsets) {
  Loaded l = Load("zeta: 1\nalpha: 2\n");
  ASSERT_TRUE(l.ok);
  ASSERT_EQ(l.doc.root().entries.size(), 2u);
  EXPECT_EQ(l.doc.root().entries[0].key, "zeta");
  EXPECT_EQ(l.doc.root().entries[1].key_offset, 8u);
  EXPECT_EQ(Value(l, "alpha").offset, 15u);
}

TEST(LoadYaml, DuplicateKeyIsAnError) {
  Loaded l = Load("a: 1\nb:\n  c: 1\n  c: 2\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-duplicate-key");
  EXPECT_EQ(l.problem.pointer, "/b/c");
  EXPECT_EQ(l.problem.offset, 17u);
  EXPECT_EQ(l.problem.message, "duplicate key 'c' (first defined at line 3, column 3)");
}

TEST(LoadYaml, DuplicateKeyInALargeMapping) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "k" + std::to_string(i) + ": 1\n";
  text += "k42: 2\n";
  Loaded l = Load(text);
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.pointer, "/k42");
  EXPECT_EQ(l.problem.message, "duplicate key 'k42' (first defined at line 43, column 1)");
}

TEST(LoadYaml, SecondDocumentIsAnError) {
  Loaded l = Load("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-multiple-documents");
  EXPECT_EQ(l.problem.offset, 5u);
}

TEST(LoadYaml, MergeKeyIsRefused) {
  Loaded l = Load("base: &b {x: 1}\nother:\n  <<: *b\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-merge-key");
  EXPECT_EQ(l.problem.message, "merge keys (<<) are not supported; write the fields out");
}

TEST(LoadYaml, AliasesShareTheAnchoredNode) {
  Loaded l = Load("a: &x [1, 2]\nb: *x\n");
  ASSERT_TRUE(l.ok);
  EXPECT_EQ(l.doc.root().entries[0].value, l.doc.root().entries[1].value);
}

TEST(LoadYaml, SelfReferencingAliasIsACycle) {
  Loaded l = Load("a: &loop\n  - x\n  - *loop\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-alias");
  EXPECT_EQ(l.problem.pointer, "/a/1");
  EXPECT_EQ(l.problem.message, "alias *loop refers to a node that contains it (a cycle)");
}

TEST(LoadYaml, AliasExpansionIsBudgeted) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  Loaded l = Load(bomb);
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-alias");
  EXPECT_EQ(l.problem.message, "alias *d expands the document past 100000 nodes (limit --max-nodes)");
}

TEST(LoadYaml, DepthIsLimited) {
  LoadLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(Load("a: {b: {c: 1}}\n", limits).ok);
  Loaded l = Load("a: {b: {c: {d: 1}}}\n", limits);
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.message, "nesting is deeper than 3 levels (limit --max-depth)");
  EXPECT_EQ(l.problem.pointer, "/a/b/c");
}

TEST(LoadYaml, AliasCannotNestPastTheDepthLimit) {
  LoadLimits limits;
  limits.max_depth = 4;
  Loaded l = Load("a: &d [[[1]]]\nb: [[*d]]\n", limits);
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.message, "alias *d nests the document deeper than 4 levels (limit --max-depth)");
}

TEST(LoadYaml, UnsupportedTagIsAnError) {
  Loaded l = Load("a: !custom x\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-tag");
  EXPECT_EQ(l.problem.message, "unsupported tag '!custom'");
}

TEST(LoadYaml, StandardTagsApply) {
  Loaded l = Load("a: !!str 5\nb: !!int \"7\"\n");
  ASSERT_TRUE(l.ok) << l.problem.message;
  EXPECT_EQ(Value(l, "a").kind, NodeKind::kString);
  EXPECT_EQ(Value(l, "b").kind, NodeKind::kInt);
  EXPECT_EQ(Value(l, "b").integer, 7);
}

TEST(LoadYaml, UnclosedFlowListPointsAtItsBracket) {
  Loaded l = Load("a: [1\nb: 2\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-syntax");
  // yaml-cpp notices at line 2; the mistake is the '[' that never closes.
  EXPECT_EQ(l.problem.message, "the list started here with '[' is not closed with ']'");
  EXPECT_EQ(l.problem.pointer, "/a");
  EXPECT_EQ(l.problem.offset, 3u);
}

TEST(LoadYaml, UnclosedQuoteIsAnError) {
  Loaded l = Load("a: 1\nb: \"never closed\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.offset, 8u);
  EXPECT_EQ(l.problem.message, "the string started here with '\"' is not closed");
}

TEST(LoadYaml, BareWordAtTheEndIsNotAKey) {
  Loaded l = Load("a: 1\nstray words\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.offset, 5u);
  EXPECT_EQ(l.problem.message, "'stray words' has no ':'; expected a 'key: value' pair");
  EXPECT_TRUE(Load("{a, b: 1}\n").ok);  // in a flow mapping a lone key is fine
  EXPECT_TRUE(Load("? a\n").ok);        // and so is an explicit one
}

TEST(LoadYaml, ListFollowedByAMappingAtTheMargin) {
  Loaded l = Load("- a: 1\nb: 2\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.offset, 7u);
  EXPECT_EQ(l.problem.message, "expected a list item ('- ') at this indentation, got a 'key: value' pair");
}

TEST(LoadYaml, TabIndentationIsNamed) {
  Loaded l = Load("a:\n\tb: 1\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.offset, 3u);
  EXPECT_EQ(l.problem.message, "tabs are not allowed for indentation; indent with spaces");
}

TEST(LoadYaml, UndefinedAliasIsNamed) {
  Loaded l = Load("a: *nobody\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.message, "alias *nobody refers to no anchor &nobody defined before it");
}

// Found by the fuzzer: "*k" named the anchor on a key, which was never
// registered, and resolved to the open root mapping: a cycle.
TEST(LoadYaml, AliasOfAnAnchoredKeyIsThatKey) {
  Loaded l = Load("&k a: &v 1\nb: *k\n");
  ASSERT_TRUE(l.ok) << l.problem.message;
  EXPECT_EQ(Value(l, "b").kind, NodeKind::kString);
  EXPECT_EQ(Value(l, "b").text, "a");
}

TEST(LoadYaml, NonScalarKeyIsAnError) {
  Loaded l = Load("? [a, b]\n: 1\n");
  ASSERT_FALSE(l.ok);
  EXPECT_EQ(l.problem.keyword, "yaml-key");
}

}  // namespace
}  // namespace specd
