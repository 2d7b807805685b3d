#include "schema/source_text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace specd {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string Hex(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

// Length of the UTF-8 sequence at p, or 0 when it is not well formed
// (overlong forms, surrogates and values past U+10FFFF are rejected).
size_t Utf8SequenceLength(const unsigned char* p, size_t avail, uint32_t* cp) {
  unsigned char c = p[0];
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;
  }
  if (avail < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (p[i] & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = Utf8SequenceLength(p + i, s.size() - i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

size_t LineStartOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t nl = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  return nl == std::string_view::npos ? 0 : nl + 1;
}

LineColumn LineColumnOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  LineColumn at;
  at.line =
      1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(offset), '\n'));
  size_t start = LineStartOf(text, offset);
  at.column = 1 + static_cast<int>(CountChars(text.substr(start, offset - start)));
  return at;
}

SourceText::SourceText(std::string_view bytes) : bytes_(bytes), body_(bytes) {
  if (bytes.substr(0, kBom.size()) == kBom) {
    bom_ = kBom.size();
    body_ = bytes.substr(bom_);
  }
}

std::optional<SourceText::EncodingProblem> SourceText::CheckEncoding() const {
  if (bytes_.substr(0, 2) == "\xFF\xFE" || bytes_.substr(0, 2) == "\xFE\xFF") {
    return EncodingProblem{
        0, "the file is UTF-16 (it starts with a UTF-16 byte order mark); spec files are UTF-8"};
  }
  const auto* p = reinterpret_cast<const unsigned char*>(body_.data());
  const size_t n = body_.size();
  // Eight bytes at a time while they are all printable ASCII (most of a
  // spec file): no byte below 0x20, none 0x7F, none with the high bit set.
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto all_printable = [](uint64_t x) {
    const uint64_t below_space = (x - kOnes * 0x20) & ~x & kHighs;  // exact for bounds up to 0x80
    const uint64_t del = x ^ (kOnes * 0x7F);
    const uint64_t is_del = (del - kOnes) & ~del & kHighs;
    return ((x & kHighs) | below_space | is_del) == 0;
  };
  size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if (all_printable(word)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      ++i;
      continue;
    }
    if (c < 0x80) {
      return EncodingProblem{bom_ + i,
                             "control byte " + Hex(c) + " is not allowed in YAML (is this a binary file?)"};
    }
    uint32_t cp = 0;
    size_t len = Utf8SequenceLength(p + i, n - i, &cp);
    if (len == 0) {
      return EncodingProblem{bom_ + i, "invalid UTF-8 byte " + Hex(c) + " at offset " +
                                           std::to_string(bom_ + i) + "; spec files are UTF-8"};
    }
    bool printable = cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
                     (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || cp >= 0x10000;
    if (!printable) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
      return EncodingProblem{bom_ + i, std::string("character ") + buf + " is not allowed in YAML"};
    }
    i += len;
  }
  return std::nullopt;
}

void SourceText::Position(size_t body_offset, int* line, int* column) const {
  if (line_starts_.empty() && !placed_once_) {
    // The first lookup (often the only one: a valid file's id, near the
    // top) counts the lines before it; a table of every line pays from the
    // second on.
    placed_once_ = true;
    body_offset = std::min(body_offset, body_.size());
    std::string_view before = body_.substr(0, body_offset);
    size_t start = 0;
    int lines = 1;
    for (size_t nl = before.find('\n'); nl != std::string_view::npos; nl = before.find('\n', nl + 1)) {
      ++lines;
      start = nl + 1;
    }
    *line = lines;
    *column = 1 + static_cast<int>(CountChars(before.substr(start)));
    return;
  }
  if (line_starts_.empty()) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < body_.size(); ++i) {
      if (body_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }
  body_offset = std::min(body_offset, body_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), body_offset);
  size_t index = static_cast<size_t>(it - line_starts_.begin()) - 1;
  *line = static_cast<int>(index) + 1;
  *column =
      1 + static_cast<int>(CountChars(body_.substr(line_starts_[index], body_offset - line_starts_[index])));
}

}  // namespace specd
