// The polling backend: for file systems where inotify hears nothing another
// machine writes (NFS, CIFS, FUSE, shared volumes). Every interval it walks
// the trees and compares each spec file's stamp (size, mtime, inode, ctime)
// with the last walk's. A file seen with the same stamp twice in a row is
// settled; a changed one is reported as written.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <set>
#include <unordered_map>

#include "engine/env.h"
#include "engine/spec_files.h"
#include "watchers/file_watcher.h"
#include "watchers/git_gate.h"

namespace specd {

namespace {

class PollingWatcher : public FileWatcher {
 public:
  PollingWatcher(std::string root, int64_t interval_ms, std::string git_dir)
      : root_(std::move(root)), interval_ms_(interval_ms), git_dir_(std::move(git_dir)) {}

  const char* name() const override { return "polling"; }
  int fd() const override { return -1; }
  int64_t interval_ms() const override { return interval_ms_; }
  size_t watched() const override { return seen_.size(); }

  void Start() {
    Walk(&seen_);
    markers_ = Markers();
  }

  Result<WatchBatch> Read() override {
    std::unordered_map<std::string, FileStamp> now;
    now.reserve(seen_.size());
    Walk(&now);
    WatchBatch batch;
    // A marker that appeared goes first and one that went away last: what
    // changed in the same interval may have been git's doing.
    const std::set<std::string> markers = Markers();
    for (const std::string& m : markers) {
      if (!markers_.count(m)) batch.events.push_back(FsEvent{m, FsEvent::Kind::kWritten});
    }
    for (const auto& [path, stamp] : now) {
      auto before = seen_.find(path);
      if (before == seen_.end() || !(before->second == stamp)) {
        batch.events.push_back(FsEvent{path, FsEvent::Kind::kWritten});
      }
    }
    for (const auto& [path, stamp] : seen_) {
      if (!now.count(path)) batch.events.push_back(FsEvent{path, FsEvent::Kind::kGone});
    }
    for (const std::string& m : markers_) {
      if (!markers.count(m)) batch.events.push_back(FsEvent{m, FsEvent::Kind::kGone});
    }
    seen_ = std::move(now);
    markers_ = markers;
    return batch;
  }

 private:
  // The git operation markers present in the git dir, as paths.
  std::set<std::string> Markers() const {
    std::set<std::string> out;
    if (git_dir_.empty()) return out;
    for (const char* m : kGitOperationMarkers) {
      struct stat st;
      const std::string path = git_dir_ + "/" + m;
      if (::lstat(path.c_str(), &st) == 0) out.insert(path);
    }
    return out;
  }

  void Walk(std::unordered_map<std::string, FileStamp>* out) {
    for (const char* t : kWatchedTrees) WalkDir(root_ + "/" + t, 0, out);
  }

  void WalkDir(const std::string& dir, int depth, std::unordered_map<std::string, FileStamp>* out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> subdirs;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.empty() || name[0] == '.') continue;
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth < kMaxSpecDirDepth) subdirs.emplace_back(name);
      } else if (IsWatchedName(name)) {
        (*out)[dir + "/" + std::string(name)] = FileStampOf(st);
      }
    }
    ::closedir(d);
    for (const std::string& sub : subdirs) WalkDir(dir + "/" + sub, depth + 1, out);
  }

  std::string root_;
  int64_t interval_ms_;
  std::string git_dir_;
  std::unordered_map<std::string, FileStamp> seen_;
  std::set<std::string> markers_;
};

}  // namespace

Result<std::unique_ptr<FileWatcher>> NewPollingWatcher(const std::string& root, int64_t interval_ms,
                                                       const std::string& git_dir) {
  if (interval_ms <= 0) return Error{"the polling interval must be at least 1 ms"};
  auto w = std::make_unique<PollingWatcher>(root, interval_ms, git_dir);
  w->Start();
  return std::unique_ptr<FileWatcher>(std::move(w));
}

}  // namespace specd
