// The fixtures as data: every folder under fixtures/valid, fixtures/invalid
// and fixtures/malformed is one case holding one spec file and, unless the
// spec is valid, expected.txt with the exact diagnostics `specd validate`
// prints for it (the file named as it is inside the folder). A valid case
// may hold expected.json: a JSON object from JSON pointers to the exact
// values the loader must read there, both through the fast path and through
// yaml-cpp. Also: the templates validate once filled in, and every demo spec
// is valid.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/validate.h"
#include "tests/tree_compare.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = SPECD_SOURCE_DIR;
const fs::path kFixtures = kSource / "fixtures";
const char* const kKinds[] = {"valid", "invalid", "malformed"};

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool IsSpecFile(const fs::path& p) {
  return p.extension() == ".yaml" || p.extension() == ".yml";
}

// Every diagnostic as `specd validate` prints it, one per line.
std::string Diagnose(const std::string& bytes, const std::string& display_path) {
  std::string out;
  for (const Diagnostic& d : ValidateSpecText(bytes, display_path, ValidateOptions{})) {
    if (!out.empty()) out += '\n';
    out += FormatText(d);
  }
  return out;
}

std::string WithoutTrailingNewlines(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

struct FixtureCase {
  std::string kind;   // valid, invalid or malformed
  std::string theme;  // the folder's name
  fs::path dir;
  std::string test_name;
};

std::ostream& operator<<(std::ostream& os, const FixtureCase& c) {
  return os << c.kind << "/" << c.theme;
}

// A GoogleTest name: letters, digits and '_' only.
std::string TestName(const std::string& kind, const std::string& theme) {
  std::string name = kind + "_" + theme;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::vector<FixtureCase> DiscoverCases() {
  std::vector<FixtureCase> cases;
  for (const char* kind : kKinds) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const fs::directory_entry& e : fs::directory_iterator(kFixtures / kind, ec)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& d : dirs) {
      std::string theme = d.filename().string();
      cases.push_back(FixtureCase{kind, theme, d, TestName(kind, theme)});
    }
  }
  return cases;
}

const std::vector<FixtureCase>& AllCases() {
  static const std::vector<FixtureCase> cases = DiscoverCases();
  return cases;
}

// Each pointer in `expected_json` names the value both parsers must read.
void ExpectValues(std::string text, const std::string& expected_json) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  nlohmann::ordered_json expected = nlohmann::ordered_json::parse(expected_json);
  ASSERT_TRUE(expected.is_object() && !expected.empty()) << "expected.json: an object of pointers to values";
  for (bool fast_path : {true, false}) {
    SCOPED_TRACE(fast_path ? "LoadYaml" : "LoadYamlReference");
    Document doc;
    Finding problem;
    bool loaded = fast_path ? LoadYaml(text, LoadLimits{}, &doc, &problem)
                            : LoadYamlReference(text, LoadLimits{}, &doc, &problem);
    ASSERT_TRUE(loaded) << problem.message;
    nlohmann::ordered_json actual = testing::ToJson(doc, doc.root_id());
    for (const auto& [pointer, value] : expected.items()) {
      nlohmann::ordered_json::json_pointer ptr(pointer);
      ASSERT_TRUE(actual.contains(ptr)) << pointer;
      EXPECT_EQ(actual.at(ptr).dump(), value.dump()) << pointer;
    }
  }
}

class Fixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(Fixture, PrintsExactlyTheExpectedDiagnostics) {
  const FixtureCase& c = GetParam();
  std::vector<fs::path> specs;
  bool has_expected = false;
  bool has_values = false;
  for (const fs::directory_entry& e : fs::directory_iterator(c.dir)) {
    std::string name = e.path().filename().string();
    if (name == "expected.txt") {
      has_expected = true;
    } else if (name == "expected.json" && c.kind == "valid") {
      has_values = true;
    } else if (IsSpecFile(e.path())) {
      specs.push_back(e.path());
    } else {
      ADD_FAILURE() << c.dir << ": unexpected file " << name
                    << " (a case holds one .yaml file and, unless valid, expected.txt)";
    }
  }
  ASSERT_EQ(specs.size(), 1u) << c.dir << ": a case folder holds exactly one .yaml or .yml file";
  const std::string file_name = specs[0].filename().string();
  const std::string actual = Diagnose(ReadBytes(specs[0]), file_name);

  if (c.kind == "valid") {
    EXPECT_FALSE(has_expected) << c.dir << ": a valid case has no expected.txt";
    EXPECT_EQ(actual, "") << c.dir << "/" << file_name << " should be valid";
    if (has_values) ExpectValues(ReadBytes(specs[0]), ReadBytes(c.dir / "expected.json"));
    return;
  }
  ASSERT_TRUE(has_expected) << c.dir << ": expected.txt is missing";
  const std::string expected = WithoutTrailingNewlines(ReadBytes(c.dir / "expected.txt"));
  ASSERT_NE(expected, "") << c.dir << ": expected.txt is empty, but the case is " << c.kind;
  EXPECT_EQ(actual, expected) << "specd validate " << c.dir.string() << "/" << file_name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Fixture, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           return info.param.test_name;
                         });

