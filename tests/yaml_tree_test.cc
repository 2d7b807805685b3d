// The YAML loader: YAML 1.2 core-schema typing and the rules of SPEC_FORMAT.md.
#include "schema/yaml_tree.h"

#include <gtest/gtest.h>

#include "tests/tree_compare.h"

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

// ---- issue 11: YAML edge cases, each through both parse paths ------------
//
// What the loader reads, as JSON, or its exact problem. LoadedJson(text,
// true) takes the fast path when it can; both must say the same.

std::string BothWays(std::string_view text) {
  std::string reference = testing::LoadedJson(text, false);
  std::string fast = testing::LoadedJson(text, true);
  EXPECT_EQ(fast, reference) << "the two parse paths differ on: " << text;
  return reference;
}

TEST(YamlEdgeCases, BlankLinesWithTabsBetweenBlockEntries) {
  EXPECT_EQ(BothWays("foo: 1\n\t\nbar: 2\n"), R"({"foo":1,"bar":2})");
  EXPECT_EQ(BothWays("foo: 1\n \t\nbar: 2\n"), R"({"foo":1,"bar":2})");
  EXPECT_EQ(BothWays("foo: 1\n\t# a comment\nbar: 2\n"), R"({"foo":1,"bar":2})");
  EXPECT_EQ(BothWays("- a\n  \t  # a comment\n\t\n- b\n"), R"(["a","b"])");
  // Inside a literal block the same line is content: the tab stays.
  EXPECT_EQ(BothWays("a: |\n  x\n  \t\n  y\nb: 1\n\t\n"), R"({"a":"x\n\t\ny\n","b":1})");
  // A tab that indents is still refused.
  EXPECT_EQ(BothWays("a:\n\tb: 1\n"), "error at 3: tabs are not allowed for indentation; indent with spaces");
}

TEST(YamlEdgeCases, ExplicitNullTagOnAnEmptyValue) {
  EXPECT_EQ(BothWays("key: !!null\nnext: 1\n"), R"({"key":null,"next":1})");
  EXPECT_EQ(BothWays("key: !!null\n"), R"({"key":null})");
  EXPECT_EQ(BothWays("- !!str\n- !!null\n"), R"(["",null])");
  EXPECT_EQ(BothWays("key: !!null x\n"), "error at 5: 'x' is not a valid !!null");
}

