// The write path on top of Env: atomic, conditional write-backs that never
// lose a save (WriteFileAtomic), exclusive creation, and specd's temp files
// (their names, their cleanup, their place in git's info/exclude).
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "engine/env.h"
#include "engine/hash.h"
#include "engine/repo.h"

namespace specd {

namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  return path.substr(path.find_last_of('/') + 1);
}

std::string TempPrefix() {
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "-";
}

// 16 hex characters that tell versions apart.
std::string Print(std::string_view bytes) {
  return ContentHash(bytes).substr(0, 16);
}

std::string StampPrint(const FileStamp& s) {
  return Print(std::to_string(s.inode) + ":" + std::to_string(s.size) + ":" + std::to_string(s.mtime_ns));
}

// An exchange's temp file is named <prefix><pid>-x<read><ours><target>-<random>:
// the stamp of the version read, the bytes specd puts in place and the
// target's name, 16 hex characters each. A writer killed between the
// exchange and the check after it leaves the displaced file under that name;
// the prints are how a later pass (RecoverTempFile) tells the version read
// or specd's own (removed) from an author's save (put back).
constexpr char kExchangeMark = 'x';
constexpr size_t kPrint = 16;

std::string ExchangePrefix(const FileStamp& read, std::string_view ours, const std::string& target) {
  return TempPrefix() + kExchangeMark + StampPrint(read) + Print(ours) + Print(BaseName(target)) + "-";
}

// A new temp file in `dir` named `prefix`..., holding `data`, fsynced and
// closed; with `like`, it has that file's owner and mode. Nothing is left
// behind on failure.
Result<std::string> WriteTemp(Env* env, const std::string& dir, const std::string& prefix,
                              std::string_view data, const FileInfo* like) {
  ExcludeTempFilesFromGit(dir);
  std::string temp;
  Result<std::unique_ptr<WritableFile>> file = env->NewTempFile(dir, prefix, &temp);
  if (!file.ok()) return file.error();
  Status s = (*file)->Append(data);
  if (s.ok() && like) s = (*file)->SetOwnerAndMode(like->mode, like->uid, like->gid);
  if (s.ok()) s = (*file)->Sync();
  Status closed = (*file)->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) {
    env->RemoveFile(temp);  // best effort; the target is untouched
    return s.error();
  }
  return temp;
}

// Whether `name` holds, unchanged, the version stamped `v`: same inode,
// size and mtime (not ctime: an exchange sets it), and no process holding
// it open to write more.
bool HoldsVersion(Env* env, const std::string& name, const FileStamp& v) {
  Result<FileInfo> d = env->Lstat(name);
  if (!d.ok() || d->kind != FileKind::kRegular) return false;
  if (d->stamp.inode != v.inode || d->stamp.size != v.size || d->stamp.mtime_ns != v.mtime_ns) return false;
  Result<bool> writing = env->OpenForWriting(name);
  return !writing.ok() || !*writing;  // when no lease can tell, the stamp decides
}

// `temp` names a file that is not specd's and cannot be put back at the
// spec's name: it is kept beside it under a name no pass reads or cleans.
Status Keep(Env* env, const std::string& path, const std::string& target, const std::string& temp) {
  std::string kept = target + std::string(kKeptInfix) + std::to_string(env->NowMillis());
  Status s = env->LinkNoReplace(temp, kept);
  for (int n = 2; !s.ok() && s.error().code == ErrorCode::kConflict && n < 100; ++n) {
    kept = target + std::string(kKeptInfix) + std::to_string(env->NowMillis()) + "-" + std::to_string(n);
    s = env->LinkNoReplace(temp, kept);
  }
  env->SyncDir(DirName(target));
  const std::string where = s.ok() ? kept : temp;
  const std::string message =
      path + " was saved again while specd was writing it; the displaced version is kept at " + where;
  std::fprintf(stderr, "specd: %s\n", message.c_str());
  return Error{message, ErrorCode::kConflict};
}

// An author saved between the check and the exchange: `temp` names their
// file, `target` (unless someone saved yet again) specd's, stamped `ours`.
// Their file goes back; specd's is deleted only when it is what comes back,
// unchanged (an editor may have opened it in the meantime and written to it).
Status PutBack(Env* env, const std::string& path, const std::string& target, const std::string& temp,
               const FileStamp& ours) {
  if (!env->Exists(temp)) return Error{path + " changed while specd was writing it", ErrorCode::kConflict};
  if (HoldsVersion(env, target, ours)) {
    Result<bool> back = env->ExchangeFiles(temp, target);
    if (back.ok() && *back) {
      if (HoldsVersion(env, temp, ours)) {
        env->RemoveFile(temp);
        env->SyncDir(DirName(target));
        return Error{path + " was saved while specd was writing it; specd's version was withdrawn",
                     ErrorCode::kConflict};
      }
      if (!env->Exists(temp))
        return Error{path + " changed while specd was writing it", ErrorCode::kConflict};
    }
  }
  // A newer save is at the spec's name, or the exchange back failed.
  return Keep(env, path, target, temp);
}

