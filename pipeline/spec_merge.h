// The git manager's step (issue 13, reviewed -> completed): a reviewed
// spec's stack lands on the target branch as one squash commit, by
// `specd merge` and, through it, `specd watch`.
//
//   1. merges into one repository wait for each other (a lock file under
//      <common>/specd/), so they land one at a time, in the order asked;
//   2. the gates must have passed on the candidate the tip makes now; a tip
//      that moved is a new candidate: the gates run again (RunSpecGates),
//      at most `max_regates` times;
//   3. SquashMerge: one commit, the branch moved by compare-and-swap, a
//      checked-out target's touched files brought along;
//   4. the spec is reconciled: LandedFacts finds the commit on the branch,
//      so the engine completes and archives it; refs/specd/ID/ go.
// A conflict or a dirty checkout moves the spec to `blocked`, the paths
// named; a blocked spec is looked at again (nothing written) and goes back
// to `reviewed` and on once the merge would land. A crash anywhere leaves no
// commit or the whole commit; the next pass (any reconcile) completes a
// spec whose commit is on the branch, and merge finishes the rest.
#pragma once

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "pipeline/git_workspace.h"

namespace specd::pipeline {

enum class MergeOutcome {
  kLanded,         // the commit is on the branch, the spec completed
  kAlreadyLanded,  // it was before this call (the rest finished now)
  kBlocked,        // a conflict or dirty paths: the spec is (still) blocked
  kSentBack,       // a re-run gate failed: the work went back (in-progress)
  kWaiting,        // not merged, nothing changed (the tip kept moving; the spec not reviewed)
};
const char* MergeOutcomeName(MergeOutcome o);  // "landed", "already-landed", ...

struct MergeReport {
  MergeOutcome outcome = MergeOutcome::kWaiting;
  std::string commit;              // landed: 40 hex
  std::string branch;              // the target
  std::vector<std::string> paths;  // blocked: the conflicting or dirty paths
  std::string message;             // one line for the person
  int gate_runs = 0;               // how often the gates ran in this call
};

struct MergeOptions {
  std::FILE* out = stdout;
  int max_regates = 3;
  const volatile std::sig_atomic_t* stop = nullptr;  // handed to the gates (SpecGatesOptions::stop)
};

Result<MergeReport> MergeSpec(SpecEngine& engine, Journal& journal, GitWorkspace& workspace,
                              const std::string& id, const MergeOptions& options);

// The reviewed specs (and the blocked ones a merge blocked), in the order
// they were reviewed: what `specd merge` with no id lands, one by one.
Result<std::vector<std::string>> MergeQueue(Journal& journal);

}  // namespace specd::pipeline
