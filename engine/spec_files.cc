#include "engine/spec_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace specd {

bool IsSpecFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  auto ends = [&](std::string_view ext) {
    return name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  return ends(".yaml") || ends(".yml");
}

namespace {

bool HasSpecExtension(const std::string& name) {
  auto ends = [&](const char* ext) {
    size_t n = std::strlen(ext);
    return name.size() > n && name.compare(name.size() - n, n, ext) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

bool Inside(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// One path that is not a directory, judged by its lstat: a regular file is
// read where it is; a symlink only when it resolves to a regular file inside
// `boundary` (already real); anything else is never opened.
SpecFile Judge(const std::string& path, const struct stat& lst, const std::string& boundary) {
  if (!S_ISLNK(lst.st_mode)) {
    if (!S_ISREG(lst.st_mode))
      return {path, "", std::string(FileTypeName(lst.st_mode)) + ", not a file; skipped"};
    return {path, path};
  }
  std::string target = RealPath(path);
  if (target.empty()) return {path, "", "dangling symlink; skipped"};
  if (boundary.empty() || !Inside(target, boundary)) {
    return {path, "", "symlink points outside the repository (to " + target + "); not followed", false, true};
  }
  struct stat st;
  if (::stat(target.c_str(), &st) != 0) {
    return {path, "", std::string("cannot follow symlink: ") + std::strerror(errno), true};
  }
  if (!S_ISREG(st.st_mode))
    return {path, "", "symlink to " + std::string(FileTypeName(st.st_mode)) + "; skipped"};
  return {path, target};
}

class Collector {
 public:
  explicit Collector(std::string boundary) : boundary_(RealPath(boundary)) {}

  void Visit(const std::string& path, bool named) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      out_.push_back({path, "", std::strerror(errno), true});
      return;
    }
    if (S_ISDIR(st.st_mode)) return VisitDir(path);
    if (!named && !HasSpecExtension(BaseName(path))) return;
    SpecFile f = Judge(path, st, boundary_);
    // Named on the command line, a FIFO, socket, device or dangling link is
    // an error, as a missing file is; only what a walk finds is passed over.
    if (named && !f.skip_reason.empty() && !f.refused && !f.io_error) {
      const size_t cut = f.skip_reason.rfind("; skipped");
      if (cut != std::string::npos) f.skip_reason = f.skip_reason.substr(0, cut) + ": nothing to validate";
      f.io_error = true;
    }
    out_.push_back(std::move(f));
  }

  std::vector<SpecFile> Take() { return std::move(out_); }

 private:
  void VisitDir(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      out_.push_back({dir, "", std::strerror(errno), true});
      return;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || name == ".git") continue;
      names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    // Templates are starting points, not specs: left out of a walk of the
    // specs folder (named on their own, they are checked).
    std::string bare = dir;
    while (bare.size() > 1 && bare.back() == '/') bare.pop_back();
    bool specs_dir = bare.size() >= 13 && bare.compare(bare.size() - 13, 13, ".agents/specs") == 0;
    for (const std::string& name : names) {
      if (specs_dir && name == "templates") continue;
      Visit(Join(dir, name), false);
    }
  }

  std::string boundary_;
  std::vector<SpecFile> out_;
};

}  // namespace

std::vector<SpecFile> CollectSpecFiles(const std::vector<std::string>& inputs, const std::string& boundary) {
  Collector c(boundary);
  for (const std::string& in : inputs) c.Visit(in, true);
  return c.Take();
}

Result<FileBytes> ReadRepoSpecFile(const std::string& path, const std::string& boundary, size_t max_bytes) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    int err = errno;
    return Error{std::string("cannot open: ") + std::strerror(err), err == ENOENT   ? ErrorCode::kNotFound
                                                                    : err == EACCES ? ErrorCode::kPermission
                                                                                    : ErrorCode::kOther};
  }
  if (S_ISDIR(st.st_mode)) return Error{"a directory, not a file; skipped", ErrorCode::kInvalid};
  SpecFile f = Judge(path, st, RealPath(boundary));
  if (!f.skip_reason.empty())
    return Error{f.skip_reason, f.io_error ? ErrorCode::kOther : ErrorCode::kInvalid};
  return ReadSpecFile(f.open_path, max_bytes);
}

Result<FileBytes> ReadSpecFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error{std::string("cannot open: ") + std::strerror(errno)};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"not a regular file", ErrorCode::kInvalid};
  }
  FileBytes out;
  out.size = static_cast<uint64_t>(st.st_size);
  if (out.size > max_bytes) {
    ::close(fd);
    out.too_large = true;
    return out;
  }
  // Read up to one byte past the limit so a file that grew is still caught;
  // the buffer grows with what is read, never to the limit up front.
  size_t got = 0;
  char buf[65536];
  while (got <= max_bytes) {
    size_t want = max_bytes - got >= sizeof buf ? sizeof buf : max_bytes - got + 1;
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Error{std::string("cannot read: ") + std::strerror(err)};
    }
    if (n == 0) break;
    out.data.append(buf, static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > max_bytes) {
    out.too_large = true;
    out.size = got;
    out.data.clear();
  }
  return out;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace specd
