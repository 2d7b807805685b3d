// What the source text says where yaml-cpp 0.7 reads it wrong or not at
// all (issue 11): values re-derived from the text, and the rules it does not
// enforce. Used by yaml_tree.cc; pure functions of the text, no yaml-cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace specd {

// A problem found in the text: where, and what to say.
struct TextProblem {
  size_t offset;
  std::string message;
};

// The offset of the quote closing the quoted scalar that opens at `open`
// ('"' or '\''), or npos when the text ends first.
size_t ClosingQuote(std::string_view text, size_t open);

// The value of a quoted scalar from `open` to its closing quote `close` that
// spans lines, folded as YAML 1.2 folds flow scalars (yaml-cpp 0.7 drops the
// line breaks before a closing quote). nullopt when the text is not what a
// quoted scalar may hold (an unknown escape): yaml-cpp's value then stands.
std::optional<std::string> MultiLineQuotedValue(std::string_view text, size_t open, size_t close);

// A '#' glued to the token before it (a closing quote, a block scalar
// header) is no comment in YAML. The problem at `after` (the byte after the
// token), if any.
std::optional<TextProblem> GluedComment(std::string_view text, size_t after);

// Where a block scalar header ('|' or '>' at `header`) ends: past its
// indentation and chomping indicators.
size_t BlockHeaderEnd(std::string_view text, size_t header);

// Checks the flow collection opening at `open` ('[' or '{') and everything
// nested in it for what YAML refuses and yaml-cpp 0.7 takes: an empty item
// ("[a, , b]", "[ , a]"), a '-' alone as an item ("[-]"), a '#' glued to a
// ',' or bracket. nullopt when it is fine, or when it never closes (yaml-cpp
// reports that).
std::optional<TextProblem> CheckFlowCollection(std::string_view text, size_t open);

// A document that is one block scalar whose content starts at the left
// margin ("--- >" then "line1" at column 0): yaml-cpp 0.7 reads an empty
// scalar and a second document. Returns the scalar's value, its header's
// offset, and where the document's content ends (a "---" or "..." line, or
// the end of the text); nullopt when `text` does not start so.
struct RootBlockScalar {
  size_t header = 0;
  std::string value;
  size_t end = 0;
};
std::optional<RootBlockScalar> ZeroIndentedRootBlockScalar(std::string_view text);

// Whether the line starting at `line` holds only spaces and tabs, with at
// least one tab, optionally followed by a comment. YAML allows these
// anywhere; yaml-cpp 0.7 calls the tab indentation.
bool IsTabbedBlankLine(std::string_view text, size_t line);

}  // namespace specd
