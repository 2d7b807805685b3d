// A fast path for the YAML that spec files are made of. yaml-cpp costs
// ~3000 instructions a byte here; this reads the same files many times
// faster. It takes:
//   - block mappings and sequences (compact mappings in entries too);
//   - one-line plain and quoted scalars (no escapes), one-line flow
//     sequences of such scalars and of aliases, comments;
//   - literal block scalars ("|", "|-") and folded ones (">", ">-") whose
//     lines all sit at the block's indentation;
//   - anchors ("&name", [A-Za-z0-9_-]) on a value: a scalar, a flow
//     sequence, a block scalar, or a block mapping or sequence on the lines
//     below; aliases ("*name") as a whole value or a flow sequence item,
//     sharing the anchored node and counted against the limits as
//     TreeBuilder counts them (its expanded nodes, bytes and height).
// It accepts a text only when it is sure to build exactly the tree yaml-cpp
// would (same nodes, values, kinds, byte offsets and sharing); anything else
// (tags, flow mappings, escapes, multi-line plain or quoted scalars, keep
// chomping "|+" / ">+", indentation indicators, more-indented lines in a
// folded block, anchors on keys or on empty values, aliases as keys, to an
// unknown anchor or inside their own anchor, a budget of LoadLimits used
// up, errors of any kind) makes it give up, and LoadYaml hands the text to
// yaml-cpp, which stays the reference. tests/yaml_fast_test.cc and the
// fuzzer hold the two equal.
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <unordered_set>

#include "schema/yaml_fast_parser.h"

namespace specd {

using fast_yaml::GiveUp;
using fast_yaml::IsIndicator;

bool FastParser::Parse() {
  try {
    SplitLines();
    // About one node a line (more on a line with a flow sequence): one
    // allocation instead of a chain of reallocations, node by node.
    doc_->nodes_.reserve(lines_.size() + lines_.size() / 2);
    size_t li = NextContent(0);
    if (li < lines_.size() && IsDocumentStart(lines_[li])) li = NextContent(li + 1);
    if (li >= lines_.size()) return false;
    li_ = li;
    NodeId root = ParseBlockAt(li_);
    if (li_ < lines_.size()) return false;  // trailing content
    doc_->root_ = root;
    return true;
  } catch (const GiveUp&) {
    return false;
  }
}

// The first byte at or after i that is not printable ASCII (0x20-0x7E),
// or the end. Spec files are nearly all ASCII: 8 bytes at a time.
size_t FastParser::PlainRun(size_t i) const {
  const size_t n = t_.size();
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t k01 = 0x0101010101010101, k20 = k01 * 0x20, k80 = k01 * 0x80;
    for (; i + 8 <= n; i += 8) {
      uint64_t x;
      std::memcpy(&x, t_.data() + i, 8);
      // The high bit of each byte below 0x20 (x - k20, where ~x has it),
      // at 0x7F (x + k01) or from 0x80 (x). Borrows and carries run only
      // from a flagged byte to the bytes after it: the first flag is true.
      uint64_t odd = (((x - k20) & ~x) | (x + k01) | x) & k80;
      if (odd != 0) return i + static_cast<size_t>(std::countr_zero(odd)) / 8;
    }
  }
  while (i < n && static_cast<unsigned char>(t_[i]) >= 0x20 && static_cast<unsigned char>(t_[i]) < 0x7F) ++i;
  return i;
}

// The first '#' or ':' in [i, end), or end: where a key or a plain scalar
// may end. Also 8 bytes at a time, reading on past `end` while the text
// lasts (a line's end is rarely the text's).
size_t FastParser::HashOrColon(size_t i, size_t end) const {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t k01 = 0x0101010101010101, k80 = k01 * 0x80;
    for (; i < end && i + 8 <= t_.size(); i += 8) {
      uint64_t x;
      std::memcpy(&x, t_.data() + i, 8);
      // A zero byte in x ^ '#...' or x ^ ':...' flags its high bit; a
      // borrow runs only from a zero byte on: the first flag is true.
      uint64_t h = x ^ (k01 * '#'), c = x ^ (k01 * ':');
      uint64_t found = (((h - k01) & ~h) | ((c - k01) & ~c)) & k80;
      if (found != 0) return std::min(end, i + static_cast<size_t>(std::countr_zero(found)) / 8);
    }
  }
  while (i < end && t_[i] != '#' && t_[i] != ':') ++i;
  return std::min(i, end);
}

