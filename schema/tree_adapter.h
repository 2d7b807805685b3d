// A valijson adapter over the typed tree (yaml_tree.h): valijson reads the
// loaded document where it is, with no JSON copy of it. It reads as the
// nlohmann::json copy used to: an integer is an integer, a float a double, a
// quoted scalar a string, and a mapping's members come in key order (the
// copy's std::map order), so valijson reports the same failures in the same
// order. Internal to schema/ (spec_schema.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/internal/adapter.hpp>
#include <valijson/internal/basic_adapter.hpp>
#include <valijson/internal/frozen_value.hpp>
#include <vector>

#include "schema/yaml_json.h"
#include "schema/yaml_tree.h"

namespace specd {

// The document and, for each mapping, its entries' indices in key order.
class TreeContext {
 public:
  explicit TreeContext(const Document& doc) : doc_(doc), sorted_(doc.size()) {
    for (NodeId id = 0; id < doc.size(); ++id) {
      const Node& n = doc.node(id);
      if (n.kind != NodeKind::kMap) continue;
      std::vector<uint32_t>& order = sorted_[id];
      order.resize(n.entries.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&n](uint32_t a, uint32_t b) { return n.entries[a].key < n.entries[b].key; });
    }
  }
  const Document& doc() const { return doc_; }
  const std::vector<uint32_t>& order(NodeId map) const { return sorted_[map]; }

 private:
  const Document& doc_;
  std::vector<std::vector<uint32_t>> sorted_;
};

}  // namespace specd

namespace valijson {
namespace adapters {

class TreeAdapter;
class TreeArrayIterator;
class TreeObjectIterator;
using TreeObjectMember = std::pair<std::string, TreeAdapter>;

// One node of the tree; a default one is an empty mapping (valijson's
// adapters default to an empty object).
struct TreeRef {
  const specd::TreeContext* ctx = nullptr;
  specd::NodeId id = 0;

  const specd::Node& node() const {
    static const specd::Node kEmpty = [] {
      specd::Node n;
      n.kind = specd::NodeKind::kMap;
      return n;
    }();
    return ctx ? ctx->doc().node(id) : kEmpty;
  }
  specd::NodeKind kind() const { return node().kind; }
};

class TreeArray {
 public:
  using const_iterator = TreeArrayIterator;
  using iterator = TreeArrayIterator;
  TreeArray() = default;
  explicit TreeArray(TreeRef ref) : ref_(ref) {}
  TreeArrayIterator begin() const;
  TreeArrayIterator end() const;
  size_t size() const { return ref_.ctx ? ref_.node().items.size() : 0; }

 private:
  TreeRef ref_;
};

class TreeObject {
 public:
  using const_iterator = TreeObjectIterator;
  using iterator = TreeObjectIterator;
  TreeObject() = default;
  explicit TreeObject(TreeRef ref) : ref_(ref) {}
  TreeObjectIterator begin() const;
  TreeObjectIterator end() const;
  TreeObjectIterator find(const std::string& name) const;
  size_t size() const { return ref_.ctx ? ref_.node().entries.size() : 0; }

 private:
  TreeRef ref_;
};

class TreeFrozenValue : public FrozenValue {
 public:
  explicit TreeFrozenValue(nlohmann::json value) : value_(std::move(value)) {}
  FrozenValue* clone() const override { return new TreeFrozenValue(value_); }
  bool equalTo(const Adapter& other, bool strict) const override {
    return NlohmannJsonAdapter(value_).equalTo(other, strict);
  }

 private:
  nlohmann::json value_;
};

class TreeValue {
 public:
  TreeValue() = default;
  explicit TreeValue(TreeRef ref) : ref_(ref) {}

  FrozenValue* freeze() const {
    nlohmann::json copy = ref_.ctx ? specd::DocumentToJson<nlohmann::json>(ref_.ctx->doc(), ref_.node())
                                   : nlohmann::json::object();
    return new TreeFrozenValue(std::move(copy));
  }
  opt::optional<TreeArray> getArrayOptional() const {
    if (isArray()) return opt::make_optional(TreeArray(ref_));
    return {};
  }
  bool getArraySize(size_t& result) const {
    if (!isArray()) return false;
    result = ref_.node().items.size();
    return true;
  }
  bool getBool(bool& result) const {
    if (!isBool()) return false;
    result = ref_.node().boolean;
    return true;
  }
  bool getDouble(double& result) const {
    if (!isDouble()) return false;
    result = ref_.node().number;
    return true;
  }
  bool getInteger(int64_t& result) const {
    if (!isInteger()) return false;
    result = ref_.node().integer;
    return true;
  }
  opt::optional<TreeObject> getObjectOptional() const {
    if (isObject()) return opt::make_optional(TreeObject(ref_));
    return {};
  }
  bool getObjectSize(size_t& result) const {
    if (!isObject()) return false;
    result = ref_.ctx ? ref_.node().entries.size() : 0;
    return true;
  }
  bool getString(std::string& result) const {
    if (!isString()) return false;
    result = ref_.node().text;
    return true;
  }
  static bool hasStrictTypes() { return true; }
  bool isArray() const { return ref_.kind() == specd::NodeKind::kSeq; }
  bool isBool() const { return ref_.kind() == specd::NodeKind::kBool; }
  bool isDouble() const { return ref_.kind() == specd::NodeKind::kFloat; }
  bool isInteger() const { return ref_.kind() == specd::NodeKind::kInt; }
  bool isNull() const { return ref_.kind() == specd::NodeKind::kNull; }
  bool isNumber() const { return isInteger() || isDouble(); }
  bool isObject() const { return ref_.kind() == specd::NodeKind::kMap; }
  bool isString() const { return ref_.kind() == specd::NodeKind::kString; }

