// The fast YAML path's parser (see yaml_fast.cc for what it takes), split
// over two files: yaml_fast.cc reads the block structure, anchors and
// aliases; yaml_fast_scalars.cc the scalars and one-line flow sequences.
// Internal to schema/.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "schema/yaml_tree.h"

namespace specd {

namespace fast_yaml {

struct Line {
  size_t start;    // first byte
  size_t content;  // first non-space byte
  size_t end;      // end of text, before "\r\n" or "\n"
  bool blank;      // only spaces, or a comment
  size_t indent() const { return content - start; }
};

struct GiveUp {};

// The bytes that may start a YAML token other than a plain scalar, as a
// table: asked of nearly every key and value. The terminating '\0' counts
// too (it did when this was a strchr), though no text holding one gets here.
inline constexpr std::array<bool, 256> kIndicators = [] {
  constexpr char kChars[] = "-?:,[]{}#&*!|>'\"%@`";
  std::array<bool, 256> table{};
  for (char c : kChars) table[static_cast<unsigned char>(c)] = true;  // with the '\0'
  return table;
}();

inline bool IsIndicator(char c) {
  return kIndicators[static_cast<unsigned char>(c)];
}

}  // namespace fast_yaml

class FastParser {
 public:
  FastParser(std::string_view text, const LoadLimits& limits, Document* doc)
      : t_(text), limits_(limits), doc_(doc) {}

  bool Parse();

 private:
  using Line = fast_yaml::Line;

  // An anchored node, counted as TreeBuilder counts it for its aliases:
  // its expanded nodes and scalar bytes, and its height.
  struct Anchor {
    std::string_view name;
    NodeId node = 0;
    bool open = true;  // still being read: an alias to it is a cycle
    size_t nodes = 0;
    size_t bytes = 0;
    int height = 0;
  };

  // A mapping entry while its mapping is read: the key stays a view of the
  // text until the mapping is done and gets its entries in one allocation.
  struct PendingEntry {
    std::string_view key;
    size_t offset;
    NodeId value;
  };

  [[noreturn]] static void Quit() { throw fast_yaml::GiveUp{}; }

  // yaml_fast.cc: lines and block structure.
  size_t PlainRun(size_t i) const;
  size_t HashOrColon(size_t i, size_t end) const;
  bool PlainByte(size_t i) const;
  void SplitLines();
  size_t NextContent(size_t li) const {
    while (li < lines_.size() && lines_[li].blank) ++li;
    return li;
  }
  bool IsDocumentStart(const Line& l) const;
  bool IsSeqEntry(size_t p, size_t end) const { return t_[p] == '-' && (p + 1 == end || t_[p + 1] == ' '); }
  size_t KeyColon(size_t p, size_t end) const;
  NodeId ParseBlockAt(size_t li);
  NodeId ParseMap(size_t indent, size_t first);
  NodeId ParseSeq(size_t indent);
  NodeId ParseValue(size_t p, const Line& line, size_t indent, bool in_map);
  NodeId Value(size_t p, const Line& line, size_t indent, bool in_map, bool anchored);
  void EndValue(size_t indent);
  NodeId Anchored(size_t p, const Line& line, size_t indent, bool in_map);
  NodeId Alias(size_t p, size_t end, size_t* after);
  size_t AnchorName(size_t p, size_t end) const;

  // yaml_fast_scalars.cc.
  std::string_view Quoted(size_t p, size_t end, size_t* after);
  void Trailing(size_t p, size_t end) const;
  NodeId Plain(size_t p, size_t end);
  NodeId FlowSeq(size_t p, size_t end);
  NodeId BlockScalar(size_t p, const Line& line, size_t indent);

  // ---- nodes and budgets, counted as the yaml-cpp path counts them ----

  NodeId NewNode(NodeKind kind, size_t offset) {
    if (++nodes_ > limits_.max_nodes) Quit();
    doc_->nodes_.emplace_back();
    doc_->nodes_.back().kind = kind;
    doc_->nodes_.back().offset = offset;
    return static_cast<NodeId>(doc_->nodes_.size() - 1);
  }

  void CountBytes(size_t n) {
    bytes_ += n;
    if (bytes_ > limits_.max_expanded_bytes) Quit();
  }

  NodeId Scalar(std::string_view text, size_t offset, bool quoted) {
    NodeId id = NewNode(NodeKind::kString, offset);
    Node& n = doc_->nodes_[id];
    n.text.assign(text);
    if (quoted) {
      n.quoted = true;
    } else {
      TypePlainScalar(n.text, &n);
    }
    // yaml-cpp sends a plain null as a null event: no text, no bytes.
    if (n.kind == NodeKind::kNull) n.text.clear();
    CountBytes(n.text.size());
    return id;
  }

  // A sequence's items, from items_[base] up, into its own vector.
  NodeId TakeItems(NodeId seq, size_t base) {
    doc_->nodes_[seq].items.assign(items_.begin() + static_cast<std::ptrdiff_t>(base), items_.end());
    items_.resize(base);
    return seq;
  }

  // A level of nesting: refused past the limit, and remembered in reach_
  // (the deepest level reached, for the height of an anchored node).
  struct Depth {
    explicit Depth(FastParser* p) : p_(p) {
      if (++p_->depth_ > p_->limits_.max_depth) Quit();
      p_->reach_ = std::max(p_->reach_, p_->depth_);
    }
    ~Depth() { --p_->depth_; }
    FastParser* p_;
  };

  std::string_view t_;
  const LoadLimits& limits_;
  Document* doc_;
  std::vector<Line> lines_;
  std::vector<Anchor> anchors_;  // in the order they were opened
  // The entries and items of the mappings and sequences being read, nested
  // ones above their parents': each node gets its own vector, sized once,
  // when it is done.
  std::vector<PendingEntry> entries_;
  std::vector<NodeId> items_;
  std::string unquoted_;  // a single-quoted scalar with '' in it, unescaped
  size_t li_ = 0;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  int depth_ = 0;
  int reach_ = 0;
};

}  // namespace specd