// Whether the byte at i, outside printable ASCII and no line break, may
// stay. Tabs, control bytes and the Unicode line breaks (U+0085, U+2028,
// U+2029) have rules of their own in YAML: not for the fast path. Nor is a
// BOM inside the text (the callers drop the one at its start). The callers
// (SourceText) have checked the encoding already, but tests and the fuzzer
// call LoadYamlFast directly: the check costs little here, in the one pass.
bool FastParser::PlainByte(size_t i) const {
  auto at = [&](size_t k) { return k < t_.size() ? static_cast<unsigned char>(t_[k]) : 0; };
  unsigned char c = at(i);
  if (c < 0x80) return false;
  if (c == 0xC2 && at(i + 1) == 0x85) return false;
  if (c == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) & 0xFE) == 0xA8) return false;
  if (c == 0xEF && at(i + 1) == 0xBB && at(i + 2) == 0xBF) return false;
  return true;
}

// The lines of the text, and its bytes checked, in one pass.
void FastParser::SplitLines() {
  const size_t n = t_.size();
  lines_.reserve(n / 32 + 1);  // lines of spec files run 20-40 bytes
  size_t start = 0;
  while (start < n) {
    // A line starting "..." ends the document (or is plain text that only
    // looks like it): yaml-cpp's path decides what follows it.
    if (t_.substr(start, 3) == "...") Quit();
    size_t content = start;
    while (content < n && t_[content] == ' ') ++content;
    size_t i = content;
    size_t end;
    while (true) {
      i = PlainRun(i);
      if (i == n || t_[i] == '\n') {
        end = i;
        break;
      }
      if (t_[i] == '\r') {
        if (i + 1 == n || t_[i + 1] != '\n') Quit();  // only "\r\n" breaks
        end = i++;
        break;
      }
      if (!PlainByte(i)) Quit();
      ++i;
    }
    bool blank = content == end || t_[content] == '#';
    lines_.push_back(Line{start, content, end, blank});
    start = i + 1;
  }
}

bool FastParser::IsDocumentStart(const Line& l) const {
  if (l.indent() != 0 || t_.substr(l.content, 3) != "---") return false;
  size_t p = l.content + 3;
  if (p == l.end) return true;
  if (t_[p] != ' ') return false;
  while (p < l.end && t_[p] == ' ') ++p;
  if (p < l.end && t_[p] != '#') Quit();  // "--- value": not for us
  return true;
}

// The position of the ':' that ends a plain key starting at p, or npos.
size_t FastParser::KeyColon(size_t p, size_t end) const {
  if (IsIndicator(t_[p])) return std::string_view::npos;  // "&a key", "*a :" and the like too
  for (size_t i = HashOrColon(p, end); i < end; i = HashOrColon(i + 1, end)) {
    if (t_[i] == '#') {
      if (t_[i - 1] == ' ') return std::string_view::npos;
    } else if (i + 1 == end || t_[i + 1] == ' ') {
      return i;
    }
  }
  return std::string_view::npos;
}

// ---- block structure ----
// Every Parse* function starts with li_ on the line holding its first
// token and leaves li_ on the first content line after what it used.

NodeId FastParser::ParseBlockAt(size_t li) {
  const Line& l = lines_[li];
  if (IsSeqEntry(l.content, l.end)) return ParseSeq(l.indent());
  if (KeyColon(l.content, l.end) != std::string_view::npos) return ParseMap(l.indent(), l.content);
  Quit();
}

