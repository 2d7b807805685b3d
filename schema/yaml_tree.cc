#include "schema/yaml_tree.h"

#include <algorithm>

#include "schema/source_text.h"
#include "schema/yaml_builder.h"
#include "schema/yaml_source.h"

namespace specd {

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kBool:
      return "boolean";
    case NodeKind::kInt:
      return "integer";
    case NodeKind::kFloat:
      return "number";
    case NodeKind::kString:
      return "string";
    case NodeKind::kMap:
      return "mapping";
    case NodeKind::kSeq:
      return "list";
  }
  return "?";
}

std::string WithArticle(NodeKind kind) {
  std::string name = NodeKindName(kind);
  return (name[0] == 'i' ? "an " : "a ") + name;
}

const Node* Document::Field(const Node& map, std::string_view key) const {
  if (map.kind != NodeKind::kMap) return nullptr;
  const MapEntry* e = map.Find(key);
  return e ? &nodes_[e->value] : nullptr;
}

std::string Document::FieldText(const Node& map, std::string_view key) const {
  const Node* n = Field(map, key);
  return n && n->kind == NodeKind::kString ? n->text : "";
}

const MapEntry* Node::Find(std::string_view key) const {
  for (const MapEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string ShortTag(const std::string& tag) {
  if (tag.rfind(kTagPrefix, 0) == 0) return "!!" + tag.substr(kTagPrefix.size());
  return tag;
}

void TreeBuilder::OnDocumentStart(const YAML::Mark& mark) {
  if (++documents_ == 1) return;
  if (ExplicitDocumentStart(mark.pos)) {
    Fail(mark.pos, "yaml-multiple-documents",
         "a second YAML document starts here; a spec file holds exactly one");
  }
  // No "---": the root ended and something follows at the left margin.
  const Node& root = doc_->nodes_[doc_->root_];
  Fail(mark.pos, "yaml-syntax",
       root.kind == NodeKind::kSeq
           ? "expected a list item ('- ') at this indentation, got a 'key: value' pair"
           : "unexpected content after the end of the document; check the indentation");
}

void TreeBuilder::OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
  if (ExpectingKey()) {
    if (anchor != 0) AnchorKey(NodeKind::kNull, "null", mark.pos, anchor);
    AddKey("null", mark.pos);
    return;
  }
  NodeId id = NewNode(NodeKind::kNull, mark.pos);
  // yaml-cpp 0.7 drops the tag of an empty node standing alone ("!" as a
  // whole document): "!" makes it an empty string, other tags as elsewhere.
  size_t at = mark.pos;
  if (at < text_.size() && text_[at] == '!') {
    size_t end = at;
    while (end < text_.size() && text_[end] != ' ' && text_[end] != '\t' && text_[end] != '\n' &&
           text_[end] != '\r') {
      ++end;
    }
    std::string tag(text_.substr(at, end - at));
    Node& node = doc_->nodes_[id];
    if (tag == "!") {
      node.kind = NodeKind::kString;
      node.quoted = true;
    } else {
      ApplyTag(tag.rfind("!!", 0) == 0 ? std::string(kTagPrefix) + tag.substr(2) : tag, at, &node);
    }
  }
  Count(1, 0, mark.pos);
  Attach(id, anchor, 1, 0);
}

void TreeBuilder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  std::string name = AliasName(mark.pos);
  if (anchor >= anchors_.size() || !anchors_[anchor].defined) {
    Fail(mark.pos, "yaml-alias", "alias *" + name + " refers to no anchor &" + name + " defined before it");
  }
  if (anchors_[anchor].open) {
    Fail(mark.pos, "yaml-alias", "alias *" + name + " refers to a node that contains it (a cycle)");
  }
  const Anchor& a = anchors_[anchor];
  const Node& target = doc_->nodes_[a.node];
  if (ExpectingKey()) {
    if (!target.is_scalar()) {
      Fail(mark.pos, "yaml-key",
           "mapping keys must be scalars; alias *" + name + " is " + WithArticle(target.kind));
    }
    AddKey(target.text, mark.pos);
    return;
  }
  if (total_nodes_ + a.nodes > limits_.max_nodes) {
    Fail(mark.pos, "yaml-alias",
         "alias *" + name + " expands the document past " + std::to_string(limits_.max_nodes) +
             " nodes (limit --max-nodes)");
  }
  if (total_bytes_ + a.bytes > limits_.max_expanded_bytes) {
    Fail(mark.pos, "yaml-alias",
         "alias *" + name + " expands the document past " + std::to_string(limits_.max_expanded_bytes) +
             " bytes");
  }
  if (static_cast<int>(stack_.size()) + a.height > limits_.max_depth) {
    Fail(mark.pos, "limit",
         "alias *" + name + " nests the document deeper than " + std::to_string(limits_.max_depth) +
             " levels (limit --max-depth)");
  }
  Count(a.nodes, a.bytes, mark.pos);
  Attach(a.node, 0, a.nodes, a.bytes, a.height);
}

