#include "engine/yaml_emit.h"

#include <cstdio>
#include <cstring>
#include <utility>

namespace specd {

namespace {

constexpr size_t kNone = std::string_view::npos;

// The code point at s[i] and its length; the text is valid UTF-8.
uint32_t DecodeAt(std::string_view s, size_t i, size_t* len) {
  auto c = static_cast<unsigned char>(s[i]);
  *len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  uint32_t cp = *len == 1 ? c : c & (0x7F >> *len);
  for (size_t k = 1; k < *len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
  return cp;
}

// Characters a plain or single-quoted scalar cannot hold as written: C0 and
// C1 controls, DEL, the Unicode line breaks and the byte order mark.
bool NeedsEscape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0xFEFF;
}

bool AnyNeedsEscape(std::string_view s) {
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    if (NeedsEscape(DecodeAt(s, i, &len))) return true;
  }
  return false;
}

// YAML's short escapes where there is one, else \xXX or \uXXXX.
std::string Escape(uint32_t cp) {
  static constexpr std::pair<uint32_t, const char*> kShort[] = {
      {0, "\\0"},    {'\a', "\\a"}, {'\b', "\\b"}, {'\t', "\\t"}, {'\n', "\\n"},   {'\v', "\\v"},
      {'\f', "\\f"}, {'\r', "\\r"}, {0x1B, "\\e"}, {0x85, "\\N"}, {0x2028, "\\L"}, {0x2029, "\\P"},
  };
  for (const auto& [code, text] : kShort) {
    if (code == cp) return text;
  }
  char buf[12];
  std::snprintf(buf, sizeof buf, cp <= 0xFF ? "\\x%02X" : "\\u%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

Scalar Str(std::string text) {
  return Scalar{NodeKind::kString, std::move(text), 0};
}
Scalar Null() {
  return Scalar{NodeKind::kNull, "", 0};
}
Scalar Int(int64_t value) {
  return Scalar{NodeKind::kInt, "", value};
}

// Whether the loaded node already holds `v` (then its bytes are left alone).
bool Holds(const Node& n, const Scalar& v) {
  if (n.kind != v.kind) return false;
  if (v.kind == NodeKind::kInt) return n.integer == v.integer;
  return v.kind == NodeKind::kNull || n.text == v.text;
}

std::string DoubleQuoted(std::string_view s) {
  std::string out = "\"";
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    uint32_t cp = DecodeAt(s, i, &len);
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (NeedsEscape(cp)) {
      out += Escape(cp);
    } else {
      out.append(s.substr(i, len));
    }
  }
  return out + "\"";
}

std::string SingleQuoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Whether `s` may be written plain: it reads back as the same string under
// YAML 1.2's core schema (not null, a boolean or a number) and nothing in it
// starts a comment, a mapping value, another node or (in a flow collection)
// ends the scalar. Leading indicators are refused outright: a few would be
// fine ("-x"), but quoting them costs nothing.
bool IsSafePlain(std::string_view s, bool flow) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  if (std::strchr("-?:,[]{}#&*!|>'\"%@`", s.front()) != nullptr) return false;
  if (AnyNeedsEscape(s)) return false;
  if (s.find(": ") != kNone || s.back() == ':' || s.find(" #") != kNone) return false;
  // In flow context yaml-cpp also splits on ':'; timestamps get quoted there.
  if (flow && s.find_first_of(",[]{}:") != kNone) return false;
  Node typed;
  TypePlainScalar(std::string(s), &typed);
  return typed.kind == NodeKind::kString;
}

std::string Render(const Scalar& v, Quote quote, bool flow) {
  if (v.kind == NodeKind::kNull) return "null";
  if (v.kind == NodeKind::kInt) return std::to_string(v.integer);
  if (quote == Quote::kDouble) return DoubleQuoted(v.text);
  if (quote == Quote::kSingle) return AnyNeedsEscape(v.text) ? DoubleQuoted(v.text) : SingleQuoted(v.text);
  return IsSafePlain(v.text, flow) ? v.text : DoubleQuoted(v.text);
}

}  // namespace specd
