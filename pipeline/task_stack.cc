#include "pipeline/task_stack.h"

#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

std::string Hex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

std::string Joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

Result<CommitPtr> TipOf(git_repository* repo, const std::string& branch) {
  const std::string name = "refs/heads/" + branch;
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, repo, name.c_str());
  if (rc == GIT_ENOTFOUND) return Error{"no branch named '" + branch + "'", ErrorCode::kNotFound};
  if (rc == GIT_EINVALIDSPEC) return Error{"'" + branch + "' is not a branch name", ErrorCode::kInvalid};
  if (rc != 0) return GitError("cannot read branch '" + branch + "'");
  std::unique_ptr<git_reference, GitFree> owned(ref);
  git_object* commit = nullptr;
  if (git_reference_peel(&commit, ref, GIT_OBJECT_COMMIT) != 0) {
    return GitError("branch '" + branch + "' does not point at a commit");
  }
  return CommitPtr(reinterpret_cast<git_commit*>(commit));
}

// The trees of `start` with the first k diffs of `stack` applied, for every
// k from 0 (start's own tree) to stack.size().
Result<std::vector<TreePtr>> StackOnto(ScratchRepo& s, const git_commit* start,
                                       const std::vector<StackedDiff>& stack, const std::string& branch) {
  std::vector<TreePtr> trees;
  Result<TreePtr> tree = s.TreeOf(start);
  if (!tree.ok()) return tree.error();
  trees.push_back(std::move(*tree));
  const std::string where =
      " no longer applies to " + branch + " (tip " + ShortId(*git_commit_id(start)) + "): ";
  for (const StackedDiff& d : stack) {
    Result<DiffPtr> diff = ParseDiff(d.patch);
    if (!diff.ok()) return Error{d.task_id + "'s submitted diff cannot be read: " + diff.error().message};
    Result<TreePtr> next = ApplyDiff(s.get(), trees.back().get(), diff->get());
    if (!next.ok()) {
      if (next.error().code != ErrorCode::kConflict) return next.error();
      return Error{d.task_id + "'s submitted diff" + where + next.error().message, ErrorCode::kConflict};
    }
    trees.push_back(std::move(*next));
  }
  return trees;
}

Result<git_oid> WriteBaseCommit(git_repository* repo, const git_commit* tip, git_tree* tree,
                                const std::string& spec, const std::string& task,
                                const std::vector<StackedDiff>& stack) {
  const git_signature* committer = git_commit_committer(tip);
  git_signature* sig = nullptr;
  if (git_signature_new(&sig, "specd", "specd@localhost", committer->when.time, committer->when.offset) !=
      0) {
    return GitError("cannot make the base's signature");
  }
  std::unique_ptr<git_signature, GitFree> owned(sig);
  std::string message = "specd: base for " + spec + " " + task + "\n\nstack:";
  for (const StackedDiff& d : stack) message += " " + d.task_id;
  message += "\n";
  git_oid oid;
  const git_commit* parents[] = {tip};
  if (git_commit_create(&oid, repo, nullptr, sig, sig, nullptr, message.c_str(), tree, 1, parents) != 0) {
    return GitError("cannot write the base commit for " + task);
  }
  return oid;
}

// `name` made to point at `oid`, unless it exists: then it must already.
Status KeepRef(git_repository* repo, const std::string& name, const git_oid& oid) {
  int valid = 0;
  if (git_reference_name_is_valid(&valid, name.c_str()) != 0 || !valid) {
    return Error{"'" + name + "' is not a valid ref name", ErrorCode::kInvalid};
  }
  git_reference* ref = nullptr;
  int rc = git_reference_create(&ref, repo, name.c_str(), &oid, /*force=*/0, "specd: base");
  std::unique_ptr<git_reference, GitFree> owned(ref);
  if (rc == 0) return Status::Ok();
  if (rc != GIT_EEXISTS) return GitError("cannot create " + name);
  git_oid existing;
  if (git_reference_name_to_id(&existing, repo, name.c_str()) != 0) return GitError("cannot read " + name);
  if (git_oid_equal(&existing, &oid)) return Status::Ok();
  return Error{name + " already points at " + ShortId(existing) + ", not " + ShortId(oid),
               ErrorCode::kConflict};
}

}  // namespace

Result<std::string> BranchTip(GitRepo& repo, const std::string& branch) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  Result<CommitPtr> tip = TipOf((*s)->get(), branch);
  if (!tip.ok()) return tip.error();
  return Hex(*git_commit_id(tip->get()));
}

namespace {

Result<std::string> StackTree(GitRepo& repo, const std::string& commit, const std::vector<StackedDiff>& stack,
                              const std::string& branch, bool in_memory) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, in_memory);
  if (!s.ok()) return s.error();
  Result<CommitPtr> start = (*s)->LookupCommit(commit, "commit");
  if (!start.ok()) return start.error();
  Result<std::vector<TreePtr>> trees = StackOnto(**s, start->get(), stack, branch);
  if (!trees.ok()) return trees.error();
  return Hex(*git_tree_id(trees->back().get()));
}

}  // namespace

