// Internal to pipeline/: the libgit2 side of reading and applying a patch.
// RAII for the handles patch.cc and task_stack.cc share, a repository
// opened for one operation (optionally with an in-memory object store, so
// nothing reaches the odb), and one patch applied to one tree in memory with
// a message that names the file and the hunk.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/git_repo.h"
#include "pipeline/patch.h"
#include "schema/result.h"

namespace specd::pipeline {

class GitRepo;

struct GitFree {
  void operator()(git_diff* p) const { git_diff_free(p); }
  void operator()(git_tree* p) const { git_tree_free(p); }
  void operator()(git_index* p) const { git_index_free(p); }
  void operator()(git_commit* p) const { git_commit_free(p); }
  void operator()(git_reference* p) const { git_reference_free(p); }
  void operator()(git_signature* p) const { git_signature_free(p); }
  void operator()(git_odb* p) const { git_odb_free(p); }
  void operator()(git_revwalk* p) const { git_revwalk_free(p); }
  void operator()(git_blob* p) const { git_blob_free(p); }
  void operator()(git_tree_entry* p) const { git_tree_entry_free(p); }
};
using DiffPtr = std::unique_ptr<git_diff, GitFree>;
using TreePtr = std::unique_ptr<git_tree, GitFree>;
using CommitPtr = std::unique_ptr<git_commit, GitFree>;

// libgit2's last error after `what`; code kOther unless given.
Error GitError(const std::string& what, ErrorCode code = ErrorCode::kOther);

// The first 7 hex digits of a commit id, as messages show it.
std::string ShortId(const git_oid& oid);

// A second handle on `repo`'s repository for one operation. In memory:
// every object written through it (the blobs git_apply_to_tree makes, the
// trees of the result) goes to a mempack backend and is dropped with the
// handle; reads still see the whole object database.
class ScratchRepo {
 public:
  static Result<std::unique_ptr<ScratchRepo>> Open(GitRepo& repo, bool in_memory);
  ~ScratchRepo();
  ScratchRepo(const ScratchRepo&) = delete;
  ScratchRepo& operator=(const ScratchRepo&) = delete;
  git_repository* get() { return repo_; }

  // The commit named by 40 hex digits; kInvalid when it is not one, kNotFound
  // when the repository does not have it.
  Result<CommitPtr> LookupCommit(const std::string& hex, const std::string& what);
  Result<TreePtr> TreeOf(const git_commit* commit);

 private:
  ScratchRepo() = default;
  git_repository* repo_ = nullptr;
  git_odb_backend* mempack_ = nullptr;  // owned by the odb once added
  git_odb* odb_ = nullptr;
};

// A git-format patch parsed; kInvalid with libgit2's reason when it is not.
// The caller holds libgit2 initialised (a GitLibrary, a GitRepo).
Result<DiffPtr> ParseDiff(std::string_view patch);

// Holds libgit2 initialised (reference counted) for as long as it lives.
struct GitLibrary {
  GitLibrary() { InitLibgit2(); }
  GitLibrary(const GitLibrary&) : GitLibrary() {}
  GitLibrary& operator=(const GitLibrary&) { return *this; }
  ~GitLibrary() { git_libgit2_shutdown(); }
};

// ReadPatch (patch.cc), keeping the parsed diff for applying it.
struct ParsedPatch {
  GitLibrary library;  // first: outlives the diff
  DiffPtr diff;
  std::vector<PatchDelta> deltas;
};
Result<ParsedPatch> ParsePatch(std::string_view patch);

// `diff` applied to `tree` (git_apply_to_tree: exact context, no fuzz, no
// offset), the result written as a tree through `repo`. A hunk that does not
// apply, a modified path that is not there or an added path that is:
// kConflict "src/a.c: hunk at line 5 did not apply (@@ -5,3 +5,3 @@)".
Result<TreePtr> ApplyDiff(git_repository* repo, git_tree* tree, git_diff* diff);

}  // namespace specd::pipeline
