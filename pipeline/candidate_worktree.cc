#include "pipeline/candidate_worktree.h"

#include <fcntl.h>
#include <git2.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

namespace fs = std::filesystem;

std::string AdminName(const std::string& name) {
  return "specd-" + name;
}

// git's entry for worktree `admin` (under <common>/worktrees/) and its files,
// when a killed run left them.
Status RemoveLeftover(git_repository* repo, const std::string& admin, const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Error{"cannot remove the leftover candidate worktree " + path + ": " + ec.message()};
  git_worktree* wt = nullptr;
  if (git_worktree_lookup(&wt, repo, admin.c_str()) != 0) return Status::Ok();
  git_worktree_prune_options opts = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
  opts.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED;
  int rc = git_worktree_prune(wt, &opts);
  git_worktree_free(wt);
  if (rc != 0) return GitError("cannot prune the candidate worktree " + admin);
  return Status::Ok();
}

// Deletes the short-lived branch and frees `ref`. git_reference_delete, not
// git_branch_delete: the branch never had config, and libgit2 1.5's config
// section search leaks its pcre2 match data on every miss (LeakSanitizer).
void DeleteBranch(git_reference* ref) {
  git_reference_delete(ref);
  git_reference_free(ref);
}

}  // namespace

Result<WorktreesLock> WorktreesLock::Take(const GitRepo& repo) {
  const std::string dir = repo.common_dir() + "/specd";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  const std::string path = dir + "/worktrees.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  int rc;
  while ((rc = ::flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    Error e{"cannot lock " + path + ": " + std::strerror(errno)};
    ::close(fd);
    return e;
  }
  return WorktreesLock(fd);
}

WorktreesLock::~WorktreesLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<CandidateWorktree>> CandidateWorktree::Create(GitRepo& repo, const std::string& name,
                                                                     const std::string& commit) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<WorktreesLock> lock = WorktreesLock::Take(repo);
  if (!lock.ok()) return lock.error();
  const std::string admin = AdminName(name);
  const std::string path = repo.common_dir() + "/specd/worktrees/" + name;
  if (Status s2 = RemoveLeftover(raw, admin, path); !s2.ok()) return s2.error();
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Error{"cannot create " + fs::path(path).parent_path().string() + ": " + ec.message()};

  Result<CommitPtr> target = (*s)->LookupCommit(commit, "candidate commit");
  if (!target.ok()) return target.error();
  // git_worktree_add checks out a branch; this one lives only until HEAD is
  // detached at the same commit.
  const std::string branch = "specd-candidate-" + name;
  git_reference* ref = nullptr;
  if (git_branch_create(&ref, raw, branch.c_str(), target->get(), /*force=*/1) != 0) {
    return GitError("cannot create the branch " + branch + " for the candidate worktree");
  }
  git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
  opts.ref = ref;
  git_worktree* wt = nullptr;
  int rc = git_worktree_add(&wt, raw, admin.c_str(), path.c_str(), &opts);
  std::unique_ptr<CandidateWorktree> made(new CandidateWorktree(repo, name, path));
  if (rc != 0) {
    Error e = GitError("cannot add the candidate worktree " + path);
    DeleteBranch(ref);
    return e;
  }
  git_repository* in_wt = nullptr;
  rc = git_repository_open_from_worktree(&in_wt, wt);
  if (rc == 0) rc = git_repository_set_head_detached(in_wt, git_commit_id(target->get()));
  git_repository_free(in_wt);
  git_worktree_free(wt);
  Error failed = rc != 0 ? GitError("cannot detach the candidate worktree's HEAD") : Error{""};
  DeleteBranch(ref);
  if (rc != 0) return failed;
  return made;
}

Status CandidateWorktree::Remove() {
  if (removed_) return Status::Ok();
  removed_ = true;
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo_, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  Result<WorktreesLock> lock = WorktreesLock::Take(repo_);
  if (!lock.ok()) return lock.error();
  return RemoveLeftover((*s)->get(), AdminName(name_), path_);
}

CandidateWorktree::~CandidateWorktree() {
  Remove();
}

}  // namespace specd::pipeline
