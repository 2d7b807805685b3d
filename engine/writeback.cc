#include "engine/writeback.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "engine/yaml_emit.h"
#include "schema/diagnostic.h"
#include "schema/source_text.h"
#include "schema/yaml_tree.h"

namespace specd {

bool SpecEdits::empty() const {
  return !status && tasks.empty() && !progress && append_changelog.empty() && !updated_at;
}

namespace {

constexpr size_t kNone = std::string_view::npos;

std::string Spaces(int n) {
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

Quote QuoteOf(Site::Kind kind) {
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

// ---- Lines and positions ----

size_t Editor::LineStart(size_t p) const {
  size_t nl = p == 0 ? kNone : t_.rfind('\n', std::min(p, t_.size()) - 1);
  return nl == kNone ? 0 : nl + 1;
}

size_t Editor::LineEnd(size_t p) const {
  size_t nl = t_.find('\n', p);
  if (nl == kNone) return t_.size();
  return nl > p && t_[nl - 1] == '\r' ? nl - 1 : nl;
}

size_t Editor::NextLine(size_t p) const {
  size_t nl = t_.find('\n', p);
  return nl == kNone ? t_.size() : nl + 1;
}

int Editor::Indent(size_t line) const {
  size_t p = line;
  while (p < t_.size() && t_[p] == ' ') ++p;
  return static_cast<int>(p - line);
}

bool Editor::IsBlank(size_t line) const {
  size_t p = line;
  while (p < t_.size() && (t_[p] == ' ' || t_[p] == '\t')) ++p;
  return p >= t_.size() || t_[p] == '\n' || t_[p] == '\r';
}

bool Editor::IsBlankOrComment(size_t line) const {
  size_t p = line;
  while (p < t_.size() && (t_[p] == ' ' || t_[p] == '\t')) ++p;
  return p >= t_.size() || t_[p] == '\n' || t_[p] == '\r' || t_[p] == '#';
}

bool Editor::IsDocumentMarker(size_t line) const {
  std::string_view head = t_.substr(line, 3);
  if (head != "---" && head != "...") return false;
  size_t p = line + 3;
  return p >= t_.size() || std::strchr(" \t\r\n", t_[p]) != nullptr;
}

bool Editor::IsDashItem(size_t p) const {
  return p < t_.size() && t_[p] == '-' && (p + 1 >= t_.size() || std::strchr(" \t\r\n", t_[p + 1]));
}

std::string Editor::Where(size_t p) const {
  int line = 0, column = 0;
  source_.Position(p, &line, &column);
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

size_t Editor::SkipSpaces(size_t p) const {
  while (p < t_.size() && (t_[p] == ' ' || t_[p] == '\t')) ++p;
  return p;
}

// The next token from p on, past spaces, line breaks and comments.
size_t Editor::NextToken(size_t p) const {
  while (true) {
    p = SkipSpaces(p);
    if (p >= t_.size()) return t_.size();
    if (t_[p] == '#') {
      p = LineEnd(p);
    } else if (t_[p] == '\r' || t_[p] == '\n') {
      ++p;
    } else {
      return p;
    }
  }
}

size_t Editor::TokenEnd(size_t p, bool flow) const {
  while (p < t_.size() && !std::strchr(" \t\r\n", t_[p]) && !(flow && std::strchr(",]}", t_[p]))) ++p;
  return p;
}

// Past an anchor (&a) and a tag (!!str) to the node itself.
size_t Editor::SkipProperties(size_t p) const {
  while (p < t_.size() && (t_[p] == '&' || t_[p] == '!')) p = NextToken(TokenEnd(p, false));
  return p;
}

// One past the closing quote of the quoted scalar at p; kNone if unclosed.
size_t Editor::QuotedEnd(size_t p) const {
  const char q = t_[p];
  for (size_t i = p + 1; i < t_.size(); ++i) {
    if (q == '"' && t_[i] == '\\') {
      ++i;
    } else if (t_[i] == q) {
      if (q == '\'' && i + 1 < t_.size() && t_[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return kNone;
}

// The end of the plain scalar's first line: before a comment, trailing
// spaces and, in a flow collection, the next ',' ']' or '}'.
size_t Editor::PlainEnd(size_t p, bool flow) const {
  size_t end = p;
  for (size_t i = p; i < t_.size(); ++i) {
    char c = t_[i];
    if (c == '\n' || c == '\r') break;
    if (c == '#' && i > p && (t_[i - 1] == ' ' || t_[i - 1] == '\t')) break;
    if (flow && (c == ',' || c == ']' || c == '}')) break;
    if (c != ' ' && c != '\t') end = i + 1;
  }
  return end;
}

bool Editor::IsFlow(NodeId id) const {
  size_t p = SkipProperties(N(id).offset);
  return p < t_.size() && (t_[p] == '{' || t_[p] == '[');
}

// ---- Structure ----

// An alias shares its anchor's node (yaml_tree.h), so a node reached twice
// is written once and read in two places: editing it would change both.
void Editor::CountReferences(NodeId root) {
  std::vector<NodeId> todo{root};
  refs_[root] = 1;
  while (!todo.empty()) {
    const Node& n = N(todo.back());
    todo.pop_back();
    auto visit = [&](NodeId child) {
      if (++refs_[child] == 1) todo.push_back(child);
    };
    for (const MapEntry& e : n.entries) visit(e.value);
    for (NodeId item : n.items) visit(item);
  }
}

// New blocks copy the file's own indentation, read from the top-level
// entries: how far a nested mapping's keys and a list's dashes sit from
// their key, and an item's keys from its dash.
void Editor::DetectIndents() {
  const Node& root = Root();
  const int root_col = Column(root.entries[0].key_offset);
  bool found_map = false, found_seq = false;
  for (const MapEntry& e : root.entries) {
    const Node& v = N(e.value);
    if (v.offset < e.key_offset || IsFlow(e.value)) continue;  // an alias, or not a block
    if (v.kind == NodeKind::kMap && !found_map && !v.entries.empty()) {
      map_indent_ = std::max(1, Column(v.entries[0].key_offset) - root_col);
      found_map = true;
    }
    if (v.kind == NodeKind::kSeq && !found_seq && !v.items.empty()) {
      size_t dash = SkipProperties(v.offset);
      seq_indent_ = std::max(0, Column(dash) - root_col);
      const Node& first = N(v.items[0]);
      if (first.kind == NodeKind::kMap && first.offset > dash && !IsFlow(v.items[0])) {
        item_gap_ = std::max(2, Column(first.entries[0].key_offset) - Column(dash));
      }
      found_seq = true;
    }
  }
  if (!found_seq) seq_indent_ = map_indent_;
}

size_t Editor::KeyEnd(const MapEntry& e) const {
  size_t p = e.key_offset;
  if (p >= t_.size()) return kNone;
  if (t_[p] == '"' || t_[p] == '\'') return QuotedEnd(p);
  return t_.compare(p, e.key.size(), e.key) == 0 ? p + e.key.size() : kNone;
}

Site Editor::ValueSite(const MapEntry& e, bool flow) const {
  Site s;
  size_t p = KeyEnd(e);
  if (p != kNone) p = SkipSpaces(p);
  if (p == kNone || p >= t_.size() || t_[p] != ':') {
    s.kind = Site::kKeyForm;
    s.begin = s.end = e.key_offset;
    return s;
  }
  s.colon_end = s.begin = s.end = p + 1;
  const Node& v = N(e.value);
  size_t q = SkipSpaces(s.colon_end);
  bool nothing_here = q >= t_.size() || t_[q] == '\n' || t_[q] == '\r' || (t_[q] == '#' && q > s.colon_end) ||
                      (flow && std::strchr(",]}", t_[q]));
  if (nothing_here) {
    // The value is on a later line, more indented than its key (a list
    // may sit at the key's own column), or there is none: a null.
    size_t next = NextToken(q);
    int key_col = Column(e.key_offset);
    bool below = next < t_.size() && !IsDocumentMarker(LineStart(next)) &&
                 !(flow && std::strchr(",]}", t_[next])) &&
                 (flow || Column(next) > key_col || (Column(next) == key_col && IsDashItem(next)));
    if (!below) return s;
    q = next;
  }
  Classify(q, v, flow, &s);
  return s;
}

void Editor::Classify(size_t p, const Node& v, bool flow, Site* s) const {
  s->begin = p;
  s->end = kNone;
  const char c = t_[p];
  if (c == '*' || c == '&' || c == '!') {
    s->kind = c == '*' ? Site::kAlias : Site::kProperties;
    s->end = TokenEnd(p, flow);
  } else if (c == '|' || c == '>') {
    s->kind = Site::kBlockScalar;
  } else if (c == '"' || c == '\'') {
    s->kind = c == '"' ? Site::kDouble : Site::kSingle;
    s->end = QuotedEnd(p);
    s->multiline = s->end == kNone || t_.substr(p, s->end - p).find('\n') != kNone;
  } else if (c == '{' || c == '[') {
    size_t close = NextToken(p + 1);
    bool empty = close < t_.size() && t_[close] == (c == '{' ? '}' : ']');
    s->kind = empty ? Site::kFlowEmpty : Site::kFlow;
    if (empty) s->end = close + 1;
  } else if (v.kind == NodeKind::kMap || v.kind == NodeKind::kSeq) {
    s->kind = Site::kBlock;
  } else {
    s->kind = Site::kPlain;
    s->end = v.kind == NodeKind::kNull ? TokenEnd(p, flow) : PlainEnd(p, flow);
    // A plain scalar folded over several lines reads longer than its first line.
    s->multiline = v.kind != NodeKind::kNull && t_.substr(p, s->end - p) != v.text;
  }
}

// The block scalar that ends node `id`, if any. `after`: where the node's
// own text must start; a node that starts before it is an alias's anchor.
Leaf Editor::LeafOf(NodeId id, size_t after, int col) const {
  const Node& n = N(id);
  if (n.offset <= after) return {};
  size_t p = SkipProperties(n.offset);
  if (p >= t_.size()) return {};
  if (n.is_scalar()) return (t_[p] == '|' || t_[p] == '>') ? Leaf{p, col} : Leaf{};
  if (t_[p] == '{' || t_[p] == '[') return {};
  if (n.kind == NodeKind::kMap) return n.entries.empty() ? Leaf{} : LeafOfMap(id);
  return n.items.empty() ? Leaf{} : LeafOfSeq(id, Column(p));
}

Leaf Editor::LeafOfMap(NodeId map) const {
  const Node& m = N(map);
  const MapEntry& last = m.entries.back();
  return LeafOf(last.value, last.key_offset, Column(m.entries[0].key_offset));
}

Leaf Editor::LeafOfSeq(NodeId seq, int dash_col) const {
  const Node& s = N(seq);
  size_t after = s.items.size() > 1 ? N(s.items[s.items.size() - 2]).offset : s.offset;
  return LeafOf(s.items.back(), after, dash_col);
}

// One past the bracket that closes the flow collection opening at p; kNone
// if it is not closed. Brackets inside quoted scalars and comments do not
// count; a quote opens a scalar only where a scalar may start.
size_t Editor::FlowEnd(size_t p) const {
  int depth = 0;
  char prev = '[';
  for (size_t i = p; i < t_.size(); ++i) {
    const char c = t_[i];
    if (c == '#' && i > 0 && std::strchr(" \t\r\n", t_[i - 1])) {
      i = LineEnd(i);
    } else if ((c == '"' || c == '\'') && std::strchr("[{,:?", prev)) {
      size_t end = QuotedEnd(i);
      if (end == kNone) return kNone;
      i = end - 1;
      prev = c;
    } else if (c == '[' || c == '{' || c == ']' || c == '}') {
      depth += (c == '[' || c == '{') ? 1 : -1;
      if (depth == 0) return i + 1;
      prev = c;
    } else if (!std::strchr(" \t\r\n", c)) {
      prev = c;
    }
  }
  return kNone;
}

// One past the last byte of the plain scalar at p holding `text`: a plain
// scalar has no escapes, so its words appear in the text in order, with
// only spaces and line breaks between them.
size_t Editor::PlainScalarEnd(size_t p, const std::string& text) const {
  size_t pos = p;
  size_t word = 0;
  while (word < text.size()) {
    size_t stop = text.find_first_of(" \t\n", word);
    if (stop == std::string::npos) stop = text.size();
    if (stop > word) {
      size_t at = t_.find(std::string_view(text).substr(word, stop - word), pos);
      if (at == kNone) return pos;
      pos = at + (stop - word);
    }
    word = stop + 1;
  }
  return pos;
}

bool Editor::IsNullWord(size_t p, bool flow) const {
  std::string_view word = t_.substr(p, TokenEnd(p, flow) - p);
  return word == "~" || word == "null" || word == "Null" || word == "NULL";
}

// The furthest byte the text of node `id` reaches, as far as the tree
// tells: the last key, scalar or closing bracket in it. An empty null has
// no text (its offset is the next token's) and an alias's text is not in
// the tree: the line scan after the reach finds those. Nodes starting
// before `start` are anchors an alias refers to, written elsewhere.
size_t Editor::Reach(NodeId id, size_t start, bool flow) const {
  const Node& n = N(id);
  if (n.offset < start) return start;
  const size_t p = SkipProperties(n.offset);
  if (p >= t_.size()) return p;
  const char c = t_[p];
  if (n.is_scalar()) {
    if (c == '|' || c == '>') return p + 1;  // LeafOf finds its end by indentation
    if (c == '"' || c == '\'') return QuotedEnd(p) == kNone ? p : QuotedEnd(p);
    if (n.kind == NodeKind::kNull) return IsNullWord(p, flow) ? TokenEnd(p, flow) : start;
    return PlainScalarEnd(p, n.text);
  }
  const bool inner_flow = c == '{' || c == '[';
  size_t reach = p + 1;
  if (inner_flow) {
    size_t end = FlowEnd(p);
    if (end != kNone) return end;
  }
  for (const MapEntry& e : n.entries) {
    reach = std::max(reach, e.key_offset + 1);
    Site s = ValueSite(e, inner_flow);
    if (s.kind == Site::kKeyForm) continue;
    reach = std::max(reach, s.colon_end);
    if (s.kind == Site::kAlias) {
      reach = std::max(reach, s.end);
    } else if (s.kind != Site::kEmpty) {
      reach = std::max(reach, Reach(e.value, e.key_offset, inner_flow));
    }
  }
  for (NodeId item : n.items) reach = std::max(reach, Reach(item, p, inner_flow));
  return reach;
}

// The first line from `from` on that ends a block collection whose entries
// sit at column `col`: one with content further left, or at `col` that is
// neither a key of the mapping (nor a compact "- " list in it) nor the next
// "- " item of the list, nor the closing bracket of a flow collection that
// spans lines. Comment and blank lines never end it; a document marker does.
size_t Editor::BlockEnd(size_t from, int col, bool list) const {
  for (size_t line = from; line < t_.size(); line = NextLine(line)) {
    if (IsBlankOrComment(line)) continue;
    if (IsDocumentMarker(line)) return line;
    int indent = Indent(line);
    if (indent > col) continue;
    if (indent < col) return line;
    char c = t_[line + indent];
    if (c == ']' || c == '}') continue;
    if (list && !IsDashItem(line + indent)) return line;
  }
  return t_.size();
}

// The end of the last line of the block scalar at `header`, held by an
// entry at column `col`: its content is more indented than `col`; trailing
// blank lines are content too when it keeps them (`|+`).
size_t Editor::BlockScalarEnd(size_t header, int col, size_t limit) const {
  size_t p = header + 1;
  bool keep = false;
  while (p < t_.size() && std::strchr("+-0123456789", t_[p])) keep = keep || t_[p++] == '+';
  size_t last = LineStart(header);
  for (size_t line = NextLine(header); line < limit; line = NextLine(line)) {
    if (IsBlank(line)) {
      if (keep) last = line;
      continue;
    }
    if (Indent(line) <= col) break;
    last = line;
  }
  return LineEnd(last);
}

// Where new lines go after a node whose text starts on line `start`,
// reaches at least `reach` (from the tree) and ends before line `limit`
// (from indentation): the end of its last content line. Blank lines and
// comments after it belong to what follows.
size_t Editor::LastContentEnd(size_t start, size_t reach, size_t limit, const Leaf& leaf) const {
  size_t last = LineStart(std::max(start, reach == 0 ? 0 : reach - 1));
  if (leaf.header != kNone) return std::max(LineEnd(last), BlockScalarEnd(leaf.header, leaf.col, limit));
  for (size_t line = NextLine(last); line < limit; line = NextLine(line)) {
    if (!IsBlankOrComment(line)) last = line;
  }
  return LineEnd(last);
}

size_t Editor::EntryEnd(NodeId map, size_t k) const {
  const Node& m = N(map);
  const MapEntry& e = m.entries[k];
  const int col = Column(m.entries[0].key_offset);
  const size_t start = LineStart(e.key_offset);
  Site s = ValueSite(e, false);
  size_t reach = std::max(e.key_offset + 1, s.kind == Site::kKeyForm ? 0 : s.colon_end);
  if (s.kind == Site::kAlias) reach = std::max(reach, s.end);
  if (s.kind != Site::kEmpty && s.kind != Site::kAlias) {
    reach = std::max(reach, Reach(e.value, e.key_offset, false));
  }
  const size_t limit = k + 1 < m.entries.size() ? LineStart(m.entries[k + 1].key_offset)
                                                : BlockEnd(NextLine(LineStart(reach - 1)), col, false);
  return LastContentEnd(start, reach, limit, LeafOf(e.value, e.key_offset, col));
}

size_t Editor::SeqEnd(NodeId seq) const {
  const size_t dash = SkipProperties(N(seq).offset);
  const int col = Column(dash);
  const size_t reach = std::max(dash + 1, Reach(seq, N(seq).offset, false));
  const size_t limit = BlockEnd(NextLine(LineStart(reach - 1)), col, true);
  return LastContentEnd(LineStart(dash), reach, limit, LeafOfSeq(seq, col));
}

// The column of a new nested block's keys under the entry `e`.
int Editor::ChildColumn(const MapEntry& e) const {
  return Column(e.key_offset) + map_indent_;
}

// ---- Refusals ----

Error Editor::CannotEdit(const std::string& path, size_t p, const std::string& why) const {
  return Error{"cannot edit " + path + " (" + Where(p) + "): " + why};
}

Status Editor::ScalarProblem(const std::string& path, const Site& s, const Node& v) const {
  std::string token(t_.substr(s.begin, s.end == kNone ? 0 : s.end - s.begin));
  switch (s.kind) {
    case Site::kKeyForm:
      return CannotEdit(path, s.begin, "its key is not written as 'key: value' on one line; write it so");
    case Site::kAlias:
      return CannotEdit(path, s.begin,
                        "it is an alias (" + token + "); write the value itself so the engine can change it");
    case Site::kProperties:
      return CannotEdit(
          path, s.begin,
          "it carries an anchor or a tag (" + token + "); write the bare value so the engine can change it");
    case Site::kBlockScalar:
      return CannotEdit(path, s.begin, "it is a block scalar ('|' or '>'); write it on one line");
    case Site::kFlowEmpty:
    case Site::kFlow:
    case Site::kBlock:
      return CannotEdit(path, s.begin, "it is " + WithArticle(v.kind) + ", not a single value");
    default:
      if (s.multiline) return CannotEdit(path, s.begin, "it spans several lines; write it on one line");
      return Status::Ok();
  }
}

// A mapping or list the edits reach into: it must be written where it is
// used, and used only there.
Status Editor::ContainerProblem(const MapEntry& e, const std::string& path, bool flow) const {
  Site s = ValueSite(e, flow);
  if (s.kind == Site::kKeyForm || s.kind == Site::kAlias) return ScalarProblem(path, s, N(e.value));
  if (refs_[e.value] > 1) {
    return CannotEdit(path, s.begin, "an alias elsewhere refers to it; the engine will not change both");
  }
  return Status::Ok();
}

Error Editor::FlowInsert(const std::string& path, NodeId map, const std::string& map_path) const {
  std::string where = map_path.empty() ? "the top-level mapping" : map_path;
  return Error{"cannot add " + path + ": " + where + " (" + Where(N(map).offset) +
               ") is a flow mapping ({...}); write it in block style so the engine can add a line"};
}

// ---- Edits ----

void Editor::AddLines(size_t at, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += eol_ + line;
  Add(at, at, std::move(text), lines.empty() ? 0 : static_cast<int>(lines[0].find_first_not_of(' ')));
}

Status Editor::Replace(const MapEntry& e, const std::string& path, const Scalar& v, bool flow) {
  expect_.owned.insert(path);
  expect_.values[path] = v;
  Site s = ValueSite(e, flow);
  const Node& n = N(e.value);
  if (Status problem = ScalarProblem(path, s, n); !problem.ok()) return problem;
  if (Holds(n, v)) return Status::Ok();
  std::string text = Render(v, QuoteOf(s.kind), flow);
  Add(s.begin, s.end, s.kind == Site::kEmpty ? " " + text : text);
  return Status::Ok();
}

Status Editor::InsertEntry(NodeId map, const std::string& map_path, size_t after, const std::string& key,
                           const Scalar& v, Quote quote) {
  const std::string path = map_path + "/" + key;
  if (IsFlow(map) || N(map).entries.empty()) return FlowInsert(path, map, map_path);
  expect_.owned.insert(path);
  expect_.values[path] = v;
  const int col = Column(N(map).entries[0].key_offset);
  AddLines(EntryEnd(map, after), {Spaces(col) + key + ": " + Render(v, quote, false)});
  return Status::Ok();
}

// Replaces the field, or adds it after the mapping's last entry.
Status Editor::SetField(NodeId map, const std::string& map_path, const std::string& key, const Scalar& v,
                        bool flow) {
  const Node& m = N(map);
  if (const MapEntry* e = m.Find(key)) return Replace(*e, map_path + "/" + key, v, flow);
  return InsertEntry(map, map_path, m.entries.size() - 1, key, v, Quote::kPlain);
}

// "key:", "key: ~", "key: []" or "key: {}" becomes "key:" with a block
// below it; a comment after the value stays on the key's line.
Status Editor::ReplaceWithBlock(const MapEntry& e, const std::string& path,
                                const std::vector<std::string>& lines) {
  if (root_flow_) return FlowInsert(path, RootId(), "");
  Site s = ValueSite(e, false);
  if (s.kind != Site::kEmpty && s.kind != Site::kPlain && s.kind != Site::kFlowEmpty) {
    return ScalarProblem(path, s, N(e.value));
  }
  if (LineStart(s.begin) != LineStart(s.colon_end)) {
    return CannotEdit(path, s.begin, "its value is on the line below its key; write it on the key's line");
  }
  Add(s.colon_end, s.end, "");
  AddLines(LineEnd(s.colon_end), lines);
  return Status::Ok();
}

Status Editor::SetStatus(const std::string& status) {
  const Node& root = Root();
  if (const MapEntry* e = root.Find("status")) return Replace(*e, "/status", Str(status), root_flow_);
  size_t after = root.entries.size() - 1;
  for (const char* key : {"id", "version"}) {
    for (size_t i = 0; i < root.entries.size(); ++i) {
      if (root.entries[i].key == key) after = i;
    }
  }
  return InsertEntry(RootId(), "", after, "status", Str(status), Quote::kPlain);
}

Status Editor::SetUpdatedAt(const std::string& at) {
  const MapEntry* m = Root().Find("metadata");
  if (m == nullptr) return Error{"cannot add /metadata/updatedAt: the spec has no metadata"};
  if (Status problem = ContainerProblem(*m, "/metadata", root_flow_); !problem.ok()) return problem;
  const Node& meta = N(m->value);
  if (meta.kind != NodeKind::kMap) {
    return CannotEdit("/metadata", ValueSite(*m, root_flow_).begin,
                      "it is " + WithArticle(meta.kind) + ", not a mapping");
  }
  if (const MapEntry* u = meta.Find("updatedAt")) {
    return Replace(*u, "/metadata/updatedAt", Str(at), IsFlow(m->value));
  }
  // A new timestamp is quoted like createdAt, its sibling.
  Quote quote = Quote::kDouble;
  if (const MapEntry* c = meta.Find("createdAt")) quote = QuoteOf(ValueSite(*c, IsFlow(m->value)).kind);
  return InsertEntry(m->value, "/metadata", meta.entries.size() - 1, "updatedAt", Str(at), quote);
}

std::vector<TaskEdit> MergeTaskEdits(const std::vector<TaskEdit>& edits) {
  std::vector<TaskEdit> merged;
  for (const TaskEdit& e : edits) {
    auto same =
        std::find_if(merged.begin(), merged.end(), [&](const TaskEdit& m) { return m.task_id == e.task_id; });
    if (same == merged.end()) {
      merged.push_back(e);
      continue;
    }
    if (e.status) same->status = e.status;
    if (e.assigned_to) same->assigned_to = e.assigned_to;
    if (e.diff_path) same->diff_path = e.diff_path;
  }
  return merged;
}

Status Editor::FindTask(const std::string& id, NodeId* item, std::string* path) const {
  const MapEntry* tasks = Root().Find("tasks");
  const std::string missing = "no task with id '" + id + "' in /tasks";
  if (tasks == nullptr) return Error{missing};
  if (Status problem = ContainerProblem(*tasks, "/tasks", root_flow_); !problem.ok()) return problem;
  const Node& list = N(tasks->value);
  if (list.kind != NodeKind::kSeq) {
    return CannotEdit("/tasks", ValueSite(*tasks, root_flow_).begin,
                      "it is " + WithArticle(list.kind) + ", not a list");
  }
  int found = 0;
  for (size_t i = 0; i < list.items.size(); ++i) {
    const Node& task = N(list.items[i]);
    const MapEntry* e = task.kind == NodeKind::kMap ? task.Find("id") : nullptr;
    if (e == nullptr || N(e->value).text != id) continue;
    *item = list.items[i];
    *path = "/tasks/" + std::to_string(i);
    ++found;
  }
  if (found == 0) return Error{missing};
  if (found > 1) return Error{"task id '" + id + "' appears more than once in /tasks"};
  if (refs_[*item] > 1) {
    return CannotEdit(*path, N(*item).offset,
                      "an alias elsewhere refers to it; the engine will not change both");
  }
  return Status::Ok();
}

Status Editor::EditTask(NodeId item, const std::string& path, const TaskEdit& edit) {
  const bool flow = IsFlow(item);
  Status st;
  if (edit.status) st = SetField(item, path, "status", Str(*edit.status), flow);
  if (st.ok() && edit.assigned_to) {
    st = SetField(item, path, "assignedTo", edit.assigned_to->has_value() ? Str(**edit.assigned_to) : Null(),
                  flow);
  }
  if (st.ok() && edit.diff_path) st = SetField(item, path, "diffPath", Str(*edit.diff_path), flow);
  return st;
}

Status Editor::EditTasks(const std::vector<TaskEdit>& edits) {
  for (const TaskEdit& edit : MergeTaskEdits(edits)) {
    NodeId item = 0;
    std::string path;
    Status st = FindTask(edit.task_id, &item, &path);
    if (st.ok()) st = EditTask(item, path, edit);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, int>> ProgressFields(const Progress& p) {
  return {{"total", p.total},
          {"pending", p.pending},
          {"inProgress", p.in_progress},
          {"diffSubmitted", p.diff_submitted},
          {"reviewed", p.reviewed},
          {"done", p.done},
          {"failed", p.failed},
          {"blocked", p.blocked},
          {"percent", p.percent}};
}

std::vector<std::string> Editor::ProgressLines(const Progress& p, int key_col) const {
  std::vector<std::string> lines;
  for (const auto& [key, value] : ProgressFields(p)) {
    lines.push_back(Spaces(key_col) + key + ": " + std::to_string(value));
  }
  return lines;
}

// A new progress block goes after `tasks`, whose counts it sums up; without
// tasks, just before `changeLog`; otherwise last.
Status Editor::InsertProgress(const std::vector<std::string>& lines) {
  if (root_flow_) return FlowInsert("/progress", RootId(), "");
  const Node& root = Root();
  size_t after = root.entries.size() - 1;
  for (size_t i = 0; i < root.entries.size(); ++i) {
    if (root.entries[i].key == "changeLog" && i > 0) after = i - 1;
  }
  for (size_t i = 0; i < root.entries.size(); ++i) {
    if (root.entries[i].key == "tasks") after = i;
  }
  std::vector<std::string> block{Spaces(Column(root.entries[0].key_offset)) + "progress:"};
  block.insert(block.end(), lines.begin(), lines.end());
  AddLines(EntryEnd(RootId(), after), block);
  return Status::Ok();
}

Status Editor::SetProgress(const Progress& p) {
  expect_.owned_container.insert("/progress");
  for (const auto& [key, value] : ProgressFields(p)) {
    expect_.owned.insert("/progress/" + key);
    expect_.values["/progress/" + key] = Int(value);
  }
  const Node& root = Root();
  const MapEntry* e = root.Find("progress");
  if (e == nullptr) return InsertProgress(ProgressLines(p, Column(root.entries[0].key_offset) + map_indent_));
  if (Status problem = ContainerProblem(*e, "/progress", root_flow_); !problem.ok()) return problem;
  const Node& block = N(e->value);
  Site site = ValueSite(*e, root_flow_);
  if (block.kind == NodeKind::kNull || (block.kind == NodeKind::kMap && site.kind == Site::kFlowEmpty)) {
    return ReplaceWithBlock(*e, "/progress", ProgressLines(p, ChildColumn(*e)));
  }
  if (block.kind != NodeKind::kMap) {
    return CannotEdit("/progress", site.begin, "it is " + WithArticle(block.kind) + ", not a mapping");
  }
  // Counts are set in place, so x- keys and comments in the block stay.
  const bool flow = IsFlow(e->value);
  std::vector<std::string> missing;
  const int col = flow ? 0 : Column(block.entries[0].key_offset);
  for (const auto& [key, value] : ProgressFields(p)) {
    const MapEntry* f = block.Find(key);
    if (f != nullptr) {
      if (Status st = Replace(*f, "/progress/" + key, Int(value), flow); !st.ok()) return st;
    } else if (flow) {
      return FlowInsert("/progress/" + key, e->value, "/progress");
    } else {
      missing.push_back(Spaces(col) + key + ": " + std::to_string(value));
    }
  }
  if (!missing.empty()) AddLines(EntryEnd(e->value, block.entries.size() - 1), missing);
  return Status::Ok();
}

// New items copy the last item's layout (block "- key: ..." with the keys
// aligned under the first, or a one-line "- {...}") and the quoting of its
// values; a new list uses the file's indentation and quotes timestamps.
std::vector<std::string> Editor::ChangeLogLines(const std::vector<ChangeLogEntry>& entries,
                                                std::optional<NodeId> seq, int dash_col) const {
  int key_col = dash_col + item_gap_;
  bool flow = false;
  std::map<std::string, Quote> quotes{{"at", Quote::kDouble}};
  if (seq && !N(*seq).items.empty() && N(N(*seq).items.back()).kind == NodeKind::kMap) {
    NodeId last = N(*seq).items.back();
    const Node& item = N(last);
    flow = IsFlow(last);
    if (!flow && !item.entries.empty()) key_col = Column(item.entries[0].key_offset);
    for (const MapEntry& f : item.entries) {
      if (N(f.value).is_scalar()) quotes[f.key] = QuoteOf(ValueSite(f, flow).kind);
    }
  }
  std::vector<std::string> lines;
  for (const ChangeLogEntry& c : entries) {
    std::vector<std::pair<std::string, Scalar>> fields{{"at", Str(c.at)},
                                                       {"actor", Str(c.actor)},
                                                       {"from", c.from.empty() ? Null() : Str(c.from)},
                                                       {"to", Str(c.to)}};
    if (!c.reason.empty()) fields.push_back({"reason", Str(c.reason)});
    if (!c.trace.empty()) fields.push_back({"trace", Str(c.trace)});
    std::vector<std::string> parts;
    for (const auto& [key, value] : fields) parts.push_back(key + ": " + Render(value, quotes[key], flow));
    if (flow) {
      std::string line = Spaces(dash_col) + "- {";
      for (size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
      lines.push_back(line + "}");
      continue;
    }
    lines.push_back(Spaces(dash_col) + "-" + Spaces(std::max(1, key_col - dash_col - 1)) + parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) lines.push_back(Spaces(key_col) + parts[i]);
  }
  return lines;
}

void Editor::ExpectChangeLog(const std::vector<ChangeLogEntry>& entries, size_t first) {
  expect_.owned_container.insert("/changeLog");
  for (size_t i = 0; i < entries.size(); ++i) {
    const ChangeLogEntry& c = entries[i];
    const std::string item = "/changeLog/" + std::to_string(first + i);
    expect_.owned.insert(item);
    expect_.owned_container.insert(item);
    expect_.values[item + "/at"] = Str(c.at);
    expect_.values[item + "/actor"] = Str(c.actor);
    expect_.values[item + "/from"] = c.from.empty() ? Null() : Str(c.from);
    expect_.values[item + "/to"] = Str(c.to);
    if (!c.reason.empty()) expect_.values[item + "/reason"] = Str(c.reason);
    if (!c.trace.empty()) expect_.values[item + "/trace"] = Str(c.trace);
  }
}

Status Editor::AppendChangeLog(const std::vector<ChangeLogEntry>& entries) {
  const Node& root = Root();
  const MapEntry* e = root.Find("changeLog");
  if (e == nullptr) {
    if (root_flow_) return FlowInsert("/changeLog", RootId(), "");
    ExpectChangeLog(entries, 0);
    const int col = Column(root.entries[0].key_offset);
    std::vector<std::string> lines{Spaces(col) + "changeLog:"};
    for (std::string& line : ChangeLogLines(entries, std::nullopt, col + seq_indent_)) {
      lines.push_back(std::move(line));
    }
    AddLines(EntryEnd(RootId(), root.entries.size() - 1), lines);
    return Status::Ok();
  }
  if (Status problem = ContainerProblem(*e, "/changeLog", root_flow_); !problem.ok()) return problem;
  const Node& list = N(e->value);
  Site site = ValueSite(*e, root_flow_);
  if (list.kind == NodeKind::kNull || (list.kind == NodeKind::kSeq && site.kind == Site::kFlowEmpty)) {
    ExpectChangeLog(entries, 0);
    return ReplaceWithBlock(*e, "/changeLog",
                            ChangeLogLines(entries, std::nullopt, Column(e->key_offset) + seq_indent_));
  }
  if (list.kind != NodeKind::kSeq) {
    return CannotEdit("/changeLog", site.begin, "it is " + WithArticle(list.kind) + ", not a list");
  }
  if (IsFlow(e->value)) {
    return CannotEdit("/changeLog", site.begin,
                      "it is a flow list ([...]); write it in block style so the engine can add items");
  }
  ExpectChangeLog(entries, list.items.size());
  AddLines(SeqEnd(e->value), ChangeLogLines(entries, e->value, Column(SkipProperties(list.offset))));
  return Status::Ok();
}

Status Editor::Apply(const SpecEdits& edits) {
  const Node& root = Root();
  if (root.kind != NodeKind::kMap) {
    return Error{"cannot edit the file: its top level is " + WithArticle(root.kind) + ", not a mapping"};
  }
  if (root.entries.empty()) return Error{"cannot edit the file: its top-level mapping is empty"};
  root_flow_ = IsFlow(RootId());
  Status st;
  if (edits.status) st = SetStatus(*edits.status);
  if (st.ok() && edits.updated_at) st = SetUpdatedAt(*edits.updated_at);
  if (st.ok()) st = EditTasks(edits.tasks);
  if (st.ok() && edits.progress) st = SetProgress(*edits.progress);
  if (st.ok() && !edits.append_changelog.empty()) st = AppendChangeLog(edits.append_changelog);
  return st;
}

// The text with every splice applied. Lines inserted at one offset go the
// more indented first (a new changeLog item before a new top-level key that
// follows the list), else in the order they were made (a new progress block
// before a new changeLog).
Result<std::string> Editor::Text() const {
  std::vector<Splice> sorted = splices_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Splice& a, const Splice& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.column > b.column;
  });
  std::string out;
  size_t pos = 0;
  for (const Splice& s : sorted) {
    if (s.begin < pos) {
      return Error{"cannot write back safely: two edits overlap at " + Where(s.begin) +
                   "; the file is left alone"};
    }
    out.append(t_.substr(pos, s.begin - pos));
    out += s.text;
    pos = s.end;
  }
  out.append(t_.substr(pos));
  return out;
}

// ---------------------------------------------------------------------------
// The self-check: the edited text loads to the same tree except where the
// edits own it, and holds the new values there. The scans above read YAML
// the way the YAML spec has it; yaml-cpp accepts a few things it does not
// (continuation lines further left than their key, a lone CR as a line
// break), and a block scalar at the very end of a file without a final
// line break would gain one from any line added after it. Those are
// refused here rather than written.

struct Flat {
  std::string path;
  const Node* node;
};

void Flatten(const Document& d, NodeId id, const std::string& path, std::vector<Flat>* out) {
  const Node& n = d.node(id);
  out->push_back({path, &n});
  for (const MapEntry& e : n.entries) Flatten(d, e.value, path + "/" + EscapePointerToken(e.key), out);
  for (size_t i = 0; i < n.items.size(); ++i) Flatten(d, n.items[i], path + "/" + std::to_string(i), out);
}

bool IsOwned(const Expectations& x, const std::string& path) {
  if (x.owned_container.count(path) != 0) return true;
  for (const std::string& p : x.owned) {
    if (path.compare(0, p.size(), p) == 0 && (path.size() == p.size() || path[p.size()] == '/')) return true;
  }
  return false;
}

bool SameNode(const Node& a, const Node& b) {
  if (a.kind != b.kind) return false;
  if (!a.is_scalar()) return true;  // children are compared on their own
  return a.kind == NodeKind::kNull || (a.quoted == b.quoted && a.text == b.text);
}

Status Verify(const Document& before, std::string_view text, const Expectations& x) {
  Document after;
  Finding problem;
  if (!LoadYaml(text, LoadLimits{}, &after, &problem)) {
    return Error{"cannot write back safely: the edited text would not load (" + problem.message +
                 "); the file is left alone"};
  }
  std::vector<Flat> a, b;
  Flatten(before, before.root_id(), "", &a);
  Flatten(after, after.root_id(), "", &b);
  auto drop_owned = [&](std::vector<Flat>* v) {
    v->erase(std::remove_if(v->begin(), v->end(), [&](const Flat& f) { return IsOwned(x, f.path); }),
             v->end());
  };
  std::map<std::string, const Node*> owned_after;
  for (const Flat& f : b) {
    if (IsOwned(x, f.path)) owned_after[f.path] = f.node;
  }
  drop_owned(&a);
  drop_owned(&b);
  auto fail = [](const std::string& path) {
    return Error{"cannot write back safely: the edit would also change " + (path.empty() ? "/" : path) +
                 "; the file is left alone"};
  };
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size()) return fail(i < a.size() ? a[i].path : b[i].path);
    if (a[i].path != b[i].path || !SameNode(*a[i].node, *b[i].node)) return fail(a[i].path);
  }
  for (const auto& [path, value] : x.values) {
    auto it = owned_after.find(path);
    if (it == owned_after.end() || !Holds(*it->second, value)) return fail(path);
  }
  for (const auto& [path, node] : owned_after) {
    if (node->is_scalar() && x.values.count(path) == 0) return fail(path);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------

Status CheckNewValues(const SpecEdits& edits) {
  std::vector<std::pair<std::string, const std::string*>> values;
  if (edits.status) values.push_back({"/status", &*edits.status});
  if (edits.updated_at) values.push_back({"/metadata/updatedAt", &*edits.updated_at});
  for (const TaskEdit& t : edits.tasks) {
    if (t.status) values.push_back({"the status of task " + t.task_id, &*t.status});
    if (t.assigned_to && t.assigned_to->has_value()) {
      values.push_back({"the assignedTo of task " + t.task_id, &**t.assigned_to});
    }
    if (t.diff_path) values.push_back({"the diffPath of task " + t.task_id, &*t.diff_path});
  }
  for (const ChangeLogEntry& c : edits.append_changelog) {
    for (const std::string* s : {&c.at, &c.actor, &c.from, &c.to, &c.reason, &c.trace}) {
      values.push_back({"a changeLog entry", s});
    }
  }
  for (const auto& [what, value] : values) {
    if (!IsValidUtf8(*value)) return Error{"the new value for " + what + " is not valid UTF-8"};
  }
  return Status::Ok();
}

Status Load(const SourceText& source, size_t bom, Document* doc) {
  int line = 0, column = 0;
  if (auto bad = source.CheckEncoding()) {
    source.Position(bad->offset > bom ? bad->offset - bom : 0, &line, &column);
    return Error{"the file does not load (line " + std::to_string(line) + ", column " +
                 std::to_string(column) + "): " + bad->message};
  }
  Finding problem;
  if (!LoadYaml(source.body(), LoadLimits{}, doc, &problem)) {
    source.Position(problem.offset, &line, &column);
    return Error{"the file does not load (line " + std::to_string(line) + ", column " +
                 std::to_string(column) + "): " + problem.message};
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ApplyEdits(std::string_view original, const SpecEdits& edits) {
  SourceText source(original);
  const size_t bom = original.size() - source.body().size();
  Document doc;
  if (Status st = Load(source, bom, &doc); !st.ok()) return st.error();
  if (Status st = CheckNewValues(edits); !st.ok()) return st.error();
  Editor editor(source.body(), doc, source);
  if (Status st = editor.Apply(edits); !st.ok()) return st.error();
  Result<std::string> body = editor.Text();
  if (!body.ok()) return body.error();
  if (*body == source.body()) return std::string(original);
  if (Status st = Verify(doc, *body, editor.expectations()); !st.ok()) return st.error();
  return std::string(original.substr(0, bom)) + *body;
}

}  // namespace specd
