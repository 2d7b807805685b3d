// The schema check's direct checker (schema/schema_program.cc) against
// valijson, the reference: for every fixture and for thousands of documents
// made by changing one value of a valid spec or settings file, Check (the
// program first) gives exactly the findings of CheckWithValijson (valijson
// decides every document, reading the typed tree through its adapter).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema/source_text.h"
#include "schema/spec_schema.h"
#include "schema/yaml_tree.h"
#include "tests/tree_compare.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

std::string Findings(const std::vector<Finding>& fs) {
  std::string out;
  for (const Finding& f : fs) {
    out += std::to_string(f.offset) + " " + f.pointer + " [" + f.keyword + "] " + f.message + "\n";
  }
  return out;
}

struct Tally {
  int compared = 0;
  int rejected = 0;  // documents with at least one schema finding
};

// Loads `text`; if it loads, expects both paths to find the same. Returns
// whether it loaded.
bool Compare(const SpecSchema& schema, const std::string& text, const std::string& what, Tally* tally) {
  Document doc;
  Finding problem;
  if (!LoadYaml(text, LoadLimits{}, &doc, &problem)) return false;
  std::vector<Finding> fast, reference;
  schema.Check(doc, &fast);
  schema.CheckWithValijson(doc, &reference);
  EXPECT_EQ(Findings(fast), Findings(reference)) << what << "\n" << text;
  ++tally->compared;
  tally->rejected += reference.empty() ? 0 : 1;
  return true;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Values of every type and of the shapes the schemas ask for, near their
// limits: each one is put in place of each value of a valid document.
std::vector<OJson> Replacements() {
  std::vector<OJson> v = {
      "",
      "x",
      std::string(9, 'a'),
      std::string(10, 'a'),
      std::string(201, 'a'),
      std::string("0123456789\0abc", 14),
      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",  // 9 characters, 18 bytes
      0,
      -1,
      1,
      1.0,
      1.5,
      3,
      100,
      101,
      604801,
      true,
      nullptr,
      OJson::array(),
      OJson::array({"a"}),
      OJson::object(),
      OJson::object({{"a", 1}}),
      "spec-2026-01-01-001",
      "spec-2026-13-01-001",
      "TASK-001",
      "TASK-1",
      "REQ-001",
      "2026-01-01T00:00:00Z",
      "2026-01-01",
      "1h",
      "1.5d",
      "draft",
      "planning",
      "pending",
      "in-progress",
      "done",
      "completed",
      "failed",
      "high",
      "1.0.0",
      "01.0.0",
      "main",
      "-main",
      "x-extra",
  };
  return v;
}

// Every pointer in `j`, the root's excepted.
void Pointers(const OJson& j, const OJson::json_pointer& at, std::vector<OJson::json_pointer>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      out->push_back(at / it.key());
      Pointers(it.value(), at / it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      out->push_back(at / i);
      Pointers(j[i], at / i, out);
    }
  }
}

// Changes `base` one place at a time (each replacement, the value removed,
// an unknown and an extension field added to each mapping) and compares the
// two paths on the JSON text of each change (JSON is YAML's flow style).
Tally Mutate(const SpecSchema& schema, const std::string& base_text) {
  Document doc;
  Finding problem;
  Tally tally;
  EXPECT_TRUE(LoadYaml(base_text, LoadLimits{}, &doc, &problem)) << problem.message;
  OJson base = DocumentToJson<OJson>(doc, doc.root());
  std::vector<OJson::json_pointer> pointers;
  Pointers(base, OJson::json_pointer(), &pointers);
  std::vector<OJson> values = Replacements();
  for (const OJson::json_pointer& p : pointers) {
    for (const OJson& v : values) {
      OJson changed = base;
      changed[p] = v;
      Compare(schema, changed.dump(), p.to_string() + " = " + v.dump(), &tally);
    }
    OJson removed = base;
    if (removed[p.parent_pointer()].is_object()) {
      removed[p.parent_pointer()].erase(p.back());
    } else {
      removed[p.parent_pointer()].erase(std::stoul(p.back()));
    }
    Compare(schema, removed.dump(), p.to_string() + " removed", &tally);
    if (base[p].is_object()) {
      for (const char* key : {"unknownField", "x-extension"}) {
        OJson added = base;
        added[p][key] = "value";
        Compare(schema, added.dump(), p.to_string() + " + " + key, &tally);
      }
    }
  }
  return tally;
}

