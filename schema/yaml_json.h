// A loaded document as JSON: what the schema check validates (with
// nlohmann::json) and what the tests compare (with nlohmann::ordered_json,
// keys in source order).
#pragma once

#include "schema/yaml_tree.h"

namespace specd {

template <typename Json>
Json DocumentToJson(const Document& doc, const Node& n) {
  switch (n.kind) {
    case NodeKind::kNull:
      return nullptr;
    case NodeKind::kBool:
      return n.boolean;
    case NodeKind::kInt:
      return n.integer;
    case NodeKind::kFloat:
      return n.number;
    case NodeKind::kString:
      return n.text;
    case NodeKind::kSeq: {
      Json a = Json::array();
      for (NodeId id : n.items) a.push_back(DocumentToJson<Json>(doc, doc.node(id)));
      return a;
    }
    case NodeKind::kMap: {
      Json o = Json::object();
      for (const MapEntry& e : n.entries) o[e.key] = DocumentToJson<Json>(doc, doc.node(e.value));
      return o;
    }
  }
  return nullptr;
}

}  // namespace specd