Result<std::string> ApplyStack(GitRepo& repo, const std::string& commit,
                               const std::vector<StackedDiff>& stack, const std::string& branch) {
  return StackTree(repo, commit, stack, branch, /*in_memory=*/true);
}

Result<std::string> WriteStack(GitRepo& repo, const std::string& commit,
                               const std::vector<StackedDiff>& stack, const std::string& branch) {
  return StackTree(repo, commit, stack, branch, /*in_memory=*/false);
}

Result<Base> MakeBase(GitRepo& repo, const std::string& spec, const std::string& task, int64_t epoch,
                      const std::string& branch, const std::vector<StackedDiff>& stack) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/false);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  Result<CommitPtr> tip = TipOf(raw, branch);
  if (!tip.ok()) return tip.error();
  Result<std::vector<TreePtr>> trees = StackOnto(**s, tip->get(), stack, branch);
  if (!trees.ok()) return trees.error();
  git_oid oid = *git_commit_id(tip->get());
  if (!stack.empty()) {
    Result<git_oid> made = WriteBaseCommit(raw, tip->get(), trees->back().get(), spec, task, stack);
    if (!made.ok()) return made.error();
    oid = *made;
  }
  Base base{Hex(oid), "refs/specd/" + spec + "/" + task + "/" + std::to_string(epoch)};
  if (Status kept = KeepRef(raw, base.ref, oid); !kept.ok()) return kept.error();
  return base;
}

namespace {

Status CheckScope(const std::string& task, const std::vector<std::string>& paths) {
  if (paths.empty()) return Status::Ok();
  std::vector<std::string> outside, never;
  for (const std::string& p : paths) (NeverInDiff(p) ? never : outside).push_back(p);
  std::string message = "the diff changes ";
  if (!outside.empty()) message += "paths outside " + task + "'s files: " + Joined(outside, ", ");
  if (!outside.empty() && !never.empty()) message += "; and ";
  if (!never.empty()) message += "paths that are never allowed in a diff: " + Joined(never, ", ");
  return Error{message, ErrorCode::kInvalid};
}

// Step 4: `diff` on the tip with the other tasks' diffs, each failure told
// as what the worker can do about it.
Status CheckAgainstTip(ScratchRepo& s, git_diff* diff, const git_tree* base_tree, const SubmitCheck& check) {
  Result<CommitPtr> tip = TipOf(s.get(), check.branch);
  if (!tip.ok()) return tip.error();
  std::vector<StackedDiff> siblings;
  for (const StackedDiff& d : check.stack) {
    if (d.task_id != check.task) siblings.push_back(d);
  }
  Result<std::vector<TreePtr>> trees = StackOnto(s, tip->get(), siblings, check.branch);
  if (!trees.ok()) return trees.error();
  git_tree* stacked = trees->back().get();
  if (git_oid_equal(git_tree_id(stacked), git_tree_id(base_tree))) return Status::Ok();  // step 3 applied it
  Result<TreePtr> on_stack = ApplyDiff(s.get(), stacked, diff);
  if (on_stack.ok()) return Status::Ok();
  if (on_stack.error().code != ErrorCode::kConflict) return on_stack.error();
  if (!siblings.empty() && ApplyDiff(s.get(), trees->front().get(), diff).ok()) {
    for (size_t k = 1; k < trees->size(); ++k) {
      Result<TreePtr> r = ApplyDiff(s.get(), (*trees)[k].get(), diff);
      if (r.ok()) continue;
      return Error{"the diff clashes with " + siblings[k - 1].task_id + "'s submitted diff: " +
                       r.error().message + "; claim the task again to start from a new base",
                   ErrorCode::kConflict};
    }
  }
  std::string with;
  for (const StackedDiff& d : siblings)
    with += (with.empty() ? " with the submitted diffs of " : ", ") + d.task_id;
  return Error{"the diff no longer applies to " + check.branch + " (tip " +
                   ShortId(*git_commit_id(tip->get())) + ")" + with + ": " + on_stack.error().message,
               ErrorCode::kConflict};
}

}  // namespace

Result<std::vector<PatchDelta>> CheckSubmission(GitRepo& repo, const SubmitCheck& check) {
  Result<ParsedPatch> parsed = ParsePatch(check.patch);
  if (!parsed.ok()) return parsed.error();
  if (Status s = CheckScope(check.task, PathsOutOfScope(parsed->deltas, check.files)); !s.ok())
    return s.error();
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  Result<CommitPtr> base = (*s)->LookupCommit(check.base_commit, "base");
  if (!base.ok()) return base.error();
  Result<TreePtr> base_tree = (*s)->TreeOf(base->get());
  if (!base_tree.ok()) return base_tree.error();
  Result<TreePtr> on_base = ApplyDiff((*s)->get(), base_tree->get(), parsed->diff.get());
  if (!on_base.ok()) {
    if (on_base.error().code != ErrorCode::kConflict) return on_base.error();
    return Error{"the diff does not apply to its base " + ShortId(*git_commit_id(base->get())) + ": " +
                     on_base.error().message,
                 ErrorCode::kConflict};
  }
  if (Status tip = CheckAgainstTip(**s, parsed->diff.get(), base_tree->get(), check); !tip.ok())
    return tip.error();
  return std::move(parsed->deltas);
}

}  // namespace specd::pipeline
