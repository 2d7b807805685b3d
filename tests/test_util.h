// What many tests share: a real temporary directory, and the smallest spec
// that passes every check (each test differs from it only by what it breaks).
#pragma once

#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace specd::testing {

// A directory made with mkdtemp, canonical (so symlink targets compare equal
// to realpath()), removed with everything in it at the end.
class TempDir {
 public:
  explicit TempDir(const char* prefix = "specd-test") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    char real[PATH_MAX];
    path_ = ::realpath(made, real) ? real : made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// `text` with the first `from` replaced by `to`; a test failure (and `text`
// unchanged) when `from` is not there, so a fixture that drifted is caught.
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in:\n" << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline constexpr char kValidSpec[] =
    "id: spec-2026-01-01-001\n"
    "version: 1.0.0\n"
    "status: draft\n"
    "metadata:\n"
    "  title: A valid spec for the tests\n"
    "  author: tester\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: Something must hold\n"
    "    priority: high\n"
    "    acceptanceCriteria:\n"
    "      - it holds\n"
    "    status: pending\n";

}  // namespace specd::testing
