// SourceText::Position: the first lookup counts lines, later ones use a
// table of line starts; both place every offset alike.
#include "schema/source_text.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace specd {
namespace {

std::pair<int, int> At(const SourceText& s, size_t offset) {
  int line = 0, column = 0;
  s.Position(offset, &line, &column);
  return {line, column};
}

TEST(SourceText, TheFirstLookupAndTheTablePlaceEveryOffsetAlike) {
  const std::string text = "\xEF\xBB\xBFid: x\r\ntitle: caf\xC3\xA9 \xF0\x9F\x9A\x80 go\n\n  - a\nlast";
  SourceText warm(text);
  At(warm, 0);  // from here on, `warm` looks up in its table
  for (size_t offset = 0; offset <= warm.body().size() + 2; ++offset) {
    SourceText fresh(text);
    EXPECT_EQ(At(fresh, offset), At(warm, offset)) << offset;
  }
  SourceText fresh(text);
  EXPECT_EQ(At(fresh, 7), std::make_pair(2, 1));  // after "\r\n"
  EXPECT_EQ(At(SourceText(text), 25),
            std::make_pair(2, 15));  // "go": the é and the emoji are one column each
  EXPECT_EQ(At(SourceText(text), 29), std::make_pair(4, 1));    // past the empty line
  EXPECT_EQ(At(SourceText(text), 1000), std::make_pair(5, 5));  // clamped to the end
}

}  // namespace
}  // namespace specd

namespace specd {
namespace {

// CheckEncoding reads eight bytes at a time while they are printable ASCII:
// any other byte, at any place in a block, is found at its own offset.
TEST(SourceText, EveryByteIsJudgedWhereverItSitsInAWord) {
  for (int b = 0; b < 256; ++b) {
    for (size_t at = 0; at < 17; ++at) {
      std::string text(24, 'a');
      text[at] = static_cast<char>(b);
      SourceText source(text);
      std::optional<SourceText::EncodingProblem> problem = source.CheckEncoding();
      const bool ascii_ok = (b >= 0x20 && b < 0x7F) || b == '\n' || b == '\r' || b == '\t';
      if (ascii_ok) {
        EXPECT_FALSE(problem) << "byte " << b << " at " << at;
      } else {
        ASSERT_TRUE(problem) << "byte " << b << " at " << at;
        EXPECT_EQ(problem->offset, at) << "byte " << b;
      }
    }
  }
}

}  // namespace
}  // namespace specd
