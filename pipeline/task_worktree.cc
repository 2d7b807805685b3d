#include "pipeline/task_worktree.h"

#include <fcntl.h>
#include <git2.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "pipeline/candidate_worktree.h"
#include "pipeline/gate_runner.h"
#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBranchPrefix = "refs/heads/specd/";

bool IsId(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckIds(const std::string& spec, const std::string& task, int64_t epoch) {
  if (!IsId(spec)) return Error{"spec id '" + spec + "' is not letters, digits and '-'", ErrorCode::kInvalid};
  if (!IsId(task)) return Error{"task id '" + task + "' is not letters, digits and '-'", ErrorCode::kInvalid};
  if (epoch < 0) return Error{"epoch " + std::to_string(epoch) + " is negative", ErrorCode::kInvalid};
  return Status::Ok();
}

// The worktree `spec`, `task` and `epoch` name: its folder, git's admin
// entry (the folder's name) and its branch. Checked ids only.
TaskWorktree Named(const GitRepo& repo, const std::string& spec, const std::string& task, int64_t epoch) {
  TaskWorktree wt;
  wt.spec = spec;
  wt.task = task;
  wt.epoch = epoch;
  wt.path = repo.common_dir() + "/specd/worktrees/" + spec + "-" + task + "-" + std::to_string(epoch);
  wt.branch = "specd/" + spec + "/" + task + "/" + std::to_string(epoch);
  return wt;
}

std::string AdminName(const TaskWorktree& wt) {
  return fs::path(wt.path).filename().string();
}

bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ec1, ec2;
  fs::path ca = fs::weakly_canonical(a, ec1), cb = fs::weakly_canonical(b, ec2);
  if (ec1 || ec2) return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
  return ca == cb;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '/' || s.back() == '\n')) s.pop_back();
  return s;
}

// git's admin entry for `wt`, if it is one of ours (its working tree is
// wt.path); kAlreadyExists when the name is taken by a worktree elsewhere.
// An entry libgit2 cannot open (a worker killed inside git_worktree_add)
// is removed as it is: by name it can only be ours.
Status RemoveAdminEntry(git_repository* repo, const GitRepo& owner, const TaskWorktree& wt) {
  const std::string name = AdminName(wt);
  const std::string dir = owner.common_dir() + "/worktrees/" + name;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  git_worktree* entry = nullptr;
  if (git_worktree_lookup(&entry, repo, name.c_str()) != 0) {
    fs::remove_all(dir, ec);
    if (ec) return Error{"cannot remove git's entry " + dir + ": " + ec.message()};
    return Status::Ok();
  }
  std::unique_ptr<git_worktree, void (*)(git_worktree*)> owned(entry, git_worktree_free);
  if (!SamePath(Trimmed(git_worktree_path(entry)), wt.path)) {
    return Error{"git's worktree entry " + dir + " is for " + git_worktree_path(entry) + ", not " + wt.path,
                 ErrorCode::kAlreadyExists};
  }
  git_worktree_prune_options opts = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
  opts.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED;
  if (git_worktree_prune(entry, &opts) != 0) return GitError("cannot prune git's worktree entry " + dir);
  return Status::Ok();
}

// git_reference_delete, not git_branch_delete: the branch never had config,
// and libgit2 1.5's config section search leaks its pcre2 match data on
// every miss (LeakSanitizer).
Status DeleteBranch(git_repository* repo, const std::string& branch) {
  const std::string name = "refs/heads/" + branch;
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, repo, name.c_str());
  if (rc == GIT_ENOTFOUND) return Status::Ok();
  if (rc != 0) return GitError("cannot read the branch " + branch);
  rc = git_reference_delete(ref);
  git_reference_free(ref);
  if (rc != 0 && rc != GIT_ENOTFOUND) return GitError("cannot delete the branch " + branch);
  return Status::Ok();
}

