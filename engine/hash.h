// Hashes and ids: what tells a file's bytes apart (change detection, not
// security) and the random trace id that names one life cycle of a spec.
#pragma once

#include <string>
#include <string_view>

namespace specd {

// XXH3-128 of `bytes` as 32 lower-case hex characters, in xxhsum's canonical
// (big-endian) order: `printf %s BYTES | xxh128sum` prints the same.
std::string ContentHash(std::string_view bytes);

// 16 lower-case hex characters (64 bits) from getrandom(2).
std::string NewTraceId();

}  // namespace specd
