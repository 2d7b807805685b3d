#include "schema/spec_schema.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "schema/schema_messages.h"
#include "schema/schema_program.h"
#include "schema/schema_text.h"
#include "schema/tree_adapter.h"

namespace specd {

std::string_view BuiltinSchemaText() {
  return kSpecSchemaJson;
}

std::string_view SettingsSchemaText() {
  return kSettingsSchemaJson;
}

namespace {

void StripPropertyNames(Json* j) {
  if (j->is_object()) {
    j->erase("propertyNames");
    for (auto& [k, v] : j->items()) StripPropertyNames(&v);
  } else if (j->is_array()) {
    for (auto& v : *j) StripPropertyNames(&v);
  }
}

struct Located {
  const Node* node = nullptr;
  size_t key_offset = 0;  // of the key naming this node, or the node's own
  bool has_key = false;
};

std::vector<std::string> SplitPointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < pointer.size()) {
    size_t j = pointer.find('/', i + 1);
    if (j == std::string::npos) j = pointer.size();
    std::string t = pointer.substr(i + 1, j - i - 1);
    std::string un;
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k] == '~' && k + 1 < t.size()) {
        un += t[k + 1] == '1' ? '/' : '~';
        ++k;
      } else {
        un += t[k];
      }
    }
    tokens.push_back(un);
    i = j;
  }
  return tokens;
}

Located Locate(const Document& doc, const std::vector<std::string>& tokens) {
  Located at{&doc.root(), doc.root().offset, false};
  for (const std::string& t : tokens) {
    const Node& n = *at.node;
    if (n.kind == NodeKind::kMap) {
      const MapEntry* e = n.Find(t);
      if (!e) return at;
      at = Located{&doc.node(e->value), e->key_offset, true};
    } else if (n.kind == NodeKind::kSeq) {
      size_t index = std::strtoul(t.c_str(), nullptr, 10);
      if (index >= n.items.size()) return at;
      const Node& item = doc.node(n.items[index]);
      at = Located{&item, item.offset, false};
    } else {
      return at;
    }
  }
  return at;
}

}  // namespace

void AllowedNames(const nlohmann::json& names_schema, std::vector<std::string>* names,
                  std::vector<std::string>* prefixes,
                  const std::function<const nlohmann::json&(const nlohmann::json&)>& deref);

struct SpecSchema::Impl {
  Json schema;    // as written, for messages and field names
  Json stripped;  // without propertyNames: what valijson and the program check
  // valijson's compiled schema. With a program it is built on first need
  // (a document the program turns down): most runs never need it, and
  // building it cost a short `specd validate` or hook a tenth of its work.
  mutable std::once_flag compile_once;
  mutable valijson::Schema compiled;
  // The same schema as a direct checker: a document it accepts is valid
  // without asking valijson (null: every document goes to valijson).
  std::unique_ptr<const SchemaProgram> program;

  void Compile() const {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(stripped);
    parser.populateSchema(adapter, compiled);
  }
  const valijson::Schema& Compiled() const {
    std::call_once(compile_once, [this] { Compile(); });
    return compiled;
  }

  // What the schema allows at one place in a document, merged over every
  // subschema that applies there; built once, when the schema is parsed.
  struct View {
    bool restricted = false;  // has propertyNames
    std::vector<std::string> names;
    std::vector<std::string> prefixes;
    std::unordered_map<std::string, const View*> properties;
    const View* items = nullptr;
  };
  std::map<std::vector<const Json*>, std::unique_ptr<View>> views;
  const View* root_view = nullptr;

  const View* BuildView(const std::vector<const Json*>& cands) {
    auto [it, inserted] = views.emplace(cands, nullptr);
    if (!inserted) return it->second.get();
    it->second = std::make_unique<View>();
    View* v = it->second.get();
    std::vector<std::string> props;
    bool has_items = false;
    for (const Json* c : cands) {
      if (c->contains("propertyNames")) {
        v->restricted = true;
        AllowedNames((*c)["propertyNames"], &v->names, &v->prefixes,
                     [this](const Json& j) -> const Json& { return Deref(j); });
      }
      if (c->contains("properties") && (*c)["properties"].is_object()) {
        for (auto p = (*c)["properties"].begin(); p != (*c)["properties"].end(); ++p)
          props.push_back(p.key());
      }
      has_items = has_items || (c->contains("items") && (*c)["items"].is_object());
    }
    for (const std::string& name : props) {
      if (!v->properties.count(name)) v->properties[name] = BuildView(Child(cands, name, false));
    }
    if (has_items) v->items = BuildView(Child(cands, "", true));
    return v;
  }

  const Json& Deref(const Json& s, int depth = 0) const {
    if (depth < 16 && s.is_object() && s.contains("$ref") && s["$ref"].is_string()) {
      std::string ref = s["$ref"];
      if (ref.rfind("#", 0) == 0) {
        Json::json_pointer ptr(ref.substr(1));
        if (schema.contains(ptr)) return Deref(schema.at(ptr), depth + 1);
      }
    }
    return s;
  }

