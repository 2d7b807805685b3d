#include "pipeline/checked_out.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

std::string WithoutTrailingSlash(const char* path) {
  std::string s = path ? path : "";
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool HeadIs(git_repository* repo, const std::string& ref) {
  git_reference* head = nullptr;
  if (git_reference_lookup(&head, repo, "HEAD") != 0) return false;
  const bool yes =
      git_reference_type(head) == GIT_REFERENCE_SYMBOLIC && ref == git_reference_symbolic_target(head);
  git_reference_free(head);
  return yes;
}

// A rebase detaches HEAD but owns the branch: it writes it when it ends.
bool Rebasing(git_repository* repo, const std::string& ref) {
  const std::string dir = WithoutTrailingSlash(git_repository_path(repo));
  for (const char* name : {"/rebase-merge/head-name", "/rebase-apply/head-name"}) {
    std::ifstream in(dir + name);
    std::string line;
    if (std::getline(in, line) && line == ref) return true;
  }
  return false;
}

std::string Busy(git_repository* repo) {
  switch (git_repository_state(repo)) {
    case GIT_REPOSITORY_STATE_NONE:
      return "";
    case GIT_REPOSITORY_STATE_MERGE:
      return "a merge is under way";
    case GIT_REPOSITORY_STATE_REVERT:
    case GIT_REPOSITORY_STATE_REVERT_SEQUENCE:
      return "a revert is under way";
    case GIT_REPOSITORY_STATE_CHERRYPICK:
    case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE:
      return "a cherry-pick is under way";
    case GIT_REPOSITORY_STATE_BISECT:
      return "a bisect is under way";
    case GIT_REPOSITORY_STATE_REBASE:
    case GIT_REPOSITORY_STATE_REBASE_INTERACTIVE:
    case GIT_REPOSITORY_STATE_REBASE_MERGE:
      return "a rebase is under way";
    default:
      return "a git operation is under way";
  }
}

void Consider(std::vector<CheckedOut>& out, RepoPtr repo, const std::string& ref) {
  if (git_repository_is_bare(repo.get())) return;
  if (!HeadIs(repo.get(), ref) && !Rebasing(repo.get(), ref)) return;
  std::string busy = Busy(repo.get());
  out.push_back(CheckedOut{WithoutTrailingSlash(git_repository_workdir(repo.get())), busy, std::move(repo)});
}

// One side of a path: absent, or an object id and a mode.
struct Version {
  bool present = false;
  git_oid id{};
  uint32_t mode = 0;
};

bool Same(const Version& a, const Version& b, bool modes) {
  if (a.present != b.present) return false;
  return !a.present || (git_oid_equal(&a.id, &b.id) && (!modes || a.mode == b.mode));
}

Version InTree(git_tree* tree, const std::string& path) {
  git_tree_entry* entry = nullptr;
  if (!tree || git_tree_entry_bypath(&entry, tree, path.c_str()) != 0) return {};
  Version v{true, *git_tree_entry_id(entry), static_cast<uint32_t>(git_tree_entry_filemode(entry))};
  git_tree_entry_free(entry);
  return v;
}

// Stage 0's entry; `conflicted` when a conflict stage is there too.
Version InIndex(git_index* index, const std::string& path, bool& conflicted) {
  conflicted = false;
  for (int stage = 1; stage <= 3; ++stage) {
    if (git_index_get_bypath(index, path.c_str(), stage)) conflicted = true;
  }
  const git_index_entry* e = git_index_get_bypath(index, path.c_str(), 0);
  if (!e) return {};
  return Version{true, e->id, e->mode};
}

// The file as `git add` would see it. A directory, a FIFO...: present with
// an id no object has.
Result<Version> OnDisk(CheckedOut& wt, const std::string& path) {
  const std::string full = wt.dir + "/" + path;
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Version{};
    return Error{"cannot read " + full + ": " + std::strerror(errno)};
  }
  Version v{true, {}, GIT_FILEMODE_BLOB};
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
    if (n < 0) return Error{"cannot read the link " + full + ": " + std::strerror(errno)};
    if (git_odb_hash(&v.id, target.data(), static_cast<size_t>(n), GIT_OBJECT_BLOB) != 0)
      return GitError("cannot hash " + full);
    v.mode = GIT_FILEMODE_LINK;
  } else if (S_ISREG(st.st_mode)) {
    if (git_repository_hashfile(&v.id, wt.repo.get(), path.c_str(), GIT_OBJECT_BLOB, nullptr) != 0)
      return GitError("cannot hash " + full);
    if (st.st_mode & S_IXUSR) v.mode = GIT_FILEMODE_BLOB_EXECUTABLE;
  } else {
    v.mode = 0;
  }
  return v;
}

