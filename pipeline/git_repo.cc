#include "pipeline/git_repo.h"

#include <git2.h>

#include <string_view>

namespace specd::pipeline {

namespace {

Error GitError(const std::string& what) {
  const git_error* e = git_error_last();
  return Error{what + ": " + (e && e->message ? e->message : "unknown libgit2 error")};
}

EntryKind KindOf(uint32_t mode) {
  switch (mode) {
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
      return EntryKind::kFile;
    case GIT_FILEMODE_LINK:
      return EntryKind::kSymlink;
    case GIT_FILEMODE_COMMIT:
      return EntryKind::kSubmodule;
    default:
      return EntryKind::kOther;
  }
}

std::string RawOid(const git_oid& oid) {
  return std::string(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ);
}

git_oid OidOf(const std::string& raw) {
  git_oid oid;
  git_oid_fromraw(&oid, reinterpret_cast<const unsigned char*>(raw.data()));
  return oid;
}

std::string WithoutTrailingSlash(const char* path) {
  std::string s = path ? path : "";
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

GitEntry EntryOf(const git_diff_file& f) {
  return GitEntry{f.path, KindOf(f.mode), RawOid(f.id)};
}

}  // namespace

void InitLibgit2() {
  git_libgit2_init();
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
}

Result<std::unique_ptr<GitRepo>> GitRepo::Open(const std::string& start, bool from_env) {
  InitLibgit2();  // reference counted; the destructor shuts down
  std::unique_ptr<GitRepo> repo(new GitRepo());
  unsigned flags = from_env ? GIT_REPOSITORY_OPEN_FROM_ENV : 0;
  if (git_repository_open_ext(&repo->repo_, start.c_str(), flags, nullptr) != 0) {
    return GitError("not a git repository (" + start + ")");
  }
  repo->work_dir_ = WithoutTrailingSlash(git_repository_workdir(repo->repo_));
  repo->git_dir_ = WithoutTrailingSlash(git_repository_path(repo->repo_));
  repo->common_dir_ = WithoutTrailingSlash(git_repository_commondir(repo->repo_));
  return repo;
}

GitRepo::~GitRepo() {
  git_tree_free(head_tree_);
  git_index_free(index_);
  git_repository_free(repo_);
  git_libgit2_shutdown();
}

Result<std::optional<std::string>> GitRepo::HeadBranch() {
  // HEAD itself, not what it resolves to: an unborn branch has no commit yet.
  git_reference* head = nullptr;
  if (git_reference_lookup(&head, repo_, "HEAD") != 0) return GitError("cannot read HEAD");
  std::optional<std::string> branch;
  if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
    std::string target = git_reference_symbolic_target(head);
    constexpr std::string_view kHeads = "refs/heads/";
    branch = target.rfind(kHeads, 0) == 0 ? target.substr(kHeads.size()) : target;
  }
  git_reference_free(head);
  return branch;
}

Result<std::optional<std::string>> GitRepo::ConfigPath(const char* name) {
  git_config* config = nullptr;
  if (git_repository_config_snapshot(&config, repo_) != 0) return GitError("cannot read the git config");
  git_buf buf = {nullptr, 0, 0};
  int rc = git_config_get_path(&buf, config, name);
  std::optional<std::string> value;
  if (rc == 0) value = std::string(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  git_config_free(config);
  if (rc != 0 && rc != GIT_ENOTFOUND) return GitError(std::string("cannot read ") + name);
  return value;
}

Status GitRepo::LoadIndex() {
  if (index_) return Status::Ok();
  if (git_repository_index(&index_, repo_) != 0) return GitError("cannot read the index");
  return Status::Ok();
}

Status GitRepo::LoadHeadTree() {
  if (head_loaded_) return Status::Ok();
  git_reference* head = nullptr;
  int rc = git_repository_head(&head, repo_);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {  // the first commit: nothing in HEAD
    head_loaded_ = true;
    return Status::Ok();
  }
  if (rc != 0) return GitError("cannot resolve HEAD");
  git_object* tree = nullptr;
  rc = git_reference_peel(&tree, head, GIT_OBJECT_TREE);
  git_reference_free(head);
  if (rc != 0) return GitError("cannot read HEAD's tree");
  head_tree_ = reinterpret_cast<git_tree*>(tree);
  head_loaded_ = true;
  return Status::Ok();
}

Result<std::vector<StagedDelta>> GitRepo::StagedChanges(const std::string& prefix) {
  if (Status s = LoadIndex(); !s.ok()) return s.error();
  if (Status s = LoadHeadTree(); !s.ok()) return s.error();
  git_diff_options options;
  git_diff_options_init(&options, GIT_DIFF_OPTIONS_VERSION);
  std::string spec = prefix;
  char* specs[] = {spec.data()};
  options.pathspec.strings = specs;
  options.pathspec.count = 1;
  // A folder, not a pattern: matched as a prefix, without fnmatch per entry.
  options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
  git_diff* diff = nullptr;
  if (git_diff_tree_to_index(&diff, repo_, head_tree_, index_, &options) != 0) {
    return GitError("cannot compare the index with HEAD");
  }
  std::vector<StagedDelta> out;
  for (size_t i = 0, n = git_diff_num_deltas(diff); i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    StagedDelta delta;
    if (d->status != GIT_DELTA_ADDED) delta.head = EntryOf(d->old_file);
    if (d->status != GIT_DELTA_DELETED) delta.staged = EntryOf(d->new_file);
    out.push_back(std::move(delta));
  }
  git_diff_free(diff);
  return out;
}

Result<std::optional<GitEntry>> GitRepo::StagedEntry(const std::string& path) {
  if (Status s = LoadIndex(); !s.ok()) return s.error();
  const git_index_entry* e = git_index_get_bypath(index_, path.c_str(), 0);
  if (!e) return std::optional<GitEntry>();
  return std::optional<GitEntry>(GitEntry{path, KindOf(e->mode), RawOid(e->id)});
}

Result<std::optional<GitEntry>> GitRepo::HeadEntry(const std::string& path) {
  if (Status s = LoadHeadTree(); !s.ok()) return s.error();
  if (!head_tree_) return std::optional<GitEntry>();
  git_tree_entry* e = nullptr;
  int rc = git_tree_entry_bypath(&e, head_tree_, path.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<GitEntry>();
  if (rc != 0) return GitError("cannot look up " + path + " in HEAD");
  GitEntry entry{path, KindOf(git_tree_entry_filemode(e)), RawOid(*git_tree_entry_id(e))};
  git_tree_entry_free(e);
  return std::optional<GitEntry>(std::move(entry));
}

Result<std::optional<GitEntry>> GitRepo::CommitEntry(const std::string& commit, const std::string& path) {
  git_oid oid;
  if (git_oid_fromstrn(&oid, commit.data(), commit.size()) != 0 || commit.size() != GIT_OID_HEXSZ) {
    return Error{"'" + commit + "' is not a commit id", ErrorCode::kInvalid};
  }
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo_, &oid) != 0) return GitError("cannot read commit " + commit);
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, c);
  git_commit_free(c);
  if (rc != 0) return GitError("cannot read the tree of commit " + commit);
  git_tree_entry* e = nullptr;
  rc = git_tree_entry_bypath(&e, tree, path.c_str());
  git_tree_free(tree);
  if (rc == GIT_ENOTFOUND) return std::optional<GitEntry>();
  if (rc != 0) return GitError("cannot look up " + path + " in commit " + commit);
  GitEntry entry{path, KindOf(git_tree_entry_filemode(e)), RawOid(*git_tree_entry_id(e))};
  git_tree_entry_free(e);
  return std::optional<GitEntry>(std::move(entry));
}

Result<BlobBytes> GitRepo::ReadBlob(const GitEntry& entry, size_t max_bytes) {
  const git_oid oid = OidOf(entry.oid);
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo_) != 0) return GitError("cannot open the object database");
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  int rc = git_odb_read_header(&size, &type, odb, &oid);  // the size without inflating the blob
  git_odb_free(odb);
  if (rc != 0) return GitError("cannot read the staged " + entry.path);
  BlobBytes out;
  out.size = size;
  if (type != GIT_OBJECT_BLOB) return Error{entry.path + " is not a file in git"};
  if (size > max_bytes) {
    out.too_large = true;
    return out;
  }
  git_blob* blob = nullptr;
  if (git_blob_lookup(&blob, repo_, &oid) != 0) return GitError("cannot read the staged " + entry.path);
  out.data.assign(static_cast<const char*>(git_blob_rawcontent(blob)),
                  static_cast<size_t>(git_blob_rawsize(blob)));
  git_blob_free(blob);
  return out;
}

}  // namespace specd::pipeline
