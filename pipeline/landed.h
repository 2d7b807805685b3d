// Whether a spec's squash commit is on its target branch: the `committed`
// fact (reviewed -> completed) told from git itself, so a merge killed
// after the branch moved, and before anything was journaled, is completed
// by the next pass. The commit is found by its trailers (SquashMessage):
// `Spec-Id: ID` and `Trace-Id: TRACE`, on the branch's first-parent line.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/facts.h"
#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

// How far back along the branch's first parents a landed commit is looked
// for: a merge lands at the tip, and a spec waits in `reviewed` for the
// commits that land after it only while a pass has not seen it yet.
inline constexpr int kLandedSearchDepth = 1000;

// The commit (40 hex) on `branch` whose message carries the spec's
// trailers, newest first; nullopt when there is none within `depth`. An
// unborn or missing branch has none.
Result<std::optional<std::string>> FindLanded(GitRepo& repo, const std::string& branch,
                                              const std::string& spec_id, const std::string& trace_id,
                                              int depth = kLandedSearchDepth);

// refs/specd/<spec_id>/* (the tasks' bases) deleted once the spec has
// landed: the diffs stay in .agents/diffs/ and in the commit. How many.
Result<size_t> DeleteSpecRefs(GitRepo& repo, const std::string& spec_id);

// The FactSource: for a spec the journal has as `reviewed`, `committed` is
// whether FindLanded finds its commit on `branch` (a function: the target
// may be the branch HEAD names, known only when asked).
class LandedFacts : public FactSource {
 public:
  using BranchFn = std::function<Result<std::string>()>;
  LandedFacts(GitRepo* repo, BranchFn branch) : repo_(repo), branch_(std::move(branch)) {}
  Status Gather(const SpecModel& model, const SpecRecord* record, SpecFacts* facts) override;

 private:
  GitRepo* repo_;
  BranchFn branch_;
};

}  // namespace specd::pipeline