// A mapping whose keys sit at column `indent`; the first key is at
// `first` (mid-line for a mapping inside a sequence entry).
NodeId FastParser::ParseMap(size_t indent, size_t first) {
  Depth depth(this);
  NodeId map = NewNode(NodeKind::kMap, first);
  const size_t base = entries_.size();
  // Duplicates: a scan of the keys so far while they are few, a set once
  // there are many (as TreeBuilder::AddKey).
  constexpr size_t kLinearScan = 16;
  std::unordered_set<std::string_view> many;
  size_t kp = first;
  while (true) {
    const Line line = lines_[li_];
    size_t colon = KeyColon(kp, line.end);
    if (colon == std::string_view::npos || t_[colon - 1] == ' ') Quit();
    std::string_view key = t_.substr(kp, colon - kp);
    if (key == "<<" || key == "~" || key == "null" || key == "Null" || key == "NULL") Quit();
    const size_t mine = entries_.size();
    if (mine - base < kLinearScan) {
      for (size_t e = base; e < mine; ++e) {
        if (entries_[e].key == key) Quit();  // a duplicate: the yaml-cpp path reports it
      }
      if (mine - base + 1 == kLinearScan) {
        for (size_t e = base; e < mine; ++e) many.insert(entries_[e].key);
        many.insert(key);
      }
    } else if (!many.insert(key).second) {
      Quit();
    }
    if (++nodes_ > limits_.max_nodes) Quit();
    CountBytes(key.size());
    entries_.push_back(PendingEntry{key, kp, 0});
    NodeId value = ParseValue(colon + 1, line, indent, true);
    entries_[mine].value = value;  // the nested nodes' entries are gone by now
    bool more = li_ < lines_.size() && lines_[li_].indent() >= indent;
    if (more && lines_[li_].indent() > indent) Quit();
    // A "- " at our indentation is not ours: the parent decides.
    if (!more || IsSeqEntry(lines_[li_].content, lines_[li_].end)) break;
    kp = lines_[li_].content;
  }
  std::vector<MapEntry>& entries = doc_->nodes_[map].entries;
  entries.reserve(entries_.size() - base);
  for (size_t e = base; e < entries_.size(); ++e) {
    entries.push_back(MapEntry{std::string(entries_[e].key), entries_[e].offset, entries_[e].value});
  }
  entries_.resize(base);
  return map;
}

// A sequence whose "-" entries sit at column `indent`.
NodeId FastParser::ParseSeq(size_t indent) {
  Depth depth(this);
  NodeId seq = NewNode(NodeKind::kSeq, lines_[li_].content);
  const size_t base = items_.size();
  while (true) {
    const Line line = lines_[li_];
    size_t p = line.content + 1;
    while (p < line.end && t_[p] == ' ') ++p;
    NodeId item;
    if (p < line.end && t_[p] != '#' && KeyColon(p, line.end) != std::string_view::npos) {
      item = ParseMap(p - line.start, p);  // a mapping inside the entry
    } else {
      if (p < line.end && IsSeqEntry(p, line.end)) Quit();  // "- - x"
      item = ParseValue(p, line, indent, false);
    }
    items_.push_back(item);
    if (li_ >= lines_.size() || lines_[li_].indent() < indent) break;
    if (lines_[li_].indent() > indent) Quit();
    if (!IsSeqEntry(lines_[li_].content, lines_[li_].end)) break;  // the parent's next key
  }
  return TakeItems(seq, base);
}

// The value after "key:" or "-" at p on `line` (line li_).
NodeId FastParser::ParseValue(size_t p, const Line& line, size_t indent, bool in_map) {
  while (p < line.end && t_[p] == ' ') ++p;
  if (p < line.end && t_[p] == '&') return Anchored(p, line, indent, in_map);
  if (p < line.end && t_[p] == '*') {
    size_t after;
    NodeId id = Alias(p, line.end, &after);
    Trailing(after, line.end);
    EndValue(indent);
    return id;
  }
  return Value(p, line, indent, in_map, false);
}

