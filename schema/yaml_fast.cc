// A fast path for the YAML that spec files are made of: block mappings and
// sequences, one-line plain and quoted scalars, one-line flow sequences of
// scalars, literal block scalars, comments. yaml-cpp scans at ~12 MB/s here;
// this reads the same files several times faster. It accepts a text only
// when it is sure to build exactly the tree yaml-cpp would (same values,
// kinds and byte offsets); anything else (anchors, tags, flow mappings,
// escapes, multi-line plain scalars, folded scalars, errors of any kind)
// makes it give up, and LoadYaml hands the text to yaml-cpp, which stays
// the reference. tests/yaml_fast_test.cc and the fuzzer hold the two equal.
#include <cctype>
#include <cstring>
#include <unordered_set>

#include "schema/yaml_tree.h"

namespace specd {

namespace {

struct Line {
  size_t start;    // first byte
  size_t content;  // first non-space byte
  size_t end;      // end of text, before "\r\n" or "\n"
  bool blank;      // only spaces, or a comment
  size_t indent() const { return content - start; }
};

struct GiveUp {};

bool IsIndicator(char c) {
  return std::strchr("-?:,[]{}#&*!|>'\"%@`", c) != nullptr;
}

}  // namespace

class FastParser {
 public:
  FastParser(std::string_view text, const LoadLimits& limits, Document* doc)
      : t_(text), limits_(limits), doc_(doc) {}

  bool Parse() {
    if (!PlainBytes()) return false;
    try {
      SplitLines();
      // About one node a line (more on a line with a flow sequence): one
      // allocation instead of a chain of reallocations, node by node.
      doc_->nodes_.reserve(lines_.size() + lines_.size() / 2);
      size_t li = NextContent(0);
      if (li < lines_.size() && IsDocumentStart(lines_[li])) li = NextContent(li + 1);
      if (li >= lines_.size()) return false;
      li_ = li;
      NodeId root = ParseBlockAt(li_, 0);
      if (li_ < lines_.size()) return false;  // trailing content
      doc_->root_ = root;
      return true;
    } catch (const GiveUp&) {
      return false;
    }
  }

 private:
  [[noreturn]] static void Quit() { throw GiveUp{}; }