// The files first, so that git never sees an entry whose files are half
// gone; then the entry; then the branch, which no worktree has checked out
// any more.
Status RemovePieces(git_repository* repo, const GitRepo& owner, const TaskWorktree& wt) {
  std::error_code ec;
  fs::remove_all(wt.path, ec);
  if (ec) return Error{"cannot remove the task worktree " + wt.path + ": " + ec.message()};
  if (Status s = RemoveAdminEntry(repo, owner, wt); !s.ok()) return s;
  return DeleteBranch(repo, wt.branch);
}

}  // namespace

Result<TaskWorktree> AddTaskWorktree(GitRepo& repo, const std::string& spec, const std::string& task,
                                     int64_t epoch, const std::string& base) {
  if (Status s = CheckIds(spec, task, epoch); !s.ok()) return s.error();
  TaskWorktree wt = Named(repo, spec, task, epoch);
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<CommitPtr> commit = (*s)->LookupCommit(base, "base");
  if (!commit.ok()) return commit.error();
  wt.base = base;
  Result<WorktreesLock> lock = WorktreesLock::Take(repo);
  if (!lock.ok()) return lock.error();
  if (Status left = RemovePieces(raw, repo, wt); !left.ok()) return left.error();
  std::error_code ec;
  for (const std::string& dir : {repo.common_dir() + "/specd/worktrees", repo.common_dir() + "/worktrees"}) {
    fs::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  }
  // Someone else's worktree entry vanishing under libgit2 1.5's "is the
  // branch checked out" scan (a candidate worktree, the user's `git
  // worktree remove`: neither takes our lock) makes it answer yes, for a
  // branch made a moment ago; it is asked again, a few times.
  git_worktree* added = nullptr;
  for (int attempt = 1;; ++attempt) {
    git_reference* ref = nullptr;
    if (git_branch_create(&ref, raw, wt.branch.c_str(), commit->get(), /*force=*/0) != 0) {
      return GitError("cannot create the branch " + wt.branch + " for the task worktree");
    }
    std::unique_ptr<git_reference, GitFree> owned(ref);
    git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
    opts.ref = ref;
    if (git_worktree_add(&added, raw, AdminName(wt).c_str(), wt.path.c_str(), &opts) == 0) break;
    Error e = GitError("cannot add the task worktree " + wt.path);
    RemovePieces(raw, repo, wt);  // what git_worktree_add made before it failed
    if (attempt == 3 || !e.message.ends_with(": reference is already checked out")) return e;
  }
  git_worktree_free(added);
  return wt;
}

namespace {

Result<std::string> PatchOf(git_diff* diff) {
  if (git_diff_num_deltas(diff) == 0) return std::string();
  git_buf buf = {nullptr, 0, 0};
  if (git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) != 0) return GitError("cannot print the diff");
  std::string out(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  return out;
}

}  // namespace

Result<std::string> WorktreePatch(GitRepo& repo, const TaskWorktree& wt) {
  if (Status s = CheckIds(wt.spec, wt.task, wt.epoch); !s.ok()) return s.error();
  const TaskWorktree named = Named(repo, wt.spec, wt.task, wt.epoch);
  GitLibrary library;
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, named.path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return GitError("cannot open the task worktree " + named.path,
                    fs::exists(named.path) ? ErrorCode::kOther : ErrorCode::kNotFound);
  }
  std::unique_ptr<git_repository, void (*)(git_repository*)> owned(raw, git_repository_free);
  git_oid oid;
  if (wt.base.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, wt.base.c_str()) != 0) {
    return Error{"base '" + wt.base + "' is not a commit id (40 hex digits)", ErrorCode::kInvalid};
  }
  git_commit* commit = nullptr;
  if (git_commit_lookup(&commit, raw, &oid) != 0) {
    return GitError("cannot read the base " + ShortId(oid), ErrorCode::kNotFound);
  }
  CommitPtr base(commit);
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, commit) != 0) return GitError("cannot read the tree of " + ShortId(oid));
  TreePtr base_tree(tree);
  git_diff_options options;
  git_diff_options_init(&options, GIT_DIFF_OPTIONS_VERSION);
  // The working directory against the tree, whatever HEAD says: an agent's
  // commits and `git add`s change nothing here. The worktree's index serves
  // only as the stat cache (as `git diff BASE` does): without it every file
  // of the tree is read and hashed, 5,000 of them for a one-line change.
  options.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
                  GIT_DIFF_SHOW_UNTRACKED_CONTENT | GIT_DIFF_SHOW_BINARY;
  options.id_abbrev = GIT_OID_HEXSZ;  // full index, which git apply needs for binary patches
  git_diff* diff = nullptr;
  if (git_diff_tree_to_workdir_with_index(&diff, raw, base_tree.get(), &options) != 0) {
    return GitError("cannot compare the task worktree " + named.path + " with its base");
  }
  DiffPtr owned_diff(diff);
  return PatchOf(diff);
}

