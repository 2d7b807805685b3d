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

// Whether `stamp`, taken by a stat made after `taken_ns` (FileClockNanos),
// can stand for the file's bytes: no later write can leave it unchanged. A
// write in the same tick of the kernel's coarse clock as the one stamped
// (same size, same inode) leaves the same mtime and ctime, so a stamp whose
// ctime (set by every write, unlike mtime) is not safely older than when it
// was taken is "racily clean", as git calls it, and the bytes must be hashed
// again next time.
bool StampIsSettled(const FileStamp& stamp, int64_t taken_ns);

enum class FileKind { kRegular, kSymlink, kDirectory, kOther };

// What lstat(2) says about a name: the stamp, and what a write-back must
// keep (the permission bits, the owner).
struct FileInfo {
  FileStamp stamp;
  FileKind kind = FileKind::kOther;
  uint32_t mode = 0;  // permission bits only (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // fsync
  // fchown (an EPERM is ignored: who may not give a file away keeps it), then
  // fchmod: a replacement keeps the original's owner and mode.
  virtual Status SetOwnerAndMode(uint32_t mode, uint32_t uid, uint32_t gid) = 0;
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Result<FileStamp> Stat(const std::string& path) = 0;  // Error when missing
  // The name itself (a symlink is not followed); ErrorCode::kNotFound when missing.
  virtual Result<FileInfo> Lstat(const std::string& path) = 0;
  // The canonical path (symlinks resolved, as realpath(3)).
  virtual Result<std::string> RealPath(const std::string& path) = 0;
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
  // Swaps two existing names atomically (renameat2 RENAME_EXCHANGE): each
  // file is at the other's name after. false, and nothing done, where the
  // file system cannot (EINVAL, ENOSYS).
  virtual Result<bool> ExchangeFiles(const std::string& a, const std::string& b) = 0;
  // Whether some process holds `path` open for writing: a read lease
  // (F_SETLEASE) cannot be had then. An Error when that cannot be told (not
  // the file's owner, a file system without leases).
  virtual Result<bool> OpenForWriting(const std::string& path) = 0;
  // Gives `from` the name `to` only if `to` does not exist (link + unlink):
  // how a new file is created without ever replacing another.
  virtual Status LinkNoReplace(const std::string& from, const std::string& to) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;

  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() = 0;
  // The clock the kernel stamps files with (CLOCK_REALTIME, in ns), never
  // faked with NowMillis: a stamp is compared with it to tell whether a
  // write made later could still leave the same stamp (StampIsSettled).
  virtual int64_t FileClockNanos();

  static Env* Default();  // PosixEnv, lives for the whole process
};

// The prefix of specd's temp files, so watchers can ignore them. The full
// name is <prefix><pid>-<random>: a temp file whose process is gone is
// left over from a crash (see TempFileOrphaned).
inline constexpr std::string_view kTempPrefix = ".specd-tmp-";

// Whether the temp file named `name` (kTempPrefix...) was made by a process
// that no longer runs, so no one will ever rename it into place. false when
// the name carries no pid (an older specd's) or the process may be alive.
bool TempFileOrphaned(std::string_view name);

// What a pass does with a temp file whose writer is gone (or stale): it is
// removed, unless it is an author's save that a conditional write displaced
// (RENAME_EXCHANGE) right before its writer was killed. That one goes back
// to the spec's name while specd's version is still there (specd's is then
// removed, and the next pass decides on the author's save), else it is kept
// (kKeptInfix) and named on stderr. A temp file someone still writes to is
// left for a later pass.
void RecoverTempFile(Env* env, const std::string& temp);

// A displaced author's version that specd could not put back is kept beside
// the spec under <file><kKeptInfix><millis>: never a spec name, never a temp
// file, so it is neither read as a spec nor cleaned up.
inline constexpr std::string_view kKeptInfix = ".specd-kept-";

// Adds `.specd-tmp-*` to the info/exclude of the git repository holding
// `dir` (a linked worktree's common git directory), once per repository and
// process, appending without touching the lines already there: specd's temp
// files never show in `git status` or `git add -A`. Best effort: nothing
// happens outside a git work tree or when the file cannot be written.
void ExcludeTempFilesFromGit(const std::string& dir);

// The write path, in engine/atomic_write.cc.
//
// Writes `data` to `path` atomically (SPEC_FORMAT.md "Write-back"): a temp
// file in the same directory, written with the original's owner and mode,
// fsynced and closed, put in place, then the directory fsynced. A reader sees
// the old file or the new one, never a part; on any failure the temp file is
// removed and `path` is untouched. A symlink is written through (its target
// is replaced, the link stays); anything else that is not a regular file is
// refused (kInvalid).
//
// With `expect`, the write is conditional and no save is ever lost: the new
// file is exchanged with the old one (RENAME_EXCHANGE), and the displaced
// file is deleted only if it is provably the one read (same inode, size and
// mtime as `expect`, no process holding it open for writing). Otherwise an
// author saved in between: their file is put back, nothing of specd's stays,
// and the Error has ErrorCode::kConflict (re-read, re-apply). A displaced
// file that cannot be put back is kept (kKeptInfix) and named on stderr.
// Where the file system cannot exchange, the stamp is checked right before
// a plain rename. When `expect` is racily clean (StampIsSettled: a save in
// the same clock tick leaves the same stamp) and `expect_hash` is given
// (ContentHash of what was read), the displaced file's bytes must hash to
// it as well.
Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data,
                       const FileStamp* expect = nullptr, const std::string* expect_hash = nullptr);

// Creates `path` with `data`, durably, failing with ErrorCode::kConflict if
// it already exists.
Status CreateFileExclusive(Env* env, const std::string& path, std::string_view data);

}  // namespace specd
