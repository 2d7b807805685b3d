// Where facts about a spec come from, besides its file and the journal. A
// FactSource is registered with the engine the way an EventSink is
// (SpecEngine::AddFactSource), so a layer above the engine (pipeline/: do the
// diffs apply, did the gates pass, is the squash committed; leases: are the
// attempts used up) adds what it knows without the engine depending on it.
// Each source is asked once per spec per pass, before the pure planner
// (engine/plan.h) decides; it must not write anything.
#pragma once

#include "engine/journal.h"
#include "engine/spec_model.h"
#include "engine/state_machine.h"
#include "schema/result.h"

namespace specd {

class FactSource {
 public:
  virtual ~FactSource() = default;
  // Fills in what this source knows about the spec in `model` (valid, as
  // read from its file; `record` is the journal's, null for a new spec).
  // An Error stops the spec's pass: it is listed as failed and retried.
  virtual Status Gather(const SpecModel& model, const SpecRecord* record, SpecFacts* facts) = 0;
};

}  // namespace specd
