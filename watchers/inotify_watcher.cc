// The inotify backend. Directories are watched, never files: an editor's
// rename-save replaces the file (a new inode) and a watch on the file would
// die with it. The directories above the spec trees are watched for the
// names on the way down only, so a tree that is deleted and created again,
// or moved in, is watched again at once.
#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "engine/spec_files.h"
#include "watchers/file_watcher.h"
#include "watchers/git_gate.h"

namespace specd {

namespace {

constexpr uint32_t kTreeMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                               IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                               IN_DONT_FOLLOW | IN_EXCL_UNLINK;
// IN_MOVE_SELF: the repository folder renamed wakes the service, which
// checks that its root is still where it was.
constexpr uint32_t kAnchorMask = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_MOVE_SELF |
                                 IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;
// The git dir's top level: its operation markers coming and going.
constexpr uint32_t kGitDirMask = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR;

// The directories above the trees, and the one name each leads to.
struct Anchor {
  const char* dir;   // relative to the root ("" is the root)
  const char* next;  // the child that matters
};
constexpr Anchor kAnchors[] = {{"", ".agents"}, {".agents", "specs"}, {".agents/specs", nullptr}};
constexpr const char* kTreeNames[] = {"active", "archive"};

class InotifyWatcher : public FileWatcher {
 public:
  InotifyWatcher(std::string root, std::string git_dir)
      : root_(std::move(root)), git_dir_(std::move(git_dir)) {}
  ~InotifyWatcher() override {
    if (fd_ >= 0) ::close(fd_);
  }

  const char* name() const override { return "inotify"; }
  int fd() const override { return fd_; }
  int64_t interval_ms() const override { return 0; }
  size_t watched() const override { return dirs_.size(); }

  Status Start() {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return Error{std::string("inotify_init1: ") + std::strerror(errno)};
    WatchBatch unused;
    return Rewatch(&unused, false);
  }

  Result<WatchBatch> Read() override {
    WatchBatch batch;
    alignas(struct inotify_event) char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return Error{std::string("reading inotify events: ") + std::strerror(errno)};
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
        Handle(*ev, &batch);
        p += sizeof(struct inotify_event) + ev->len;
      }
    }
    if (batch.rescan) {
      if (Status s = Rewatch(&batch, true); !s.ok()) return s.error();
    }
    return batch;
  }

 private:
  struct Dir {
    std::string rel;      // relative to root_
    bool anchor = false;  // above the trees: only names on the way down count
    bool git = false;     // the git dir: only its operation markers count
  };