Status RemoveTaskWorktree(GitRepo& repo, const TaskWorktree& wt) {
  if (Status s = CheckIds(wt.spec, wt.task, wt.epoch); !s.ok()) return s;
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  Result<WorktreesLock> lock = WorktreesLock::Take(repo);
  if (!lock.ok()) return lock.error();
  return RemovePieces((*s)->get(), repo, Named(repo, wt.spec, wt.task, wt.epoch));
}

namespace {

struct TaskRef {
  std::string spec, task;
  int64_t epoch = 0;
};

// refs/heads/specd/<spec>/<task>/<epoch>, with ids as CheckIds wants them
// and a decimal epoch; nullopt for anything else.
std::optional<TaskRef> ParseBranch(std::string_view ref) {
  if (!ref.starts_with(kBranchPrefix)) return std::nullopt;
  ref.remove_prefix(kBranchPrefix.size());
  size_t a = ref.find('/');
  size_t b = a == std::string_view::npos ? a : ref.find('/', a + 1);
  if (b == std::string_view::npos || ref.find('/', b + 1) != std::string_view::npos) return std::nullopt;
  TaskRef out{std::string(ref.substr(0, a)), std::string(ref.substr(a + 1, b - a - 1))};
  std::string_view epoch = ref.substr(b + 1);
  if (epoch.empty() || epoch.size() > 18) return std::nullopt;
  for (char c : epoch) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::from_chars(epoch.data(), epoch.data() + epoch.size(), out.epoch);
  if (!IsId(out.spec) || !IsId(out.task)) return std::nullopt;
  return out;
}

// What a linked worktree's HEAD names ("refs/heads/..."), read from git's
// entry; "" when it is detached or cannot be read.
std::string HeadRefOf(const GitRepo& repo, const std::string& name) {
  std::ifstream in(repo.common_dir() + "/worktrees/" + name + "/HEAD");
  std::string line;
  if (!std::getline(in, line) || !line.starts_with("ref: ")) return "";
  return line.substr(5);
}

struct Listed {
  std::set<std::string> checked_out;                // every linked worktree's branch ref
  std::vector<std::pair<TaskWorktree, bool>> ours;  // specd's task worktrees, live or not
};

// Every linked worktree: the branches they hold, and which of them are
// specd's task worktrees. An entry that cannot be read (one being added or
// removed by another thread right now) is passed over.
Result<Listed> ListWorktrees(
    git_repository* raw, const GitRepo& repo,
    const std::function<bool(const std::string&, const std::string&, int64_t)>& live) {
  git_strarray names = {nullptr, 0};
  if (git_worktree_list(&names, raw) != 0) return GitError("cannot list the worktrees");
  Listed out;
  for (size_t i = 0; i < names.count; ++i) {
    const std::string name = names.strings[i];
    const std::string head = HeadRefOf(repo, name);
    if (!head.empty()) out.checked_out.insert(head);
    std::optional<TaskRef> task = ParseBranch(head);
    if (!task) continue;
    TaskWorktree wt = Named(repo, task->spec, task->task, task->epoch);
    if (AdminName(wt) != name) continue;
    git_worktree* entry = nullptr;
    if (git_worktree_lookup(&entry, raw, name.c_str()) != 0) continue;
    bool here = SamePath(Trimmed(git_worktree_path(entry)), wt.path);
    git_worktree_free(entry);
    if (here) out.ours.emplace_back(std::move(wt), live(task->spec, task->task, task->epoch));
  }
  git_strarray_dispose(&names);
  return out;
}

// specd's task branches (refs/heads/specd/<spec>/<task>/<epoch>).
Result<std::vector<std::string>> TaskBranches(git_repository* raw) {
  git_reference_iterator* it = nullptr;
  if (git_reference_iterator_glob_new(&it, raw, "refs/heads/specd/*") != 0) {
    return GitError("cannot list specd's branches");
  }
  std::vector<std::string> out;
  const char* name = nullptr;
  int rc = 0;
  while ((rc = git_reference_next_name(&name, it)) == 0) {
    if (ParseBranch(name)) out.push_back(name);
  }
  git_reference_iterator_free(it);
  if (rc != GIT_ITEROVER) return GitError("cannot list specd's branches");
  return out;
}

}  // namespace

