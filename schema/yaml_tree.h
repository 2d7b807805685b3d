// A YAML document as a typed tree (YAML 1.2 core schema), built from
// yaml-cpp's event stream with the rules of SPEC_FORMAT.md enforced: one
// document, unique keys, bounded aliases, no self-referencing alias, no merge
// keys, bounded depth and size. Every node keeps the byte offset it starts at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"

namespace specd {

enum class NodeKind : uint8_t { kNull, kBool, kInt, kFloat, kString, kMap, kSeq };

const char* NodeKindName(NodeKind kind);  // "null", "boolean", "integer", ...
std::string WithArticle(NodeKind kind);   // "a list", "an integer", ...

using NodeId = uint32_t;

struct MapEntry {
  std::string key;
  size_t key_offset = 0;
  NodeId value = 0;
};

struct Node {
  NodeKind kind = NodeKind::kNull;
  bool quoted = false;  // a quoted or block scalar: always a string
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  size_t offset = 0;              // byte offset of the node in the source
  std::string text;               // scalar value as written, after unescaping
  std::vector<NodeId> items;      // kSeq
  std::vector<MapEntry> entries;  // kMap, in source order

  bool is_scalar() const { return kind != NodeKind::kMap && kind != NodeKind::kSeq; }
  const MapEntry* Find(std::string_view key) const;
};

struct LoadLimits {
  size_t max_bytes = 1 << 20;           // file size
  int max_depth = 64;                   // nesting of mappings and sequences
  size_t max_nodes = 100'000;           // nodes after alias expansion
  size_t max_expanded_bytes = 8 << 20;  // scalar bytes after alias expansion
};

class Document {
 public:
  // The value of `key` in `map`, or null when `map` is not a mapping or has
  // no such key; FieldText is the same for a string value ("" otherwise).
  const Node* Field(const Node& map, std::string_view key) const;
  std::string FieldText(const Node& map, std::string_view key) const;

  bool empty() const { return nodes_.empty(); }
  const Node& root() const { return nodes_[root_]; }
  NodeId root_id() const { return root_; }
  const Node& node(NodeId id) const { return nodes_[id]; }
  size_t size() const { return nodes_.size(); }

 private:
  friend class TreeBuilder;
  friend class FastParser;
  std::vector<Node> nodes_;
  NodeId root_ = 0;
};

// Parses `text` (UTF-8, BOM already removed). Returns false and fills
// `problem` when the text breaks a rule; `doc` is then unspecified.
// Tries LoadYamlFast first (unless `fast_path` is false) and falls back to
// LoadYamlReference.
bool LoadYaml(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem,
              bool fast_path = true);

// yaml-cpp's parser: every YAML construct, every error with its position.
bool LoadYamlReference(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem);

// The fast path (yaml_fast.cc): true only when `doc` is exactly what
// LoadYamlReference would build. false means "not sure", never "invalid".
bool LoadYamlFast(std::string_view text, const LoadLimits& limits, Document* doc);

// YAML 1.2 core schema typing of a plain scalar into `node`.
void TypePlainScalar(const std::string& value, Node* node);

}  // namespace specd
