#include "engine/hash.h"

#include <sys/random.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

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

namespace {

// getrandom(2) for 8 bytes at a time was a syscall per new spec in a burst:
// ids are drawn from a buffer refilled this many bytes at a time.
constexpr size_t kRandomBuffer = 512;

void FillRandom(unsigned char* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = getrandom(out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // Only without a kernel entropy source (ENOSYS: before Linux 3.17), where
      // nothing else would work either. Not an error a caller could act on.
      std::perror("specd: getrandom");
      std::abort();
    }
  }
}

}  // namespace

std::string NewTraceId() {
  static std::mutex mu;
  static unsigned char pool[kRandomBuffer];
  static size_t used = kRandomBuffer;
  constexpr size_t kIdBytes = 8;
  std::lock_guard<std::mutex> lock(mu);
  if (used + kIdBytes > kRandomBuffer) {
    FillRandom(pool, kRandomBuffer);
    used = 0;
  }
  std::string id = Hex(pool + used, kIdBytes);
  used += kIdBytes;
  return id;
}

}  // namespace specd
