// YAML 1.2 core-schema typing of plain scalars (SPEC_FORMAT.md "YAML
// rules"): only true/false are booleans, only null/~ null, 017 is 17, and
// yes/no/on/off stay strings (yaml-cpp's convert<bool> would take them).
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "schema/yaml_tree.h"

namespace specd {

namespace {

bool IsDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
              : base == 8 ? (c >= '0' && c <= '7')
                          : (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool IsCoreFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!IsDigits(s.substr(i), 10)) return false;
    return true;
  }
  return i == s.size();
}

bool SetInteger(std::string_view digits, int base, bool negative, Node* node) {
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > max + (negative ? 1 : 0)) return false;
  node->kind = NodeKind::kInt;
  node->integer = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

// Whether c may start a boolean (true, True, ...), a null (null, ~, ...)
// or a number (digits, a sign, ".5", ".inf", ".nan").
bool MayStartTyped(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == '~' || c == 't' || c == 'T' ||
         c == 'f' || c == 'F' || c == 'n' || c == 'N';
}

}  // namespace

void TypePlainScalar(const std::string& v, Node* node) {
  node->kind = NodeKind::kString;
  // Most plain scalars of a spec are words: strings, told by their first
  // byte before the comparisons below.
  if (v.empty() || !MayStartTyped(v[0])) return;
  std::string_view s(v);  // its == compares the sizes first
  if (s == "true" || s == "True" || s == "TRUE") {
    node->kind = NodeKind::kBool;
    node->boolean = true;
    return;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    node->kind = NodeKind::kBool;
    node->boolean = false;
    return;
  }
  if (s == "null" || s == "Null" || s == "NULL" || s == "~") {
    node->kind = NodeKind::kNull;
    return;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    int base = s[1] == 'o' ? 8 : 16;
    if (IsDigits(s.substr(2), base) && SetInteger(s.substr(2), base, false, node)) return;
    if (IsDigits(s.substr(2), base)) {  // too large for int64
      node->kind = NodeKind::kFloat;
      node->number = std::ldexp(1.0, 64);
      return;
    }
    return;
  }
  bool negative = s[0] == '-';
  std::string_view unsigned_part = (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
  if (IsDigits(unsigned_part, 10)) {
    if (SetInteger(unsigned_part, 10, negative, node)) return;
    node->kind = NodeKind::kFloat;  // beyond int64: keep the magnitude
    node->number = std::strtod(v.c_str(), nullptr);
    return;
  }
  if (IsCoreFloat(s)) {
    node->kind = NodeKind::kFloat;
    node->number = std::strtod(v.c_str(), nullptr);
    return;
  }
  if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") {
    node->kind = NodeKind::kFloat;
    node->number = negative ? -HUGE_VAL : HUGE_VAL;
    return;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    node->kind = NodeKind::kFloat;
    node->number = std::nan("");
  }
}

}  // namespace specd
