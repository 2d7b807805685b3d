// Content hashes (XXH3-128, checked against xxhsum's canonical output) and
// random trace ids.
#include "engine/hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace specd {
namespace {

// Expected values: `printf %s BYTES | xxh128sum` (Debian's xxhash 0.8.1).
TEST(ContentHashTest, KnownXxh3_128Vectors) {
  EXPECT_EQ(ContentHash(""), "99aa06d3014798d86001c324468d497f");     // printf '' | xxh128sum
  EXPECT_EQ(ContentHash("abc"), "06b05ab6733a618578af5f94892f3950");  // printf abc | xxh128sum
  // printf 'a\0b\xff' | xxh128sum: a NUL and a non-UTF-8 byte are bytes like any other.
  EXPECT_EQ(ContentHash(std::string_view("a\0b\xff", 4)), "8c82ef03b75fd295dbb5ba307ede631f");
  // head -c 1000000 /dev/zero | tr '\0' a | xxh128sum
  EXPECT_EQ(ContentHash(std::string(1'000'000, 'a')), "a545df8e384a9579b1fd6fae5285c4eb");
}

// XXH3 takes a different path at each of these lengths (1-3, 4-8, 9-16,
// 17-128, 129-240, longer); each checked with
// `head -c N /dev/zero | tr '\0' a | xxh128sum`.
TEST(ContentHashTest, LengthsAtTheAlgorithmsBoundaries) {
  const std::pair<size_t, const char*> cases[] = {
      {1, "a96faf705af16834e6c632b61e964e1f"},   {3, "1ba4b00492c7202ee4ba3228795dc9ef"},
      {4, "dff6d5c2c4dd89f6222af96e64a46941"},   {8, "2722195eee22e5276cb4cc6d190a4dc8"},
      {9, "ed96cbb838085fb5076e68d28b99b51a"},   {16, "ff9f5054066830d0245750ddc4828d15"},
      {17, "c77749c0e343aac52d27c0235c9dd6e1"},  {128, "134e2a91815f3105ef354c1b9e35d99d"},
      {129, "a7758bdd09a0b20fd53a57a017f40a2f"}, {240, "0163721cdafde206ea57d24533760a39"},
      {241, "3e7bebe4a2c07b0bf6cfef5c5aca1930"},
  };
  for (const auto& [n, hex] : cases) EXPECT_EQ(ContentHash(std::string(n, 'a')), hex) << n;
}

TEST(NewTraceIdTest, SixteenLowerCaseHexCharacters) {
  for (int i = 0; i < 100; ++i) {
    std::string id = NewTraceId();
    ASSERT_EQ(id.size(), 16u) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
}

// 64 random bits: 10,000 ids collide with odds of about 3e-12.
TEST(NewTraceIdTest, IdsAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(seen.insert(NewTraceId()).second) << i;
}

}  // namespace
}  // namespace specd
