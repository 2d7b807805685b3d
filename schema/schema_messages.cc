// The messages of the JSON Schema check: valijson's failures classified,
// and each rewritten from the schema itself ("must be one of ...",
// "expected string, got number 1.0").
#include "schema/schema_messages.h"

#include <algorithm>
#include <cctype>

#include "schema/source_text.h"

namespace specd {

namespace {

std::string Shorten(const std::string& s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax) return s;
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep, const std::string& last_sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += (i + 1 == parts.size()) ? last_sep : sep;
    out += parts[i];
  }
  return out;
}

std::string DescribeValue(const Node& n) {
  switch (n.kind) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kBool:
      return std::string("boolean ") + (n.boolean ? "true" : "false");
    case NodeKind::kInt:
    case NodeKind::kFloat:
      return std::string(NodeKindName(n.kind)) + " " + n.text;
    case NodeKind::kString:
      return "'" + Shorten(n.text) + "'";
    case NodeKind::kMap:
      return "a mapping";
    case NodeKind::kSeq:
      return "a list";
  }
  return "?";
}

// What a JSON Schema type is called in messages (YAML words for YAML users).
std::string TypeWord(const std::string& t) {
  if (t == "object") return "mapping";
  if (t == "array") return "list";
  return t;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "string or null", "one of: a, b, c", ...
std::string DescribeSchema(const Json& s) {
  if (s.contains("enum")) {
    std::vector<std::string> vals;
    for (const Json& v : s["enum"]) vals.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    return "one of " + Join(vals, ", ", ", ");
  }
  std::vector<std::string> types;
  if (s.contains("type")) {
    if (s["type"].is_array()) {
      for (const Json& t : s["type"]) types.push_back(TypeWord(t.get<std::string>()));
    } else {
      types.push_back(TypeWord(s["type"].get<std::string>()));
    }
  }
  return Join(types, ", ", " or ");
}

std::string ExpectedTypes(const std::vector<const Json*>& cands, const Deref& deref) {
  std::vector<std::string> alts;
  for (const Json* c : cands) {
    if (c->contains("oneOf") || c->contains("anyOf")) {
      const Json& branches = c->contains("oneOf") ? (*c)["oneOf"] : (*c)["anyOf"];
      alts.clear();
      for (const Json& b : branches) {
        std::string d = DescribeSchema(deref(b));
        if (!d.empty()) alts.push_back(d);
      }
      break;
    }
    if (c->contains("type")) {
      std::string d = DescribeSchema(*c);
      if (std::find(alts.begin(), alts.end(), d) == alts.end()) alts.push_back(d);
    }
  }
  return Join(alts, ", ", " or ");
}

const Json* WithKey(const std::vector<const Json*>& cands, const char* key) {
  for (const Json* c : cands) {
    if (c->contains(key)) return c;
  }
  return nullptr;
}

}  // namespace