  // Tabs, control bytes and the Unicode line breaks (U+0085, U+2028,
  // U+2029) have rules of their own in YAML: not for the fast path.
  bool PlainBytes() const {
    for (size_t i = 0; i < t_.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(t_[i]);
      if (c >= 0x20 && c < 0x7F) continue;
      if (c == '\n' || c == '\r') continue;
      if (c < 0x80) return false;
      if (c == 0xC2 && i + 1 < t_.size() && static_cast<unsigned char>(t_[i + 1]) == 0x85) return false;
      if (c == 0xE2 && i + 2 < t_.size() && static_cast<unsigned char>(t_[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(t_[i + 2]) & 0xFE) == 0xA8) {
        return false;
      }
      if (c == 0xEF && i + 2 < t_.size() && static_cast<unsigned char>(t_[i + 1]) == 0xBB &&
          static_cast<unsigned char>(t_[i + 2]) == 0xBF) {
        return false;  // a BOM inside the text
      }
    }
    return true;
  }

  void SplitLines() {
    size_t start = 0;
    while (start < t_.size()) {
      size_t nl = t_.find('\n', start);
      size_t next = nl == std::string_view::npos ? t_.size() : nl + 1;
      size_t end = nl == std::string_view::npos ? t_.size() : nl;
      if (nl != std::string_view::npos && end > start && t_[end - 1] == '\r') --end;  // only "\r\n" breaks
      if (t_.substr(start, end - start).find('\r') != std::string_view::npos) Quit();
      // A line starting "..." ends the document (or is plain text that only
      // looks like it): yaml-cpp's path decides what follows it.
      if (t_.substr(start, 3) == "...") Quit();
      size_t content = start;
      while (content < end && t_[content] == ' ') ++content;
      bool blank = content == end || t_[content] == '#';
      lines_.push_back(Line{start, content, end, blank});
      start = next;
    }
  }

  size_t NextContent(size_t li) const {
    while (li < lines_.size() && lines_[li].blank) ++li;
    return li;
  }

  bool IsDocumentStart(const Line& l) const {
    if (l.indent() != 0 || t_.substr(l.content, 3) != "---") return false;
    size_t p = l.content + 3;
    if (p == l.end) return true;
    if (t_[p] != ' ') return false;
    while (p < l.end && t_[p] == ' ') ++p;
    if (p < l.end && t_[p] != '#') Quit();  // "--- value": not for us
    return true;
  }

  bool IsSeqEntry(size_t p, size_t end) const { return t_[p] == '-' && (p + 1 == end || t_[p + 1] == ' '); }

  // The position of the ':' that ends a plain key starting at p, or npos.
  size_t KeyColon(size_t p, size_t end) const {
    if (IsIndicator(t_[p])) return std::string_view::npos;
    for (size_t i = p; i < end; ++i) {
      char c = t_[i];
      if (c == '#' && t_[i - 1] == ' ') return std::string_view::npos;
      if (c == ':' && (i + 1 == end || t_[i + 1] == ' ')) return i;
    }
    return std::string_view::npos;
  }

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

  NodeId Scalar(std::string text, size_t offset, bool quoted) {
    NodeId id = NewNode(NodeKind::kString, offset);
    Node& n = doc_->nodes_[id];
    CountBytes(text.size());
    n.text = std::move(text);
    if (quoted) {
      n.quoted = true;
    } else {
      TypePlainScalar(n.text, &n);
    }
    return id;
  }

  struct Depth {
    explicit Depth(FastParser* p) : p_(p) {
      if (++p_->depth_ > p_->limits_.max_depth) Quit();
    }
    ~Depth() { --p_->depth_; }
    FastParser* p_;
  };

  // ---- block structure ----
  // Every Parse* function starts with li_ on the line holding its first
  // token and leaves li_ on the first content line after what it used.

  NodeId ParseBlockAt(size_t li, size_t parent_indent) {
    const Line& l = lines_[li];
    if (IsSeqEntry(l.content, l.end)) return ParseSeq(l.indent());
    if (KeyColon(l.content, l.end) != std::string_view::npos) return ParseMap(l.indent(), l.content);
    Quit();
  }

  // A mapping whose keys sit at column `indent`; the first key is at
  // `first` (mid-line for a mapping inside a sequence entry).
  NodeId ParseMap(size_t indent, size_t first) {
    Depth depth(this);
    NodeId map = NewNode(NodeKind::kMap, first);
    std::unordered_set<std::string_view> keys;
    size_t kp = first;
    while (true) {
      const Line line = lines_[li_];
      size_t colon = KeyColon(kp, line.end);
      if (colon == std::string_view::npos || t_[colon - 1] == ' ') Quit();
      std::string_view key = t_.substr(kp, colon - kp);
      if (key == "<<" || key == "~" || key == "null" || key == "Null" || key == "NULL") Quit();
      if (!keys.insert(key).second) Quit();  // a duplicate: the yaml-cpp path reports it
      if (++nodes_ > limits_.max_nodes) Quit();
      CountBytes(key.size());
      doc_->nodes_[map].entries.push_back(MapEntry{std::string(key), kp, 0});
      NodeId value = ParseValue(colon + 1, line, indent, true);
      doc_->nodes_[map].entries.back().value = value;
      if (li_ >= lines_.size() || lines_[li_].indent() < indent) return map;
      if (lines_[li_].indent() > indent) Quit();
      kp = lines_[li_].content;
      if (IsSeqEntry(kp, lines_[li_].end)) return map;  // not ours: the parent decides
    }
  }

  // A sequence whose "-" entries sit at column `indent`.
  NodeId ParseSeq(size_t indent) {
    Depth depth(this);
    NodeId seq = NewNode(NodeKind::kSeq, lines_[li_].content);
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
      doc_->nodes_[seq].items.push_back(item);
      if (li_ >= lines_.size() || lines_[li_].indent() < indent) return seq;
      if (lines_[li_].indent() > indent) Quit();
      if (!IsSeqEntry(lines_[li_].content, lines_[li_].end)) return seq;  // the parent's next key
    }
  }

  // The value after "key:" or "-" at p on `line` (line li_).
  NodeId ParseValue(size_t p, const Line& line, size_t indent, bool in_map) {
    while (p < line.end && t_[p] == ' ') ++p;
    if (p == line.end || t_[p] == '#') {
      if (p < line.end && t_[p - 1] != ' ') Quit();
      size_t next = NextContent(li_ + 1);
      if (next >= lines_.size()) Quit();  // a null at the very end: left to yaml-cpp
      const Line& nl = lines_[next];
      if (nl.indent() > indent || (in_map && nl.indent() == indent && IsSeqEntry(nl.content, nl.end))) {
        li_ = next;
        return ParseBlockAt(next, indent);
      }
      li_ = next;
      return NewNode(NodeKind::kNull, nl.content);  // yaml-cpp marks it at the next token
    }
    NodeId id;
    char c = t_[p];
    if (c == '"' || c == '\'') {
      size_t end;
      std::string text = Quoted(p, line.end, &end);
      Trailing(end, line.end);
      id = Scalar(std::move(text), p, true);
    } else if (c == '[') {
      id = FlowSeq(p, line.end);
    } else if (c == '|') {
      return LiteralBlock(p, line, indent);
    } else if (IsIndicator(c) && !(c == '-' && p + 1 < line.end && t_[p + 1] != ' ')) {
      Quit();
    } else {
      id = Plain(p, line.end);
    }
    li_ = NextContent(li_ + 1);
    if (li_ < lines_.size() && lines_[li_].indent() > indent) Quit();  // a continuation line
    return id;
  }

  // ---- scalars ----