// core.fileMode: whether the executable bit on disk means anything.
bool TrustModes(git_repository* repo) {
  git_config* config = nullptr;
  if (git_repository_config_snapshot(&config, repo) != 0) return true;
  int value = 1;
  if (git_config_get_bool(&value, config, "core.filemode") != 0) value = 1;
  git_config_free(config);
  return value != 0;
}

Result<git_index*> FreshIndex(CheckedOut& wt) {
  git_index* index = nullptr;  // owned by the repository handle
  if (git_repository_index(&index, wt.repo.get()) != 0) return GitError("cannot read the index of " + wt.dir);
  std::unique_ptr<git_index, GitFree> owned(index);
  if (git_index_read(index, /*force=*/true) != 0) return GitError("cannot read the index of " + wt.dir);
  return owned.release();
}

// Where a path stands against two versions (`to` may be null).
struct PathState {
  bool index_from = false, index_to = false, file_from = false, file_to = false;
};

Result<PathState> StateOf(CheckedOut& wt, git_index* index, git_tree* from, git_tree* to,
                          const std::string& path, bool modes) {
  bool conflicted = false;
  const Version staged = InIndex(index, path, conflicted);
  Result<Version> file = OnDisk(wt, path);
  if (!file.ok()) return file.error();
  const Version a = InTree(from, path), b = InTree(to, path);
  PathState s;
  if (conflicted) return s;
  s.index_from = Same(staged, a, true);
  s.file_from = Same(*file, a, modes);
  if (to) {
    s.index_to = Same(staged, b, true);
    s.file_to = Same(*file, b, modes);
  }
  return s;
}

Error Locked(const CheckedOut& wt, const std::string& what) {
  return GitError(what + " in " + wt.dir, ErrorCode::kBusy);
}

int CheckoutPaths(CheckedOut& wt, git_tree* from, git_tree* to, const std::vector<std::string>& paths) {
  git_checkout_options options;
  git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
  options.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  std::vector<char*> names;
  for (const std::string& p : paths) names.push_back(const_cast<char*>(p.c_str()));
  options.paths = git_strarray{names.data(), names.size()};
  git_tree *base = nullptr, *target = nullptr;
  int rc = git_tree_lookup(&base, wt.repo.get(), git_tree_id(from));
  if (rc == 0) rc = git_tree_lookup(&target, wt.repo.get(), git_tree_id(to));
  if (rc == 0) {
    options.baseline = base;
    rc = git_checkout_tree(wt.repo.get(), reinterpret_cast<git_object*>(target), &options);
  }
  git_tree_free(base);
  git_tree_free(target);
  return rc;
}

// The files at `from`'s version written as `to`'s; one by one when some
// path changed under us (that one is kept).
Status WriteFiles(CheckedOut& wt, git_tree* from, git_tree* to, const std::vector<std::string>& paths,
                  CheckoutSync& sync) {
  if (paths.empty()) return Status::Ok();
  int rc = CheckoutPaths(wt, from, to, paths);
  if (rc == 0) {
    sync.updated.insert(sync.updated.end(), paths.begin(), paths.end());
    return Status::Ok();
  }
  if (rc == GIT_ELOCKED) return Locked(wt, "cannot update the files");
  if (rc != GIT_ECONFLICT) return GitError("cannot update the files in " + wt.dir);
  for (const std::string& p : paths) {
    rc = CheckoutPaths(wt, from, to, {p});
    if (rc == GIT_ELOCKED) return Locked(wt, "cannot update " + p);
    if (rc != 0 && rc != GIT_ECONFLICT) return GitError("cannot update " + p + " in " + wt.dir);
    (rc == 0 ? sync.updated : sync.kept).push_back(p);
  }
  return Status::Ok();
}

