#include "pipeline/squash_merge.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "engine/fail_point.h"
#include "pipeline/checked_out.h"
#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

using SignaturePtr = std::unique_ptr<git_signature, GitFree>;

std::string Hex(const git_oid& oid) {
  return git_oid_tostr_s(&oid);
}

std::string Short(const std::string& hex) {
  return hex.substr(0, 7);
}

std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

// Seconds east of UTC at `when`, in minutes, as git writes the zone.
int LocalOffsetMinutes(int64_t when) {
  const time_t t = static_cast<time_t>(when);
  struct tm local;
  if (!localtime_r(&t, &local)) return 0;
  return static_cast<int>(local.tm_gmtoff / 60);
}

// The request's name and email; what it leaves out from user.name and
// user.email; without those, SPECD_ACTOR as "<actor> <actor@localhost>".
Result<SignaturePtr> Signature(git_repository* repo, const SquashRequest& r) {
  std::string name = r.author_name, email = r.author_email;
  if (name.empty() || email.empty()) {
    git_signature* configured = nullptr;
    if (git_signature_default(&configured, repo) == 0) {
      if (name.empty()) name = configured->name;
      if (email.empty()) email = configured->email;
      git_signature_free(configured);
    } else {
      const char* actor = std::getenv("SPECD_ACTOR");
      const std::string who = actor && *actor ? actor : "specd";
      if (name.empty()) name = who;
      if (email.empty()) email = who + "@localhost";
    }
  }
  const int64_t when = r.when_seconds ? r.when_seconds : static_cast<int64_t>(std::time(nullptr));
  git_signature* sig = nullptr;
  if (git_signature_new(&sig, name.c_str(), email.c_str(), when, LocalOffsetMinutes(when)) != 0) {
    return GitError("cannot sign the commit as '" + name + " <" + email + ">'", ErrorCode::kInvalid);
  }
  return SignaturePtr(sig);
}

// The paths of `diff` that do not apply to `tree`, each delta tried alone;
// all of its paths when that cannot tell them apart.
std::vector<std::string> FailingDeltas(ScratchRepo& s, git_tree* tree, git_diff* diff) {
  std::vector<std::string> failing, all;
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    std::vector<std::string> paths;
    if (d->status != GIT_DELTA_ADDED) paths.push_back(d->old_file.path);
    if (d->status != GIT_DELTA_DELETED && (paths.empty() || paths[0] != d->new_file.path))
      paths.push_back(d->new_file.path);
    all.insert(all.end(), paths.begin(), paths.end());
    git_patch* patch = nullptr;
    git_buf text = {nullptr, 0, 0};
    bool applies = false;
    if (git_patch_from_diff(&patch, diff, i) == 0 && git_patch_to_buf(&text, patch) == 0) {
      Result<DiffPtr> one = ParseDiff(std::string_view(text.ptr, text.size));
      applies = one.ok() && ApplyDiff(s.get(), tree, one->get()).ok();
    }
    git_buf_dispose(&text);
    git_patch_free(patch);
    if (!applies) failing.insert(failing.end(), paths.begin(), paths.end());
  }
  return failing.empty() ? all : failing;
}

// The conflicting paths of the first diff of `stack` that does not apply on
// `tip` (on the tree the diffs before it give).
Result<std::vector<std::string>> ConflictPaths(GitRepo& repo, const std::string& tip,
                                               const std::vector<StackedDiff>& stack) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  Result<CommitPtr> start = (*s)->LookupCommit(tip, "tip");
  if (!start.ok()) return start.error();
  Result<TreePtr> tree = (*s)->TreeOf(start->get());
  if (!tree.ok()) return tree.error();
  TreePtr current = std::move(*tree);
  for (const StackedDiff& d : stack) {
    Result<DiffPtr> diff = ParseDiff(d.patch);
    if (!diff.ok()) return diff.error();
    Result<TreePtr> next = ApplyDiff((*s)->get(), current.get(), diff->get());
    if (!next.ok()) return FailingDeltas(**s, current.get(), diff->get());
    current = std::move(*next);
  }
  return std::vector<std::string>{};
}

