#include "engine/repo.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace specd {

namespace fs = std::filesystem;

std::optional<std::string> FindRepoRoot(const std::string& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  dir = dir.lexically_normal();
  while (true) {
    if (fs::is_directory(dir / ".agents" / "specs", ec) || fs::exists(dir / ".git", ec)) {
      std::string s = dir.string();
      if (s.size() > 1 && s.back() == '/') s.pop_back();
      if (s == "/") return std::nullopt;
      return s;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

namespace {

// The first line of a small file, without surrounding blanks; "" when it
// cannot be read.
std::string FirstLineOf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line)) return "";
  const char* kBlank = " \t\r";
  const size_t first = line.find_first_not_of(kBlank);
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(kBlank) - first + 1);
}

std::string Under(const std::string& base, const std::string& p) {
  return !p.empty() && p[0] == '/' ? p : base + "/" + p;
}

}  // namespace

std::optional<GitDirs> FindGitDirs(const std::string& root) {
  const std::string dot_git = root + "/.git";
  struct stat st;
  if (::stat(dot_git.c_str(), &st) != 0) return std::nullopt;
  GitDirs dirs{dot_git, ""};
  if (!S_ISDIR(st.st_mode)) {
    const std::string line = FirstLineOf(dot_git);
    constexpr std::string_view kPrefix = "gitdir:";
    if (line.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
    const size_t from = line.find_first_not_of(" \t", kPrefix.size());
    if (from == std::string::npos) return std::nullopt;
    dirs.git_dir = Under(root, line.substr(from));
  }
  const std::string common = FirstLineOf(dirs.git_dir + "/commondir");
  dirs.common_dir = common.empty() ? dirs.git_dir : Under(dirs.git_dir, common);
  return dirs;
}

std::string SpecsDir(const std::string& repo_root) {
  return repo_root + "/.agents/specs";
}

namespace {

bool Inside(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         (dir == "/" || path[dir.size()] == '/'));
}

// `rel` under `root`, if it is there: a directory resolving inside `real_root`.
Status CheckDir(const std::string& root, const std::string& real_root, const std::string& rel) {
  const std::string path = root + "/" + rel;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Error{path + ": " + std::strerror(errno),
                 errno == EACCES ? ErrorCode::kPermission : ErrorCode::kOther};
  }
  char buf[PATH_MAX];
  const char* real = ::realpath(path.c_str(), buf);
  if (S_ISLNK(st.st_mode) && !real) {
    return Error{path + " is a dangling symlink; specd does not follow it", ErrorCode::kInvalid};
  }
  if (real && !Inside(real, real_root)) {
    return Error{path + " leads outside the repository (to " + std::string(real) +
                     "); specd reads and writes specs only inside " + root,
                 ErrorCode::kInvalid};
  }
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return Error{path + " is not a directory", ErrorCode::kInvalid};
  }
  // A folder specd cannot list would read as "no specs" (or every spec removed).
  if (::access(path.c_str(), R_OK | X_OK) != 0) {
    return Error{"cannot read " + path + ": " + std::strerror(errno),
                 errno == EACCES ? ErrorCode::kPermission : ErrorCode::kOther};
  }
  return Status::Ok();
}

// The symlinks directly in `rel` (d_type: no stat per file).
std::vector<std::string> LinksIn(const std::string& root, const std::string& rel) {
  std::vector<std::string> out;
  DIR* d = ::opendir((root + "/" + rel).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) out.push_back(rel + "/" + e->d_name);
  }
  ::closedir(d);
  return out;
}

}  // namespace

Status CheckSpecTree(const std::string& root) {
  char buf[PATH_MAX];
  if (!::realpath(root.c_str(), buf)) return Error{root + ": " + std::strerror(errno)};
  const std::string real_root = buf;
  const std::vector<std::string> dirs = {".agents",
                                         ".agents/.specd",
                                         ".agents/specs",
                                         ".agents/specs/active",
                                         ".agents/specs/archive",
                                         ".agents/specs/templates"};
  for (const std::string& rel : dirs) {
    if (Status s = CheckDir(root, real_root, rel); !s.ok()) return s;
  }
  for (const char* rel : {".agents/specs/active", ".agents/specs/archive"}) {
    for (const std::string& link : LinksIn(root, rel)) {
      struct stat st;
      const std::string path = root + "/" + link;
      // A symlinked spec file is the read's business (spec_files); a
      // symlinked folder must stay inside.
      if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
      if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (Status s = CheckDir(root, real_root, link); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace specd

namespace specd {

Status CheckRepoDir(const std::string& root, const std::string& rel) {
  char buf[PATH_MAX];
  if (!::realpath(root.c_str(), buf)) return Error{root + ": " + std::strerror(errno)};
  return CheckDir(root, buf, rel);
}

}  // namespace specd