// An empty or misplaced fixtures/ must not pass by running nothing.
TEST(FixtureDiscovery, FindsEnoughCasesOfEachKind) {
  std::map<std::string, size_t> count;
  for (const FixtureCase& c : AllCases()) ++count[c.kind];
  EXPECT_GE(count["valid"], 25u) << kFixtures;
  EXPECT_GE(count["invalid"], 51u) << kFixtures;
  EXPECT_GE(count["malformed"], 52u) << kFixtures;
}

TEST(FixtureDiscovery, TestNamesAreUnique) {
  std::set<std::string> names;
  for (const FixtureCase& c : AllCases()) {
    EXPECT_TRUE(names.insert(c.test_name).second) << "two case folders map to " << c.test_name;
  }
}

// --- templates ----------------------------------------------------------------

const char* const kTemplates[] = {"feature.yaml", "fix.yaml", "refactor.yaml"};
constexpr char kSchemaLine[] = "# yaml-language-server: $schema=/usr/local/share/specd/spec.schema.json";

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::string FillIn(const std::string& text) {
  std::string s = ReplaceAll(text, "{{id}}", "spec-2026-02-18-001");
  s = ReplaceAll(s, "{{title}}", "Add CSV export to the reports page");
  s = ReplaceAll(s, "{{author}}", "alice");
  return ReplaceAll(s, "{{now}}", "2026-02-18T10:00:00Z");
}

TEST(Templates, ValidateOnceFilledIn) {
  for (const char* name : kTemplates) {
    SCOPED_TRACE(name);
    std::string text = ReadBytes(kSource / "specs" / "templates" / name);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.substr(0, text.find('\n')), kSchemaLine);
    for (const char* placeholder : {"\"{{id}}\"", "\"{{title}}\"", "\"{{author}}\"", "\"{{now}}\""}) {
      EXPECT_NE(text.find(placeholder), std::string::npos) << placeholder << " (inside double quotes)";
    }
    EXPECT_NE(text.find("\nstatus: draft\n"), std::string::npos);
    EXPECT_NE(text.find("\nversion: \"0.1.0\"\n"), std::string::npos);
    std::string filled = FillIn(text);
    EXPECT_EQ(filled.find("{{"), std::string::npos) << "a placeholder is left";
    EXPECT_EQ(Diagnose(filled, "spec-2026-02-18-001.yaml"), "");
  }
}

// Unfilled, a template is still YAML: only the placeholders' values are wrong.
TEST(Templates, AreWellFormedYamlBeforeFillingIn) {
  for (const char* name : kTemplates) {
    SCOPED_TRACE(name);
    ValidateOptions syntax_only;
    syntax_only.syntax_only = true;
    std::string text = ReadBytes(kSource / "specs" / "templates" / name);
    EXPECT_TRUE(ValidateSpecText(text, name, syntax_only).empty());
  }
}

TEST(Templates, DemoCopiesAreUpToDate) {
  for (const char* name : kTemplates) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ReadBytes(kFixtures / "demo" / ".agents" / "specs" / "templates" / name),
              ReadBytes(kSource / "specs" / "templates" / name));
  }
}

// --- the demo repository --------------------------------------------------------

std::vector<fs::path> DemoSpecs() {
  std::vector<fs::path> specs;
  std::error_code ec;
  fs::path specs_dir = kFixtures / "demo" / ".agents" / "specs";
  for (auto it = fs::recursive_directory_iterator(specs_dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == "templates") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && IsSpecFile(it->path())) specs.push_back(it->path());
  }
  std::sort(specs.begin(), specs.end());
  return specs;
}

TEST(Demo, EverySpecIsValid) {
  std::vector<fs::path> specs = DemoSpecs();
  EXPECT_GE(specs.size(), 3u);
  for (const fs::path& p : specs) {
    EXPECT_EQ(Diagnose(ReadBytes(p), p.filename().string()), "") << p;
  }
}

TEST(Demo, ValidateWithRepoReportsAllValid) {
  size_t n = DemoSpecs().size();
  ASSERT_GT(n, 0u);
  std::string command =
      std::string("\"") + SPECD_BINARY + "\" validate --repo \"" + (kFixtures / "demo").string() + "\" 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buf;
  for (size_t got; (got = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), got);
  int status = pclose(pipe);
  std::string summary = std::to_string(n) + " files: " + std::to_string(n) + " valid, 0 invalid\n";
  EXPECT_EQ(out, summary);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
}

}  // namespace
}  // namespace specd
