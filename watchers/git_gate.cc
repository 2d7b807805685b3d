#include "watchers/git_gate.h"

#include <sys/stat.h>

#include <filesystem>

#include "engine/journal.h"

namespace specd {

namespace fs = std::filesystem;

bool IsGitOperationMarker(std::string_view name) {
  for (const char* m : kGitOperationMarkers) {
    if (name == m) return true;
  }
  return false;
}

std::string GitDirFor(const std::string& repo_root) {
  // The journal lives in <git dir>/specd/ when there is a git dir, else in
  // <root>/.agents/.specd/: one rule, kept in JournalPathFor.
  const fs::path journal(JournalPathFor(repo_root));
  if (journal.parent_path() == fs::path(repo_root) / ".agents" / ".specd") return "";
  return journal.parent_path().parent_path().string();
}

bool GitGate::IsMarker(const std::string& path) const {
  if (git_dir_.empty() || path.size() <= git_dir_.size() + 1) return false;
  if (path.compare(0, git_dir_.size(), git_dir_) != 0 || path[git_dir_.size()] != '/') return false;
  return IsGitOperationMarker(std::string_view(path).substr(git_dir_.size() + 1));
}

void GitGate::Note(const FsEvent& event) {
  const std::string name = event.path.substr(git_dir_.size() + 1);
  if (event.kind == FsEvent::Kind::kGone) {
    present_.erase(name);
    return;
  }
  if (!busy()) seen_.clear();  // a new operation
  present_.insert(name);
  seen_.insert(name);
}

void GitGate::Refresh() {
  if (!busy()) seen_.clear();
  present_.clear();
  if (git_dir_.empty()) return;
  for (const char* m : kGitOperationMarkers) {
    struct stat st;
    if (::lstat((git_dir_ + "/" + m).c_str(), &st) == 0) present_.insert(m), seen_.insert(m);
  }
}

std::string GitGate::Describe() const {
  std::string out;
  for (const std::string& m : seen_) {
    const char* what = m == "MERGE_HEAD"                                 ? "a merge"
                       : m == "REBASE_HEAD" || m.rfind("rebase", 0) == 0 ? "a rebase"
                       : m == "CHERRY_PICK_HEAD"                         ? "a cherry-pick"
                       : m == "REVERT_HEAD"                              ? "a revert"
                                                                         : "git's index lock";
    out += (out.empty() ? "" : ", ") + std::string(what) + " (" + m + ")";
  }
  return out;
}

GitGate::Held GitGate::Take() {
  Held h{std::vector<std::string>(held_.begin(), held_.end()), everything_};
  held_.clear();
  everything_ = false;
  return h;
}

}  // namespace specd
