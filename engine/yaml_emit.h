// Writing one YAML scalar the way the engine writes values into a spec:
// plain when it reads back as the same string (YAML 1.2 core schema), else
// quoted, with the escapes YAML needs. Used by the write-back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema/yaml_tree.h"

namespace specd {

enum class Quote { kPlain, kSingle, kDouble };

// A value the engine writes: a string, null or an integer.
struct Scalar {
  NodeKind kind = NodeKind::kString;
  std::string text;
  int64_t integer = 0;
};

Scalar Str(std::string text);
Scalar Null();
Scalar Int(int64_t value);

// Whether the loaded node already holds `v` (then its bytes are left alone).
bool Holds(const Node& n, const Scalar& v);

// Whether `s` may be written plain (in a flow collection if `flow`).
bool IsSafePlain(std::string_view s, bool flow);

std::string DoubleQuoted(std::string_view s);
std::string SingleQuoted(std::string_view s);

// `v` in the style `quote` asks for, falling back to double quotes where that
// style cannot hold the text.
std::string Render(const Scalar& v, Quote quote, bool flow);

}  // namespace specd
