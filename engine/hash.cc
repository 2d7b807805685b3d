#include "engine/hash.h"

#include <sys/random.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace specd {

namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string ContentHash(std::string_view bytes) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  return Hex(canonical.digest, sizeof(canonical.digest));
}

std::string NewTraceId() {
  unsigned char bytes[8];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // Only without a kernel entropy source (ENOSYS: before Linux 3.17), where
      // nothing else would work either. Not an error a caller could act on.
      std::perror("specd: getrandom");
      std::abort();
    }
  }
  return Hex(bytes, sizeof(bytes));
}

}  // namespace specd