Status ExchangeIfUnchanged(Env* env, const std::string& path, const std::string& target,
                           const std::string& temp, const FileStamp& expect, const std::string* expect_hash) {
  auto abandon = [&](Error e) -> Status {
    env->RemoveFile(temp);
    return e;
  };
  Result<FileStamp> now = env->Stat(target);
  if (!now.ok() || !(*now == expect)) {
    return abandon(Error{path + " changed since it was read", ErrorCode::kConflict});
  }
  Result<FileInfo> ours = env->Lstat(temp);
  if (!ours.ok()) return abandon(ours.error());
  Result<bool> swapped = env->ExchangeFiles(temp, target);
  if (!swapped.ok()) return abandon(swapped.error());
  if (!*swapped) {  // no RENAME_EXCHANGE on this file system: the check above, then a rename
    Status s = env->RenameFile(temp, target);
    if (!s.ok()) return abandon(s.error());
    return env->SyncDir(DirName(target));
  }
  // The exchange set both files' ctime; the stamp compared from here on is
  // the rest (a ctime-only change was ruled out by the check above).
  if (!HoldsVersion(env, temp, expect)) return PutBack(env, path, target, temp, ours->stamp);
  if (expect_hash && !StampIsSettled(expect, env->FileClockNanos())) {
    // A save in the clock tick of the one read leaves its stamp: the bytes tell.
    Result<std::string> displaced = env->ReadFile(temp);
    if (!displaced.ok() || ContentHash(*displaced) != *expect_hash)
      return PutBack(env, path, target, temp, ours->stamp);
  }
  // What was displaced is what was read. Left behind on a failed unlink,
  // it is an orphaned temp file, removed by a later pass.
  env->RemoveFile(temp);
  return env->SyncDir(DirName(target));
}

}  // namespace

Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data, const FileStamp* expect,
                       const std::string* expect_hash) {
  // What is replaced: the file, or a symlink's target (the link stays).
  std::string target = path;
  Result<FileInfo> info = env->Lstat(path);
  if (info.ok() && info->kind == FileKind::kSymlink) {
    Result<std::string> real = env->RealPath(path);
    if (!real.ok()) {
      if (expect && real.error().code == ErrorCode::kNotFound) {
        return Error{path + " was removed since it was read", ErrorCode::kConflict};
      }
      return real.error();
    }
    target = *real;
    info = env->Lstat(target);
  }
  if (!info.ok() && info.error().code != ErrorCode::kNotFound) return info.error();
  if (!info.ok() && expect) return Error{path + " was removed since it was read", ErrorCode::kConflict};
  if (info.ok() && info->kind != FileKind::kRegular) {
    return Error{path + " is not a regular file; specd replaces only regular files", ErrorCode::kInvalid};
  }
  const std::string dir = DirName(target);
  const std::string prefix = expect && info.ok() ? ExchangePrefix(*expect, data, target) : TempPrefix();
  Result<std::string> temp = WriteTemp(env, dir, prefix, data, info.ok() ? &*info : nullptr);
  if (!temp.ok()) return temp.error();
  if (expect) return ExchangeIfUnchanged(env, path, target, *temp, *expect, expect_hash);
  if (Status s = env->RenameFile(*temp, target); !s.ok()) {
    env->RemoveFile(*temp);
    return s;
  }
  return env->SyncDir(dir);
}

Status CreateFileExclusive(Env* env, const std::string& path, std::string_view data) {
  const std::string dir = DirName(path);
  Result<std::string> temp = WriteTemp(env, dir, TempPrefix(), data, nullptr);
  if (!temp.ok()) return temp.error();
  if (Status s = env->LinkNoReplace(*temp, path); !s.ok()) {
    env->RemoveFile(*temp);
    return s;
  }
  return env->SyncDir(dir);
}

