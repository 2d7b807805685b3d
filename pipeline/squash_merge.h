// The git manager's last step (reviewed -> completed): a reviewed spec's
// stack landed on the target branch as ONE squash commit, and the candidate
// commit the gates run on before it.
//
// The commit's tree is the tip's tree with the stack applied exactly as
// ApplyStack does (no fuzz, no offset), so the gates' candidate and the
// landed commit have the same tree. The branch moves by compare-and-swap
// (git_reference_create_matching with the tip the gates ran on): a branch
// that moved meanwhile is never overwritten. Nothing is pushed, nothing
// under refs/remotes/ is touched, HEAD is never changed.
//
// A target checked out in a worktree (the main one or a linked one) moves
// together with that worktree's index and files, and only if every path the
// commit touches is clean there (index == tip, file == index); a user's
// uncommitted change elsewhere in the worktree is left alone.
//
// Order, and what a crash leaves: objects first (the commit on no branch:
// harmless), then the ref (the commit point), then the checked-out
// worktree's files and index for the touched paths. A crash after the ref
// moved leaves those paths at the parent's version in the worktree (`git
// status` shows them as reverting the commit); FinishCheckout (the
// reconcile calls it for a spec whose commit has landed) brings every such
// path that is still at the parent's version in line, and leaves alone any
// path the user has changed since. The other order (files first) would
// leave a crash as uncommitted changes the next attempt takes for the
// user's, and a lost compare-and-swap would have to undo them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/git_repo.h"
#include "pipeline/task_stack.h"
#include "schema/result.h"

namespace specd::pipeline {

struct SquashRequest {
  std::string spec_id, title, trace_id, reviewed_by;
  std::vector<std::string> task_ids;      // for the Tasks trailer, in order
  std::vector<StackedDiff> stack;         // submission order
  std::string branch;                     // short name, "main"
  std::string expected_tip;               // 40 hex: the tip the gates ran on
  std::string author_name, author_email;  // empty: git config user.name/email, else SPECD_ACTOR
  int64_t when_seconds = 0;               // commit time (0: now); the local zone's offset
  // Nothing is written, no object either: kLanded with an empty `commit`
  // says the merge would land now (a blocked spec's retry asks this first).
  bool check_only = false;
};

enum class SquashOutcome { kLanded, kTipMoved, kConflict, kDirty };

struct SquashResult {
  SquashOutcome outcome = SquashOutcome::kConflict;
  std::string commit;  // kLanded: the new commit (40 hex)
  std::string tip;     // the branch tip seen (kTipMoved: the new one, to re-gate on)
  // kConflict: the conflicting paths; kDirty: the dirty paths; kLanded: the
  // touched paths a checked-out worktree was not brought in line for (changed
  // there meanwhile: left as they are; or its index was busy: FinishCheckout
  // later), usually none.
  std::vector<std::string> paths;
  std::string message;  // one line for a `blocked` reason / the log
};

// The commit message: "ID: title\n\n" and the trailers Spec-Id, Trace-Id,
// Tasks ("TASK-001, TASK-002"), Reviewed-by, each left out when empty. A
// line break in the title becomes a space.
std::string SquashMessage(const SquashRequest& request);

// The tree the stack gives on `tip` (a commit, 40 hex), as a commit object
// whose parent is `tip`, on no branch: what the gates run on. Deterministic
// (author and committer "specd <specd@localhost>" at the tip's committer
// time, message "specd: candidate for ID\n\nstack: TASK-001 TASK-002\n").
// A diff that does not apply: kConflict with ApplyStack's message.
Result<std::string> CandidateCommit(GitRepo& repo, const std::string& tip,
                                    const std::vector<StackedDiff>& stack, const std::string& spec_id);

// The squash merge. kTipMoved: the branch is not at expected_tip (nothing is
// written, not even an object) or moved during the call (the commit object
// stays, unreferenced); `tip` is the tip to re-gate on. kConflict: the stack
// does not apply to the tip, the conflicting paths named (on a moved tip
// too: re-gating would not help); nothing moves. kDirty: the branch is
// checked out where a touched path is not clean (or a merge or rebase is
// under way there); nothing moves. Errors: kNotFound (no such branch),
// kInvalid (a bad id, a diff that cannot be read), kBusy (another writer
// held the ref locked for a second), kOther.
Result<SquashResult> SquashMerge(GitRepo& repo, const SquashRequest& request);

// What FinishCheckout did in the worktrees that have the branch checked out.
struct CheckoutSync {
  std::vector<std::string> updated;  // brought from the parent's version to the commit's
  std::vector<std::string> kept;     // changed by someone since: left exactly as they are
};

// After a crash between the ref move and the checkout update: `commit` (40
// hex, the landed squash commit) must be the tip of `branch` (else
// kConflict: a later commit's own update owns the worktree now). Every path
// the commit changed relative to its parent that a worktree with `branch`
// checked out still has at the parent's version (in the index, and in the
// file or already the commit's) is brought to the commit's version there;
// other paths are kept. Idempotent: a path already at the commit's version
// is neither. kBusy when a worktree's index is locked.
Result<CheckoutSync> FinishCheckout(GitRepo& repo, const std::string& branch, const std::string& commit);

}  // namespace specd::pipeline
