#include "engine/gates.h"

namespace specd {

GateVerdict JudgeGates(const std::vector<std::string>& gates, const std::vector<GateRunRecord>& runs,
                       const std::string& spec_id, const std::string& where) {
  for (const std::string& gate : gates) {
    const GateRunRecord* last = nullptr;
    for (const GateRunRecord& r : runs) last = r.gate == gate ? &r : last;
    if (!last) {
      return {false, "gate " + gate + " has not run on " + where +
                         " with the submitted diffs; run `specd gates " + spec_id + "`"};
    }
    if (last->outcome != "pass") {
      std::string problem = "gate " + gate + " did not pass on " + where + ": " + last->outcome;
      if (!last->why.empty()) problem += " (" + last->why + ")";
      if (!last->log_path.empty()) problem += "; its log: " + last->log_path;
      return {false, problem};
    }
  }
  return {true, ""};
}

}  // namespace specd
