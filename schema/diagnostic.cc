#include "schema/diagnostic.h"

namespace specd {

std::string FormatText(const Diagnostic& d) {
  std::string out = d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
                    (d.severity == Severity::kError ? "error: " : "warning: ");
  if (!d.pointer.empty()) out += d.pointer + ": ";
  out += d.message;
  return out;
}

std::string EscapePointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace specd
