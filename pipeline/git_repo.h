// The git repository as the hooks see it, through libgit2: the index (the
// staged versions), HEAD's tree, the config and where the hooks live. Every
// libgit2 handle is owned here (RAII); errors come back as Result values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "schema/result.h"

struct git_repository;
struct git_index;
struct git_tree;

namespace specd::pipeline {

enum class EntryKind : uint8_t { kFile, kSymlink, kSubmodule, kOther };

// One path in the index or in a tree.
struct GitEntry {
  std::string path;  // repository-relative, '/'-separated
  EntryKind kind = EntryKind::kFile;
  std::string oid;  // the object id, 20 raw bytes
};

// A blob's bytes, or only its size when it is over the limit.
struct BlobBytes {
  std::string data;
  uint64_t size = 0;
  bool too_large = false;  // size > max_bytes: data was not read
};

// A path under the prefix whose staged version is not HEAD's.
struct StagedDelta {
  std::optional<GitEntry> head;    // nullopt: added
  std::optional<GitEntry> staged;  // nullopt: deleted
};

// git_libgit2_init (reference counted; pair it with git_libgit2_shutdown),
// set up as specd reads repositories: objects are not hashed again on every
// read. git hashes an object when it writes it and checks it only in fsck;
// libgit2's default re-hash of each blob read was a tenth of the
// pre-commit hook's work. Every libgit2 user in specd starts with this.
void InitLibgit2();

class GitRepo {
 public:
  // from_env: GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE... as git sets them for
  // a hook (GIT_REPOSITORY_OPEN_FROM_ENV), so `git commit -a`, `git commit
  // PATH` and linked worktrees see the index git is committing. `start`
  // (searched upwards) is used when GIT_DIR is not set.
  static Result<std::unique_ptr<GitRepo>> Open(const std::string& start, bool from_env);
  ~GitRepo();
  GitRepo(const GitRepo&) = delete;
  GitRepo& operator=(const GitRepo&) = delete;

  const std::string& work_dir() const { return work_dir_; }      // no trailing '/'; "" when bare
  const std::string& git_dir() const { return git_dir_; }        // this worktree's
  const std::string& common_dir() const { return common_dir_; }  // shared by linked worktrees

  // The branch HEAD names ("main" for refs/heads/main), also when it is
  // unborn (no commit yet); nullopt when HEAD is detached.
  Result<std::optional<std::string>> HeadBranch();

  // A config value read as a path ("~/" expanded); nullopt when unset.
  Result<std::optional<std::string>> ConfigPath(const char* name);

  // Every path under `prefix` whose index entry differs from HEAD's tree
  // (all of them as added when HEAD is unborn). Compares object ids only.
  Result<std::vector<StagedDelta>> StagedChanges(const std::string& prefix);
  Result<std::optional<GitEntry>> StagedEntry(const std::string& path);  // stage 0
  Result<std::optional<GitEntry>> HeadEntry(const std::string& path);
  // `path` in commit `commit` (40 hex); nullopt when the commit has no such path.
  Result<std::optional<GitEntry>> CommitEntry(const std::string& commit, const std::string& path);
  Result<BlobBytes> ReadBlob(const GitEntry& entry, size_t max_bytes);

  // The libgit2 handle, for pipeline/ code that walks history (audit): it
  // sees what GIT_OBJECT_DIRECTORY and GIT_ALTERNATE_OBJECT_DIRECTORIES name
  // (a pre-receive hook's quarantined objects), as a second handle would not.
  git_repository* handle() { return repo_; }

 private:
  GitRepo() = default;
  Status LoadIndex();
  Status LoadHeadTree();

  git_repository* repo_ = nullptr;
  git_index* index_ = nullptr;
  git_tree* head_tree_ = nullptr;
  bool head_loaded_ = false;  // head_tree_ stays null when HEAD is unborn
  std::string work_dir_, git_dir_, common_dir_;
};

}  // namespace specd::pipeline
