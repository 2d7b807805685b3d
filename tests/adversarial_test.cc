// Bad input, one case at a time, through ValidateSpecText: each gets its own
// clear diagnostic (exact text asserted) and never a crash or a hang. The
// hostile inputs are generated here, not stored. Time and memory are bounded
// by the limits the diagnostics name; that the suite finishes is the check
// on time (no timers in tests).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/validate.h"
#include "schema/yaml_tree.h"
#include "tests/test_util.h"
#include "tests/tree_compare.h"

namespace specd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kName[] = "spec-2026-01-01-001.yaml";

using ::specd::testing::kValidSpec;

std::vector<Diagnostic> Check(std::string_view bytes, const ValidateOptions& options = {}) {
  return ValidateSpecText(bytes, kName, options);
}

std::vector<std::string> Lines(std::string_view bytes, const ValidateOptions& options = {}) {
  std::vector<std::string> out;
  for (const Diagnostic& d : Check(bytes, options)) out.push_back(FormatText(d));
  return out;
}

std::string Keyword(std::string_view bytes, const ValidateOptions& options = {}) {
  std::vector<Diagnostic> d = Check(bytes, options);
  if (d.size() == 1) return d[0].keyword;
  std::string count = "<";
  count += std::to_string(d.size());
  count += " diagnostics>";
  return count;
}

std::string Line(const std::string& rest) {
  return std::string(kName) + ":" + rest;
}

// "/0" repeated: the pointer of the innermost of `depth` nested lists.
std::string ZeroPointer(int depth) {
  std::string p;
  for (int i = 0; i < depth; ++i) p += "/0";
  return p;
}

// Nine levels of ten: a: [x * 10], b: [*a * 10], ... i: [*h * 10], which
// would expand to 10^9 scalars.
std::string BillionLaughs() {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    std::string line = std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) line += (i ? ", *" : "*") + prev;
    bomb += line + "]\n";
  }
  return bomb;
}

std::string ThreeHundredThousandKeys() {
  std::string text;
  for (int i = 0; i < 300'000; ++i) {
    text += 'k';
    text += std::to_string(i);
    text += ": 1\n";
  }
  return text;
}

std::string Utf16(std::string_view ascii, bool little_endian) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  for (char c : ascii) {
    if (little_endian) {
      out += c;
      out += '\0';
    } else {
      out += '\0';
      out += c;
    }
  }
  return out;
}

TEST(Adversarial, TheBaselineSpecIsValid) {
  EXPECT_THAT(Lines(kValidSpec), IsEmpty());
}

TEST(Adversarial, MalformedYamlCarriesTheParsersLineAndColumn) {
  EXPECT_THAT(Lines("id: [1\nb: 2\n"),
              ElementsAre(Line("1:5: error: /id: the list started here with '[' is not closed with ']'")));
  EXPECT_EQ(Keyword("id: [1\nb: 2\n"), "yaml-syntax");
  EXPECT_THAT(Lines("a: b: c\n"),
              ElementsAre(Line("1:5: error: a 'key: value' pair is not allowed here; check the indentation, "
                               "or quote a value that contains ': '")));
  EXPECT_THAT(Lines("a:\n  - x\n y: 1\n"),
              ElementsAre(Line("3:2: error: this line does not fit the mapping above it: expected "
                               "'key: value' at the same indentation as its other keys")));
  EXPECT_THAT(Lines("a:\n\t- x\n"),
              ElementsAre(Line("2:1: error: /a: tabs are not allowed for indentation; indent with spaces")));
}

TEST(Adversarial, UnclosedFlowCollectionIsASyntaxError) {
  // yaml-cpp hands out the tokens of an unverified simple key at the end of
  // the stream (a mapping start, then the open list as its key); the loader
  // must still call this what it is, as it does for "id: [1" elsewhere.
  EXPECT_THAT(Lines("[a, b"),
              ElementsAre(Line("1:1: error: the list started here with '[' is not closed with ']'")));
  EXPECT_EQ(Keyword("[a, b"), "yaml-syntax");
  EXPECT_THAT(Lines("{a: 1"),
              ElementsAre(Line("1:1: error: the mapping started here with '{' is not closed with '}'")));
}

TEST(Adversarial, UnclosedFlowListAroundAClosedOne) {
  // "tasks: [[a], [b]" with the last ']' forgotten: the inner lists close
  // while yaml-cpp still takes them for keys of a mapping it made up.
  EXPECT_THAT(Lines("[[1]"),
              ElementsAre(Line("1:1: error: the list started here with '[' is not closed with ']'")));
  EXPECT_THAT(Lines("a: [[1]\n"),
              ElementsAre(Line("1:4: error: /a: the list started here with '[' is not closed with ']'")));
}

