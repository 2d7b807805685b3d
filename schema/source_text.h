// The raw bytes of a spec file: encoding checks (UTF-8, BOM, control bytes)
// and the mapping from byte offsets to 1-based lines and character columns.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace specd {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or values
// past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The one line/column helper: characters (not bytes: UTF-8 continuation
// bytes do not count) in `s`; the start of the line holding `offset`; and
// `offset` as a 1-based line and character column.
size_t CountChars(std::string_view s);
size_t LineStartOf(std::string_view text, size_t offset);
struct LineColumn {
  int line = 1;
  int column = 1;
};
LineColumn LineColumnOf(std::string_view text, size_t offset);

class SourceText {
 public:
  explicit SourceText(std::string_view bytes);

  // The text after the BOM; parser offsets are relative to it.
  std::string_view body() const { return body_; }

  // An offset into body() as a 1-based line and character column.
  void Position(size_t body_offset, int* line, int* column) const;

  // The first encoding problem: invalid UTF-8 or a byte YAML does not allow.
  // `offset` is into the whole file (BOM included), as a hex editor shows it.
  struct EncodingProblem {
    size_t offset;
    std::string message;
  };
  std::optional<EncodingProblem> CheckEncoding() const;

 private:
  std::string_view bytes_;
  std::string_view body_;
  size_t bom_ = 0;
  mutable std::vector<size_t> line_starts_;  // built on the second lookup
  mutable bool placed_once_ = false;
};

}  // namespace specd
