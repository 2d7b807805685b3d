// How specd watch learns that spec files changed: one interface, two
// backends. inotify (Linux, local file systems) reports each change as it
// happens; polling (NFS, CIFS, FUSE: where inotify sees nothing another
// machine writes) compares stamps on a timer. Both report paths, never act:
// the watch service decides when and calls the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schema/result.h"

namespace specd {

struct FsEvent {
  enum class Kind : uint8_t {
    kWritten,   // a writer is done with it (close after write, rename onto it, attributes changed)
    kChanging,  // created or modified: a writer may still be at work
    kGone,      // deleted or moved away (perhaps to be replaced in a moment)
  };
  std::string path;  // absolute
  Kind kind = Kind::kWritten;
};

struct WatchBatch {
  std::vector<FsEvent> events;
  // The kernel dropped events (queue overflow), or the tree changed shape
  // (a watched directory moved or deleted): only a full pass is exact.
  bool rescan = false;
  std::string rescan_reason;       // for the log and the journal
  bool overflow = false;           // rescan because the kernel's queue overflowed
  std::vector<std::string> notes;  // what a person would want in the log
};

class FileWatcher {
 public:
  virtual ~FileWatcher() = default;
  virtual const char* name() const = 0;  // "inotify", "polling"
  // A descriptor that becomes readable when Read has something; -1 for a
  // backend that is read on a timer (interval_ms).
  virtual int fd() const = 0;
  virtual int64_t interval_ms() const = 0;
  // What happened since the last call; never blocks.
  virtual Result<WatchBatch> Read() = 0;
  // Directories watched (inotify) or files tracked (polling), for the log.
  virtual size_t watched() const = 0;
};

// The factories return a watcher already started: what changes from then on
// is reported by Read.
// Watches <root>/.agents/specs/active and archive (with their
// subdirectories), and the directories above them so that a deleted and
// recreated tree is watched again. With a `git_dir`, its git operation
// markers (git_gate.h) coming and going are reported too, as events on
// <git_dir>/<marker>, in order with the specs' (polling: a marker that
// appeared before, one that went away after the interval's spec events).
Result<std::unique_ptr<FileWatcher>> NewInotifyWatcher(const std::string& root,
                                                       const std::string& git_dir = "");
Result<std::unique_ptr<FileWatcher>> NewPollingWatcher(const std::string& root, int64_t interval_ms,
                                                       const std::string& git_dir = "");
// The backend specd watch uses: polling every `poll_ms` when it is > 0, or
// every `auto_poll_ms` when the spec tree is on a file system where inotify
// is blind to other machines' writes (said in the log), else inotify.
Result<std::unique_ptr<FileWatcher>> NewFileWatcher(const std::string& root, const std::string& git_dir,
                                                    int64_t poll_ms, int64_t auto_poll_ms);

// File systems where inotify misses writes made elsewhere: the name to log,
// or "" for a local file system. `magic` is statfs's f_type.
std::string_view RemoteFileSystemName(int64_t magic);
// statfs of `path` (or its nearest existing parent): RemoteFileSystemName.
std::string RemoteFileSystemAt(const std::string& path);

// Names no pass should look at: editors' temporaries (.x.swp, x~, #x#,
// .#x, vim's 4913 probe, .subl*.tmp) and specd's own temp files.
bool IsIgnoredName(std::string_view name);
// A file name the watcher passes on: a spec file name, not ignored.
bool IsWatchedName(std::string_view name);

// Spec directories the watcher covers, relative to the repository root.
inline constexpr const char* kWatchedTrees[] = {".agents/specs/active", ".agents/specs/archive"};

}  // namespace specd

namespace specd {

// For each of `paths`, whether some process this one can see has it open
// for writing: one walk of /proc/*/fd, as fuser does, for all of them (only
// for files that fail to validate, so the cost is paid rarely). The watcher
// keeps holding such a file: its writer is not done.
std::vector<bool> OpenForWriting(const std::vector<std::string>& paths);

}  // namespace specd