namespace {

// The prints an exchange's temp file name carries (ExchangePrefix).
struct ExchangePrints {
  std::string read, ours, target;
};

std::optional<ExchangePrints> PrintsOf(std::string_view name) {
  if (name.substr(0, kTempPrefix.size()) != kTempPrefix) return std::nullopt;
  name.remove_prefix(kTempPrefix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  name.remove_prefix(dash + 1);
  if (name.size() < 1 + 3 * kPrint + 1 || name[0] != kExchangeMark || name[1 + 3 * kPrint] != '-') {
    return std::nullopt;
  }
  return ExchangePrints{std::string(name.substr(1, kPrint)), std::string(name.substr(1 + kPrint, kPrint)),
                        std::string(name.substr(1 + 2 * kPrint, kPrint))};
}

// The file in `dir` whose name prints as `print`, "" when there is none.
std::string FindTarget(Env* env, const std::string& dir, const std::string& print) {
  Result<std::vector<std::string>> names = env->ListDir(dir);
  for (const std::string& n : names.ok() ? *names : std::vector<std::string>{}) {
    if (n.rfind(kTempPrefix, 0) != 0 && Print(n) == print) return dir + "/" + n;
  }
  return "";
}

}  // namespace

void RecoverTempFile(Env* env, const std::string& temp) {
  const std::string name = BaseName(temp);
  std::optional<ExchangePrints> prints = PrintsOf(name);
  if (!prints) {  // a plain write's temp file: never put in place, the target untouched
    env->RemoveFile(temp);
    return;
  }
  if (Result<bool> writing = env->OpenForWriting(temp); writing.ok() && *writing) return;  // later
  Result<FileInfo> info = env->Lstat(temp);
  if (!info.ok() || info->kind != FileKind::kRegular) return;
  if (StampPrint(info->stamp) == prints->read) {
    env->RemoveFile(temp);  // the version read, displaced by specd's
    return;
  }
  Result<std::string> bytes = env->ReadFile(temp);
  if (!bytes.ok()) return;
  if (Print(*bytes) == prints->ours) {
    env->RemoveFile(temp);  // specd's, never put in place
    return;
  }
  // An author's save, displaced by an exchange whose writer died before it
  // could put it back: back to the spec's name while specd's version is there.
  const std::string dir = DirName(temp);
  const std::string target = FindTarget(env, dir, prints->target);
  Result<std::string> there = target.empty() ? Result<std::string>(Error{"gone"}) : env->ReadFile(target);
  if (there.ok() && Print(*there) == prints->ours) {
    Result<bool> back = env->ExchangeFiles(temp, target);
    if (back.ok() && *back) {
      env->SyncDir(dir);
      env->RemoveFile(temp);  // specd's version now; a crash here leaves it to the next pass
      env->SyncDir(dir);
      std::fprintf(stderr, "specd: %s was saved while a killed specd was writing it; the save is put back\n",
                   target.c_str());
      return;
    }
  }
  const std::string keep_as = target.empty() ? dir + "/displaced" : target;
  Keep(env, keep_as, keep_as, temp);  // named on stderr, under the temp name if it cannot be linked
}

bool TempFileOrphaned(std::string_view name) {
  if (name.substr(0, kTempPrefix.size()) != kTempPrefix) return false;
  name.remove_prefix(kTempPrefix.size());
  size_t digits = 0;
  long long pid = 0;
  while (digits < name.size() && digits < 10 && name[digits] >= '0' && name[digits] <= '9') {
    pid = pid * 10 + (name[digits++] - '0');
  }
  if (digits == 0 || digits >= name.size() || name[digits] != '-' || pid <= 0 || pid > INT_MAX) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

namespace {

// The git directory whose info/exclude applies to `dir`: the nearest
// enclosing `.git` (a directory, or a file "gitdir: ..." in a linked
// worktree or a submodule), then its commondir if it has one. "" outside git.
std::string ExcludeGitDir(const std::string& dir) {
  std::string at = dir;
  while (!at.empty()) {
    struct stat st;
    if (::stat((at + "/.git").c_str(), &st) == 0) {
      std::optional<GitDirs> dirs = FindGitDirs(at);
      return dirs ? dirs->common_dir : "";
    }
    size_t slash = at.find_last_of('/');
    if (slash == std::string::npos) break;
    at = at.substr(0, slash);
  }
  return "";
}

}  // namespace

void ExcludeTempFilesFromGit(const std::string& dir) {
  static std::mutex mu;
  static std::set<std::string> done_dirs;  // looked at in this process: once each
  std::lock_guard<std::mutex> lock(mu);
  if (!done_dirs.insert(dir).second) return;
  const std::string git_dir = ExcludeGitDir(dir);
  if (git_dir.empty()) return;
  const std::string pattern = std::string(kTempPrefix) + "*";
  const std::string exclude = git_dir + "/info/exclude";
  Result<std::string> text = Env::Default()->ReadFile(exclude);
  std::string existing = text.ok() ? *text : "";
  for (size_t start = 0; start < existing.size();) {
    size_t end = existing.find('\n', start);
    if (end == std::string::npos) end = existing.size();
    if (existing.compare(start, end - start, pattern) == 0) return;  // there already
    start = end + 1;
  }
  ::mkdir((git_dir + "/info").c_str(), 0755);
  int fd = ::open(exclude.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string add = existing.empty() || existing.back() == '\n' ? "" : "\n";
  add += "# specd's temp files (added once by specd)\n" + pattern + "\n";
  ssize_t n = ::write(fd, add.data(), add.size());
  (void)n;  // best effort: a file that cannot be written leaves git status as it was
  ::close(fd);
}

}  // namespace specd
