// The fast YAML path's scalars and one-line flow sequences (see
// yaml_fast.cc for what the path takes and why).
#include <cctype>
#include <cstring>

#include "schema/yaml_fast_parser.h"

namespace specd {

using fast_yaml::IsIndicator;

// The value of the quoted scalar at p: a view of the text, or of
// unquoted_ when it holds a doubled '' (valid until the next call).
std::string_view FastParser::Quoted(size_t p, size_t end, size_t* after) {
  const char q = t_[p];
  size_t i = p + 1;
  bool doubled = false;
  while (true) {
    if (i >= end) Quit();  // multi-line: not for us
    char c = t_[i];
    if (q == '"' && c == '\\') Quit();
    if (c == q) {
      if (q == '\'' && i + 1 < end && t_[i + 1] == '\'') {
        doubled = true;
        i += 2;
        continue;
      }
      break;
    }
    ++i;
  }
  *after = i + 1;
  std::string_view raw = t_.substr(p + 1, i - p - 1);
  if (!doubled) return raw;
  unquoted_.clear();
  for (size_t k = 0; k < raw.size(); ++k) {
    unquoted_ += raw[k];
    if (raw[k] == '\'') ++k;  // the second of a pair
  }
  return unquoted_;
}

// After a closing quote or bracket, an alias or a block header: spaces,
// then nothing or a comment.
void FastParser::Trailing(size_t p, size_t end) const {
  if (p == end) return;
  if (t_[p] != ' ') Quit();
  while (p < end && t_[p] == ' ') ++p;
  if (p < end && t_[p] != '#') Quit();
}

NodeId FastParser::Plain(size_t p, size_t end) {
  size_t stop = end;
  for (size_t i = HashOrColon(p, end); i < end; i = HashOrColon(i + 1, end)) {
    if (t_[i] == '#') {
      if (i > p && t_[i - 1] == ' ') {
        stop = i;
        break;
      }
    } else if (i + 1 == end || t_[i + 1] == ' ') {
      Quit();  // "a: b" in a value
    }
  }
  while (stop > p && t_[stop - 1] == ' ') --stop;
  return Scalar(t_.substr(p, stop - p), p, false);
}

// "[a, 'b', *c]" on one line.
NodeId FastParser::FlowSeq(size_t p, size_t end) {
  Depth depth(this);
  NodeId seq = NewNode(NodeKind::kSeq, p);
  const size_t base = items_.size();
  size_t i = p + 1;
  bool expect_item = true;
  while (true) {
    while (i < end && t_[i] == ' ') ++i;
    if (i >= end) Quit();
    char c = t_[i];
    if (c == ']') {
      if (expect_item && items_.size() > base) Quit();  // trailing comma
      Trailing(i + 1, end);
      return TakeItems(seq, base);
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
      std::string_view text = Quoted(i, end, &after);
      item = Scalar(text, i, true);
      i = after;
    } else if (c == '*') {
      size_t after;
      item = Alias(i, end, &after);
      if (after < end && t_[after] != ' ' && t_[after] != ',' && t_[after] != ']') Quit();
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
      item = Scalar(t_.substr(i, stop - i), i, false);
      i = j;
    }
    items_.push_back(item);
    expect_item = false;
  }
}

// "|", "|-", ">" or ">-": the lines below, more indented than `indent`.
// yaml-cpp 0.7 folds a block whose lines all sit at its indentation as
// YAML says: a line break between two lines becomes a space, n empty lines
// between them n line breaks, and empty lines before the first line stay
// line breaks. Lines indented further ("more-indented") fold by rules of
// their own, where yaml-cpp and YAML differ: not for the fast path.
NodeId FastParser::BlockScalar(size_t p, const Line& line, size_t indent) {
  const bool folded = t_[p] == '>';
  size_t h = p + 1;
  bool strip = false;
  if (h < line.end && t_[h] == '-') {
    strip = true;
    ++h;
  }
  Trailing(h, line.end);  // and so no "+" (keep) and no indentation indicator
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
    if (!any) {
      text.append(newlines, '\n');
    } else if (!folded) {
      text.append(newlines + 1, '\n');
    } else if (l.indent() > block_indent) {
      Quit();  // more-indented
    } else if (newlines == 0) {
      text += ' ';
    } else {
      text.append(newlines, '\n');
    }
    newlines = 0;
    any = true;
    text.append(t_.substr(l.start + block_indent, l.end - l.start - block_indent));
    last = li;
  }
  if (lines_[last].end == t_.size()) Quit();  // no final line break: left to yaml-cpp
  if (!strip) text += '\n';
  li_ = NextContent(last + 1);
  if (li_ < lines_.size() && lines_[li_].indent() > indent) Quit();
  return Scalar(text, p, true);
}

}  // namespace specd
