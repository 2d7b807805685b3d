// A JSON Schema "pattern" that is a plain regular expression (literals,
// escaped punctuation, bracket classes of ASCII, groups, alternation, the
// quantifiers ? * + {m} {m,} {m,n}, ^ first and $ last) compiled into an NFA
// and searched as std::regex_search with ECMAScript std::regex (what
// valijson uses) searches: the same answer for every string, at a fraction
// of std::regex's cost to build and to run. Anything else (lookaheads,
// backreferences, negated classes, letter escapes, '.') does not compile
// and the caller keeps std::regex. Internal to schema/ (schema_program.cc).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace specd {

class SimplePattern {
 public:
  static std::optional<SimplePattern> Compile(std::string_view pattern);
  // Whether the pattern matches somewhere in `text` (anchors respected).
  bool Search(std::string_view text) const;

  struct State {
    enum Kind : uint8_t { kByte, kSplit, kAccept } kind = kAccept;
    std::bitset<256> bytes;  // kByte: the bytes it takes
    int out = -1;            // kByte: next; kSplit: first branch
    int alt = -1;            // kSplit: second branch
  };

 private:
  std::vector<State> states_;
  int start_ = -1;
  bool anchored_start_ = false;
  bool anchored_end_ = false;
  friend class PatternCompiler;
};

}  // namespace specd