TEST(SchemaProgram, BothBuiltinSchemasCompileToIt) {
  EXPECT_TRUE(SpecSchema::Builtin().compiled());
  EXPECT_TRUE(SpecSchema::Settings().compiled());
}

TEST(SchemaProgram, ASchemaWithAKeywordItDoesNotKnowFallsBackToValijson) {
  auto schema = SpecSchema::Parse(R"({"type": "object", "properties": {"a": {"multipleOf": 2}}})");
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  EXPECT_FALSE((*schema)->compiled());
  Tally tally;
  EXPECT_TRUE(Compare(**schema, "a: 3\n", "multipleOf", &tally));
  std::vector<Finding> found;
  Document doc;
  Finding problem;
  ASSERT_TRUE(LoadYaml("a: 3\n", LoadLimits{}, &doc, &problem));
  (*schema)->Check(doc, &found);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/a");
  EXPECT_EQ(found[0].keyword, "schema");
  EXPECT_EQ(found[0].message, "Value should be a multiple of 2");
}

// Each thread remembers a pattern's answers: a schema's, never another's.
TEST(SchemaProgram, EachSchemaHasItsOwnPatternAnswers) {
  auto starts_a = SpecSchema::Parse(R"({"properties": {"v": {"type": "string", "pattern": "^a"}}})");
  auto starts_b = SpecSchema::Parse(R"({"properties": {"v": {"type": "string", "pattern": "^b"}}})");
  ASSERT_TRUE(starts_a.ok() && starts_b.ok());
  ASSERT_TRUE((*starts_a)->compiled() && (*starts_b)->compiled());
  Document doc;
  Finding problem;
  ASSERT_TRUE(LoadYaml("v: abc\n", LoadLimits{}, &doc, &problem));
  for (int round = 0; round < 2; ++round) {
    std::vector<Finding> a, b;
    (*starts_a)->Check(doc, &a);
    (*starts_b)->Check(doc, &b);
    EXPECT_EQ(Findings(a), "") << round;
    EXPECT_EQ(Findings(b), "3 /v [pattern] must be text matching ^b (got 'abc')\n") << round;
  }
}

TEST(SchemaProgram, AgreesWithValijsonOnEveryFixture) {
  Tally tally;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(SPECD_SOURCE_DIR) / "fixtures")) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || (p.extension() != ".yaml" && p.extension() != ".yml")) continue;
    std::string bytes = ReadBytes(p);
    SourceText source(bytes);
    if (source.CheckEncoding()) continue;  // never reaches the schema
    Compare(SpecSchema::Builtin(), std::string(source.body()), p.string(), &tally);
  }
  EXPECT_GE(tally.compared, 90);
  EXPECT_GE(tally.rejected, 30);  // the invalid fixtures: valijson's path ran
}

TEST(SchemaProgram, AgreesWithValijsonOnEveryOneValueChangeOfAFullSpec) {
  fs::path all_fields = fs::path(SPECD_SOURCE_DIR) / "fixtures/valid/all-fields/spec-2026-03-01-002.yaml";
  Tally tally = Mutate(SpecSchema::Builtin(), ReadBytes(all_fields));
  EXPECT_GE(tally.compared, 3000);
  EXPECT_GE(tally.rejected, tally.compared / 2);
  EXPECT_GE(tally.compared - tally.rejected, 300);
}

TEST(SchemaProgram, AgreesWithValijsonOnEveryOneValueChangeOfFullSettings) {
  Tally tally = Mutate(SpecSchema::Settings(),
                       "targetBranch: release/2.x\n"
                       "lease:\n"
                       "  ttlSeconds: 90\n"
                       "  heartbeatSeconds: 10\n"
                       "  maxAttempts: 5\n"
                       "  x-note: kept\n"
                       "gates:\n"
                       "  - name: build\n"
                       "    run: make -j2 && make test\n"
                       "    timeoutSeconds: 600\n"
                       "    quietSeconds: 60\n"
                       "x-team: core\n");
  EXPECT_GE(tally.compared, 500);
  EXPECT_GE(tally.rejected, tally.compared / 2);
  EXPECT_GE(tally.compared - tally.rejected, 50);
}

}  // namespace
}  // namespace specd
