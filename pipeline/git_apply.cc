#include "pipeline/git_apply.h"

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "pipeline/git_repo.h"

namespace specd::pipeline {

Error GitError(const std::string& what, ErrorCode code) {
  const git_error* e = git_error_last();
  return Error{what + ": " + (e && e->message ? e->message : "unknown libgit2 error"), code};
}

std::string ShortId(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return std::string(hex, 7);
}

Result<std::unique_ptr<ScratchRepo>> ScratchRepo::Open(GitRepo& repo, bool in_memory) {
  InitLibgit2();  // reference counted, like GitRepo's
  std::unique_ptr<ScratchRepo> s(new ScratchRepo());
  const std::string& dir = repo.git_dir();
  if (git_repository_open_ext(&s->repo_, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return GitError("cannot open the repository at " + dir);
  }
  if (!in_memory) return s;
  if (git_repository_odb(&s->odb_, s->repo_) != 0 || git_mempack_new(&s->mempack_) != 0) {
    return GitError("cannot set up an in-memory object store");
  }
  // The highest priority takes every write; reads fall through to the disk.
  if (git_odb_add_backend(s->odb_, s->mempack_, 1000) != 0) {
    s->mempack_->free(s->mempack_);
    s->mempack_ = nullptr;
    return GitError("cannot set up an in-memory object store");
  }
  return s;
}

ScratchRepo::~ScratchRepo() {
  git_odb_free(odb_);  // frees the mempack and what it holds with the last reference
  git_repository_free(repo_);
  git_libgit2_shutdown();
}

Result<CommitPtr> ScratchRepo::LookupCommit(const std::string& hex, const std::string& what) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) != 0) {
    return Error{what + " '" + hex + "' is not a commit id (40 hex digits)", ErrorCode::kInvalid};
  }
  git_commit* commit = nullptr;
  int rc = git_commit_lookup(&commit, repo_, &oid);
  if (rc == GIT_ENOTFOUND) {
    return Error{what + " " + ShortId(oid) + " is not in the repository", ErrorCode::kNotFound};
  }
  if (rc != 0) return GitError("cannot read " + what + " " + ShortId(oid));
  return CommitPtr(commit);
}

Result<TreePtr> ScratchRepo::TreeOf(const git_commit* commit) {
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, commit) != 0)
    return GitError("cannot read the tree of " + ShortId(*git_commit_id(commit)));
  return TreePtr(tree);
}

Result<DiffPtr> ParseDiff(std::string_view patch) {
  git_diff* diff = nullptr;
  if (git_diff_from_buffer(&diff, patch.data(), patch.size()) != 0) {
    return GitError("the diff cannot be read", ErrorCode::kInvalid);
  }
  return DiffPtr(diff);
}

namespace {

// What the callbacks saw: the delta and hunk being applied when it stopped.
struct ApplyTrace {
  git_tree* tree = nullptr;
  std::string path;
  bool in_hunk = false;
  git_diff_hunk hunk{};
  std::string refused;  // set by OnDelta when it aborts
};

bool InTree(git_tree* tree, const char* path) {
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, path) != 0) return false;
  git_tree_entry_free(entry);
  return true;
}

int OnDelta(const git_diff_delta* delta, void* payload) {
  auto* trace = static_cast<ApplyTrace*>(payload);
  const bool deleted = delta->status == GIT_DELTA_DELETED;
  trace->path = deleted ? delta->old_file.path : delta->new_file.path;
  trace->in_hunk = false;
  // git_apply_to_tree would replace a file that is already there; `git
  // apply` refuses, and so do we (two tasks adding the same file clash).
  const bool creates = delta->status == GIT_DELTA_ADDED ||
                       ((delta->status == GIT_DELTA_RENAMED || delta->status == GIT_DELTA_COPIED) &&
                        std::string(delta->old_file.path) != delta->new_file.path);
  if (creates && InTree(trace->tree, delta->new_file.path)) {
    trace->refused = trace->path + ": already exists";
    return -1;
  }
  return 0;
}

int OnHunk(const git_diff_hunk* hunk, void* payload) {
  auto* trace = static_cast<ApplyTrace*>(payload);
  trace->in_hunk = true;
  trace->hunk = *hunk;
  return 0;
}

// libgit2's reason, placed: the file first, a hunk by its line in the file
// it was applied to (the old side) and its header.
std::string Placed(const ApplyTrace& trace, const std::string& reason) {
  const git_diff_hunk& h = trace.hunk;
  if (trace.in_hunk && reason.rfind("hunk at line ", 0) == 0) {
    return trace.path + ": hunk at line " + std::to_string(h.old_start) + " did not apply (@@ -" +
           std::to_string(h.old_start) + "," + std::to_string(h.old_lines) + " +" +
           std::to_string(h.new_start) + "," + std::to_string(h.new_lines) + " @@)";
  }
  if (reason.find("does not exist in the given tree") != std::string::npos) {
    return trace.path + ": does not exist";
  }
  return trace.path + ": " + reason;
}

}  // namespace

Result<TreePtr> ApplyDiff(git_repository* repo, git_tree* tree, git_diff* diff) {
  ApplyTrace trace;
  trace.tree = tree;
  git_apply_options options;
  git_apply_options_init(&options, GIT_APPLY_OPTIONS_VERSION);
  options.delta_cb = OnDelta;
  options.hunk_cb = OnHunk;
  options.payload = &trace;
  git_index* index = nullptr;
  int rc = git_apply_to_tree(&index, repo, tree, diff, &options);
  std::unique_ptr<git_index, GitFree> owned(index);
  if (!trace.refused.empty()) return Error{trace.refused, ErrorCode::kConflict};
  if (rc == GIT_EAPPLYFAIL) {
    const git_error* e = git_error_last();
    return Error{Placed(trace, e && e->message ? e->message : "did not apply"), ErrorCode::kConflict};
  }
  if (rc != 0) return GitError("cannot apply the diff");
  git_oid oid;
  if (git_index_write_tree_to(&oid, index, repo) != 0) return GitError("cannot write the applied tree");
  git_tree* out = nullptr;
  if (git_tree_lookup(&out, repo, &oid) != 0) return GitError("cannot read the applied tree");
  return TreePtr(out);
}

}  // namespace specd::pipeline
