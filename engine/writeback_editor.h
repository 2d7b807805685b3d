// The write-back's internals (engine/writeback.h is the interface): the
// Editor that scans the file's layout (writeback_layout.cc: lines, where a
// value and an entry begin and end) and records splices for the edits
// (writeback_edits.cc), and the self-check of the edited text
// (writeback_verify.cc). Used by engine/writeback*.cc only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/writeback.h"
#include "engine/yaml_emit.h"
#include "schema/result.h"
#include "schema/source_text.h"
#include "schema/yaml_tree.h"

namespace specd::writeback_internal {

constexpr size_t kNone = std::string_view::npos;

inline std::string Spaces(int n) {
  return std::string(static_cast<size_t>(std::max(n, 0)), ' ');
}

// ---------------------------------------------------------------------------
// Where a mapping entry's value is written.

struct Site {
  enum Kind {
    kEmpty,        // "key:" with no value: a null
    kPlain,        // plain scalar, including the words null and ~
    kSingle,       // '...'
    kDouble,       // "..."
    kFlowEmpty,    // {} or []
    kFlow,         // {...} or [...] with content
    kBlock,        // a block mapping or list
    kBlockScalar,  // | or >
    kAlias,        // *name
    kProperties,   // &anchor or !tag before the value
    kKeyForm,      // the key is not "key:" on one line (an explicit "? key")
  };
  Kind kind = kEmpty;
  size_t colon_end = 0;  // just after the key's ':'
  size_t begin = 0;      // the value's first byte (colon_end when empty)
  size_t end = 0;        // one past its last byte, for scalars and {} []
  bool multiline = false;
};

inline Quote QuoteOf(Site::Kind kind) {
  return kind == Site::kDouble ? Quote::kDouble : kind == Site::kSingle ? Quote::kSingle : Quote::kPlain;
}

// The block scalar (if any) a node ends with: its header and the column of
// the entries that hold it. Its content lines look like anything (comments,
// blank lines that `|+` keeps), so the end is found by indentation.
struct Leaf {
  size_t header = kNone;
  int col = 0;
};

struct Splice {
  size_t begin, end;
  std::string text;
  int column = 0;  // of the first inserted line: inner blocks go before outer ones
};

// Paths the edits own, and what the edited text must hold there.
struct Expectations {
  std::set<std::string> owned;            // the path and everything below it
  std::set<std::string> owned_container;  // the path alone (progress, changeLog)
  std::map<std::string, Scalar> values;
};

// ---------------------------------------------------------------------------
// The editor: reads the loaded tree and the text, and records splices.

class Editor {
 public:
  Editor(std::string_view text, const Document& doc, const SourceText& source)
      : t_(text), doc_(doc), source_(source), refs_(doc.size(), 0) {
    size_t nl = t_.find('\n');
    eol_ = nl != kNone && nl > 0 && t_[nl - 1] == '\r' ? "\r\n" : "\n";
    CountReferences(doc.root_id());
    if (doc.root().kind == NodeKind::kMap && !doc.root().entries.empty()) DetectIndents();
  }

  Status Apply(const SpecEdits& edits);
  Result<std::string> Text() const;
  const Expectations& expectations() const { return expect_; }

 private:
  const Node& N(NodeId id) const { return doc_.node(id); }
  const Node& Root() const { return doc_.root(); }
  NodeId RootId() const { return doc_.root_id(); }

  // Lines and positions.
  size_t LineStart(size_t p) const;
  size_t LineEnd(size_t p) const;
  size_t NextLine(size_t p) const;
  int Column(size_t p) const { return static_cast<int>(p - LineStart(p)); }
  int Indent(size_t line) const;
  bool IsBlank(size_t line) const;
  bool IsBlankOrComment(size_t line) const;
  bool IsDocumentMarker(size_t line) const;
  bool IsDashItem(size_t p) const;
  std::string Where(size_t p) const;
  size_t SkipSpaces(size_t p) const;
  size_t NextToken(size_t p) const;
  size_t TokenEnd(size_t p, bool flow) const;
  size_t SkipProperties(size_t p) const;
  size_t QuotedEnd(size_t p) const;
  size_t PlainEnd(size_t p, bool flow) const;
  bool IsFlow(NodeId id) const;

