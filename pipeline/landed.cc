#include "pipeline/landed.h"

#include <git2.h>

#include <memory>
#include <vector>

#include "pipeline/git_apply.h"
#include "pipeline/task_stack.h"

namespace specd::pipeline {

namespace {

bool HasTrailer(const char* message, const std::string& line) {
  const std::string text = message ? message : "";
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

Result<std::optional<std::string>> FindLanded(GitRepo& repo, const std::string& branch,
                                              const std::string& spec_id, const std::string& trace_id,
                                              int depth) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  git_oid tip;
  const std::string ref = "refs/heads/" + branch;
  int rc = git_reference_name_to_id(&tip, raw, ref.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  if (rc != 0) return GitError("cannot read " + branch);
  git_revwalk* w = nullptr;
  if (git_revwalk_new(&w, raw) != 0) return GitError("cannot walk " + branch);
  std::unique_ptr<git_revwalk, GitFree> walk(w);
  git_revwalk_simplify_first_parent(w);
  if (git_revwalk_push(w, &tip) != 0) return GitError("cannot walk " + branch);
  const std::string spec_line = "Spec-Id: " + spec_id;
  const std::string trace_line = "Trace-Id: " + trace_id;
  git_oid oid;
  for (int seen = 0; seen < depth && (rc = git_revwalk_next(&oid, w)) == 0; ++seen) {
    Result<CommitPtr> commit = (*s)->LookupCommit(std::string(git_oid_tostr_s(&oid)), "commit");
    if (!commit.ok()) return commit.error();
    const char* message = git_commit_message(commit->get());
    if (HasTrailer(message, spec_line) && (trace_id.empty() || HasTrailer(message, trace_line))) {
      return std::optional<std::string>(git_oid_tostr_s(&oid));
    }
  }
  if (rc != 0 && rc != GIT_ITEROVER) return GitError("cannot walk " + branch);
  return std::optional<std::string>();
}

Result<size_t> DeleteSpecRefs(GitRepo& repo, const std::string& spec_id) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  git_repository* raw = (*s)->get();
  git_reference_iterator* it = nullptr;
  const std::string glob = "refs/specd/" + spec_id + "/*";
  if (git_reference_iterator_glob_new(&it, raw, glob.c_str()) != 0) return GitError("cannot list " + glob);
  std::vector<std::string> names;
  const char* name = nullptr;
  int rc;
  while ((rc = git_reference_next_name(&name, it)) == 0) names.push_back(name);
  git_reference_iterator_free(it);
  if (rc != GIT_ITEROVER) return GitError("cannot list " + glob);
  for (const std::string& n : names) {
    git_reference* ref = nullptr;
    rc = git_reference_lookup(&ref, raw, n.c_str());
    if (rc == GIT_ENOTFOUND) continue;
    if (rc == 0) rc = git_reference_delete(ref);
    git_reference_free(ref);
    if (rc != 0 && rc != GIT_ENOTFOUND) return GitError("cannot delete " + n);
  }
  return names.size();
}

Status LandedFacts::Gather(const SpecModel& model, const SpecRecord* record, SpecFacts* facts) {
  if (!record || record->status != "reviewed") return Status::Ok();
  Result<std::string> branch = branch_();
  if (!branch.ok()) return Status::Ok();  // no target known: nothing can have landed on it
  Result<std::optional<std::string>> landed = FindLanded(*repo_, *branch, model.id, record->trace_id);
  if (!landed.ok()) return landed.error();
  if (*landed) {
    facts->committed = true;
    facts->committed_as = **landed + " on " + *branch;
  }
  return Status::Ok();
}

}  // namespace specd::pipeline