  void Handle(const struct inotify_event& ev, WatchBatch* batch) {
    if (ev.mask & IN_Q_OVERFLOW) {
      batch->rescan = batch->overflow = true;
      batch->rescan_reason = "the kernel's event queue overflowed (fs.inotify.max_queued_events)";
      return;
    }
    if (ev.mask & IN_IGNORED) {  // the directory is gone (or unmounted): its watch with it
      dirs_.erase(ev.wd);
      return;
    }
    auto it = dirs_.find(ev.wd);
    if (it == dirs_.end()) return;
    const Dir& dir = it->second;
    if (dir.git) {
      if (ev.len && IsGitOperationMarker(ev.name)) {
        const bool gone = ev.mask & (IN_DELETE | IN_MOVED_FROM);
        batch->events.push_back(
            FsEvent{git_dir_ + "/" + ev.name, gone ? FsEvent::Kind::kGone : FsEvent::Kind::kWritten});
      }
      return;
    }
    if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      if (!dir.anchor) Structural(batch, dir.rel + " was deleted or moved");
      return;
    }
    std::string_view name = ev.len ? std::string_view(ev.name) : std::string_view();
    if (dir.anchor) {
      if (IsOnTheWayDown(dir.rel, name)) {
        Structural(batch, Join(dir.rel, name) +
                              ((ev.mask & (IN_CREATE | IN_MOVED_TO)) ? " appeared" : " went away"));
      }
      return;
    }
    const std::string rel = Join(dir.rel, name);
    if (ev.mask & IN_ISDIR) {
      if (name.empty() || name[0] == '.') return;
      if (ev.mask & (IN_CREATE | IN_MOVED_TO)) {
        // Watch it, then report what is already inside: files written before
        // the watch was in place would otherwise never be seen.
        AddTree(rel, Depth(rel), batch, true);
      } else if (ev.mask & (IN_DELETE | IN_MOVED_FROM)) {
        Structural(batch, rel + " was deleted or moved");  // its files left without an event each
      }
      return;
    }
    if (!IsWatchedName(name)) return;
    FsEvent e;
    e.path = root_ + "/" + rel;
    if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB)) {
      e.kind = FsEvent::Kind::kWritten;
    } else if (ev.mask & (IN_DELETE | IN_MOVED_FROM)) {
      e.kind = FsEvent::Kind::kGone;
    } else if (ev.mask & (IN_CREATE | IN_MODIFY)) {
      e.kind = FsEvent::Kind::kChanging;
    } else {
      return;
    }
    batch->events.push_back(std::move(e));
  }

  void Structural(WatchBatch* batch, const std::string& why) {
    if (!batch->rescan) batch->rescan_reason = why;
    batch->rescan = true;
    if (std::find(batch->notes.begin(), batch->notes.end(), why) == batch->notes.end())
      batch->notes.push_back(why);
  }

  static bool IsOnTheWayDown(const std::string& dir, std::string_view name) {
    for (const Anchor& a : kAnchors) {
      if (dir != a.dir) continue;
      if (a.next) return name == a.next;
      for (const char* t : kTreeNames) {
        if (name == t) return true;
      }
    }
    return false;
  }

  static std::string Join(const std::string& dir, std::string_view name) {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
  }
  static int Depth(const std::string& rel) {
    int d = 0;
    for (char c : rel) d += c == '/';
    return d - 2;  // .agents/specs/active is depth 0
  }

  // Adds (or renews) every watch: the anchors that exist, then the trees.
  // inotify_add_watch on a watched directory returns its existing
  // descriptor, so this is safe to repeat; a renamed directory gets its new
  // path. With `report`, files found in the trees are reported as written.
  Status Rewatch(WatchBatch* batch, bool report) {
    for (const Anchor& a : kAnchors) {
      int wd = ::inotify_add_watch(fd_, (root_ + (*a.dir ? "/" : "") + a.dir).c_str(), kAnchorMask);
      if (wd >= 0) {
        dirs_[wd] = Dir{a.dir, true};
      } else if (errno == ENOSPC) {
        return TooManyWatches();
      }
    }
    if (!git_dir_.empty()) {
      int wd = ::inotify_add_watch(fd_, git_dir_.c_str(), kGitDirMask);
      if (wd >= 0) {
        dirs_[wd] = Dir{"", false, true};
      } else if (errno == ENOSPC) {
        return TooManyWatches();
      }
    }
    for (const char* t : kWatchedTrees) {
      if (Status s = AddTree(t, 0, batch, report); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status AddTree(const std::string& rel, int depth, WatchBatch* batch, bool report) {
    const std::string abs = root_ + "/" + rel;
    int wd = ::inotify_add_watch(fd_, abs.c_str(), kTreeMask);
    if (wd < 0) {
      if (errno == ENOSPC) return TooManyWatches();
      return Status::Ok();  // not there (yet): its anchor reports it when it appears
    }
    dirs_[wd] = Dir{rel, false};
    DIR* d = ::opendir(abs.c_str());
    if (!d) return Status::Ok();
    std::vector<std::string> subdirs;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) {
        if (name[0] != '.' && depth < kMaxSpecDirDepth) subdirs.emplace_back(name);
      } else if (report && IsWatchedName(name)) {
        batch->events.push_back(FsEvent{abs + "/" + std::string(name), FsEvent::Kind::kWritten});
      }
    }
    ::closedir(d);
    for (const std::string& sub : subdirs) {
      if (Status s = AddTree(rel + "/" + sub, depth + 1, batch, report); !s.ok()) return s;
    }
    return Status::Ok();
  }

  static Status TooManyWatches() {
    return Error{
        "inotify: out of watches (fs.inotify.max_user_watches); raise it with "
        "`sysctl fs.inotify.max_user_watches=524288`, or run specd watch --poll 1000"};
  }

  std::string root_;
  std::string git_dir_;
  int fd_ = -1;
  std::unordered_map<int, Dir> dirs_;
};

}  // namespace

Result<std::unique_ptr<FileWatcher>> NewInotifyWatcher(const std::string& root, const std::string& git_dir) {
  auto w = std::make_unique<InotifyWatcher>(root, git_dir);
  if (Status s = w->Start(); !s.ok()) return s.error();
  return std::unique_ptr<FileWatcher>(std::move(w));
}

}  // namespace specd