TEST(YamlEdgeCases, FoldedRootScalarAtTheLeftMargin) {
  EXPECT_EQ(BothWays("--- >\nline1\n# no comment\nline3\n"), R"("line1 # no comment line3\n")");
  EXPECT_EQ(BothWays("--- >\nline1\nline2\nline3\n"), R"("line1 line2 line3\n")");
  EXPECT_EQ(BothWays("--- |-\nline1\n\n  more\n...\n# done\n"), R"("line1\n\n  more")");
  EXPECT_EQ(BothWays("--- >\nline1\n---\nb: 2\n"),
            "error at 12: a second YAML document starts here; a spec file holds exactly one");
}

TEST(YamlEdgeCases, QuotedScalarsOfLineBreaksKeepThem) {
  EXPECT_EQ(BothWays("---\na: '\n  '\nb: '  \n  '\nc: \"\n  \"\nd: \"  \n  \"\ne: '\n\n  '\nf: \"\n\n  \"\n"
                     "g: '\n\n\n  '\nh: \"\n\n\n  \"\n"),
            R"({"a":" ","b":" ","c":" ","d":" ","e":"\n","f":"\n","g":"\n\n","h":"\n\n"})");
  EXPECT_EQ(BothWays("a: \"x\n\n\n  \"\nb: 'x\n\n  y'\n"), R"({"a":"x\n\n","b":"x\ny"})");
  EXPECT_EQ(BothWays("a: \"one \\\n\n  two\\t \\u00e9\"\n"), "{\"a\":\"one \\ntwo\\t \xC3\xA9\"}");
  EXPECT_EQ(BothWays("a: 'it''s\n  here'\n"), R"({"a":"it's here"})");
}

TEST(YamlEdgeCases, LiteralBlockEndingInALineOfSpaces) {
  EXPECT_EQ(BothWays("foo: |\n  x\n   "), R"({"foo":"x\n \n"})");
  EXPECT_EQ(BothWays("foo: |\n  x\n   \n"), R"({"foo":"x\n \n"})");
  EXPECT_EQ(BothWays("- |+\n   "), R"(["\n"])");
  EXPECT_EQ(BothWays("a: |\n  x\n  "), R"({"a":"x\n"})");
  EXPECT_EQ(BothWays("a:\n  b: 1\n  "), R"({"a":{"b":1}})");
}

TEST(YamlEdgeCases, BareNonSpecificTagIsAnEmptyString) {
  EXPECT_EQ(BothWays("!\n"), R"("")");
  EXPECT_EQ(BothWays("--- !\n"), R"("")");
  EXPECT_EQ(BothWays("a: !\n"), R"({"a":""})");
  EXPECT_EQ(BothWays("!foo\n"), "error at 0: unsupported tag '!foo'");
}

TEST(YamlEdgeCases, EmptyFlowItemIsRefusedAtItsComma) {
  EXPECT_EQ(BothWays("files: [a, , b]\n"),
            "error at 11: an empty list item: nothing stands before this ','; remove it");
  EXPECT_EQ(BothWays("files: [ , a]\n"),
            "error at 9: an empty list item: nothing stands before this ','; remove it");
  EXPECT_EQ(BothWays("m: {a: 1, , b: 2}\n"),
            "error at 10: an empty mapping entry: nothing stands before this ','; remove it");
  EXPECT_EQ(BothWays("files: [a, b, ]\n"), R"({"files":["a","b"]})");  // a trailing comma is fine
  EXPECT_EQ(BothWays("files: [a, [b, , c]]\n"),
            "error at 15: an empty list item: nothing stands before this ','; remove it");
}

TEST(YamlEdgeCases, DashAloneInAFlowListIsRefused) {
  const char* msg = "a '-' alone is no list item inside '[ ]'; quote it ('-') to mean the text";
  EXPECT_EQ(BothWays("[-]\n"), std::string("error at 1: ") + msg);
  EXPECT_EQ(BothWays("a: [-]\n"), std::string("error at 4: ") + msg);
  EXPECT_EQ(BothWays("- [-, -]\n"), std::string("error at 3: ") + msg);
  EXPECT_EQ(BothWays("a: ['-', -x, x-]\n"), R"({"a":["-","-x","x-"]})");
  EXPECT_EQ(BothWays("m: {k: -}\n"), std::string("error at 7: ") + msg);
  // fixtures/fuzz-regressions/crash-48c7d4b0.yaml: a plain scalar goes on
  // past its spaces, so this '-' is inside one, not alone.
  EXPECT_EQ(BothWays("tags: [-+ -, a -]\n"), R"({"tags":["-+ -","a -"]})");
}

TEST(YamlEdgeCases, CommentGluedToAValueIsRefusedAtItsHash) {
  const std::string msg = "a comment needs a space before its '#'; write ' #'";
  EXPECT_EQ(BothWays("key: \"value\"# note\n"), "error at 12: " + msg);
  EXPECT_EQ(BothWays("key: 'value'# note\n"), "error at 12: " + msg);
  EXPECT_EQ(BothWays("block: ># note\n  x\n"), "error at 8: " + msg);
  EXPECT_EQ(BothWays("block: |-# note\n  x\n"), "error at 9: " + msg);
  EXPECT_EQ(BothWays("a: [b]#c\n"), "error at 6: " + msg);
  EXPECT_EQ(BothWays("a: [b,#c\n  d]\n"), "error at 6: " + msg);
  EXPECT_EQ(BothWays("a: {b: c}#c\n"), "error at 9: " + msg);
  // With a space it is a comment; inside a plain scalar it is text.
  EXPECT_EQ(BothWays("key: \"value\" # note\nb: [x] #c\nc: a#b\nd: [a#b]\n"),
            R"({"key":"value","b":["x"],"c":"a#b","d":["a#b"]})");
}

TEST(YamlEdgeCases, TagOnAKeyIsRefused) {
  EXPECT_EQ(BothWays("!foo k: v\n"), "error at 0: unsupported tag on a key: '!foo'");
  EXPECT_EQ(BothWays("{!foo k: v}\n"), "error at 1: unsupported tag on a key: '!foo'");
  EXPECT_EQ(BothWays("a: 1\n!!seq k: v\n"), "error at 5: unsupported tag on a key: '!!seq'");
  EXPECT_EQ(BothWays("!!str k: v\n"), R"({"k":"v"})");  // the core schema's, checked as on a value
  EXPECT_EQ(BothWays("!!int k: v\n"), "error at 0: 'k' is not a valid !!int");
}

TEST(YamlEdgeCases, BareDocumentsAfterAnEndMarkerAreTheOneDocumentRule) {
  EXPECT_EQ(BothWays("Bare\ndocument\n...\n# No document\n...\n|\n%!PS-Adobe-2.0 # Not the first line\n"),
            "error at 36: a second YAML document starts here; a spec file holds exactly one");
  EXPECT_EQ(BothWays("---\nscalar1\n...\nkey: value\n"),
            "error at 16: a second YAML document starts here; a spec file holds exactly one");
  EXPECT_EQ(BothWays("a: 1\n...\n# only a comment\n"), R"({"a":1})");
}

}  // namespace
}  // namespace specd
