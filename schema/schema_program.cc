#include "schema/schema_program.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <valijson/utils/utf8_utils.hpp>
#include <vector>

#include "schema/pattern.h"

namespace specd {

using Json = nlohmann::json;

namespace {

// One bit per JSON Schema type name.
enum TypeBit : uint8_t {
  kNullBit = 1,
  kBooleanBit = 2,
  kIntegerBit = 4,
  kNumberBit = 8,
  kStringBit = 16,
  kObjectBit = 32,
  kArrayBit = 64,
};

// The type names a node of each kind satisfies (valijson, strong types: an
// integer is also a number, 1.0 is a number and not an integer).
uint8_t KindBits(NodeKind kind) {
  switch (kind) {
    case NodeKind::kNull:
      return kNullBit;
    case NodeKind::kBool:
      return kBooleanBit;
    case NodeKind::kInt:
      return kIntegerBit | kNumberBit;
    case NodeKind::kFloat:
      return kNumberBit;
    case NodeKind::kString:
      return kStringBit;
    case NodeKind::kMap:
      return kObjectBit;
    case NodeKind::kSeq:
      return kArrayBit;
  }
  return 0;
}

std::optional<uint8_t> TypeNameBit(const std::string& name) {
  static const std::pair<const char*, uint8_t> kNames[] = {
      {"null", kNullBit},     {"boolean", kBooleanBit}, {"integer", kIntegerBit}, {"number", kNumberBit},
      {"string", kStringBit}, {"object", kObjectBit},   {"array", kArrayBit},
  };
  for (const auto& [n, bit] : kNames) {
    if (name == n) return bit;
  }
  return std::nullopt;
}

}  // namespace

// One subschema, $refs resolved. Absent keywords are empty / null.
struct SchemaProgram::Rule {
  uint8_t types = 0;  // 0: no "type"
  bool has_enum = false;
  std::vector<std::string> enum_strings;  // every enum value is a string
  std::optional<uint64_t> min_length, max_length;
  const SimplePattern* simple = nullptr;  // the pattern, when it is plain enough
  const std::regex* pattern = nullptr;    // else as valijson builds it
  size_t pattern_index = 0;               // its answers in the threads' caches
  std::optional<double> minimum, maximum;
  std::optional<uint64_t> min_items;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, const Rule*>> properties;  // sorted by name
  const Rule* items = nullptr;
  std::vector<const Rule*> all_of, any_of, one_of;
  const Rule* if_rule = nullptr;
  const Rule* then_rule = nullptr;
  const Rule* else_rule = nullptr;
};

struct SchemaProgram::Impl {
  uint64_t id = 0;  // unique per program: keys the threads' pattern caches
  const Json* root = nullptr;
  std::deque<Rule> rules;
  std::deque<SimplePattern> simples;
  std::deque<std::regex> regexes;
  size_t patterns = 0;                                 // simples and regexes
  std::unordered_map<const Json*, const Rule*> built;  // by schema node
  const Rule* start = nullptr;

  // Null when `s` uses something the program does not implement.
  const Rule* Build(const Json& s, int depth);
  bool Fill(const Json& s, int depth, Rule* r);
  bool Match(const Document& doc, const Node& n, const Rule& r) const;
  bool PatternMatches(const Rule& r, const std::string& text) const;
};

namespace {

// Keywords that never change whether a document is valid here: annotations,
// the definitions' container, and propertyNames (stripped before valijson
// compiles the schema; the field-name walk checks it).
bool Ignored(const std::string& key) {
  static const char* const kIgnored[] = {"$schema", "$id",      "$comment", "title",       "description",
                                         "default", "examples", "readOnly", "definitions", "propertyNames"};
  return std::any_of(std::begin(kIgnored), std::end(kIgnored), [&](const char* k) { return key == k; });
}

std::optional<uint64_t> Count(const Json& v) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) return std::nullopt;
  return v.get<uint64_t>();
}

// valijson's minLength/maxLength: code points up to the first NUL. Counted
// only when the byte length leaves it open (a code point is 1 to 4 bytes).
bool LengthWithin(const std::string& text, const std::optional<uint64_t>& min,
                  const std::optional<uint64_t>& max) {
  bool no_nul = text.find('\0') == std::string::npos;
  bool max_sure = !max || text.size() <= *max;
  bool min_sure = !min || (no_nul && text.size() / 4 >= *min);
  if (max_sure && min_sure) return true;
  uint64_t len = valijson::utils::u8_strlen(text.c_str());
  return (!min || len >= *min) && (!max || len <= *max);
}

