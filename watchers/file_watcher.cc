#include "watchers/file_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/env.h"
#include "engine/spec_files.h"

namespace specd {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool IsIgnoredName(std::string_view name) {
  if (name.empty()) return true;
  if (name.rfind(kTempPrefix, 0) == 0) return true;                                // specd's own
  if (name == "4913") return true;                                                 // vim probes the directory
  if (EndsWith(name, "~")) return true;                                            // backups
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') return true;  // emacs auto-save
  if (name.rfind(".#", 0) == 0) return true;                                       // emacs lock
  if (name.front() == '.' && name.size() >= 5 && name[name.size() - 4] == '.' &&
      name.substr(name.size() - 3, 2) == "sw") {
    return true;  // vim swap: .x.swp, .x.swo, ...
  }
  if (name.rfind(".subl", 0) == 0 && EndsWith(name, ".tmp")) return true;  // Sublime Text
  return false;
}

bool IsWatchedName(std::string_view name) {
  return IsSpecFileName(name) && !IsIgnoredName(name);
}

std::string_view RemoteFileSystemName(int64_t magic) {
  switch (static_cast<uint32_t>(magic)) {
    case 0x6969u:
      return "nfs";
    case 0x517Bu:
      return "smb";
    case 0xFF534D42u:
      return "cifs";
    case 0xFE534D42u:
      return "smb2";
    case 0x65735546u:
      return "fuse";
    case 0x01021997u:
      return "9p (v9fs)";
    case 0x00C36400u:
      return "ceph";
    case 0x5346414Fu:
      return "afs";
    case 0x73757245u:
      return "coda";
    case 0x786F4256u:
      return "vboxsf";
    case 0x47504653u:
      return "gpfs";
    case 0x0BD00BD0u:
      return "lustre";
    default:
      return "";
  }
}

std::string RemoteFileSystemAt(const std::string& path) {
  std::string p = path;
  struct statfs st;
  while (::statfs(p.c_str(), &st) != 0) {
    size_t slash = p.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "";
    p.resize(slash);
  }
  return std::string(RemoteFileSystemName(static_cast<int64_t>(st.f_type)));
}

Result<std::unique_ptr<FileWatcher>> NewFileWatcher(const std::string& root, const std::string& git_dir,
                                                    int64_t poll_ms, int64_t auto_poll_ms) {
  if (poll_ms <= 0) {
    const std::string active = root + "/" + kWatchedTrees[0];
    std::string remote = RemoteFileSystemAt(active);
    if (!remote.empty()) {
      poll_ms = auto_poll_ms;
      spdlog::info(
          "{} is on {}, where inotify does not see writes made by other machines: polling every {} ms "
          "(--poll MS to choose the interval)",
          active, remote, poll_ms);
    }
  }
  return poll_ms > 0 ? NewPollingWatcher(root, poll_ms, git_dir) : NewInotifyWatcher(root, git_dir);
}

}  // namespace specd

namespace specd {

std::vector<bool> OpenForWriting(const std::vector<std::string>& paths) {
  std::vector<bool> open(paths.size(), false);
  std::map<std::pair<dev_t, ino_t>, size_t> wanted;
  for (size_t i = 0; i < paths.size(); ++i) {
    struct stat st;
    if (::stat(paths[i].c_str(), &st) == 0) wanted.emplace(std::make_pair(st.st_dev, st.st_ino), i);
  }
  if (wanted.empty()) return open;
  DIR* proc = ::opendir("/proc");
  if (!proc) return open;
  while (struct dirent* p = ::readdir(proc)) {
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    const std::string pid_dir = std::string("/proc/") + p->d_name;
    DIR* fds = ::opendir((pid_dir + "/fd").c_str());
    if (!fds) continue;  // gone, or not ours to see
    while (struct dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      struct stat st;
      if (::fstatat(::dirfd(fds), f->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
      auto it = wanted.find({st.st_dev, st.st_ino});
      if (it == wanted.end() || open[it->second]) continue;
      // The same file: open for writing? fdinfo's "flags:" is octal.
      std::FILE* info = std::fopen((pid_dir + "/fdinfo/" + f->d_name).c_str(), "r");
      if (!info) continue;
      char line[128];
      while (std::fgets(line, sizeof line, info)) {
        unsigned long flags = 0;
        if (std::sscanf(line, "flags: %lo", &flags) == 1) {
          open[it->second] = (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
          break;
        }
      }
      std::fclose(info);
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return open;
}

}  // namespace specd
