// Structural equality of two loaded documents, offsets included: how the
// tests and the fuzzer hold the fast YAML path equal to yaml-cpp's.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "schema/yaml_json.h"
#include "schema/yaml_tree.h"

namespace specd::testing {

// "" when equal, else where they first differ. Node ids are compared too:
// both loaders number nodes in the order they meet them, so equal ids mean
// the same nodes are shared (an alias is its anchor's node).
inline std::string TreeDifference(const Document& a, NodeId ia, const Document& b, NodeId ib,
                                  const std::string& path = "") {
  const Node& x = a.node(ia);
  const Node& y = b.node(ib);
  auto at = [&](const std::string& what) { return (path.empty() ? "/" : path) + ": " + what; };
  if (ia != ib) return at("node id " + std::to_string(ia) + " vs " + std::to_string(ib));
  if (x.kind != y.kind) {
    return at(std::string("kind ") + NodeKindName(x.kind) + " vs " + NodeKindName(y.kind));
  }
  if (x.offset != y.offset)
    return at("offset " + std::to_string(x.offset) + " vs " + std::to_string(y.offset));
  if (x.is_scalar()) {
    if (x.text != y.text && x.kind != NodeKind::kNull) return at("text '" + x.text + "' vs '" + y.text + "'");
    if (x.quoted != y.quoted) return at("quoted differs");
    if (x.integer != y.integer || x.boolean != y.boolean) return at("value differs");
    return "";
  }
  if (x.items.size() != y.items.size()) return at("item count differs");
  for (size_t i = 0; i < x.items.size(); ++i) {
    std::string d = TreeDifference(a, x.items[i], b, y.items[i], path + "/" + std::to_string(i));
    if (!d.empty()) return d;
  }
  if (x.entries.size() != y.entries.size()) return at("entry count differs");
  for (size_t i = 0; i < x.entries.size(); ++i) {
    const MapEntry& ex = x.entries[i];
    const MapEntry& ey = y.entries[i];
    if (ex.key != ey.key) return at("key '" + ex.key + "' vs '" + ey.key + "'");
    if (ex.key_offset != ey.key_offset) return at("key offset of '" + ex.key + "'");
    std::string d = TreeDifference(a, ex.value, b, ey.value, path + "/" + ex.key);
    if (!d.empty()) return d;
  }
  return "";
}

inline std::string TreeDifference(const Document& a, const Document& b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? "" : "one document is empty";
  if (a.size() != b.size())
    return "node count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  return TreeDifference(a, a.root_id(), b, b.root_id());
}

// Loads `text` both ways. "" when the fast path declines or agrees with
// yaml-cpp; otherwise what went wrong.
inline std::string FastPathDisagreement(std::string_view text, const LoadLimits& limits = {}) {
  Document fast, ref;
  Finding problem;
  if (!LoadYamlFast(text, limits, &fast)) return "";
  if (!LoadYamlReference(text, limits, &ref, &problem)) {
    return "fast path accepted what yaml-cpp rejects: " + problem.message;
  }
  return TreeDifference(fast, ref);
}

// The loaded value at `id` as JSON (what the schema check sees), keys in
// source order.
inline nlohmann::ordered_json ToJson(const Document& doc, NodeId id) {
  return DocumentToJson<nlohmann::ordered_json>(doc, doc.node(id));
}

// The whole document as compact JSON text, or the loader's problem as
// "error at OFFSET: MESSAGE". `fast_path` as in LoadYaml.
inline std::string LoadedJson(std::string_view text, bool fast_path = false) {
  Document doc;
  Finding problem;
  if (!LoadYaml(text, LoadLimits{}, &doc, &problem, fast_path)) {
    return "error at " + std::to_string(problem.offset) + ": " + problem.message;
  }
  return ToJson(doc, doc.root_id()).dump();
}

}  // namespace specd::testing
