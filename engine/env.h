// Every outside effect of the engine goes through Env: files, directories
// and the clock (leveldb's Env, ninja's DiskInterface). PosixEnv is the real
// one; tests wrap it to inject failures (a failing fsync, a full disk) or to
// fix the clock.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schema/result.h"

namespace specd {

// What identifies one version of a file cheaply.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  int64_t ctime_ns = 0;  // set by the kernel on every change: a restored mtime cannot hide an edit
  bool operator==(const FileStamp&) const = default;
};

// The stamp of what stat(2) returned.
FileStamp FileStampOf(const struct stat& st);

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // fsync
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Result<FileStamp> Stat(const std::string& path) = 0;  // Error when missing
  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;  // a real one, not a symlink to one
  // Sorted names (not paths) in `dir`, "." and ".." left out.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status MakeDirs(const std::string& dir) = 0;  // like mkdir -p

  // A new file in `dir` with a unique name starting with `prefix`.
  virtual Result<std::unique_ptr<WritableFile>> NewTempFile(const std::string& dir, const std::string& prefix,
                                                            std::string* path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;  // atomic replace
  virtual Status RemoveFile(const std::string& path) = 0;
  // Gives `from` the name `to` only if `to` does not exist (link + unlink):
  // how a new file is created without ever replacing another.
  virtual Status LinkNoReplace(const std::string& from, const std::string& to) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;

  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() = 0;

  static Env* Default();  // PosixEnv, lives for the whole process
};

// The prefix of specd's temp files, so watchers can ignore them.
inline constexpr std::string_view kTempPrefix = ".specd-tmp-";

// Writes `data` to `path` atomically (SPEC_FORMAT.md "Write-back"): a temp
// file in the same directory, written, fsynced and closed, renamed over
// `path`, then the directory fsynced. A reader sees the old file or the new
// one, never a part; on any failure the temp file is removed and `path` is
// untouched.
//
// With `expect`, the write is conditional: if `path` no longer has that stamp
// just before the rename (someone saved it since it was read), nothing is
// replaced and the Error has ErrorCode::kConflict.
Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data,
                       const FileStamp* expect = nullptr);

// Creates `path` with `data`, durably, failing with ErrorCode::kConflict if
// it already exists.
Status CreateFileExclusive(Env* env, const std::string& path, std::string_view data);

}  // namespace specd