Result<SquashResult> Conflict(GitRepo& repo, const SquashRequest& r, const std::string& tip,
                              const Error& error) {
  if (error.code != ErrorCode::kConflict) return error;
  Result<std::vector<std::string>> paths = ConflictPaths(repo, tip, r.stack);
  if (!paths.ok()) return paths.error();
  SquashResult out;
  out.outcome = SquashOutcome::kConflict;
  out.tip = tip;
  out.paths = std::move(*paths);
  out.message = error.message;
  return out;
}

// The branch is at `tip`, not where the gates ran: a conflict if the stack
// does not apply there either, else the gates run again on `tip`. In memory.
Result<SquashResult> Moved(GitRepo& repo, const SquashRequest& r, const std::string& tip) {
  Result<std::string> tree = ApplyStack(repo, tip, r.stack, r.branch);
  if (!tree.ok()) return Conflict(repo, r, tip, tree.error());
  SquashResult out;
  out.outcome = SquashOutcome::kTipMoved;
  out.tip = tip;
  out.message = r.branch + " moved from " + Short(r.expected_tip) + " to " + Short(tip) +
                " since the gates ran; they run again on the new tip";
  return out;
}

Result<TreePtr> LookupTree(git_repository* repo, const std::string& hex) {
  git_oid oid;
  git_tree* tree = nullptr;
  if (git_oid_fromstr(&oid, hex.c_str()) != 0 || git_tree_lookup(&tree, repo, &oid) != 0)
    return GitError("cannot read the tree " + Short(hex));
  return TreePtr(tree);
}

Result<CheckoutSync> SyncAll(std::vector<CheckedOut>& worktrees, git_tree* from, git_tree* to,
                             const std::vector<std::string>& paths) {
  CheckoutSync all;
  for (CheckedOut& wt : worktrees) {
    if (!wt.busy.empty()) {  // not ours to touch while git is at work there
      all.kept.insert(all.kept.end(), paths.begin(), paths.end());
      continue;
    }
    Result<CheckoutSync> one = SyncCheckout(wt, from, to, paths);
    if (!one.ok()) return one.error();
    all.updated.insert(all.updated.end(), one->updated.begin(), one->updated.end());
    all.kept.insert(all.kept.end(), one->kept.begin(), one->kept.end());
  }
  return all;
}

// kDirty when a worktree with the branch checked out is busy or has a
// touched path that is not clean; nullopt when the ref may move.
Result<std::optional<SquashResult>> Refusal(std::vector<CheckedOut>& worktrees, git_tree* tip_tree,
                                            const std::vector<std::string>& paths, const SquashRequest& r) {
  for (CheckedOut& wt : worktrees) {
    Result<std::vector<std::string>> dirty = DirtyPaths(wt, tip_tree, paths);
    if (!dirty.ok()) return dirty.error();
    if (wt.busy.empty() && dirty->empty()) continue;
    SquashResult out;
    out.outcome = SquashOutcome::kDirty;
    out.tip = r.expected_tip;
    out.paths = std::move(*dirty);
    out.message = r.branch + " is checked out at " + wt.dir;
    out.message += wt.busy.empty() ? " with uncommitted changes to " + List(out.paths) +
                                         "; the merge waits until they are committed or stashed"
                                   : " where " + wt.busy + "; the merge waits until it ends";
    return std::optional<SquashResult>(std::move(out));
  }
  return std::optional<SquashResult>();
}