  // The schema itself and every branch that also applies to the instance.
  void Collect(const Json& s, std::vector<const Json*>* out, int depth = 0) const {
    const Json& d = Deref(s);
    if (!d.is_object() || depth > 16) return;
    out->push_back(&d);
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      if (d.contains(key) && d[key].is_array()) {
        for (const Json& b : d[key]) Collect(b, out, depth + 1);
      }
    }
    if (d.contains("then")) Collect(d["then"], out, depth + 1);
    if (d.contains("else")) Collect(d["else"], out, depth + 1);
  }

  std::vector<const Json*> Child(const std::vector<const Json*>& parents, const std::string& token,
                                 bool is_index) const {
    std::vector<const Json*> out;
    for (const Json* p : parents) {
      if (!is_index && p->contains("properties") && (*p)["properties"].contains(token)) {
        Collect((*p)["properties"][token], &out);
      }
      if (is_index && p->contains("items") && (*p)["items"].is_object()) {
        Collect((*p)["items"], &out);
      }
    }
    return out;
  }

  std::vector<const Json*> At(const Document& doc, const std::vector<std::string>& tokens) const {
    std::vector<const Json*> cur;
    Collect(schema, &cur);
    const Node* n = &doc.root();
    for (const std::string& t : tokens) {
      bool is_index = n && n->kind == NodeKind::kSeq;
      cur = Child(cur, t, is_index);
      if (n && n->kind == NodeKind::kMap) {
        const MapEntry* e = n->Find(t);
        n = e ? &doc.node(e->value) : nullptr;
      } else if (n && is_index) {
        size_t i = std::strtoul(t.c_str(), nullptr, 10);
        n = i < n->items.size() ? &doc.node(n->items[i]) : nullptr;
      }
    }
    return cur;
  }

  // `pointer` names `n`; it grows and shrinks back as the walk goes down.
  void CheckFieldNames(const Document& doc, const Node& n, const View* view, std::string* pointer,
                       std::vector<Finding>* out) const;
  void CheckFieldNames(const Document& doc, std::vector<Finding>* out) const {
    std::string pointer;
    CheckFieldNames(doc, doc.root(), root_view, &pointer, out);
  }
};

// propertyNames: {"anyOf": [{"enum": [...]}, {"pattern": "^x-"}]} or either alone.
void AllowedNames(const nlohmann::json& names_schema, std::vector<std::string>* names,
                  std::vector<std::string>* prefixes,
                  const std::function<const nlohmann::json&(const nlohmann::json&)>& deref) {
  const nlohmann::json& s = deref(names_schema);
  if (s.contains("enum")) {
    for (const auto& v : s["enum"]) {
      if (v.is_string()) names->push_back(v);
    }
  }
  if (s.contains("pattern") && s["pattern"].is_string()) {
    std::string p = s["pattern"];
    if (!p.empty() && p[0] == '^') prefixes->push_back(p.substr(1));
  }
  if (s.contains("anyOf")) {
    for (const auto& b : s["anyOf"]) AllowedNames(b, names, prefixes, deref);
  }
}

void SpecSchema::Impl::CheckFieldNames(const Document& doc, const Node& n, const View* view,
                                       std::string* pointer, std::vector<Finding>* out) const {
  const size_t depth = pointer->size();
  if (n.kind == NodeKind::kMap) {
    for (const MapEntry& e : n.entries) {
      bool extension = false;
      for (const std::string& p : view->prefixes) extension = extension || e.key.rfind(p, 0) == 0;
      if (extension) continue;  // kept untouched, never checked
      bool known = std::find(view->names.begin(), view->names.end(), e.key) != view->names.end();
      if (view->restricted && !known) {
        std::string msg = "unknown field '" + e.key + "'";
        std::string best = Suggest(e.key, view->names);
        msg += best.empty() ? " (extension fields start with 'x-')" : " (did you mean '" + best + "'?)";
        out->push_back(
            Finding{e.key_offset, *pointer + "/" + EscapePointerToken(e.key), "propertyNames", msg});
        continue;
      }
      const Node& value = doc.node(e.value);
      if (value.is_scalar()) continue;
      auto child = view->properties.find(e.key);
      if (child == view->properties.end()) continue;
      pointer->append(1, '/').append(EscapePointerToken(e.key));
      CheckFieldNames(doc, value, child->second, pointer, out);
      pointer->resize(depth);
    }
  } else if (n.kind == NodeKind::kSeq && view->items) {
    for (size_t i = 0; i < n.items.size(); ++i) {
      const Node& item = doc.node(n.items[i]);
      if (item.is_scalar()) continue;
      pointer->append(1, '/').append(std::to_string(i));
      CheckFieldNames(doc, item, view->items, pointer, out);
      pointer->resize(depth);
    }
  }
}

SpecSchema::SpecSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpecSchema::~SpecSchema() = default;