void TreeBuilder::OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                           const std::string& value) {
  if (ExpectingKey()) {
    if (tag == "?" && value == "<<") {
      throw Stop{Finding{static_cast<size_t>(mark.pos), Pointer() + "/<<", "yaml-merge-key",
                         "merge keys (<<) are not supported; write the fields out"}};
    }
    std::string key = value;
    if (tag == "!") CheckQuotedScalar(mark.pos, &key);
    if (tag == "?") CheckKeyHasColon(value, mark.pos);
    if (tag != "?" && tag != "!") key = KeyWithTag(tag, value, mark.pos);
    if (anchor != 0) AnchorKey(NodeKind::kString, key, mark.pos, anchor);
    AddKey(key, mark.pos);
    return;
  }
  NodeId id = NewNode(NodeKind::kString, mark.pos);
  Node& node = doc_->nodes_[id];
  node.text = value;
  if (tag == "!") CheckQuotedScalar(mark.pos, &node.text);
  if (tag == "?") {
    TypePlainScalar(value, &node);
  } else if (tag == "!") {
    node.quoted = true;
  } else {
    ApplyTag(tag, mark.pos, &node);
  }
  size_t bytes = node.text.size();
  Count(1, bytes, mark.pos);
  Attach(id, anchor, 1, bytes);
}

void TreeBuilder::CheckPendingKey() {
  if (pending_key_) {
    Finding f = *pending_key_;
    pending_key_.reset();
    throw Stop{f};
  }
}

std::string TreeBuilder::Pointer(size_t frames) const {
  std::string out;
  for (size_t i = 0; i < stack_.size() && i < frames; ++i) {
    const Frame& f = stack_[i];
    const Node& n = doc_->nodes_[f.id];
    if (f.is_map) {
      if (n.entries.empty()) continue;  // its key is a list or mapping: no token to name it
      if (f.expect_key) break;
      out += "/" + EscapePointerToken(n.entries.back().key);
    } else {
      out += "/" + std::to_string(n.items.size());
    }
  }
  return out;
}

// Levels of nesting, leaving out mappings that have no entry yet: their key
// is a list or mapping (refused when it ends), or yaml-cpp invented them
// around an unclosed '['. The stack stays within twice the limit.
int TreeBuilder::Depth() const {
  int depth = 0;
  for (const Frame& f : stack_) depth += !(f.is_map && doc_->nodes_[f.id].entries.empty());
  return depth;
}

NodeId TreeBuilder::NewNode(NodeKind kind, size_t offset) {
  offset =
      std::min(offset, text_.size());  // yaml-cpp may have read a final line break that yaml_load.cc added
  doc_->nodes_.emplace_back();
  doc_->nodes_.back().kind = kind;
  doc_->nodes_.back().offset = offset;
  return static_cast<NodeId>(doc_->nodes_.size() - 1);
}

void TreeBuilder::Count(size_t nodes, size_t bytes, size_t offset) {
  total_nodes_ += nodes;
  total_bytes_ += bytes;
  if (total_nodes_ > limits_.max_nodes) {
    Fail(offset, "limit",
         "the document has more than " + std::to_string(limits_.max_nodes) + " nodes (limit --max-nodes)");
  }
  if (total_bytes_ > limits_.max_expanded_bytes) {
    Fail(offset, "limit",
         "the document's scalars exceed " + std::to_string(limits_.max_expanded_bytes) + " bytes");
  }
}