std::atomic<uint64_t> next_program_id{1};

// Hash and equality that look a std::string_view up among std::string keys.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace

// The same values (ids, timestamps, task references) come back file after
// file: each thread remembers a pattern's answers, a few thousand at most.
bool SchemaProgram::Impl::PatternMatches(const Rule& r, const std::string& text) const {
  struct Cache {
    uint64_t program = 0;
    std::vector<std::unordered_map<std::string, bool, TextHash, std::equal_to<>>> answers;
  };
  thread_local Cache cache;
  if (cache.program != id) {
    cache.program = id;
    cache.answers.assign(patterns, {});
  }
  auto& answers = cache.answers[r.pattern_index];
  if (auto it = answers.find(std::string_view(text)); it != answers.end()) return it->second;
  bool matched = r.simple ? r.simple->Search(text) : std::regex_search(text, *r.pattern);
  if (answers.size() >= 4096) answers.clear();
  answers.emplace(text, matched);
  return matched;
}

const SchemaProgram::Rule* SchemaProgram::Impl::Build(const Json& s, int depth) {
  if (depth > 64) return nullptr;
  if (s.is_boolean() && s.get<bool>()) {
    rules.emplace_back();
    return &rules.back();
  }
  if (!s.is_object()) return nullptr;
  if (auto it = built.find(&s); it != built.end()) return it->second;
  if (auto ref = s.find("$ref"); ref != s.end()) {
    // valijson follows the reference and ignores anything beside it; the
    // program only takes the plain form.
    if (s.size() != 1 || !ref->is_string()) return nullptr;
    const std::string& text = ref->get_ref<const std::string&>();
    if (text.empty() || text[0] != '#') return nullptr;
    Json::json_pointer ptr(text.substr(1));
    if (!root->contains(ptr)) return nullptr;
    const Rule* target = Build(root->at(ptr), depth + 1);
    if (target) built.emplace(&s, target);
    return target;
  }
  rules.emplace_back();
  Rule* r = &rules.back();
  built.emplace(&s, r);  // before the children: a schema may refer to itself
  return Fill(s, depth, r) ? r : nullptr;
}

bool SchemaProgram::Impl::Fill(const Json& s, int depth, Rule* r) {
  auto list = [&](const Json& v, std::vector<const Rule*>* out) {
    if (!v.is_array() || v.empty()) return false;
    for (const Json& b : v) {
      const Rule* sub = Build(b, depth + 1);
      if (!sub) return false;
      out->push_back(sub);
    }
    return true;
  };
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    bool ok = true;
    if (Ignored(key)) {
      continue;
    } else if (key == "type") {
      std::vector<Json> names = v.is_array() ? v.get<std::vector<Json>>() : std::vector<Json>{v};
      for (const Json& name : names) {
        std::optional<uint8_t> bit = name.is_string() ? TypeNameBit(name.get<std::string>()) : std::nullopt;
        ok = ok && bit.has_value();
        if (bit) r->types |= *bit;
      }
      ok = ok && r->types != 0;
    } else if (key == "enum") {
      ok = v.is_array() && !v.empty();
      r->has_enum = true;
      for (const Json& e : v) {
        ok = ok && e.is_string();
        if (e.is_string()) r->enum_strings.push_back(e.get<std::string>());
      }
    } else if (key == "minLength" || key == "maxLength" || key == "minItems") {
      std::optional<uint64_t> n = Count(v);
      ok = n.has_value();
      (key == "minLength" ? r->min_length : key == "maxLength" ? r->max_length : r->min_items) = n;
    } else if (key == "minimum" || key == "maximum") {
      ok = v.is_number();
      if (ok) (key == "minimum" ? r->minimum : r->maximum) = v.get<double>();
    } else if (key == "pattern") {
      ok = v.is_string();
      // As valijson builds it: std::regex(pattern), ECMAScript, searched.
      std::optional<SimplePattern> simple = ok ? SimplePattern::Compile(v.get<std::string>()) : std::nullopt;
      if (simple) {
        r->simple = &simples.emplace_back(std::move(*simple));
      } else if (ok) {
        r->pattern = &regexes.emplace_back(v.get<std::string>());
      }
      r->pattern_index = patterns++;
    } else if (key == "required") {
      ok = v.is_array();
      for (const Json& name : v) {
        ok = ok && name.is_string();
        if (name.is_string()) r->required.push_back(name.get<std::string>());
      }
    } else if (key == "properties") {
      ok = v.is_object();
      for (auto p = v.begin(); ok && p != v.end(); ++p) {
        const Rule* sub = Build(p.value(), depth + 1);
        ok = sub != nullptr;
        r->properties.emplace_back(p.key(), sub);
      }
      std::sort(r->properties.begin(), r->properties.end());
    } else if (key == "items") {
      r->items = v.is_object() || v.is_boolean() ? Build(v, depth + 1) : nullptr;
      ok = r->items != nullptr;
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      ok = list(v, key == "allOf" ? &r->all_of : key == "anyOf" ? &r->any_of : &r->one_of);
    } else if (key == "if" || key == "then" || key == "else") {
      const Rule* sub = Build(v, depth + 1);
      ok = sub != nullptr;
      (key == "if" ? r->if_rule : key == "then" ? r->then_rule : r->else_rule) = sub;
    } else {
      ok = false;  // a keyword the program does not know
    }
    if (!ok) return false;
  }
  // then/else without if are ignored by valijson; keep it simple and refuse.
  return r->if_rule || (!r->then_rule && !r->else_rule);
}

