// Gates (issue 13): whether a spec's submitted work passed every gate on the
// candidate it would land as (the target's tip with its stack applied), as
// the journal's gate runs say. Pure: the caller gathers the runs and the
// gates configured at the tip.
#pragma once

#include <string>
#include <vector>

#include "engine/journal.h"

namespace specd {

struct GateVerdict {
  bool pass = false;
  std::string problem;  // when !pass: the first gate not passed, where, its log; what to do
};

// `gates`: the names configured at the tip (none: pass); `runs`: the
// journal's runs on the candidate, oldest first (the latest of each gate
// counts); `where`: "main 1a2b3c4", the tip they must have run on.
GateVerdict JudgeGates(const std::vector<std::string>& gates, const std::vector<GateRunRecord>& runs,
                       const std::string& spec_id, const std::string& where);

}  // namespace specd