 private:
  TreeRef ref_;
};

class TreeAdapter : public BasicAdapter<TreeAdapter, TreeArray, TreeObjectMember, TreeObject, TreeValue> {
 public:
  TreeAdapter() = default;
  explicit TreeAdapter(TreeRef ref) : BasicAdapter(TreeValue(ref)) {}
};

class TreeArrayIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = TreeAdapter;
  using difference_type = TreeAdapter;
  using pointer = TreeAdapter*;
  using reference = TreeAdapter&;

  TreeArrayIterator(TreeRef seq, size_t index) : seq_(seq), index_(index) {}
  TreeAdapter operator*() const { return TreeAdapter(TreeRef{seq_.ctx, seq_.node().items[index_]}); }
  DerefProxy<TreeAdapter> operator->() const { return DerefProxy<TreeAdapter>(**this); }
  bool operator==(const TreeArrayIterator& other) const { return index_ == other.index_; }
  bool operator!=(const TreeArrayIterator& other) const { return index_ != other.index_; }
  const TreeArrayIterator& operator++() {
    ++index_;
    return *this;
  }
  TreeArrayIterator operator++(int) {
    TreeArrayIterator before = *this;
    ++index_;
    return before;
  }
  const TreeArrayIterator& operator--() {
    --index_;
    return *this;
  }
  void advance(std::ptrdiff_t n) { index_ += n; }

 private:
  TreeRef seq_;
  size_t index_;
};

// Walks a mapping's entries in key order.
class TreeObjectIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = TreeObjectMember;
  using difference_type = TreeObjectMember;
  using pointer = TreeObjectMember*;
  using reference = TreeObjectMember&;

  TreeObjectIterator(TreeRef map, size_t position) : map_(map), position_(position) {}
  TreeObjectMember operator*() const {
    const specd::MapEntry& e = map_.node().entries[map_.ctx->order(map_.id)[position_]];
    return TreeObjectMember(e.key, TreeAdapter(TreeRef{map_.ctx, e.value}));
  }
  DerefProxy<TreeObjectMember> operator->() const { return DerefProxy<TreeObjectMember>(**this); }
  bool operator==(const TreeObjectIterator& other) const { return position_ == other.position_; }
  bool operator!=(const TreeObjectIterator& other) const { return position_ != other.position_; }
  const TreeObjectIterator& operator++() {
    ++position_;
    return *this;
  }
  TreeObjectIterator operator++(int) {
    TreeObjectIterator before = *this;
    ++position_;
    return before;
  }

 private:
  TreeRef map_;
  size_t position_;
};

inline TreeArrayIterator TreeArray::begin() const {
  return TreeArrayIterator(ref_, 0);
}
inline TreeArrayIterator TreeArray::end() const {
  return TreeArrayIterator(ref_, size());
}
inline TreeObjectIterator TreeObject::begin() const {
  return TreeObjectIterator(ref_, 0);
}
inline TreeObjectIterator TreeObject::end() const {
  return TreeObjectIterator(ref_, size());
}
inline TreeObjectIterator TreeObject::find(const std::string& name) const {
  if (!ref_.ctx) return end();
  const std::vector<uint32_t>& order = ref_.ctx->order(ref_.id);
  const std::vector<specd::MapEntry>& entries = ref_.node().entries;
  auto it = std::lower_bound(order.begin(), order.end(), name,
                             [&entries](uint32_t i, const std::string& k) { return entries[i].key < k; });
  if (it == order.end() || entries[*it].key != name) return end();
  return TreeObjectIterator(ref_, static_cast<size_t>(it - order.begin()));
}

template <>
struct AdapterTraits<TreeAdapter> {
  using DocumentType = specd::Document;
  static std::string adapterName() { return "TreeAdapter"; }
};

}  // namespace adapters
}  // namespace valijson
