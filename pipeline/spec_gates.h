// A spec's gates run on its candidate (issue 13): the target branch's tip
// with the spec's stack applied, checked out in a temporary worktree; each
// gate configured at the tip (.agents/specd.yaml there, never a spec's or
// the candidate's) runs in it, in order, stopping at the first that does not
// pass. Every run is journaled with the tip and the candidate's tree, so
// approve and merge know whether the gates passed on what would land now. A
// gate that does not pass sends the spec's submitted work back (the engine's
// reject: an attempt counted, the log's tail as the failure).
//
// `specd gates`, `specd merge` (re-gating on a moved tip) and `specd watch`
// (through those commands) all run gates here.
#pragma once

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "pipeline/git_workspace.h"

namespace specd::pipeline {

struct GateReport {
  std::string name, outcome, why, log;  // outcome: GateOutcomeName
  int64_t exit_code = -1;
  int64_t duration_ms = 0;
};

struct SpecGatesReport {
  Candidate candidate;
  std::string commit;  // the candidate commit the gates ran on ("" when none ran)
  std::vector<GateReport> gates;
  bool passed = false;
  bool already = false;               // if_needed, and every gate had passed on this candidate
  std::string failed_reason;          // !passed: "gate unit fail on main 1a2b3c4 (exit 1)"
  std::optional<Decision> sent_back;  // !passed: the engine's reject of the work
};

struct SpecGatesOptions {
  std::FILE* out = stdout;  // progress lines and the gates' prefixed output
  bool if_needed = false;   // nothing runs when every gate already passed on this candidate
  const volatile std::sig_atomic_t* stop = nullptr;  // GateRunOptions::stop: asked to stop, kBusy
};

// Runs the gates of spec `record` (diff-submitted or reviewed; the caller
// checks) on its candidate now. Errors: the candidate cannot be made (a
// diff no longer applies: kConflict; the tip's settings unusable:
// kInvalid), a gate cannot be started, the journal cannot be written.
Result<SpecGatesReport> RunSpecGates(SpecEngine& engine, Journal& journal, GitWorkspace& workspace,
                                     const SpecRecord& record, const SpecGatesOptions& options);

}  // namespace specd::pipeline