  std::string Quoted(size_t p, size_t end, size_t* after) const {
    char q = t_[p];
    std::string out;
    size_t i = p + 1;
    while (true) {
      if (i >= end) Quit();  // multi-line: not for us
      char c = t_[i];
      if (q == '"' && c == '\\') Quit();
      if (c == q) {
        if (q == '\'' && i + 1 < end && t_[i + 1] == '\'') {
          out += '\'';
          i += 2;
          continue;
        }
        *after = i + 1;
        return out;
      }
      out += c;
      ++i;
    }
  }

  // After a closing quote or bracket: spaces, then nothing or a comment.
  void Trailing(size_t p, size_t end) const {
    if (p == end) return;
    if (t_[p] != ' ') Quit();
    while (p < end && t_[p] == ' ') ++p;
    if (p < end && t_[p] != '#') Quit();
  }

  NodeId Plain(size_t p, size_t end) {
    size_t stop = end;
    for (size_t i = p; i < end; ++i) {
      char c = t_[i];
      if (c == '#' && i > p && t_[i - 1] == ' ') {
        stop = i;
        break;
      }
      if (c == ':' && (i + 1 == end || t_[i + 1] == ' ')) Quit();
    }
    while (stop > p && t_[stop - 1] == ' ') --stop;
    return Scalar(std::string(t_.substr(p, stop - p)), p, false);
  }

  NodeId FlowSeq(size_t p, size_t end) {
    Depth depth(this);
    NodeId seq = NewNode(NodeKind::kSeq, p);
    size_t i = p + 1;
    bool expect_item = true;
    while (true) {
      while (i < end && t_[i] == ' ') ++i;
      if (i >= end) Quit();
      char c = t_[i];
      if (c == ']') {
        if (expect_item && !doc_->nodes_[seq].items.empty()) Quit();  // trailing comma
        Trailing(i + 1, end);
        return seq;
      }
      if (!expect_item) {
        if (c != ',') Quit();
        ++i;
        expect_item = true;
        continue;
      }
      NodeId item;
      if (c == '"' || c == '\'') {
        size_t after;
        std::string text = Quoted(i, end, &after);
        item = Scalar(std::move(text), i, true);
        i = after;
      } else {
        if (IsIndicator(c) &&
            !(c == '-' && i + 1 < end && t_[i + 1] != ' ' && t_[i + 1] != ',' && t_[i + 1] != ']')) {
          Quit();  // "[-]" is no list item: the yaml-cpp path says so
        }
        size_t j = i;
        while (j < end && t_[j] != ',' && t_[j] != ']') {
          // yaml-cpp's flow scanner has quirks (it rejects "[o?]"): inside
          // [...] only plainly safe characters take the fast path.
          unsigned char c = static_cast<unsigned char>(t_[j]);
          if (!(std::isalnum(c) || c >= 0x80 || std::strchr(" _./+-", c))) Quit();
          ++j;
        }
        size_t stop = j;
        while (stop > i && t_[stop - 1] == ' ') --stop;
        if (stop == i) Quit();
        item = Scalar(std::string(t_.substr(i, stop - i)), i, false);
        i = j;
      }
      doc_->nodes_[seq].items.push_back(item);
      expect_item = false;
    }
  }

  // "|" or "|-": the lines below, more indented than `indent`.
  NodeId LiteralBlock(size_t p, const Line& line, size_t indent) {
    size_t h = p + 1;
    bool strip = false;
    if (h < line.end && t_[h] == '-') {
      strip = true;
      ++h;
    }
    Trailing(h, line.end);
    auto empty = [&](const Line& l) { return l.content == l.end; };
    size_t first = li_ + 1;
    size_t li = first;
    while (li < lines_.size() && empty(lines_[li])) ++li;
    if (li >= lines_.size() || lines_[li].indent() <= indent) Quit();  // an empty scalar
    const size_t block_indent = lines_[li].indent();
    std::string text;
    size_t newlines = 0;
    bool any = false;
    size_t last = first;
    for (li = first; li < lines_.size(); ++li) {
      const Line& l = lines_[li];
      if (empty(l)) {
        if (l.end - l.start > block_indent) Quit();  // spaces that would be content
        ++newlines;
        continue;
      }
      if (l.indent() < block_indent) break;
      text.append(any ? newlines + 1 : newlines, '\n');
      newlines = 0;
      any = true;
      text.append(t_.substr(l.start + block_indent, l.end - l.start - block_indent));
      last = li;
    }
    if (lines_[last].end == t_.size()) Quit();  // no final line break: left to yaml-cpp
    if (!strip) text += '\n';
    li_ = NextContent(last + 1);
    if (li_ < lines_.size() && lines_[li_].indent() > indent) Quit();
    return Scalar(std::move(text), p, true);
  }

  std::string_view t_;
  const LoadLimits& limits_;
  Document* doc_;
  std::vector<Line> lines_;
  size_t li_ = 0;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  int depth_ = 0;
};

bool LoadYamlFast(std::string_view text, const LoadLimits& limits, Document* doc) {
  *doc = Document();
  FastParser parser(text, limits, doc);
  if (parser.Parse()) return true;
  *doc = Document();
  return false;
}

}  // namespace specd