TEST(Adversarial, FortyUnclosedBracketsAreNotTooDeep) {
  // 40 levels are within the limit of 64: the error is the unclosed list.
  EXPECT_THAT(Lines(std::string(40, '[')),
              ElementsAre(Line("1:40: error: " + ZeroPointer(39) +
                               ": the list started here with '[' is not closed with ']'")));
}

TEST(Adversarial, EmptyFile) {
  EXPECT_THAT(Lines(""), ElementsAre(Line("1:1: error: the file is empty; a spec is a mapping of fields")));
  EXPECT_EQ(Keyword(""), "yaml-empty");
  EXPECT_THAT(Lines(" \n\t\r\n\n"),
              ElementsAre(Line("1:1: error: the file is empty; a spec is a mapping of fields")));
}

TEST(Adversarial, CommentOnlyFile) {
  EXPECT_THAT(Lines("# just a note\n\n# and another\n"),
              ElementsAre(Line("1:1: error: the file holds only comments; a spec is a mapping of fields")));
  EXPECT_EQ(Keyword("# just a note\n"), "yaml-empty");
}

TEST(Adversarial, BinaryBytes) {
  const std::string elf(
      "\x7F"
      "ELF\x02\x01\x01\x00\x00\x00\x00\x00",
      12);
  EXPECT_THAT(
      Lines(elf),
      ElementsAre(Line("1:1: error: control byte 0x7f is not allowed in YAML (is this a binary file?)")));
  EXPECT_EQ(Keyword(elf), "encoding");
  const std::string png("\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR", 16);
  EXPECT_THAT(Lines(png),
              ElementsAre(Line("1:1: error: invalid UTF-8 byte 0x89 at offset 0; spec files are UTF-8")));
  std::string all_bytes;
  for (int i = 128; i < 384; ++i) all_bytes += static_cast<char>(i % 256);
  EXPECT_THAT(Lines(all_bytes),
              ElementsAre(Line("1:1: error: invalid UTF-8 byte 0x80 at offset 0; spec files are UTF-8")));
}

TEST(Adversarial, NulByte) {
  const std::string text("id: a\0b\n", 8);
  EXPECT_THAT(
      Lines(text),
      ElementsAre(Line("1:6: error: control byte 0x00 is not allowed in YAML (is this a binary file?)")));
  EXPECT_EQ(Keyword(text), "encoding");
}

