// The yaml-cpp path's tree builder, shared by its three files: the events
// and YAML rules (yaml_tree.cc), the error explanations (yaml_explain.cc)
// and the loader around yaml-cpp (yaml_load.cc). Internal to schema/.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/yaml_tree.h"

namespace specd {

// Thrown out of the event handlers to stop yaml-cpp at a broken rule.
struct Stop {
  Finding problem;
};

inline constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

class TreeBuilder : public YAML::EventHandler {
 public:
  // `text` is the source as written: the rules below read it. yaml-cpp may
  // be fed a copy (see yaml_load.cc) with the same offsets.
  TreeBuilder(std::string_view text, const LoadLimits& limits, Document* doc)
      : text_(text), limits_(limits), doc_(doc) {
    // About one node a line, allocated once (see yaml_fast.cc).
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    doc->nodes_.reserve(std::min(lines + lines / 2 + 1, limits.max_nodes));
  }

  void OnDocumentStart(const YAML::Mark& mark) override;
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override;
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
  void CheckPendingKey();

  [[noreturn]] void Fail(size_t offset, std::string keyword, std::string message) const {
    throw Stop{Finding{std::min(offset, text_.size()), Pointer(), std::move(keyword), std::move(message)}};
  }

  // The JSON pointer of the node being read.
  std::string Pointer(size_t frames = SIZE_MAX) const;

  // yaml-cpp's syntax errors, reworded to say what was expected and placed
  // where the mistake is rather than where the scanner noticed it
  // (yaml_explain.cc).
  Finding Explain(const YAML::Exception& e) const;

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

  int Depth() const;
  bool ExpectingKey() const { return !stack_.empty() && stack_.back().is_map && stack_.back().expect_key; }
  NodeId NewNode(NodeKind kind, size_t offset);
  void Count(size_t nodes, size_t bytes, size_t offset);
  void ApplyTag(const std::string& tag, size_t offset, Node* node) const;
  std::string KeyWithTag(const std::string& tag, const std::string& value, size_t offset) const;
  void CheckContainerTag(const std::string& tag, NodeKind kind, size_t offset) const;
  void CheckQuotedScalar(size_t offset, std::string* value) const;
  void Open(NodeKind kind, size_t offset, const std::string& tag, YAML::anchor_t anchor, bool flow);
  void Close();
  void Attach(NodeId id, YAML::anchor_t anchor, size_t nodes, size_t bytes, int height = 0);
  void AttachToParent(NodeId id, size_t nodes, size_t bytes, int height);
  void AnchorKey(NodeKind kind, const std::string& text, size_t offset, YAML::anchor_t anchor);
  void AddKey(const std::string& key, size_t offset);
  std::string AliasName(size_t offset) const;
  bool ExplicitDocumentStart(size_t offset) const;
  void CheckKeyHasColon(const std::string& key, size_t offset) const;

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

std::string ShortTag(const std::string& tag);  // "!!str" for the core schema's tags

}  // namespace specd
