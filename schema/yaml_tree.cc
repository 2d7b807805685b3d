#include "schema/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <limits>
#include <memory>
#include <streambuf>
#include <unordered_set>

#include "schema/diagnostic.h"

namespace specd {

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kNull: return "null";
    case NodeKind::kBool: return "boolean";
    case NodeKind::kInt: return "integer";
    case NodeKind::kFloat: return "number";
    case NodeKind::kString: return "string";
    case NodeKind::kMap: return "mapping";
    case NodeKind::kSeq: return "list";
  }
  return "?";
}

const MapEntry* Node::Find(std::string_view key) const {
  for (const MapEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

namespace {

bool IsDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
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

}  // namespace

void TypePlainScalar(const std::string& v, Node* node) {
  node->kind = NodeKind::kString;
  if (v.empty()) return;
  if (v == "true" || v == "True" || v == "TRUE") {
    node->kind = NodeKind::kBool;
    node->boolean = true;
    return;
  }
  if (v == "false" || v == "False" || v == "FALSE") {
    node->kind = NodeKind::kBool;
    node->boolean = false;
    return;
  }
  if (v == "null" || v == "Null" || v == "NULL" || v == "~") {
    node->kind = NodeKind::kNull;
    return;
  }
  std::string_view s(v);
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

namespace {

// A read-only streambuf over memory: yaml-cpp wants an istream, and copying
// each file into an istringstream costs a copy for nothing.
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());
    setg(p, p, p + text.size());
  }
};

struct Stop {
  Finding problem;
};

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

}  // namespace

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::string_view text, const LoadLimits& limits, Document* doc)
      : text_(text), limits_(limits), doc_(doc) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      Fail(mark.pos, "yaml-multiple-documents",
           "a second YAML document starts here; a spec file holds exactly one");
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) {
      AddKey("null", mark.pos);
      return;
    }
    NodeId id = NewNode(NodeKind::kNull, mark.pos);
    Count(1, 0, mark.pos);
    Attach(id, anchor, 1, 0);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    std::string name = AliasName(mark.pos);
    if (anchor >= anchors_.size() || anchors_[anchor].open) {
      Fail(mark.pos, "yaml-alias",
           "alias *" + name + " refers to a node that contains it (a cycle)");
    }
    const Anchor& a = anchors_[anchor];
    const Node& target = doc_->nodes_[a.node];
    if (ExpectingKey()) {
      if (!target.is_scalar()) {
        Fail(mark.pos, "yaml-key", "mapping keys must be scalars; alias *" + name +
                                       " is a " + NodeKindName(target.kind));
      }
      AddKey(target.text, mark.pos);
      return;
    }
    if (total_nodes_ + a.nodes > limits_.max_nodes) {
      Fail(mark.pos, "yaml-alias",
           "alias *" + name + " expands the document past " +
               std::to_string(limits_.max_nodes) + " nodes (limit --max-nodes)");
    }
    if (total_bytes_ + a.bytes > limits_.max_expanded_bytes) {
      Fail(mark.pos, "yaml-alias",
           "alias *" + name + " expands the document past " +
               std::to_string(limits_.max_expanded_bytes) + " bytes");
    }
    if (static_cast<int>(stack_.size()) + a.height > limits_.max_depth) {
      Fail(mark.pos, "limit", "alias *" + name + " nests the document deeper than " +
                                  std::to_string(limits_.max_depth) + " levels (limit --max-depth)");
    }
    Count(a.nodes, a.bytes, mark.pos);
    Attach(a.node, 0, a.nodes, a.bytes, a.height);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (ExpectingKey()) {
      if (tag == "?" && value == "<<") {
        Fail(mark.pos, "yaml-merge-key", "merge keys (<<) are not supported; write the fields out");
      }
      AddKey(value, mark.pos);
      return;
    }
    NodeId id = NewNode(NodeKind::kString, mark.pos);
    Node& node = doc_->nodes_[id];
    node.text = value;
    if (tag == "?") {
      TypePlainScalar(value, &node);
    } else if (tag == "!") {
      node.quoted = true;
    } else {
      ApplyTag(tag, mark.pos, &node);
    }
    Count(1, value.size(), mark.pos);
    Attach(id, anchor, 1, value.size());
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(NodeKind::kSeq, mark.pos, tag, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(NodeKind::kMap, mark.pos, tag, anchor);
  }
  void OnMapEnd() override { Close(); }

  int documents() const { return documents_; }

  [[noreturn]] void Fail(size_t offset, std::string keyword, std::string message) {
    throw Stop{Finding{offset, Pointer(), std::move(keyword), std::move(message)}};
  }

  // The JSON pointer of the node being read.
  std::string Pointer() const {
    std::string out;
    for (const Frame& f : stack_) {
      const Node& n = doc_->nodes_[f.id];
      if (f.is_map) {
        if (n.entries.empty() || f.expect_key) break;
        out += "/" + EscapePointerToken(n.entries.back().key);
      } else {
        out += "/" + std::to_string(n.items.size());
      }
    }
    return out;
  }

 private:
  struct Frame {
    NodeId id;
    bool is_map;
    bool expect_key = true;  // maps only
    size_t nodes = 1;        // expanded size of this subtree so far
    size_t bytes = 0;
    int height = 1;          // levels of nesting, this one included
    YAML::anchor_t anchor = 0;
    std::unique_ptr<std::unordered_set<std::string>> keys;  // large maps only
  };
  struct Anchor {
    NodeId node = 0;
    bool open = false;
    size_t nodes = 0;
    size_t bytes = 0;
    int height = 0;
  };

  bool ExpectingKey() const { return !stack_.empty() && stack_.back().is_map && stack_.back().expect_key; }

  NodeId NewNode(NodeKind kind, size_t offset) {
    doc_->nodes_.emplace_back();
    doc_->nodes_.back().kind = kind;
    doc_->nodes_.back().offset = offset;
    return static_cast<NodeId>(doc_->nodes_.size() - 1);
  }

  void Count(size_t nodes, size_t bytes, size_t offset) {
    total_nodes_ += nodes;
    total_bytes_ += bytes;
    if (total_nodes_ > limits_.max_nodes) {
      Fail(offset, "limit", "the document has more than " + std::to_string(limits_.max_nodes) +
                                " nodes (limit --max-nodes)");
    }
    if (total_bytes_ > limits_.max_expanded_bytes) {
      Fail(offset, "limit", "the document's scalars exceed " +
                                std::to_string(limits_.max_expanded_bytes) + " bytes");
    }
  }

  void ApplyTag(const std::string& tag, size_t offset, Node* node) {
    std::string_view t(tag);
    if (t.substr(0, kTagPrefix.size()) == kTagPrefix) {
      std::string_view name = t.substr(kTagPrefix.size());
      if (name == "str") {
        node->quoted = true;
        return;
      }
      if (name == "int" || name == "float" || name == "bool" || name == "null") {
        Node typed;
        TypePlainScalar(node->text, &typed);
        bool ok = (name == "int" && typed.kind == NodeKind::kInt) ||
                  (name == "float" && (typed.kind == NodeKind::kFloat || typed.kind == NodeKind::kInt)) ||
                  (name == "bool" && typed.kind == NodeKind::kBool) ||
                  (name == "null" && typed.kind == NodeKind::kNull);
        if (!ok) Fail(offset, "yaml-tag", "'" + node->text + "' is not a valid !!" + std::string(name));
        node->kind = typed.kind;
        node->integer = typed.integer;
        node->number = name == "float" && typed.kind == NodeKind::kInt ? double(typed.integer) : typed.number;
        if (name == "float") node->kind = NodeKind::kFloat;
        node->boolean = typed.boolean;
        return;
      }
    }
    Fail(offset, "yaml-tag", "unsupported tag '" + tag + "'");
  }

  void CheckContainerTag(const std::string& tag, NodeKind kind, size_t offset) {
    if (tag == "?" || tag == "!") return;
    if (tag == std::string(kTagPrefix) + (kind == NodeKind::kMap ? "map" : "seq")) return;
    Fail(offset, "yaml-tag", "unsupported tag '" + tag + "'");
  }

  void Open(NodeKind kind, size_t offset, const std::string& tag, YAML::anchor_t anchor) {
    if (ExpectingKey()) {
      Fail(offset, "yaml-key", std::string("mapping keys must be scalars, not a ") + NodeKindName(kind));
    }
    CheckContainerTag(tag, kind, offset);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      Fail(offset, "limit", "nesting is deeper than " + std::to_string(limits_.max_depth) +
                                " levels (limit --max-depth)");
    }
    NodeId id = NewNode(kind, offset);
    Count(1, 0, offset);
    if (anchor != 0) {
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      anchors_[anchor] = Anchor{id, true, 0, 0, 0};
    }
    stack_.push_back(Frame{id, kind == NodeKind::kMap});
    stack_.back().anchor = anchor;
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.anchor != 0) {
      anchors_[frame.anchor] = Anchor{frame.id, false, frame.nodes, frame.bytes, frame.height};
    }
    if (stack_.empty()) {
      doc_->root_ = frame.id;
      return;
    }
    AttachToParent(frame.id, frame.nodes, frame.bytes, frame.height);
  }

  // Links a finished node (new, or shared through an alias) into its parent.
  void Attach(NodeId id, YAML::anchor_t anchor, size_t nodes, size_t bytes, int height = 0) {
    if (anchor != 0) {
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      anchors_[anchor] = Anchor{id, false, nodes, bytes, height};
    }
    if (stack_.empty()) {
      doc_->root_ = id;
      return;
    }
    AttachToParent(id, nodes, bytes, height);
  }

  void AttachToParent(NodeId id, size_t nodes, size_t bytes, int height) {
    Frame& parent = stack_.back();
    parent.nodes += nodes;
    parent.bytes += bytes;
    parent.height = std::max(parent.height, height + 1);
    Node& p = doc_->nodes_[parent.id];
    if (parent.is_map) {
      p.entries.back().value = id;
      parent.expect_key = true;
    } else {
      p.items.push_back(id);
    }
  }

  void AddKey(const std::string& key, size_t offset) {
    Frame& frame = stack_.back();
    Node& map = doc_->nodes_[frame.id];
    constexpr size_t kLinearScan = 16;
    bool duplicate = false;
    if (frame.keys) {
      duplicate = !frame.keys->insert(key).second;
    } else {
      for (const MapEntry& e : map.entries) duplicate = duplicate || e.key == key;
      if (!duplicate && map.entries.size() >= kLinearScan) {
        frame.keys = std::make_unique<std::unordered_set<std::string>>();
        for (const MapEntry& e : map.entries) frame.keys->insert(e.key);
        frame.keys->insert(key);
      }
    }
    if (duplicate) {
      const MapEntry* first = map.Find(key);
      throw Stop{Finding{offset, Pointer() + "/" + EscapePointerToken(key), "yaml-duplicate-key",
                             "duplicate key '" + key + "' (first defined at line " +
                                 std::to_string(LineOf(first->key_offset)) + ")"}};
    }
    map.entries.push_back(MapEntry{key, offset, 0});
    frame.expect_key = false;
    Count(1, key.size(), offset);
    frame.nodes += 1;
    frame.bytes += key.size();
  }

  std::string AliasName(size_t offset) const {
    size_t i = offset < text_.size() && text_[offset] == '*' ? offset + 1 : offset;
    size_t end = i;
    while (end < text_.size() && end - i < 128) {
      char c = text_[end];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '[' || c == ']' ||
          c == '{' || c == '}') {
        break;
      }
      ++end;
    }
    return std::string(text_.substr(i, end - i));
  }

  int LineOf(size_t offset) const {
    int line = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) line += text_[i] == '\n';
    return line;
  }

  std::string_view text_;
  const LoadLimits& limits_;
  Document* doc_;
  std::vector<Frame> stack_;
  std::vector<Anchor> anchors_;
  size_t total_nodes_ = 0;
  size_t total_bytes_ = 0;
  int documents_ = 0;
};

bool LoadYaml(std::string_view text, const LoadLimits& limits, Document* doc,
              Finding* problem) {
  *doc = Document();
  MemoryBuf buf(text);
  std::istream in(&buf);
  TreeBuilder builder(text, limits, doc);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) {
      *problem = Finding{0, "", "yaml-empty", "the file holds no YAML document"};
      return false;
    }
    if (parser.HandleNextDocument(builder) && builder.documents() < 2) {
      // An explicit empty second document ("---" alone) emits no start event.
      *problem = Finding{text.size(), "", "yaml-multiple-documents",
                             "a second YAML document follows; a spec file holds exactly one"};
      return false;
    }
  } catch (const Stop& stop) {
    *problem = stop.problem;
    return false;
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg;
    *problem = Finding{static_cast<size_t>(std::max(0, e.mark.pos)), builder.Pointer(), "yaml-syntax",
                           msg.empty() ? "invalid YAML" : msg};
    return false;
  }
  if (doc->empty()) {
    *problem = Finding{0, "", "yaml-empty", "the file holds no YAML document"};
    return false;
  }
  return true;
}

}  // namespace specd
