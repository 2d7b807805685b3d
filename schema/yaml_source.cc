#include "schema/yaml_source.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "schema/source_text.h"

namespace specd {

namespace {

bool IsWhite(char c) {
  return c == ' ' || c == '\t';
}

bool IsBreakOrWhite(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The escape at s[*i] (just past the backslash) appended to `out`; false
// for an escape YAML does not define.
bool Unescape(std::string_view s, size_t* i, std::string* out) {
  if (*i >= s.size()) return false;
  char c = s[(*i)++];
  switch (c) {
    case '0':
      *out += '\0';
      return true;
    case 'a':
      *out += '\a';
      return true;
    case 'b':
      *out += '\b';
      return true;
    case 't':
    case '\t':
      *out += '\t';
      return true;
    case 'n':
      *out += '\n';
      return true;
    case 'v':
      *out += '\v';
      return true;
    case 'f':
      *out += '\f';
      return true;
    case 'r':
      *out += '\r';
      return true;
    case 'e':
      *out += '\x1B';
      return true;
    case ' ':
      *out += ' ';
      return true;
    case '"':
      *out += '"';
      return true;
    case '/':
      *out += '/';
      return true;
    case '\\':
      *out += '\\';
      return true;
    case 'N':
      AppendUtf8(0x85, out);
      return true;
    case '_':
      AppendUtf8(0xA0, out);
      return true;
    case 'L':
      AppendUtf8(0x2028, out);
      return true;
    case 'P':
      AppendUtf8(0x2029, out);
      return true;
    default:
      break;
  }
  size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (digits == 0 || *i + digits > s.size()) return false;
  uint32_t cp = 0;
  for (size_t k = 0; k < digits; ++k) {
    char h = s[*i + k];
    int v = h >= '0' && h <= '9'   ? h - '0'
            : h >= 'a' && h <= 'f' ? h - 'a' + 10
            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                   : -1;
    if (v < 0) return false;
    cp = cp * 16 + static_cast<uint32_t>(v);
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  *i += digits;
  AppendUtf8(cp, out);
  return true;
}

// Whether s[at] is preceded by an odd number of backslashes.
bool Escaped(std::string_view s, size_t at) {
  size_t n = 0;
  while (at > n && s[at - n - 1] == '\\') ++n;
  return n % 2 == 1;
}

// One line of a quoted scalar, as the text between two breaks.
struct RawLine {
  std::string_view text;
  bool escaped_break = false;  // ends in '\' (double quotes): the break is no fold
};

bool IsDocumentMarkerLine(std::string_view text, size_t line) {
  std::string_view three = text.substr(line, 3);
  if (three != "---" && three != "...") return false;
  return line + 3 >= text.size() || IsBreakOrWhite(text[line + 3]);
}

size_t NextLine(std::string_view text, size_t p) {
  size_t nl = text.find('\n', p);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

}  // namespace

size_t ClosingQuote(std::string_view text, size_t open) {
  char q = text[open];
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] != q) continue;
    if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
      ++i;
      continue;
    }
    return i;
  }
  return std::string_view::npos;
}

std::optional<std::string> MultiLineQuotedValue(std::string_view text, size_t open, size_t close) {
  const bool dq = text[open] == '"';
  std::string_view body = text.substr(open + 1, close - open - 1);
  std::vector<RawLine> lines;
  for (size_t start = 0;;) {
    size_t nl = body.find('\n', start);
    std::string_view line =
        body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(RawLine{line, false});
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  // Trim: the first line's end, the inner lines' both sides, the last
  // line's start. An escaped space or tab is content, not trimmed.
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view& l = lines[i].text;
    if (i > 0) {
      while (!l.empty() && IsWhite(l.front())) l.remove_prefix(1);
    }
    if (i + 1 < lines.size()) {
      if (dq && !l.empty() && l.back() == '\\' && !Escaped(l, l.size() - 1)) {
        lines[i].escaped_break = true;
        l.remove_suffix(1);
        continue;  // the white space before an escaped break is kept
      }
      while (!l.empty() && IsWhite(l.back()) && !(dq && Escaped(l, l.size() - 1))) l.remove_suffix(1);
    }
  }
  std::string out;
  size_t empty = 0;  // empty lines since the last line with content
  bool escaped = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const RawLine& line = lines[i];
    if (i > 0) {
      if (line.text.empty() && !line.escaped_break && i + 1 < lines.size()) {
        ++empty;
        continue;
      }
      // The break before this line: a space, or one line feed per empty
      // line (after an escaped break, only those).
      if (empty == 0 && !escaped) {
        out += ' ';
      } else {
        out.append(empty, '\n');
      }
      empty = 0;
    }
    std::string_view l = line.text;
    for (size_t k = 0; k < l.size();) {
      if (dq && l[k] == '\\') {
        ++k;
        if (!Unescape(l, &k, &out)) return std::nullopt;
      } else if (!dq && l[k] == '\'') {
        out += '\'';
        k += 2;
      } else {
        out += l[k++];
      }
    }
    escaped = line.escaped_break;
  }
  return out;
}

std::optional<TextProblem> GluedComment(std::string_view text, size_t after) {
  if (after >= text.size() || text[after] != '#') return std::nullopt;
  return TextProblem{after, "a comment needs a space before its '#'; write ' #'"};
}

size_t BlockHeaderEnd(std::string_view text, size_t header) {
  size_t p = header + 1;
  for (int k = 0;
       k < 2 && p < text.size() && (text[p] == '+' || text[p] == '-' || (text[p] >= '1' && text[p] <= '9'));
       ++k) {
    ++p;
  }
  return p;
}

