// A diagnostic names the file, the 1-based line and column, the JSON pointer
// of the field and what was expected. Every checker produces these.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace specd {

enum class Severity { kError, kWarning };

struct Diagnostic {
  std::string file;
  int line = 1;         // 1-based
  int column = 1;       // 1-based, in characters
  std::string pointer;  // JSON pointer, "" for the document itself
  std::string keyword;  // schema keyword or specd rule name
  std::string message;
  Severity severity = Severity::kError;
};

// What a checker finds, before it is placed in a file: a byte offset into
// the text after any BOM, the JSON pointer, a rule name and a message.
struct Finding {
  size_t offset = 0;
  std::string pointer;
  std::string keyword;
  std::string message;
  Severity severity = Severity::kError;
};

// "file:line:col: error: /pointer: message" (the pointer part is left out
// for the document as a whole).
std::string FormatText(const Diagnostic& d);

// Escapes one JSON pointer reference token ("~" -> "~0", "/" -> "~1").
std::string EscapePointerToken(const std::string& token);

}  // namespace specd