std::string FailureMessage(const std::string& keyword, const std::string& description,
                           const std::vector<const Json*>& cands, const Node& n, const Deref& deref) {
  if (keyword == "type" || keyword == "oneOf" || keyword == "anyOf") {
    std::string expected = ExpectedTypes(cands, deref);
    std::string msg = "expected " + expected + ", got " + DescribeValue(n);
    if (expected.find("string") != std::string::npos && n.is_scalar() && !n.quoted &&
        n.kind != NodeKind::kString && n.kind != NodeKind::kNull) {
      msg += " (quote it to make it a string)";
    }
    return msg;
  }
  if (keyword == "enum") {
    if (const Json* c = WithKey(cands, "enum")) {
      std::vector<std::string> values;
      for (const Json& v : (*c)["enum"]) {
        if (v.is_string()) values.push_back(v);
      }
      std::string hint = n.kind == NodeKind::kString ? Suggest(n.text, values) : "";
      return "must be " + DescribeSchema(*c) + " (got " + DescribeValue(n) +
             (hint.empty() ? "" : "; did you mean '" + hint + "'?") + ")";
    }
  }
  if (keyword == "pattern") {
    if (const Json* c = WithKey(cands, "pattern")) {
      std::string what = c->contains("description") ? (*c)["description"].get<std::string>()
                                                    : "text matching " + (*c)["pattern"].get<std::string>();
      if (!what.empty() && what.back() == '.') what.pop_back();
      return "must be " + what + " (got " + DescribeValue(n) + ")";
    }
  }
  if (keyword == "minLength" || keyword == "maxLength") {
    if (const Json* c = WithKey(cands, keyword.c_str())) {
      long k = (*c)[keyword].get<long>();
      return std::string("must be at ") + (keyword == "minLength" ? "least " : "most ") + std::to_string(k) +
             (k == 1 ? " character" : " characters") + " long (it has " + std::to_string(CountChars(n.text)) +
             ")";
    }
  }
  if (keyword == "minItems" || keyword == "maxItems") {
    if (const Json* c = WithKey(cands, keyword.c_str())) {
      long k = (*c)[keyword].get<long>();
      return std::string("must have at ") + (keyword == "minItems" ? "least " : "most ") + std::to_string(k) +
             (k == 1 ? " item" : " items") + " (it has " + std::to_string(n.items.size()) + ")";
    }
  }
  if (keyword == "minimum" || keyword == "maximum") {
    if (const Json* c = WithKey(cands, keyword.c_str())) {
      return std::string("must be at ") + (keyword == "minimum" ? "least " : "most ") + (*c)[keyword].dump() +
             " (got " + DescribeValue(n) + ")";
    }
  }
  return description;
}

// The closest of `names` to `word`, if close enough to be a typo.
std::string Suggest(const std::string& word, const std::vector<std::string>& names) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (word.size() >= 3) {  // "feat" -> "feature": an abbreviation beats a near miss
    for (const std::string& name : names) {
      if (lower(name).rfind(lower(word), 0) == 0) return name;
    }
  }
  std::string best;
  size_t best_d = std::min<size_t>(3, word.size() / 2 + 1);
  for (const std::string& name : names) {
    size_t d = EditDistance(word, name);
    if (d < best_d) best_d = d, best = name;
  }
  return best;
}

Classified Classify(const std::string& d) {
  auto starts = [&](const char* p) { return d.rfind(p, 0) == 0; };
  if (starts("Missing required property")) return {"required"};
  if (starts("Value type not permitted")) return {"type"};
  if (starts("Failed to match against any enum")) return {"enum"};
  if (starts("Failed to match regex")) return {"pattern"};
  if (starts("String should be no fewer")) return {"minLength"};
  if (starts("String should be no more")) return {"maxLength"};
  if (starts("Array should contain no fewer")) return {"minItems"};
  if (starts("Array should contain no more")) return {"maxItems"};
  if (starts("Expected number greater than")) return {"minimum"};
  if (starts("Expected number less than")) return {"maximum"};
  if (d.find("oneOf") != std::string::npos || starts("Failed to validate against exactly one")) {
    return {"oneOf"};
  }
  if (d.find("anyOf") != std::string::npos) return {"anyOf"};
  if (d.find("conditional schema") != std::string::npos) return {"if", true};
  if (starts("Failed to validate item") || starts("Failed to validate against schema associated") ||
      starts("Failed to validate against child schema") || starts("Cannot validate item")) {
    return {"", true};
  }
  return {"schema"};
}

// valijson's context ["<root>", "[tasks]", "[0]"] as a JSON pointer.
std::string ContextPointer(const std::vector<std::string>& context) {
  std::string out;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& c = context[i];
    std::string token = c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c;
    out += "/" + EscapePointerToken(token);
  }
  return out;
}

std::string QuotedName(const std::string& description) {
  size_t a = description.find('\'');
  size_t b = description.rfind('\'');
  return a != std::string::npos && b > a ? description.substr(a + 1, b - a - 1) : "";
}

}  // namespace specd
