#include "engine/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

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

}  // namespace

bool StampIsSettled(const FileStamp& stamp, int64_t taken_ns) {
  // One tick of the coarse clock is at most 10 ms (HZ=100); a file system
  // that keeps whole seconds only (FAT keeps even ones) needs two.
  constexpr int64_t kSecond = 1'000'000'000;
  // Every write sets ctime to the clock's now, while mtime can be set to
  // anything (touch -d, rsync -t): ctime alone says when the last write was.
  const int64_t margin = stamp.ctime_ns % kSecond == 0 ? 2 * kSecond : 50'000'000;
  return taken_ns - stamp.ctime_ns >= margin;
}

int64_t Env::FileClockNanos() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace specd