// Files already at `to`'s version whose index entries are not (a crash in
// the middle of a checkout): the entries made from the files.
Status ReaddFiles(CheckedOut& wt, git_tree* to, const std::vector<std::string>& paths, CheckoutSync& sync) {
  if (paths.empty()) return Status::Ok();
  Result<git_index*> index = FreshIndex(wt);
  if (!index.ok()) return index.error();
  std::unique_ptr<git_index, GitFree> owned(*index);
  for (const std::string& p : paths) {
    const int rc = InTree(to, p).present ? git_index_add_bypath(*index, p.c_str())
                                         : git_index_remove_bypath(*index, p.c_str());
    if (rc != 0) return GitError("cannot update the index entry of " + p + " in " + wt.dir);
  }
  int rc = git_index_write(*index);
  if (rc == GIT_ELOCKED) return Locked(wt, "cannot write the index");
  if (rc != 0) return GitError("cannot write the index of " + wt.dir);
  sync.updated.insert(sync.updated.end(), paths.begin(), paths.end());
  return Status::Ok();
}

}  // namespace

Result<std::vector<CheckedOut>> CheckedOutWorktrees(git_repository* repo, const std::string& branch) {
  const std::string ref = "refs/heads/" + branch;
  std::vector<CheckedOut> out;
  git_repository* main = nullptr;
  if (git_repository_open_ext(&main, git_repository_commondir(repo), GIT_REPOSITORY_OPEN_NO_SEARCH,
                              nullptr) != 0) {
    return GitError("cannot open the main worktree");
  }
  Consider(out, RepoPtr(main), ref);
  git_strarray names{};
  if (git_worktree_list(&names, repo) != 0) return GitError("cannot list the worktrees");
  for (size_t i = 0; i < names.count; ++i) {
    git_worktree* wt = nullptr;
    if (git_worktree_lookup(&wt, repo, names.strings[i]) != 0) continue;
    git_repository* opened = nullptr;
    // A worktree whose directory is gone (not yet pruned) has nothing to update.
    const int rc = git_worktree_validate(wt) == 0 ? git_repository_open_from_worktree(&opened, wt) : -1;
    git_worktree_free(wt);
    if (rc == 0) Consider(out, RepoPtr(opened), ref);
  }
  git_strarray_dispose(&names);
  return out;
}

Result<std::vector<std::string>> ChangedPaths(git_repository* repo, git_tree* from, git_tree* to) {
  git_diff* raw = nullptr;
  if (git_diff_tree_to_tree(&raw, repo, from, to, nullptr) != 0) return GitError("cannot compare the trees");
  DiffPtr diff(raw);
  std::set<std::string> paths;
  for (size_t i = 0; i < git_diff_num_deltas(raw); ++i) {
    const git_diff_delta* d = git_diff_get_delta(raw, i);
    paths.insert(d->old_file.path);
    paths.insert(d->new_file.path);
  }
  return std::vector<std::string>(paths.begin(), paths.end());
}

Result<std::vector<std::string>> DirtyPaths(CheckedOut& wt, git_tree* tree,
                                            const std::vector<std::string>& paths) {
  Result<git_index*> index = FreshIndex(wt);
  if (!index.ok()) return index.error();
  std::unique_ptr<git_index, GitFree> owned(*index);
  const bool modes = TrustModes(wt.repo.get());
  std::vector<std::string> dirty;
  for (const std::string& p : paths) {
    Result<PathState> s = StateOf(wt, *index, tree, nullptr, p, modes);
    if (!s.ok()) return s.error();
    if (!s->index_from || !s->file_from) dirty.push_back(p);
  }
  return dirty;
}

Result<CheckoutSync> SyncCheckout(CheckedOut& wt, git_tree* from, git_tree* to,
                                  const std::vector<std::string>& paths) {
  std::vector<std::string> write, readd;
  CheckoutSync sync;
  {
    Result<git_index*> index = FreshIndex(wt);
    if (!index.ok()) return index.error();
    std::unique_ptr<git_index, GitFree> owned(*index);
    const bool modes = TrustModes(wt.repo.get());
    for (const std::string& p : paths) {
      Result<PathState> s = StateOf(wt, *index, from, to, p, modes);
      if (!s.ok()) return s.error();
      if (s->index_to && s->file_to) continue;  // done already
      if ((s->index_from || s->index_to) && s->file_from) {
        write.push_back(p);
      } else if (s->index_from && s->file_to) {
        readd.push_back(p);
      } else {
        sync.kept.push_back(p);
      }
    }
  }
  if (Status s = WriteFiles(wt, from, to, write, sync); !s.ok()) return s.error();
  if (Status s = ReaddFiles(wt, to, readd, sync); !s.ok()) return s.error();
  std::sort(sync.updated.begin(), sync.updated.end());
  std::sort(sync.kept.begin(), sync.kept.end());
  return sync;
}

}  // namespace specd::pipeline