bool SchemaProgram::Impl::Match(const Document& doc, const Node& n, const Rule& r) const {
  if (r.types != 0 && (r.types & KindBits(n.kind)) == 0) return false;
  switch (n.kind) {
    case NodeKind::kString:
      if (r.has_enum &&
          std::find(r.enum_strings.begin(), r.enum_strings.end(), n.text) == r.enum_strings.end()) {
        return false;
      }
      if ((r.min_length || r.max_length) && !LengthWithin(n.text, r.min_length, r.max_length)) return false;
      if ((r.simple || r.pattern) && !PatternMatches(r, n.text)) return false;
      break;
    case NodeKind::kInt:
    case NodeKind::kFloat: {
      if (r.has_enum) return false;  // every enum value is a string
      double v = n.kind == NodeKind::kInt ? static_cast<double>(n.integer) : n.number;
      if (r.maximum && v > *r.maximum) return false;
      if (r.minimum && v < *r.minimum) return false;
      break;
    }
    case NodeKind::kMap:
      if (r.has_enum) return false;
      for (const std::string& name : r.required) {
        if (!n.Find(name)) return false;
      }
      if (!r.properties.empty()) {
        for (const MapEntry& e : n.entries) {
          auto p = std::lower_bound(r.properties.begin(), r.properties.end(), e.key,
                                    [](const auto& prop, const std::string& k) { return prop.first < k; });
          if (p != r.properties.end() && p->first == e.key && !Match(doc, doc.node(e.value), *p->second)) {
            return false;
          }
        }
      }
      break;
    case NodeKind::kSeq:
      if (r.has_enum) return false;
      if (r.min_items && n.items.size() < *r.min_items) return false;
      if (r.items) {
        for (NodeId id : n.items) {
          if (!Match(doc, doc.node(id), *r.items)) return false;
        }
      }
      break;
    case NodeKind::kNull:
    case NodeKind::kBool:
      if (r.has_enum) return false;
      break;
  }
  for (const Rule* sub : r.all_of) {
    if (!Match(doc, n, *sub)) return false;
  }
  if (!r.any_of.empty() &&
      std::none_of(r.any_of.begin(), r.any_of.end(), [&](const Rule* sub) { return Match(doc, n, *sub); })) {
    return false;
  }
  if (!r.one_of.empty()) {
    int matched = 0;
    for (const Rule* sub : r.one_of) matched += Match(doc, n, *sub) ? 1 : 0;
    if (matched != 1) return false;
  }
  if (r.if_rule) {
    const Rule* branch = Match(doc, n, *r.if_rule) ? r.then_rule : r.else_rule;
    if (branch && !Match(doc, n, *branch)) return false;
  }
  return true;
}

SchemaProgram::SchemaProgram() : impl_(std::make_unique<Impl>()) {}
SchemaProgram::~SchemaProgram() = default;

std::unique_ptr<const SchemaProgram> SchemaProgram::Compile(const Json& schema) {
  std::unique_ptr<SchemaProgram> program(new SchemaProgram());
  Impl& im = *program->impl_;
  im.id = next_program_id++;
  im.root = &schema;
  try {
    im.start = im.Build(schema, 0);
  } catch (const std::exception&) {  // a bad pointer or regex: valijson's to report
    im.start = nullptr;
  }
  if (!im.start) return nullptr;
  im.root = nullptr;  // the program no longer needs the schema
  return program;
}

bool SchemaProgram::Accepts(const Document& doc) const {
  return impl_->Match(doc, doc.root(), *impl_->start);
}

}  // namespace specd