void TreeBuilder::ApplyTag(const std::string& tag, size_t offset, Node* node) const {
  std::string_view t(tag);
  if (t.substr(0, kTagPrefix.size()) == kTagPrefix) {
    std::string_view name = t.substr(kTagPrefix.size());
    if (name == "str") {
      node->kind = NodeKind::kString;
      node->quoted = true;
      return;
    }
    if (name == "int" || name == "float" || name == "bool" || name == "null") {
      Node typed;
      TypePlainScalar(node->text, &typed);
      if (name == "null" && node->text.empty()) typed.kind = NodeKind::kNull;  // "key: !!null"
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
  Fail(offset, "yaml-tag", "unsupported tag '" + ShortTag(tag) + "'");
}

// A key is text: the core schema's scalar tags are checked as on a value
// ("!!int x: 1" is refused); any other tag is refused, not dropped.
std::string TreeBuilder::KeyWithTag(const std::string& tag, const std::string& value, size_t offset) const {
  std::string_view name = std::string_view(tag).substr(std::min(tag.size(), kTagPrefix.size()));
  bool core = tag.rfind(kTagPrefix, 0) == 0 &&
              (name == "str" || name == "int" || name == "float" || name == "bool" || name == "null");
  if (!core) Fail(offset, "yaml-tag", "unsupported tag on a key: '" + ShortTag(tag) + "'");
  Node typed;
  typed.text = value;
  ApplyTag(tag, offset, &typed);
  return typed.kind == NodeKind::kNull && value.empty() ? "null" : value;
}

void TreeBuilder::CheckContainerTag(const std::string& tag, NodeKind kind, size_t offset) const {
  if (tag == "?" || tag == "!") return;
  if (tag == std::string(kTagPrefix) + (kind == NodeKind::kMap ? "map" : "seq")) return;
  Fail(offset, "yaml-tag", "unsupported tag '" + ShortTag(tag) + "'");
}

// A quoted or block scalar at `offset`: yaml-cpp 0.7 takes a quote that runs
// to the end of the file as closed, a '#' glued to the closing quote or the
// block header as a comment, and drops line breaks before a closing quote.
void TreeBuilder::CheckQuotedScalar(size_t offset, std::string* value) const {
  if (offset >= text_.size()) return;
  char q = text_[offset];
  if (q == '|' || q == '>') {
    if (auto glued = GluedComment(text_, BlockHeaderEnd(text_, offset)))
      Fail(glued->offset, "yaml-syntax", glued->message);
    return;
  }
  if (q != '"' && q != '\'') return;
  size_t close = ClosingQuote(text_, offset);
  if (close == std::string_view::npos) {
    Fail(offset, "yaml-syntax", std::string("the string started here with '") + q + "' is not closed");
  }
  if (auto glued = GluedComment(text_, close + 1)) Fail(glued->offset, "yaml-syntax", glued->message);
  if (text_.substr(offset, close - offset).find('\n') == std::string_view::npos) return;
  if (std::optional<std::string> folded = MultiLineQuotedValue(text_, offset, close))
    *value = std::move(*folded);
}

void TreeBuilder::Open(NodeKind kind, size_t offset, const std::string& tag, YAML::anchor_t anchor,
                       bool flow) {
  // A list or mapping used as a key is refused when it closes, so that a
  // clearer error inside it (an unclosed '[', the depth limit) wins.
  bool is_key = ExpectingKey();
  CheckContainerTag(tag, kind, offset);
  if (Depth() >= limits_.max_depth) {
    Fail(offset, "limit",
         "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels (limit --max-depth)");
  }
  // An outermost '[' or '{': what yaml-cpp 0.7 accepts in it and YAML does not.
  bool in_flow = !stack_.empty() && stack_.back().flow;
  if (flow && !in_flow && offset < text_.size() && (text_[offset] == '[' || text_[offset] == '{')) {
    if (auto problem = CheckFlowCollection(text_, offset))
      Fail(problem->offset, "yaml-syntax", problem->message);
  }
  NodeId id = NewNode(kind, offset);
  Count(1, 0, offset);
  if (anchor != 0) {
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor] = Anchor{id, true, true, 0, 0, 0};
  }
  stack_.push_back(Frame{id, kind == NodeKind::kMap});
  stack_.back().anchor = anchor;
  stack_.back().flow = flow;
  stack_.back().is_key = is_key;
}

void TreeBuilder::Close() {
  if (stack_.back().is_key) {
    // Reported when the document ends, so that yaml-cpp's own complaint
    // (an unclosed '[' makes it invent mappings with such keys) wins.
    const Node& n = doc_->nodes_[stack_.back().id];
    if (!pending_key_) {
      pending_key_ = Finding{n.offset, Pointer(stack_.size() - 1), "yaml-key",
                             std::string("mapping keys must be scalars, not ") + WithArticle(n.kind)};
    }
    stack_.pop_back();
    stack_.back().expect_key = false;  // its value comes next, and is dropped
    stack_.back().refused_key = true;
    return;
  }
  Frame frame = std::move(stack_.back());
  stack_.pop_back();
  if (frame.anchor != 0) {
    anchors_[frame.anchor] = Anchor{frame.id, true, false, frame.nodes, frame.bytes, frame.height};
  }
  if (stack_.empty()) {
    doc_->root_ = frame.id;
    return;
  }
  AttachToParent(frame.id, frame.nodes, frame.bytes, frame.height);
}

// Links a finished node (new, or shared through an alias) into its parent.
void TreeBuilder::Attach(NodeId id, YAML::anchor_t anchor, size_t nodes, size_t bytes, int height) {
  if (anchor != 0) {
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor] = Anchor{id, true, false, nodes, bytes, height};
  }
  if (stack_.empty()) {
    doc_->root_ = id;
    return;
  }
  AttachToParent(id, nodes, bytes, height);
}

