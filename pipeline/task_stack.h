// The git side of tasks: the commit a claimed task starts from (its base:
// the target branch's tip with the spec's stack applied), and the check of a
// submitted diff against that base and against the tip as it is now.
//
// A spec's *stack* is the diffs already submitted for its tasks, in
// submission order (the journal keeps the order; the patch bytes come with
// it). Everything here applies patches in memory with git_apply_to_tree:
// exact context, no fuzz, no offset. Nothing here moves HEAD or a branch,
// or touches the index or the working tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/git_repo.h"
#include "pipeline/patch.h"
#include "schema/result.h"

namespace specd::pipeline {

struct StackedDiff {
  std::string task_id;
  std::string patch;
};

// The commit `branch` (a short name, e.g. "main") points at, as 40 hex
// digits. kNotFound naming the branch.
Result<std::string> BranchTip(GitRepo& repo, const std::string& branch);

// The tree of `commit` with `stack` applied in order, as 40 hex digits. Made
// in memory: the id is the one MakeBase would write, but no object is kept.
// A diff that does not apply: kConflict "TASK-002's submitted diff no longer
// applies to main (tip 1a2b3c4): src/a.c: hunk at line 5 did not apply (...)"
// (`branch` only names where `commit` came from).
Result<std::string> ApplyStack(GitRepo& repo, const std::string& commit,
                               const std::vector<StackedDiff>& stack, const std::string& branch);

// ApplyStack, keeping what it makes: the blobs and trees of the result are
// written to the object database, so the tree can be committed (the squash
// merge, the gates' candidate). Same id, same messages.
Result<std::string> WriteStack(GitRepo& repo, const std::string& commit,
                               const std::vector<StackedDiff>& stack, const std::string& branch);

// The commit a task's work starts from: the tip of `branch` with `stack`
// applied, as a commit on no branch whose parent is the tip (with an empty
// stack the tip itself, and no commit is made), kept under
// refs/specd/<spec>/<task>/<epoch>. An existing ref with the same target is
// fine, a different one is kConflict. Deterministic (author and committer
// "specd <specd@localhost>" at the tip's committer time, message "specd:
// base for <spec> <task>\n\nstack: TASK-001 TASK-002\n"), so two clones
// making the same base get the same id. Writes objects and that one ref.
struct Base {
  std::string commit;  // 40 hex digits
  std::string ref;     // refs/specd/<spec>/<task>/<epoch>
};
Result<Base> MakeBase(GitRepo& repo, const std::string& spec, const std::string& task, int64_t epoch,
                      const std::string& branch, const std::vector<StackedDiff>& stack);

// The submit check, stopping at the first failure:
//  1. ReadPatch (kInvalid);
//  2. PathsOutOfScope, every offending path listed (kInvalid);
//  3. it applies to `base_commit` (kConflict "the diff does not apply to its base 1a2b3c4: ...");
//  4. it applies to the tip of `branch` with `stack` applied (kConflict): the stack's own message when
//     a stacked diff no longer applies to the tip; "the diff clashes with TASK-002's submitted diff:
//     ...; claim the task again to start from a new base" when it applies to the tip alone; else "the
//     diff no longer applies to main (tip 1a2b3c4): ...".
// `stack` holds the other tasks' diffs (an entry for `task` itself, from an
// earlier submission, is passed over). Success returns the patch's deltas.
// Nothing is written, not even an object: the applied blobs and trees live
// in an in-memory object store for the duration of the call.
struct SubmitCheck {
  std::string spec, task, base_commit, branch, patch;
  std::vector<std::string> files;
  std::vector<StackedDiff> stack;
};
Result<std::vector<PatchDelta>> CheckSubmission(GitRepo& repo, const SubmitCheck& check);

}  // namespace specd::pipeline
