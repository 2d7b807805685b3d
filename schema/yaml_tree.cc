#include "schema/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <optional>
#include <streambuf>
#include <unordered_set>

#include "schema/diagnostic.h"

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
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) {
      if (anchor != 0) AnchorKey(NodeKind::kNull, "null", mark.pos, anchor);
      AddKey("null", mark.pos);
      return;
    }
    NodeId id = NewNode(NodeKind::kNull, mark.pos);
    Count(1, 0, mark.pos);
    Attach(id, anchor, 1, 0);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
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

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (ExpectingKey()) {
      if (tag == "?" && value == "<<") {
        throw Stop{Finding{static_cast<size_t>(mark.pos), Pointer() + "/<<", "yaml-merge-key",
                           "merge keys (<<) are not supported; write the fields out"}};
      }
      if (tag == "!") CheckQuoteClosed(mark.pos);
      if (tag == "?") CheckKeyHasColon(value, mark.pos);
      if (anchor != 0) AnchorKey(NodeKind::kString, value, mark.pos, anchor);
      AddKey(value, mark.pos);
      return;
    }
    if (tag == "!") CheckQuoteClosed(mark.pos);
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
                       YAML::EmitterStyle::value style) override {
    Open(NodeKind::kSeq, mark.pos, tag, anchor, style == YAML::EmitterStyle::Flow);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    Open(NodeKind::kMap, mark.pos, tag, anchor, style == YAML::EmitterStyle::Flow);
  }
  void OnMapEnd() override { Close(); }

  int documents() const { return documents_; }

  // A list or mapping used as a key, found at its end, is refused here.
  void CheckPendingKey() {
    if (pending_key_) {
      Finding f = *pending_key_;
      pending_key_.reset();
      throw Stop{f};
    }
  }

  [[noreturn]] void Fail(size_t offset, std::string keyword, std::string message) {
    throw Stop{Finding{offset, Pointer(), std::move(keyword), std::move(message)}};
  }

  // The JSON pointer of the node being read.
  std::string Pointer(size_t frames = SIZE_MAX) const {
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

  // yaml-cpp's syntax errors, reworded to say what was expected and placed
  // where the mistake is rather than where the scanner noticed it.
  Finding Explain(const YAML::Exception& e) const {
    size_t offset = static_cast<size_t>(std::max(0, e.mark.pos));
    std::string msg = e.msg;
    size_t line = LineStart(std::min(offset, text_.size()));
    if (line < text_.size() && text_[line] == '\t') {
      return Finding{line, Pointer(), "yaml-syntax",
                     "tabs are not allowed for indentation; indent with spaces"};
    }
    bool seq_flow = msg == YAML::ErrorMsg::END_OF_SEQ_FLOW;
    if (seq_flow || msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
      for (size_t i = stack_.size(); i-- > 0;) {
        size_t at = doc_->nodes_[stack_[i].id].offset;
        char open = at < text_.size() ? text_[at] : 0;
        if (!stack_[i].flow || (open != '[' && open != '{')) continue;  // not one the text opened
        return Finding{at, Pointer(i), "yaml-syntax",
                       open == '{' ? "the mapping started here with '{' is not closed with '}'"
                                   : "the list started here with '[' is not closed with ']'"};
      }
    }
    if (msg == YAML::ErrorMsg::FLOW_END) {
      char c = offset < text_.size() ? text_[offset] : ']';
      msg = c == '}' ? "unexpected '}' (no mapping started with '{' is open here)"
                     : "unexpected ']' (no list started with '[' is open here)";
    } else if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
      std::string name = AliasName(offset);
      msg = "alias *" + name + " refers to no anchor &" + name + " defined before it";
    } else if (msg == YAML::ErrorMsg::MAP_VALUE) {
      msg =
          "a 'key: value' pair is not allowed here; check the indentation, or quote a value that contains ': "
          "'";
    } else if (msg == YAML::ErrorMsg::END_OF_MAP) {
      msg =
          "this line does not fit the mapping above it: expected 'key: value' at the same indentation as its "
          "other keys";
    } else if (msg == YAML::ErrorMsg::END_OF_SEQ) {
      msg =
          "this line does not fit the list above it: expected '- ' at the same indentation as its other "
          "items";
    } else if (msg == YAML::ErrorMsg::BLOCK_ENTRY) {
      msg = "a list item ('- ') is not allowed here; check the indentation";
    } else if (msg.empty()) {
      msg = "invalid YAML";
    }
    return Finding{offset, Pointer(), "yaml-syntax", msg};
  }

 private:
  struct Frame {
    NodeId id;
    bool is_map;
    bool expect_key = true;  // maps only
    size_t nodes = 1;        // expanded size of this subtree so far
    size_t bytes = 0;
    int height = 1;            // levels of nesting, this one included
    bool flow = false;         // [..] or {..}
    bool is_key = false;       // used as a mapping key: refused at its end
    bool refused_key = false;  // a map whose current key was a list or mapping
    YAML::anchor_t anchor = 0;
    std::unique_ptr<std::unordered_set<std::string>> keys;  // large maps only
  };
  struct Anchor {
    NodeId node = 0;
    bool defined = false;
    bool open = false;
    size_t nodes = 0;
    size_t bytes = 0;
    int height = 0;
  };

  // Levels of nesting, leaving out mappings that have no entry yet: their key
  // is a list or mapping (refused when it ends), or yaml-cpp invented them
  // around an unclosed '['. The stack stays within twice the limit.
  int Depth() const {
    int depth = 0;
    for (const Frame& f : stack_) depth += !(f.is_map && doc_->nodes_[f.id].entries.empty());
    return depth;
  }

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
      Fail(offset, "limit",
           "the document has more than " + std::to_string(limits_.max_nodes) + " nodes (limit --max-nodes)");
    }
    if (total_bytes_ > limits_.max_expanded_bytes) {
      Fail(offset, "limit",
           "the document's scalars exceed " + std::to_string(limits_.max_expanded_bytes) + " bytes");
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
    Fail(offset, "yaml-tag", "unsupported tag '" + ShortTag(tag) + "'");
  }

  static std::string ShortTag(const std::string& tag) {
    if (tag.rfind(kTagPrefix, 0) == 0) return "!!" + tag.substr(kTagPrefix.size());
    return tag;
  }

  void CheckContainerTag(const std::string& tag, NodeKind kind, size_t offset) {
    if (tag == "?" || tag == "!") return;
    if (tag == std::string(kTagPrefix) + (kind == NodeKind::kMap ? "map" : "seq")) return;
    Fail(offset, "yaml-tag", "unsupported tag '" + ShortTag(tag) + "'");
  }

  void Open(NodeKind kind, size_t offset, const std::string& tag, YAML::anchor_t anchor, bool flow) {
    // A list or mapping used as a key is refused when it closes, so that a
    // clearer error inside it (an unclosed '[', the depth limit) wins.
    bool is_key = ExpectingKey();
    CheckContainerTag(tag, kind, offset);
    if (Depth() >= limits_.max_depth) {
      Fail(offset, "limit",
           "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels (limit --max-depth)");
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

  void Close() {
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
  void Attach(NodeId id, YAML::anchor_t anchor, size_t nodes, size_t bytes, int height = 0) {
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

  void AttachToParent(NodeId id, size_t nodes, size_t bytes, int height) {
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
  void AnchorKey(NodeKind kind, const std::string& text, size_t offset, YAML::anchor_t anchor) {
    NodeId id = NewNode(kind, offset);
    doc_->nodes_[id].text = text;
    if (kind == NodeKind::kString) TypePlainScalar(text, &doc_->nodes_[id]);
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor] = Anchor{id, true, false, 1, text.size(), 0};
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
      throw Stop{
          Finding{offset, Pointer() + "/" + EscapePointerToken(key), "yaml-duplicate-key",
                  "duplicate key '" + key + "' (first defined at " + LineColumn(first->key_offset) + ")"}};
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
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '[' || c == ']' || c == '{' ||
          c == '}') {
        break;
      }
      ++end;
    }
    return std::string(text_.substr(i, end - i));
  }

  std::string LineColumn(size_t offset) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') ++line, line_start = i + 1;
    }
    int column = 1;
    for (size_t i = line_start; i < offset && i < text_.size(); ++i) {
      column += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  size_t LineStart(size_t offset) const {
    size_t nl = offset == 0 ? std::string_view::npos : text_.rfind('\n', offset - 1);
    return nl == std::string_view::npos ? 0 : nl + 1;
  }

  // Whether "---" opens the document whose first token is at `offset`: on
  // its line, or on the nearest line above with anything but a comment.
  bool ExplicitDocumentStart(size_t offset) const {
    size_t line = LineStart(std::min(offset, text_.size()));
    while (true) {
      if (text_.substr(line, 3) == "---") return true;
      if (line == 0) return false;
      size_t prev = LineStart(line - 1);
      std::string_view l = text_.substr(prev, line - 1 - prev);
      size_t first = l.find_first_not_of(" \r");
      if (first != std::string_view::npos && l[first] != '#') return l.substr(0, 3) == "---";
      line = prev;
    }
  }

  // yaml-cpp 0.7 takes a quoted scalar that runs to the end of the file as
  // closed. Check that the closing quote is there.
  void CheckQuoteClosed(size_t offset) {
    if (offset >= text_.size()) return;
    char q = text_[offset];
    if (q != '"' && q != '\'') return;
    for (size_t i = offset + 1; i < text_.size(); ++i) {
      if (q == '"' && text_[i] == '\\') {
        ++i;
        continue;
      }
      if (text_[i] == q) {
        if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;
          continue;
        }
        return;
      }
    }
    Fail(offset, "yaml-syntax", std::string("the string started here with '") + q + "' is not closed");
  }

  // yaml-cpp 0.7 takes a bare word on the last line of a block mapping as a
  // key with a null value (yaml-cpp issue #819). A block key needs its ':'.
  void CheckKeyHasColon(const std::string& key, size_t offset) {
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

  std::string_view text_;
  const LoadLimits& limits_;
  Document* doc_;
  std::vector<Frame> stack_;
  std::vector<Anchor> anchors_;
  size_t total_nodes_ = 0;
  size_t total_bytes_ = 0;
  int documents_ = 0;
  std::optional<Finding> pending_key_;
};

bool LoadYaml(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem,
              bool fast_path) {
  return (fast_path && LoadYamlFast(text, limits, doc)) || LoadYamlReference(text, limits, doc, problem);
}

bool LoadYamlReference(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem) {
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
    builder.CheckPendingKey();
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
    *problem = builder.Explain(e);
    return false;
  }
  if (doc->empty()) {
    *problem = Finding{0, "", "yaml-empty", "the file holds no YAML document"};
    return false;
  }
  return true;
}

}  // namespace specd