Result<std::vector<TaskWorktree>> PruneTaskWorktrees(
    GitRepo& repo,
    const std::function<bool(const std::string& spec, const std::string& task, int64_t epoch)>& live) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<WorktreesLock> lock = WorktreesLock::Take(repo);
  if (!lock.ok()) return lock.error();
  Result<Listed> listed = ListWorktrees(raw, repo, live);
  if (!listed.ok()) return listed.error();
  std::vector<TaskWorktree> removed;
  for (auto& [wt, is_live] : listed->ours) {
    if (is_live) continue;
    if (Status r = RemovePieces(raw, repo, wt); !r.ok()) return r.error();
    removed.push_back(std::move(wt));
  }
  Result<std::vector<std::string>> branches = TaskBranches(raw);
  if (!branches.ok()) return branches.error();
  for (const std::string& ref : *branches) {
    if (listed->checked_out.count(ref)) continue;
    std::optional<TaskRef> task = ParseBranch(ref);
    if (live(task->spec, task->task, task->epoch)) continue;
    TaskWorktree orphan = Named(repo, task->spec, task->task, task->epoch);
    if (Status d = DeleteBranch(raw, orphan.branch); !d.ok()) return d.error();
    orphan.path.clear();
    removed.push_back(std::move(orphan));
  }
  return removed;
}

Status FetchLeaseBase(GitRepo& repo, const std::string& remote, const std::string& spec,
                      const std::string& task, int64_t epoch, const std::string& base) {
  git_oid oid;
  git_commit* commit = nullptr;
  if (git_oid_fromstr(&oid, base.c_str()) != 0)
    return Error{"the base '" + base + "' is no commit id", ErrorCode::kInvalid};
  if (git_commit_lookup(&commit, repo.handle(), &oid) == 0) {
    git_commit_free(commit);
    return Status::Ok();
  }
  const std::string ref = "refs/specd/" + spec + "/" + task + "/" + std::to_string(epoch);
  GateCommand fetch{
      "fetch",
      "git fetch --no-tags --quiet -- " + ShellQuote(remote) + " " + ShellQuote("+" + ref + ":" + ref),
      600'000, 600'000};
  GateRunOptions run;
  run.workdir = repo.work_dir().empty() ? repo.git_dir() : repo.work_dir();
  run.log_path = repo.common_dir() + "/specd/logs/fetch.log";
  run.env = {{"GIT_TERMINAL_PROMPT", "0"}};
  Result<GateResult> ran = RunGate(fetch, run);
  if (!ran.ok()) return ran.error();
  if (ran->outcome != GateOutcome::kPass)
    return Error{
        "git fetch " + remote + " " + ref + ": " + ran->why + (ran->tail.empty() ? "" : ": " + ran->tail),
        ErrorCode::kNotFound};
  if (git_commit_lookup(&commit, repo.handle(), &oid) != 0)
    return Error{"git fetch " + remote + " " + ref + " did not bring commit " + base, ErrorCode::kNotFound};
  git_commit_free(commit);
  return Status::Ok();
}

}  // namespace specd::pipeline