// The value at p, after its anchor if `anchored`.
NodeId FastParser::Value(size_t p, const Line& line, size_t indent, bool in_map, bool anchored) {
  if (p == line.end || t_[p] == '#') {
    if (p < line.end && t_[p - 1] != ' ') Quit();
    size_t next = NextContent(li_ + 1);
    if (next >= lines_.size()) Quit();  // a null at the very end: left to yaml-cpp
    const Line& nl = lines_[next];
    if (nl.indent() > indent || (in_map && nl.indent() == indent && IsSeqEntry(nl.content, nl.end))) {
      li_ = next;
      return ParseBlockAt(next);
    }
    // An anchored null is marked at its anchor, a bare one at the next
    // token: only the bare one is ours.
    if (anchored) Quit();
    li_ = next;
    return NewNode(NodeKind::kNull, nl.content);
  }
  NodeId id;
  char c = t_[p];
  if (c == '"' || c == '\'') {
    size_t end;
    std::string_view text = Quoted(p, line.end, &end);
    Trailing(end, line.end);
    id = Scalar(text, p, true);
  } else if (c == '[') {
    id = FlowSeq(p, line.end);
  } else if (c == '|' || c == '>') {
    return BlockScalar(p, line, indent);
  } else if (IsIndicator(c) && !(c == '-' && p + 1 < line.end && t_[p + 1] != ' ')) {
    Quit();
  } else {
    id = Plain(p, line.end);
  }
  EndValue(indent);
  return id;
}

// After a one-line value: the next content line, which must not continue it.
void FastParser::EndValue(size_t indent) {
  li_ = NextContent(li_ + 1);
  if (li_ < lines_.size() && lines_[li_].indent() > indent) Quit();  // a continuation line
}

// ---- anchors and aliases ----
// yaml-cpp marks an anchored node at its '&', and an alias refers to the
// latest anchor of its name. TreeBuilder counts an alias as the anchored
// subtree expanded: its nodes and bytes against the budgets, its height
// against the depth. Here they are measured as the subtree is read.

// The end of the anchor or alias name after the indicator at p: letters,
// digits, '_' and '-' (yaml-cpp takes more; the callers decline a name
// that does not end in a space, the end of the line or a flow separator).
size_t FastParser::AnchorName(size_t p, size_t end) const {
  size_t q = p + 1;
  while (q < end && (std::isalnum(static_cast<unsigned char>(t_[q])) || t_[q] == '_' || t_[q] == '-')) ++q;
  if (q == p + 1) Quit();
  return q;
}

NodeId FastParser::Anchored(size_t p, const Line& line, size_t indent, bool in_map) {
  size_t q = AnchorName(p, line.end);
  if (q < line.end && t_[q] != ' ') Quit();
  const size_t slot = anchors_.size();
  anchors_.push_back(Anchor{t_.substr(p + 1, q - p - 1)});
  const size_t nodes = nodes_, bytes = bytes_;
  const int reach = reach_;
  reach_ = depth_;
  while (q < line.end && t_[q] == ' ') ++q;
  if (q < line.end && t_[q] == '*') Quit();  // "&a *b"
  NodeId id = Value(q, line, indent, in_map, true);
  doc_->nodes_[id].offset = p;
  Anchor& a = anchors_[slot];
  a.node = id;
  a.open = false;
  a.nodes = nodes_ - nodes;
  a.bytes = bytes_ - bytes;
  a.height = reach_ - depth_;
  reach_ = std::max(reach, reach_);
  return id;
}

// "*name" at p: the anchored node, shared. `after` is set past the name.
NodeId FastParser::Alias(size_t p, size_t end, size_t* after) {
  size_t q = AnchorName(p, end);
  std::string_view name = t_.substr(p + 1, q - p - 1);
  auto it = std::find_if(anchors_.rbegin(), anchors_.rend(), [&](const Anchor& a) { return a.name == name; });
  if (it == anchors_.rend() || it->open) Quit();  // unknown, or a cycle: the yaml-cpp path reports it
  if (nodes_ + it->nodes > limits_.max_nodes) Quit();
  if (bytes_ + it->bytes > limits_.max_expanded_bytes) Quit();
  if (depth_ + it->height > limits_.max_depth) Quit();
  nodes_ += it->nodes;
  bytes_ += it->bytes;
  reach_ = std::max(reach_, depth_ + it->height);
  *after = q;
  return it->node;
}

bool LoadYamlFast(std::string_view text, const LoadLimits& limits, Document* doc) {
  *doc = Document();
  FastParser parser(text, limits, doc);
  if (parser.Parse()) return true;
  *doc = Document();
  return false;
}

}  // namespace specd