// The squash commit written, on no branch.
Result<git_oid> WriteCommit(git_repository* repo, const git_commit* parent, git_tree* tree,
                            const SquashRequest& r) {
  Result<SignaturePtr> sig = Signature(repo, r);
  if (!sig.ok()) return sig.error();
  git_oid oid;
  const git_commit* parents[] = {parent};
  if (git_commit_create(&oid, repo, nullptr, sig->get(), sig->get(), nullptr, SquashMessage(r).c_str(), tree,
                        1, parents) != 0) {
    return GitError("cannot write the squash commit of " + r.spec_id);
  }
  return oid;
}

// The compare-and-swap: refs/heads/<branch> from the tip to `commit`.
// false when the branch no longer points at the tip. A ref another writer
// holds locked is waited for, as git does (core.filesRefLockTimeout), up to
// kRefLockWait; then kBusy.
constexpr std::chrono::milliseconds kRefLockWait{1000};

Result<bool> MoveBranch(git_repository* repo, const SquashRequest& r, const git_oid& tip,
                        const git_oid& commit) {
  const std::string name = "refs/heads/" + r.branch;
  const std::string log = "specd: squash merge of " + r.spec_id;
  const auto give_up = std::chrono::steady_clock::now() + kRefLockWait;
  int rc = 0;
  do {
    git_reference* ref = nullptr;
    rc = git_reference_create_matching(&ref, repo, name.c_str(), &commit, /*force=*/1, &tip, log.c_str());
    git_reference_free(ref);
    if (rc != GIT_ELOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < give_up);
  if (rc == GIT_EMODIFIED) return false;
  if (rc == GIT_ELOCKED) return GitError("cannot move " + r.branch, ErrorCode::kBusy);
  if (rc != 0) return GitError("cannot move " + r.branch);
  return true;
}

}  // namespace

std::string SquashMessage(const SquashRequest& r) {
  std::string title = r.title;
  for (char& c : title) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::string m = r.spec_id + (title.empty() ? "" : ": " + title) + "\n\nSpec-Id: " + r.spec_id + "\n";
  if (!r.trace_id.empty()) m += "Trace-Id: " + r.trace_id + "\n";
  if (!r.task_ids.empty()) m += "Tasks: " + List(r.task_ids) + "\n";
  if (!r.reviewed_by.empty()) m += "Reviewed-by: " + r.reviewed_by + "\n";
  return m;
}

Result<std::string> CandidateCommit(GitRepo& repo, const std::string& tip,
                                    const std::vector<StackedDiff>& stack, const std::string& spec_id) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  Result<CommitPtr> parent = (*s)->LookupCommit(tip, "tip");
  if (!parent.ok()) return parent.error();
  Result<std::string> tree_id = WriteStack(repo, tip, stack, "the tip");
  if (!tree_id.ok()) return tree_id.error();
  Result<TreePtr> tree = LookupTree((*s)->get(), *tree_id);
  if (!tree.ok()) return tree.error();
  const git_time when = git_commit_committer(parent->get())->when;
  git_signature* sig = nullptr;
  if (git_signature_new(&sig, "specd", "specd@localhost", when.time, when.offset) != 0)
    return GitError("cannot make the candidate's signature");
  SignaturePtr owned(sig);
  std::string message = "specd: candidate for " + spec_id + "\n\nstack:";
  for (const StackedDiff& d : stack) message += " " + d.task_id;
  message += "\n";
  git_oid oid;
  const git_commit* parents[] = {parent->get()};
  if (git_commit_create(&oid, (*s)->get(), nullptr, sig, sig, nullptr, message.c_str(), tree->get(), 1,
                        parents) != 0) {
    return GitError("cannot write the candidate commit of " + spec_id);
  }
  return Hex(oid);
}