Result<std::shared_ptr<const SpecSchema>> SpecSchema::Parse(std::string_view json_text) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->schema = Json::parse(json_text);
    impl->stripped = impl->schema;
    StripPropertyNames(&impl->stripped);
    impl->program = SchemaProgram::Compile(impl->stripped);
    // A schema the program cannot take is compiled now, so that a schema
    // valijson cannot read either is refused here, not at its first use.
    if (!impl->program) impl->Compiled();
    std::vector<const Json*> root;
    impl->Collect(impl->schema, &root);
    impl->root_view = impl->BuildView(root);
  } catch (const std::exception& e) {
    return Error{std::string("invalid JSON Schema: ") + e.what()};
  }
  return std::shared_ptr<const SpecSchema>(new SpecSchema(std::move(impl)));
}

namespace {

std::shared_ptr<const SpecSchema> ParseBuiltin(std::string_view text) {
  auto parsed = SpecSchema::Parse(text);
  if (!parsed.ok()) throw std::logic_error("built-in schema: " + parsed.error().message);
  return parsed.value();
}

}  // namespace

const SpecSchema& SpecSchema::Builtin() {
  static const std::shared_ptr<const SpecSchema> schema = ParseBuiltin(BuiltinSchemaText());
  return *schema;
}

const SpecSchema& SpecSchema::Settings() {
  static const std::shared_ptr<const SpecSchema> schema = ParseBuiltin(SettingsSchemaText());
  return *schema;
}

bool SpecSchema::compiled() const {
  return impl_->program != nullptr;
}

void SpecSchema::Check(const Document& doc, std::vector<Finding>* out) const {
  const Impl& im = *impl_;
  // The program accepts exactly what valijson accepts; a document it turns
  // down goes to valijson for the failures (and if valijson found none, the
  // findings would be the same as for an accepted one).
  if (im.program && im.program->Accepts(doc)) {
    im.CheckFieldNames(doc, out);
    return;
  }
  CheckWithValijson(doc, out);
}

void SpecSchema::CheckWithValijson(const Document& doc, std::vector<Finding>* out) const {
  const Impl& im = *impl_;
  TreeContext context(doc);
  valijson::adapters::TreeAdapter target(valijson::adapters::TreeRef{&context, doc.root_id()});
  // One validator per thread: it caches compiled regexes across files.
  thread_local valijson::Validator validator(valijson::Validator::kStrongTypes);
  const valijson::Schema& compiled = im.Compiled();
  if (validator.validate(compiled, target, nullptr)) {
    im.CheckFieldNames(doc, out);
    return;
  }
  valijson::ValidationResults results;
  validator.validate(compiled, target, &results);

  struct Raw {
    std::string pointer, keyword, description;
  };
  std::vector<Raw> raws;
  std::set<std::string> alternatives;  // pointers whose oneOf/anyOf failed
  std::set<std::string> conditional;   // pointers whose if/then failed
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    Classified c = Classify(e.description);
    std::string pointer = ContextPointer(e.context);
    if (c.keyword == "if") conditional.insert(pointer);
    if (c.container) continue;
    if (c.keyword == "oneOf" || c.keyword == "anyOf") alternatives.insert(pointer);
    raws.push_back(Raw{pointer, c.keyword, e.description});
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const Raw& r : raws) {
    bool alt = alternatives.count(r.pointer) > 0;
    if (alt && r.keyword != "oneOf" && r.keyword != "anyOf") continue;  // a branch's detail
    std::string pointer = r.pointer;
    std::vector<std::string> tokens = SplitPointer(pointer);
    Located at = Locate(doc, tokens);
    std::vector<const Json*> cands = im.At(doc, tokens);
    std::string message;
    size_t offset = at.has_key ? at.key_offset : at.node->offset;
    std::string keyword = r.keyword;
    if (keyword == "required") {
      std::string field = QuotedName(r.description);
      pointer += "/" + EscapePointerToken(field);
      message = "required field '" + field + "' is missing";
    } else {
      // Point at the value; an empty value (null) has no text to point at,
      // so its key stands for it.
      if (at.node->is_scalar() && !(at.has_key && at.node->kind == NodeKind::kNull)) offset = at.node->offset;
      message = FailureMessage(keyword, r.description, cands, *at.node,
                               [&im](const Json& j) -> const Json& { return im.Deref(j); });
    }
    // A failure of a then-branch: say which condition asked for it.
    std::string parent = r.keyword == "required" ? r.pointer : pointer.substr(0, pointer.rfind('/'));
    if (conditional.count(parent)) {
      std::vector<const Json*> pc = im.At(doc, SplitPointer(parent));
      for (const Json* c : pc) {
        if (!c->contains("if") || !(*c)["if"].contains("properties")) continue;
        for (auto it = (*c)["if"]["properties"].begin(); it != (*c)["if"]["properties"].end(); ++it) {
          const std::string& name = it.key();
          Located cond = Locate(doc, SplitPointer(parent + "/" + EscapePointerToken(name)));
          if (cond.has_key && cond.node->is_scalar()) {
            message += " (when " + name + " is '" + cond.node->text + "')";
          }
        }
      }
    }
    if (!seen.insert({pointer, message}).second) continue;
    out->push_back(Finding{offset, pointer, keyword, message});
  }
  im.CheckFieldNames(doc, out);
}

}  // namespace specd