TEST(Adversarial, InvalidUtf8NamesLineColumnAndOffset) {
  EXPECT_THAT(Lines("id: caf\xE9\n"),
              ElementsAre(Line("1:8: error: invalid UTF-8 byte 0xe9 at offset 7; spec files are UTF-8")));
  EXPECT_EQ(Keyword("id: caf\xE9\n"), "encoding");
  EXPECT_THAT(Lines("id: x\ntitle: caf\xE9\n"),
              ElementsAre(Line("2:11: error: invalid UTF-8 byte 0xe9 at offset 16; spec files are UTF-8")));
  // Columns count characters: the two-byte e-acute is one column.
  EXPECT_THAT(Lines("t: \xC3\xA9\xFF\n"),
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xff at offset 5; spec files are UTF-8")));
  // A sequence cut off by the end of the file.
  EXPECT_THAT(Lines("id: \xE2\x82"),
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xe2 at offset 4; spec files are UTF-8")));
}

TEST(Adversarial, LoneSurrogateEncodedInUtf8) {
  EXPECT_THAT(Lines("id: \xED\xA0\x80\n"),
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xed at offset 4; spec files are UTF-8")));
  EXPECT_THAT(Lines("id: \xED\xBF\xBF\n"),
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xed at offset 4; spec files are UTF-8")));
}

TEST(Adversarial, OverlongAndOutOfRangeEncodings) {
  EXPECT_THAT(Lines("id: \xC0\xAF\n"),  // '/' in two bytes
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xc0 at offset 4; spec files are UTF-8")));
  EXPECT_THAT(Lines("id: \xE0\x80\xAF\n"),  // '/' in three bytes
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xe0 at offset 4; spec files are UTF-8")));
  EXPECT_THAT(Lines("id: \xF0\x80\x80\xAF\n"),  // '/' in four bytes
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xf0 at offset 4; spec files are UTF-8")));
  EXPECT_THAT(Lines("id: \xF4\x90\x80\x80\n"),  // U+110000
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xf4 at offset 4; spec files are UTF-8")));
}

TEST(Adversarial, CharactersYamlDoesNotAllow) {
  EXPECT_THAT(Lines("id: a\xC2\x80\n"),  // U+0080, a C1 control
              ElementsAre(Line("1:6: error: character U+0080 is not allowed in YAML")));
  EXPECT_THAT(Lines("id: a\xEF\xBB\xBF\n"),  // a BOM in the middle of the text
              ElementsAre(Line("1:6: error: character U+FEFF is not allowed in YAML")));
}

TEST(Adversarial, Utf16WithBom) {
  const std::string message =
      "1:1: error: the file is UTF-16 (it starts with a UTF-16 byte order mark); spec files are UTF-8";
  EXPECT_THAT(Lines(Utf16("id: x\n", true)), ElementsAre(Line(message)));
  EXPECT_THAT(Lines(Utf16("id: x\n", false)), ElementsAre(Line(message)));
  EXPECT_EQ(Keyword(Utf16("id: x\n", true)), "encoding");
}

TEST(Adversarial, Utf8BomIsTolerated) {
  EXPECT_THAT(Lines(std::string("\xEF\xBB\xBF") + kValidSpec), IsEmpty());
  // Columns are counted after the BOM; the offset is into the whole file.
  EXPECT_THAT(Lines("\xEF\xBB\xBFid: \xFF\n"),
              ElementsAre(Line("1:5: error: invalid UTF-8 byte 0xff at offset 7; spec files are UTF-8")));
}

TEST(Adversarial, TwoDocuments) {
  EXPECT_THAT(
      Lines("a: 1\n---\nb: 2\n"),
      ElementsAre(Line("2:1: error: a second YAML document starts here; a spec file holds exactly one")));
  EXPECT_EQ(Keyword("a: 1\n---\nb: 2\n"), "yaml-multiple-documents");
  EXPECT_THAT(
      Lines(std::string(kValidSpec) + "---\n" + kValidSpec),
      ElementsAre(Line("14:1: error: a second YAML document starts here; a spec file holds exactly one")));
}

TEST(Adversarial, DuplicateKey) {
  EXPECT_THAT(Lines("id: x\nid: y\n"),
              ElementsAre(Line("2:1: error: /id: duplicate key 'id' (first defined at line 1, column 1)")));
  EXPECT_EQ(Keyword("id: x\nid: y\n"), "yaml-duplicate-key");
  EXPECT_THAT(Lines(std::string(kValidSpec) + "metadata: {}\n"),
              ElementsAre(Line(
                  "14:1: error: /metadata: duplicate key 'metadata' (first defined at line 4, column 1)")));
}

TEST(Adversarial, ScalarOrListAtTheRoot) {
  EXPECT_THAT(Lines("just a sentence\n"),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not a string")));
  EXPECT_EQ(Keyword("just a sentence\n"), "type");
  EXPECT_THAT(Lines("- id: spec-2026-01-01-001\n- b\n"),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not a list")));
  EXPECT_THAT(Lines("[]\n"),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not a list")));
}

TEST(Adversarial, NumberAtTheRootIsNamedInGoodEnglish) {
  EXPECT_THAT(Lines("42\n"),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not an integer")));
  EXPECT_THAT(Lines("4.2\n"),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not a number")));
}

TEST(Adversarial, BillionLaughsStopsAtTheNodeBudget) {
  const std::string bomb = BillionLaughs();
  EXPECT_THAT(Lines(bomb),
              ElementsAre(Line("5:36: error: /e/7: alias *d expands the document past 100000 nodes "
                               "(limit --max-nodes)")));
  EXPECT_EQ(Keyword(bomb), "yaml-alias");
}

TEST(Adversarial, BillionLaughsStopsAtTheByteBudgetWhenNodesAreUnlimited) {
  ValidateOptions options;
  options.limits.max_nodes = size_t{1} << 40;
  EXPECT_THAT(Lines(BillionLaughs(), options),
              ElementsAre(Line("7:36: error: /g/7: alias *f expands the document past 8388608 bytes")));
}

TEST(Adversarial, SelfReferencingAlias) {
  EXPECT_THAT(Lines("a: &loop\n  - x\n  - *loop\n"),
              ElementsAre(Line("3:5: error: /a/1: alias *loop refers to a node that contains it (a cycle)")));
  EXPECT_EQ(Keyword("a: &loop\n  - x\n  - *loop\n"), "yaml-alias");
  EXPECT_THAT(Lines("a: &m\n  b: *m\n"),
              ElementsAre(Line("2:6: error: /a/b: alias *m refers to a node that contains it (a cycle)")));
  EXPECT_THAT(Lines("&r [x, *r]\n"),
              ElementsAre(Line("1:8: error: /1: alias *r refers to a node that contains it (a cycle)")));
}

TEST(Adversarial, HundredThousandBalancedBracketsHitTheDepthLimit) {
  const std::string text = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_THAT(Lines(text), ElementsAre(Line("1:65: error: " + ZeroPointer(64) +
                                            ": nesting is deeper than 64 levels (limit --max-depth)")));
  EXPECT_EQ(Keyword(text), "limit");
}

TEST(Adversarial, HundredThousandUnclosedBracketsHitTheDepthLimit) {
  const std::string text(100'000, '[');
  EXPECT_THAT(Lines(text), ElementsAre(Line("1:65: error: " + ZeroPointer(64) +
                                            ": nesting is deeper than 64 levels (limit --max-depth)")));
}

TEST(Adversarial, SixtyFourMegabyteScalarHitsTheFileSizeLimit) {
  const std::string text = "id: " + std::string(size_t{64} << 20, 'a') + "\n";
  EXPECT_THAT(
      Lines(text),
      ElementsAre(Line("1:1: error: the file is 67108869 bytes; the limit is 1048576 (--max-bytes)")));
  EXPECT_EQ(Keyword(text), "limit");
}

TEST(Adversarial, ThreeHundredThousandKeysHitTheFileSizeLimit) {
  const std::string text = ThreeHundredThousandKeys();
  ASSERT_EQ(text.size(), 3'188'890u);
  EXPECT_THAT(Lines(text),
              ElementsAre(Line("1:1: error: the file is 3188890 bytes; the limit is 1048576 (--max-bytes)")));
}

TEST(Adversarial, ThreeHundredThousandKeysHitTheNodeLimitWhenBytesAreAllowed) {
  ValidateOptions options;
  options.limits.max_bytes = 64 << 20;
  const std::string text = ThreeHundredThousandKeys();
  // Root, then a key and a value per entry: the value of k49999 is node 100001.
  EXPECT_THAT(Lines(text, options),
              ElementsAre(Line("50000:9: error: /k49999: the document has more than 100000 nodes "
                               "(limit --max-nodes)")));
  EXPECT_EQ(Keyword(text, options), "limit");
}

TEST(Adversarial, SyntaxOnlyStillRefusesEveryBadInput) {
  ValidateOptions options;
  options.syntax_only = true;
  EXPECT_THAT(Lines("id: x\n", options), IsEmpty());  // schema errors are not looked for
  EXPECT_THAT(Lines("id: x\nid: y\n", options),
              ElementsAre(Line("2:1: error: /id: duplicate key 'id' (first defined at line 1, column 1)")));
  EXPECT_THAT(Lines(BillionLaughs(), options),
              ElementsAre(Line("5:36: error: /e/7: alias *d expands the document past 100000 nodes "
                               "(limit --max-nodes)")));
  EXPECT_THAT(Lines("- a\n", options),
              ElementsAre(Line("1:1: error: the document must be a mapping of spec fields, not a list")));
}

// The fast YAML path and yaml-cpp must not decide a file differently: the
// outcome cannot depend on which parser reads it (--reference-parser makes
// it yaml-cpp's).
ValidateOptions ReferenceParser() {
  ValidateOptions options;
  options.reference_parser = true;
  return options;
}

TEST(Adversarial, LoneCarriageReturnAtTheEndEndsTheLine) {
  // fixtures/fuzz-regressions/crash-e1d61b48.yaml, "a: 1\r": a CR is a line
  // break in YAML, so the value is 'pending', however the file is parsed.
  std::string spec = kValidSpec;
  spec.back() = '\r';
  EXPECT_THAT(Lines(spec), IsEmpty());
  EXPECT_THAT(Lines(spec, ReferenceParser()), IsEmpty());
  EXPECT_EQ(testing::FastPathDisagreement("a: 1\r"), "");
}

TEST(Adversarial, QuestionMarkEndingAFlowItemIsReadOneWay) {
  // fixtures/fuzz-regressions/crash-967dea65.yaml, "- [o?]": the fast path
  // reads a list holding 'o?', yaml-cpp refuses the file ("unknown token").
  std::string spec = kValidSpec;
  spec.replace(spec.find("  author: tester\n"), 16, "  author: tester\n  tags: [yaml, why?]\n");
  EXPECT_EQ(Lines(spec), Lines(spec, ReferenceParser()));
  EXPECT_EQ(testing::FastPathDisagreement("- [o?]"), "");
  EXPECT_EQ(testing::FastPathDisagreement("tags: [yaml, why?]\n"), "");
}

TEST(Adversarial, ContentAfterADocumentEndIsReadOneWay) {
  // fixtures/fuzz-regressions/crash-bbfa71fe.yaml: "...    description: x" at
  // the left margin; the fast path took it as text, yaml-cpp as the end of
  // the document with content after it. The fast path now declines it.
  EXPECT_EQ(testing::FastPathDisagreement("id: a\nrequirements:\n  - id: REQ-001\n...    description: x\n"),
            "");
  EXPECT_EQ(testing::FastPathDisagreement("a: 1\n...\n"), "");
}

// ------------------------------------------------------ fuzz regressions
//
// Inputs the fuzzer (tests/fuzz/validate_fuzzer.cc) found to crash. Each
// runs in a child process (a death test), so that a crash fails this test
// and not the whole suite.

// Runs in the child: exits 0 when `text` gives exactly `expected`, else
// prints what it gave and exits 1.
[[noreturn]] void ExitWithVerdict(std::string_view text, const ValidateOptions& options,
                                  const std::vector<std::string>& expected) {
  std::vector<std::string> got = Lines(text, options);
  if (got == expected) std::exit(0);
  for (const std::string& line : got) std::fprintf(stderr, "got: %s\n", line.c_str());
  std::exit(1);
}

TEST(AdversarialDeathTest, AliasOfAnAnchoredKeyNamesTheKey) {
  // fixtures/fuzz-regressions/crash-364656c8.yaml: "&k a: &v 1\nb: *k\n".
  // The anchor is on the key "a", so *k is the string "a". It used to name
  // node 0, the root mapping itself: a document containing itself, and the
  // schema check recursed until the stack overflowed (specd: SIGSEGV).
  const std::string text = "&k a: &v 1\nb: *k\n";
  ValidateOptions syntax;
  syntax.syntax_only = true;
  Document doc;
  bool loaded = false;
  EXPECT_THAT(ValidateSpecText(text, kName, syntax, &doc, &loaded), IsEmpty());
  ASSERT_TRUE(loaded);
  ASSERT_EQ(doc.root().kind, NodeKind::kMap);
  ASSERT_EQ(doc.root().entries.size(), 2u);
  const Node& b = doc.node(doc.root().entries[1].value);
  EXPECT_EQ(b.kind, NodeKind::kString);
  EXPECT_EQ(b.text, "a");
  // Without the second anchor the alias was called a cycle.
  EXPECT_THAT(Lines("&k a: 1\nb: *k\n", syntax), IsEmpty());
  // The full check, on a spec that uses the same construct in x- fields.
  EXPECT_EXIT(ExitWithVerdict(std::string(kValidSpec) + "&k x-a: &v 1\nx-b: *k\n", {}, {}),
              ::testing::ExitedWithCode(0), "");
}

TEST(AdversarialDeathTest, LoneCarriageReturnBeforeAScalar) {
  // fixtures/fuzz-regressions/crash-bb20083a.yaml: "\r$\n". The fast YAML
  // path threw its internal GiveUp outside its try block (std::terminate).
  // A lone CR is a line break in YAML, so the '$' stands on line 2.
  EXPECT_EXIT(
      ExitWithVerdict("\r$\n", {},
                      {Line("2:1: error: the document must be a mapping of spec fields, not a string")}),
      ::testing::ExitedWithCode(0), "");
}

TEST(AdversarialDeathTest, EverySavedFuzzRegressionRunsToCompletion) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(SPECD_SOURCE_DIR) / "fixtures" / "fuzz-regressions";
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << dir;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    std::ifstream in(f, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string text = bytes.str();
    // The fast YAML path builds exactly what yaml-cpp builds, or declines.
    EXPECT_EQ(testing::FastPathDisagreement(text), "");
    // None of them is a valid spec: the full check must find at least one
    // error, and the process must live to say so. The syntax-only check
    // must return too (some are well-formed YAML).
    EXPECT_EXIT(
        {
          ValidateOptions syntax;
          syntax.syntax_only = true;
          (void)ValidateSpecText(text, kName, syntax);
          std::exit(ValidateSpecText(text, kName, ValidateOptions{}).empty() ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "");
  }
}

}  // namespace
}  // namespace specd