Result<SquashResult> SquashMerge(GitRepo& repo, const SquashRequest& r) {
  Result<std::string> tip = BranchTip(repo, r.branch);
  if (!tip.ok()) return tip.error();
  if (*tip != r.expected_tip) return Moved(repo, r, *tip);
  Result<std::string> tree_id = WriteStack(repo, *tip, r.stack, r.branch);
  if (!tree_id.ok()) return Conflict(repo, r, *tip, tree_id.error());
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<CommitPtr> parent = (*s)->LookupCommit(*tip, "tip");
  if (!parent.ok()) return parent.error();
  Result<TreePtr> from = (*s)->TreeOf(parent->get());
  if (!from.ok()) return from.error();
  Result<TreePtr> to = LookupTree(raw, *tree_id);
  if (!to.ok()) return to.error();
  Result<std::vector<std::string>> paths = ChangedPaths(raw, from->get(), to->get());
  if (!paths.ok()) return paths.error();
  Result<std::vector<CheckedOut>> worktrees = CheckedOutWorktrees(raw, r.branch);
  if (!worktrees.ok()) return worktrees.error();
  Result<std::optional<SquashResult>> refused = Refusal(*worktrees, from->get(), *paths, r);
  if (!refused.ok()) return refused.error();
  if (*refused) return std::move(**refused);
  if (r.check_only) {
    SquashResult would;
    would.outcome = SquashOutcome::kLanded;
    would.tip = *tip;
    would.message = r.spec_id + " would land on " + r.branch + " now";
    return would;
  }
  FailPoint("squash:before-commit");
  Result<git_oid> commit = WriteCommit(raw, parent->get(), to->get(), r);
  if (!commit.ok()) return commit.error();
  FailPoint("squash:before-ref");
  Result<bool> moved = MoveBranch(raw, r, *git_commit_id(parent->get()), *commit);
  if (!moved.ok()) return moved.error();
  if (*moved) FailPoint("squash:after-ref");
  if (!*moved) {
    Result<std::string> now = BranchTip(repo, r.branch);
    if (!now.ok()) return now.error();
    return Moved(repo, r, *now);
  }
  SquashResult out;
  out.outcome = SquashOutcome::kLanded;
  out.commit = Hex(*commit);
  out.tip = *tip;
  out.message = r.spec_id + " landed on " + r.branch + " as " + Short(out.commit);
  Result<CheckoutSync> synced = SyncAll(*worktrees, from->get(), to->get(), *paths);
  if (!synced.ok()) {
    out.paths = *paths;
    out.message += "; the checked-out files are not updated yet (" + synced.error().message + ")";
  } else if (!synced->kept.empty()) {
    out.paths = synced->kept;
    out.message += "; changed meanwhile in the checkout, left as they are: " + List(out.paths);
  }
  return out;
}

Result<CheckoutSync> FinishCheckout(GitRepo& repo, const std::string& branch, const std::string& commit) {
  Result<std::string> tip = BranchTip(repo, branch);
  if (!tip.ok()) return tip.error();
  if (*tip != commit) {
    return Error{branch + " is at " + Short(*tip) + ", not " + Short(commit) + ": its checkout is not " +
                     Short(commit) + "'s to finish",
                 ErrorCode::kConflict};
  }
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<CommitPtr> landed = (*s)->LookupCommit(commit, "commit");
  if (!landed.ok()) return landed.error();
  if (git_commit_parentcount(landed->get()) == 0) return CheckoutSync{};
  git_commit* first = nullptr;
  if (git_commit_parent(&first, landed->get(), 0) != 0)
    return GitError("cannot read the parent of " + Short(commit));
  CommitPtr parent(first);
  Result<TreePtr> from = (*s)->TreeOf(parent.get());
  if (!from.ok()) return from.error();
  Result<TreePtr> to = (*s)->TreeOf(landed->get());
  if (!to.ok()) return to.error();
  Result<std::vector<std::string>> paths = ChangedPaths(raw, from->get(), to->get());
  if (!paths.ok()) return paths.error();
  Result<std::vector<CheckedOut>> worktrees = CheckedOutWorktrees(raw, branch);
  if (!worktrees.ok()) return worktrees.error();
  return SyncAll(*worktrees, from->get(), to->get(), *paths);
}

}  // namespace specd::pipeline
