// The Editor's reading of the file's layout: lines and positions, where a
// value, an entry, a block and a list end (as the YAML spec reads them).
#include <cstring>
#include <string>
#include <vector>

#include "engine/writeback_editor.h"

namespace specd::writeback_internal {

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

}  // namespace specd::writeback_internal