  // Structure.
  void CountReferences(NodeId id);
  void DetectIndents();
  size_t KeyEnd(const MapEntry& e) const;
  Site ValueSite(const MapEntry& e, bool flow) const;
  void Classify(size_t p, const Node& v, bool flow, Site* s) const;
  Leaf LeafOf(NodeId id, size_t after, int col) const;
  Leaf LeafOfMap(NodeId map) const;
  Leaf LeafOfSeq(NodeId seq, int dash_col) const;
  size_t FlowEnd(size_t p) const;
  size_t PlainScalarEnd(size_t p, const std::string& text) const;
  bool IsNullWord(size_t p, bool flow) const;
  size_t Reach(NodeId id, size_t start, bool flow) const;
  size_t BlockEnd(size_t from, int col, bool list) const;
  size_t BlockScalarEnd(size_t header, int col, size_t limit) const;
  size_t LastContentEnd(size_t start, size_t reach, size_t limit, const Leaf& leaf) const;
  size_t EntryEnd(NodeId map, size_t k) const;
  size_t SeqEnd(NodeId seq) const;
  int ChildColumn(const MapEntry& e) const;

  // Refusals.
  Error CannotEdit(const std::string& path, size_t p, const std::string& why) const;
  Status ScalarProblem(const std::string& path, const Site& s, const Node& v) const;
  Status ContainerProblem(const MapEntry& e, const std::string& path, bool flow) const;
  Error FlowInsert(const std::string& path, NodeId map, const std::string& map_path) const;

  // Edits.
  void Add(size_t begin, size_t end, std::string text, int column = 0) {
    splices_.push_back({begin, end, std::move(text), column});
  }
  void AddLines(size_t at, const std::vector<std::string>& lines);
  Status Replace(const MapEntry& e, const std::string& path, const Scalar& v, bool flow);
  Status InsertEntry(NodeId map, const std::string& map_path, size_t after, const std::string& key,
                     const Scalar& v, Quote quote);
  Status SetField(NodeId map, const std::string& map_path, const std::string& key, const Scalar& v,
                  bool flow);
  Status ReplaceWithBlock(const MapEntry& e, const std::string& path, const std::vector<std::string>& lines);
  Status SetStatus(const std::string& status);
  Status SetUpdatedAt(const std::string& at);
  Status EditTasks(const std::vector<TaskEdit>& edits);
  Status EditTask(NodeId item, const std::string& path, const TaskEdit& edit);
  Status FindTask(const std::string& id, NodeId* item, std::string* path) const;
  Status SetProgress(const Progress& p);
  Status InsertProgress(const std::vector<std::string>& lines);
  Status AppendChangeLog(const std::vector<ChangeLogEntry>& entries);
  std::vector<std::string> ProgressLines(const Progress& p, int key_col) const;
  std::vector<std::string> ChangeLogLines(const std::vector<ChangeLogEntry>& entries,
                                          std::optional<NodeId> seq, int dash_col) const;
  void ExpectChangeLog(const std::vector<ChangeLogEntry>& entries, size_t first);

  std::string_view t_;
  const Document& doc_;
  const SourceText& source_;
  std::vector<int> refs_;  // how many places refer to each node: > 1 means shared through an alias
  std::string eol_;
  int map_indent_ = 2;  // a nested mapping's keys, relative to its parent key
  int seq_indent_ = 2;  // a list's dashes, relative to its parent key
  int item_gap_ = 2;    // an item's keys, relative to its dash
  bool root_flow_ = false;
  std::vector<Splice> splices_;
  Expectations expect_;
};

// The self-check (writeback_verify.cc): `text` loads to `before` except where
// the edits own it, and holds the new values there.
Status Verify(const Document& before, std::string_view text, const Expectations& x);

}  // namespace specd::writeback_internal