void TreeBuilder::AttachToParent(NodeId id, size_t nodes, size_t bytes, int height) {
  Frame& parent = stack_.back();
  parent.nodes += nodes;
  parent.bytes += bytes;
  parent.height = std::max(parent.height, height + 1);
  Node& p = doc_->nodes_[parent.id];
  if (parent.is_map) {
    parent.expect_key = true;
    if (parent.refused_key) {  // the value of a list or mapping key: no entry to go in
      parent.refused_key = false;
      return;
    }
    p.entries.back().value = id;
  } else {
    p.items.push_back(id);
  }
}

// "&a key: ..." anchors the key: a scalar node of its own that an alias
// may name later.
void TreeBuilder::AnchorKey(NodeKind kind, const std::string& text, size_t offset, YAML::anchor_t anchor) {
  NodeId id = NewNode(kind, offset);
  doc_->nodes_[id].text = text;
  if (kind == NodeKind::kString) TypePlainScalar(text, &doc_->nodes_[id]);
  if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
  anchors_[anchor] = Anchor{id, true, false, 1, text.size(), 0};
}

void TreeBuilder::AddKey(const std::string& key, size_t offset) {
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
    LineColumn at = LineColumnOf(text_, map.Find(key)->key_offset);
    throw Stop{Finding{offset, Pointer() + "/" + EscapePointerToken(key), "yaml-duplicate-key",
                       "duplicate key '" + key + "' (first defined at line " + std::to_string(at.line) +
                           ", column " + std::to_string(at.column) + ")"}};
  }
  map.entries.push_back(MapEntry{key, std::min(offset, text_.size()), 0});
  frame.expect_key = false;
  Count(1, key.size(), offset);
  frame.nodes += 1;
  frame.bytes += key.size();
}

std::string TreeBuilder::AliasName(size_t offset) const {
  size_t i = offset < text_.size() && text_[offset] == '*' ? offset + 1 : offset;
  size_t end = i;
  while (end < text_.size() && end - i < 128) {
    char c = text_[end];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '[' || c == ']' || c == '{' ||
        c == '}') {
      break;
    }
    ++end;
  }
  return std::string(text_.substr(i, end - i));
}

// Whether "---" opens the document whose first token is at `offset`: on
// its line, or on the nearest line above with anything but a comment.
bool TreeBuilder::ExplicitDocumentStart(size_t offset) const {
  size_t line = LineStartOf(text_, offset);
  while (true) {
    if (text_.substr(line, 3) == "---") return true;
    if (line == 0) return false;
    size_t prev = LineStartOf(text_, line - 1);
    std::string_view l = text_.substr(prev, line - 1 - prev);
    size_t first = l.find_first_not_of(" \r");
    // "---" above, or "..." (the end of the document before: 'bare' documents)
    if (first != std::string_view::npos && l[first] != '#')
      return l.substr(0, 3) == "---" || l.substr(0, 3) == "...";
    line = prev;
  }
}

// yaml-cpp 0.7 takes a bare word on the last line of a block mapping as a
// key with a null value (yaml-cpp issue #819). A block key needs its ':'.
void TreeBuilder::CheckKeyHasColon(const std::string& key, size_t offset) const {
  if (stack_.back().flow || offset + key.size() > text_.size()) return;
  if (text_.substr(offset, key.size()) != key) return;  // folded or escaped: not a simple key
  size_t before = offset;
  while (before > 0 && text_[before - 1] == ' ') --before;
  if (before > 0 && text_[before - 1] == '?') return;  // an explicit key may stand alone
  size_t p = offset + key.size();
  while (p < text_.size() && text_[p] == ' ') ++p;
  if (p < text_.size() && text_[p] == ':') return;
  throw Stop{
      Finding{offset, Pointer(), "yaml-syntax", "'" + key + "' has no ':'; expected a 'key: value' pair"}};
}

}  // namespace specd
