#include "engine/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>

namespace specd {

namespace {

ErrorCode CodeOf(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCode::kPermission;
    case EEXIST:
      return ErrorCode::kAlreadyExists;
    default:
      return ErrorCode::kOther;
  }
}

Error PosixError(const std::string& what, const std::string& path, int err) {
  return Error{what + " " + path + ": " + std::strerror(err), CodeOf(err)};
}

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return PosixError("cannot write", path_, errno);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_) != 0) return PosixError("cannot fsync", path_, errno);
    return Status::Ok();
  }
  Status SetOwnerAndMode(uint32_t mode, uint32_t uid, uint32_t gid) override {
    if (::fchown(fd_, uid, gid) != 0 && errno != EPERM) return PosixError("cannot chown", path_, errno);
    if (::fchmod(fd_, mode) != 0) return PosixError("cannot chmod", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return PosixError("cannot close", path_, errno);
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

FileStamp FileStampOf(const struct stat& st) {
  return FileStamp{static_cast<uint64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                   static_cast<uint64_t>(st.st_ino),
                   static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

namespace {

class PosixEnv : public Env {
 public:
  Result<std::string> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return PosixError("cannot open", path, errno);
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return PosixError("cannot read", path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<FileStamp> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("cannot stat", path, errno);
    return FileStampOf(st);
  }

  Result<FileInfo> Lstat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return PosixError("cannot stat", path, errno);
    FileInfo info;
    info.stamp = FileStampOf(st);
    info.kind = S_ISREG(st.st_mode)   ? FileKind::kRegular
                : S_ISLNK(st.st_mode) ? FileKind::kSymlink
                : S_ISDIR(st.st_mode) ? FileKind::kDirectory
                                      : FileKind::kOther;
    info.mode = st.st_mode & 07777;
    info.uid = st.st_uid;
    info.gid = st.st_gid;
    return info;
  }

  Result<std::string> RealPath(const std::string& path) override {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return PosixError("cannot resolve", path, errno);
    return std::string(buf);
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return PosixError("cannot list", dir, errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status MakeDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
    return Status::Ok();
  }

  Result<std::unique_ptr<WritableFile>> NewTempFile(const std::string& dir, const std::string& prefix,
                                                    std::string* path) override {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (int attempt = 0; attempt < 100; ++attempt) {
      char suffix[17];
      std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
      std::string p = dir + "/" + prefix + suffix;
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) return PosixError("cannot create", p, errno);
      *path = p;
      return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, p));
    }
    return Error{"cannot create a temp file in " + dir};
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("cannot rename to", to, errno);
    return Status::Ok();
  }

  Result<bool> ExchangeFiles(const std::string& a, const std::string& b) override {
    if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
    if (errno == EINVAL || errno == ENOSYS) return false;
    return PosixError("cannot exchange " + a + " with", b, errno);
  }

  Result<bool> OpenForWriting(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return PosixError("cannot open", path, errno);
    // Were the lease broken while held (someone opening the file for
    // writing), the signal would be SIGURG, ignored by default, not SIGIO,
    // which would end the process.
    ::fcntl(fd, F_SETSIG, SIGURG);
    Result<bool> open_for_writing = false;
    if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
      ::fcntl(fd, F_SETLEASE, F_UNLCK);
    } else if (errno == EAGAIN) {
      open_for_writing = true;
    } else {
      open_for_writing = PosixError("cannot take a lease on", path, errno);
    }
    ::close(fd);
    return open_for_writing;
  }

  Status LinkNoReplace(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return Error{"cannot create " + to + ": " + std::strerror(errno),
                   errno == EEXIST ? ErrorCode::kConflict : ErrorCode::kOther};
    }
    ::unlink(from.c_str());
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("cannot remove", path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("cannot open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("cannot fsync", dir, err);
    return Status::Ok();
  }

  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

namespace {

std::string TempPrefix() {
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "-";
}

// A new temp file in `dir` holding `data`, fsynced and closed; with `like`,
// it has that file's owner and mode. Nothing is left behind on failure.
Result<std::string> WriteTemp(Env* env, const std::string& dir, std::string_view data, const FileInfo* like) {
  ExcludeTempFilesFromGit(dir);
  std::string temp;
  Result<std::unique_ptr<WritableFile>> file = env->NewTempFile(dir, TempPrefix(), &temp);
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
                           const std::string& temp, const FileStamp& expect) {
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
  // What was displaced is what was read. Left behind on a failed unlink,
  // it is an orphaned temp file, removed by a later pass.
  env->RemoveFile(temp);
  return env->SyncDir(DirName(target));
}

}  // namespace

Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data, const FileStamp* expect) {
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
  Result<std::string> temp = WriteTemp(env, dir, data, info.ok() ? &*info : nullptr);
  if (!temp.ok()) return temp.error();
  if (expect) return ExchangeIfUnchanged(env, path, target, *temp, *expect);
  if (Status s = env->RenameFile(*temp, target); !s.ok()) {
    env->RemoveFile(*temp);
    return s;
  }
  return env->SyncDir(dir);
}

Status CreateFileExclusive(Env* env, const std::string& path, std::string_view data) {
  const std::string dir = DirName(path);
  Result<std::string> temp = WriteTemp(env, dir, data, nullptr);
  if (!temp.ok()) return temp.error();
  if (Status s = env->LinkNoReplace(*temp, path); !s.ok()) {
    env->RemoveFile(*temp);
    return s;
  }
  return env->SyncDir(dir);
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

// The first line of `path`, without its end; "" when it cannot be read.
std::string FirstLine(const std::string& path) {
  Result<std::string> text = Env::Default()->ReadFile(path);
  if (!text.ok()) return "";
  std::string line = text->substr(0, text->find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string Under(const std::string& base, const std::string& p) {
  return !p.empty() && p[0] == '/' ? p : base + "/" + p;
}

// The git directory whose info/exclude applies to `dir`: the nearest
// enclosing `.git` (a directory, or a file "gitdir: ..." in a linked
// worktree or a submodule), then its commondir if it has one. "" outside git.
std::string ExcludeGitDir(const std::string& dir) {
  std::string at = dir;
  while (!at.empty()) {
    const std::string dot_git = at + "/.git";
    struct stat st;
    if (::stat(dot_git.c_str(), &st) == 0) {
      std::string git_dir = dot_git;
      if (S_ISREG(st.st_mode)) {
        const std::string line = FirstLine(dot_git);
        if (line.rfind("gitdir: ", 0) != 0) return "";
        git_dir = Under(at, line.substr(8));
      }
      const std::string common = FirstLine(git_dir + "/commondir");
      return common.empty() ? git_dir : Under(git_dir, common);
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