std::optional<TextProblem> CheckFlowCollection(std::string_view text, size_t open) {
  std::vector<char> closers;
  std::optional<TextProblem> found;
  auto note = [&](size_t at, std::string message) {
    if (!found) found = TextProblem{at, std::move(message)};
  };
  auto glued = [&](size_t after) {
    if (auto g = GluedComment(text, after)) note(g->offset, g->message);
  };
  bool expect_item = true;  // after '[', '{' or ','
  bool value = false;       // after a key's ':'
  for (size_t i = open; i < text.size();) {
    char c = text[i];
    if (value && IsBreakOrWhite(c)) {
      ++i;
      continue;
    }
    if (c == '[' || c == '{') {
      closers.push_back(c == '[' ? ']' : '}');
      expect_item = true;
      glued(++i);
    } else if (c == ']' || c == '}') {
      if (closers.empty() || closers.back() != c) return std::nullopt;  // yaml-cpp's to report
      closers.pop_back();
      expect_item = false;
      glued(++i);
      if (closers.empty()) return found;
    } else if (c == ',') {
      if (expect_item) {
        note(i, closers.back() == ']' ? "an empty list item: nothing stands before this ','; remove it"
                                      : "an empty mapping entry: nothing stands before this ','; remove it");
      }
      expect_item = true;
      glued(++i);
    } else if (IsBreakOrWhite(c)) {
      ++i;
    } else if (c == '#') {  // a comment: to the end of the line
      i = NextLine(text, i);
    } else if (c == '"' || c == '\'') {
      size_t close = ClosingQuote(text, i);
      if (close == std::string_view::npos) return std::nullopt;
      expect_item = false;
      glued(i = close + 1);
    } else {
      // A plain scalar (it goes on past spaces: "[a -]" is the text "a -"),
      // a tag, an anchor... Only at its start can a '-' stand alone.
      bool starts = expect_item || value;
      if (starts && c == '-' && (i + 1 == text.size() || std::strchr(" \t\r\n,[]{}", text[i + 1]))) {
        note(i, "a '-' alone is no list item inside '[ ]'; quote it ('-') to mean the text");
      }
      expect_item = false;
      while (i < text.size() && !std::strchr(",[]{} \t\r\n", text[i])) ++i;
      value = text[i - 1] == ':';  // "k: -": the value starts next
      continue;
    }
    value = false;
  }
  return std::nullopt;
}

std::optional<RootBlockScalar> ZeroIndentedRootBlockScalar(std::string_view text) {
  // The first line that is not blank or a comment: "--- |" or "--- >".
  size_t line = 0;
  while (line < text.size()) {
    size_t p = line;
    while (p < text.size() && IsWhite(text[p])) ++p;
    if (p < text.size() && text[p] != '\n' && text[p] != '\r' && text[p] != '#') break;
    line = NextLine(text, line);
  }
  if (text.substr(line, 4) != "--- ") return std::nullopt;
  size_t header = line + 3;
  while (header < text.size() && text[header] == ' ') ++header;
  if (header >= text.size() || (text[header] != '|' && text[header] != '>')) return std::nullopt;
  const bool folded = text[header] == '>';
  size_t p = header + 1;
  char chomp = ' ';
  if (p < text.size() && (text[p] == '+' || text[p] == '-')) chomp = text[p++];
  // After the header: white space, then nothing or a comment.
  size_t q = p;
  while (q < text.size() && IsWhite(text[q])) ++q;
  if (q < text.size() && text[q] != '\n' && text[q] != '\r' && !(text[q] == '#' && q > p))
    return std::nullopt;
  const size_t first = NextLine(text, header);
  // Only when the content starts at the left margin: the first line with
  // anything on it is not indented, and no empty line before it is.
  size_t l = first;
  while (l < text.size() && (text[l] == '\n' || text[l] == '\r')) l = NextLine(text, l);
  if (l >= text.size() || IsWhite(text[l]) || IsDocumentMarkerLine(text, l)) return std::nullopt;

  RootBlockScalar r;
  r.header = header;
  std::string& out = r.value;
  size_t empty = 0;
  bool any = false, prev_normal = false, last_has_break = false;
  for (l = first; l < text.size() && !IsDocumentMarkerLine(text, l); l = NextLine(text, l)) {
    size_t next = NextLine(text, l);
    size_t end = next;
    if (end > l && text[end - 1] == '\n') --end;
    if (end > l && text[end - 1] == '\r') --end;
    std::string_view content = text.substr(l, end - l);
    if (content.empty()) {
      ++empty;
      continue;
    }
    bool normal = !IsWhite(content.front());
    if (!any) {
      out.append(empty, '\n');
    } else if (folded && prev_normal && normal) {
      if (empty == 0) {
        out += ' ';
      } else {
        out.append(empty, '\n');
      }
    } else {
      out.append(empty + 1, '\n');
    }
    out += content;
    any = true;
    empty = 0;
    prev_normal = normal;
    last_has_break = next > end;
  }
  r.end = l;
  if (chomp == '+') {
    if (any && last_has_break) out += '\n';
    out.append(empty, '\n');
  } else if (chomp == ' ' && any && last_has_break) {
    out += '\n';
  }
  return r;
}

bool IsTabbedBlankLine(std::string_view text, size_t line) {
  bool tab = false;
  size_t p = line;
  for (; p < text.size() && IsWhite(text[p]); ++p) tab = tab || text[p] == '\t';
  return tab && (p == text.size() || text[p] == '\n' || text[p] == '\r' || text[p] == '#');
}

}  // namespace specd
