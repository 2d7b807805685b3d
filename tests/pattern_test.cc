// SimplePattern (schema/pattern.cc) answers as std::regex_search with an
// ECMAScript std::regex (valijson's) on every string tried: the schemas'
// own patterns and a few more, over random strings of the bytes that matter.
#include "schema/pattern.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "schema/spec_schema.h"

namespace specd {
namespace {

void Patterns(const nlohmann::json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "pattern" && it->is_string()) out->push_back(it->get<std::string>());
      Patterns(*it, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) Patterns(v, out);
  }
}

// Random strings over the bytes the patterns name (and a few they do not),
// and strings that match with one byte changed, dropped or added.
std::vector<std::string> Inputs(std::mt19937* rng) {
  const std::string alphabet = "0123456789-.:+TtZzSPECKAQRspeckaxhdmw_ /\n\r\xC3\xA9";
  std::vector<std::string> out = {"",
                                  "spec-2026-01-31-001",
                                  "TASK-001",
                                  "REQ-123456",
                                  "1.0.0",
                                  "1.0.0-rc.1+build.5",
                                  "2026-02-18T09:30:00Z",
                                  "2026-02-18T09:30:00.123456789+05:30",
                                  "1.5d",
                                  "x-note",
                                  std::string("TASK-001\0", 9),
                                  "TASK-001\n",
                                  "\nTASK-001"};
  std::uniform_int_distribution<size_t> len(0, 40), pick(0, alphabet.size() - 1);
  for (int i = 0; i < 4000; ++i) {
    std::string s;
    for (size_t n = len(*rng); n > 0; --n) s += alphabet[pick(*rng)];
    out.push_back(s);
  }
  size_t seeds = out.size();
  for (size_t k = 0; k < 13 && k < seeds; ++k) {
    const std::string base = out[k];
    for (size_t at = 0; at <= base.size(); ++at) {
      for (char c : std::string("09-.Tx\n")) {
        if (at < base.size()) out.push_back(base.substr(0, at) + c + base.substr(at + 1));
        out.push_back(base.substr(0, at) + c + base.substr(at));
      }
      if (at < base.size()) out.push_back(base.substr(0, at) + base.substr(at + 1));
    }
  }
  return out;
}

TEST(SimplePattern, AnswersAsStdRegexSearchDoes) {
  std::vector<std::string> patterns;
  Patterns(nlohmann::json::parse(BuiltinSchemaText()), &patterns);
  Patterns(nlohmann::json::parse(SettingsSchemaText()), &patterns);
  ASSERT_GE(patterns.size(), 7u);
  for (const char* extra : {"a|b", "^(ab|a)*c?$", "x{2,}", "[a-c.-]+$", "^$", "(T|t)(A|a)*", "^\\.\\+\\$$"}) {
    patterns.push_back(extra);
  }
  std::mt19937 rng(17);
  std::vector<std::string> inputs = Inputs(&rng);
  int compiled = 0, matched = 0;
  for (const std::string& p : patterns) {
    std::optional<SimplePattern> simple = SimplePattern::Compile(p);
    if (!simple) continue;
    ++compiled;
    std::regex reference(p);
    for (const std::string& s : inputs) {
      bool expected = std::regex_search(s, reference);
      matched += expected ? 1 : 0;
      EXPECT_EQ(simple->Search(s), expected) << p << " on '" << s << "'";
    }
  }
  EXPECT_GE(matched, 500);  // both answers were tried, not only "no"
  // All but the settings' lookaheads (targetBranch, allowedSignersFile).
  const auto lookaheads = std::count_if(patterns.begin(), patterns.end(), [](const std::string& p) {
    return p.find("(?!") != std::string::npos;
  });
  EXPECT_EQ(lookaheads, 2);
  EXPECT_EQ(compiled, static_cast<int>(patterns.size() - lookaheads));
}

TEST(SimplePattern, LeavesWhatItDoesNotKnowToStdRegex) {
  for (const char* p : {"^(?!-)a", "(?:a)", "\\d+", "a.b", "[^a]", "[[:alpha:]]", "a+?", "a{2}{3}", "(a)\\1",
                        "a{1000}", "[b-a]", "(a", "a)", "\xC3\xA9"}) {
    EXPECT_FALSE(SimplePattern::Compile(p).has_value()) << p;
  }
}

}  // namespace
}  // namespace specd
