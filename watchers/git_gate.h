// specd watch and git operations. While git merges, rebases, cherry-picks or
// reverts in the repository, or holds its index lock (a checkout, a pull, a
// commit), the spec files that change are git's doing, not an author's
// edits: judged one by one as edits they would be refused and the old status
// put back, undoing a teammate's work. GitGate says whether such an
// operation is under way (marker files in the repository's git dir, a linked
// worktree's own) and keeps the paths that changed meanwhile; when the
// operation ends the watch service reconciles them as git changes
// (EngineOptions::changes_from_git, as the post-merge hook does).
//
// The backend reports the markers' creation and removal as events, in order
// with the spec files' events, so a file git wrote under its index lock is
// told from an edit made just before or after. Refresh() looks at the git
// dir itself: at start, after lost events, and on a bounded re-check timer
// while an operation is under way.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "watchers/file_watcher.h"

namespace specd {

// Names in a git dir that say an operation is under way.
inline constexpr const char* kGitOperationMarkers[] = {"MERGE_HEAD",   "REBASE_HEAD",      "rebase-merge",
                                                       "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD",
                                                       "index.lock"};

bool IsGitOperationMarker(std::string_view name);

// The git dir of the repository at `repo_root` (a linked worktree's own, as
// the journal's: it lives in <git dir>/specd/); "" when it has none.
std::string GitDirFor(const std::string& repo_root);

class GitGate {
 public:
  explicit GitGate(std::string git_dir) : git_dir_(std::move(git_dir)) {}  // "": never busy

  const std::string& git_dir() const { return git_dir_; }
  // Whether `path` (absolute) is a marker in the git dir.
  bool IsMarker(const std::string& path) const;
  // A marker's event, in the order the backend saw it.
  void Note(const FsEvent& event);
  // The git dir as it is now.
  void Refresh();
  bool busy() const { return !present_.empty(); }
  // What has been under way since it was last idle, for the log: "a merge
  // (MERGE_HEAD), git's index lock (index.lock)".
  std::string Describe() const;

  // A spec path that changed while busy.
  void Hold(const std::string& path) { held_.insert(path); }
  // A full pass is owed (the first one, a rescan asked for while busy).
  void HoldEverything() { everything_ = true; }
  bool holding() const { return everything_ || !held_.empty(); }
  struct Held {
    std::vector<std::string> paths;  // sorted
    bool everything = false;
  };
  Held Take();

 private:
  std::string git_dir_;
  std::set<std::string> present_;  // marker names
  std::set<std::string> seen_;     // marker names since it was last idle
  std::set<std::string> held_;
  bool everything_ = false;
};

}  // namespace specd
