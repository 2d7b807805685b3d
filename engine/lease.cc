#include "engine/lease.h"

#include <algorithm>
#include <charconv>

#include "engine/events.h"
#include "engine/hash.h"

namespace specd {

std::string NewLeaseToken(int64_t epoch) {
  return std::to_string(epoch) + "." + NewTraceId() + NewTraceId();
}

std::optional<int64_t> LeaseTokenEpoch(std::string_view token) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == token.size()) return std::nullopt;
  int64_t epoch = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, epoch);
  if (ec != std::errc() || end != token.data() + dot || epoch <= 0) return std::nullopt;
  return epoch;
}

std::optional<std::string> LeaseRefusal(const std::optional<LeaseRecord>& mine, int64_t newest_epoch,
                                        std::string_view token, int64_t now_ms) {
  std::optional<int64_t> epoch = LeaseTokenEpoch(token);
  if (!epoch) return "not a lease token: '" + std::string(token) + "' (use the \"lease\" a claim printed)";
  const std::string which = "lease epoch " + std::to_string(*epoch);
  const std::string newer =
      newest_epoch > *epoch ? "; the task is under epoch " + std::to_string(newest_epoch) + " now" : "";
  if (!mine) return "no " + which + " on this task" + newer;
  if (mine->token != token) return "the token is not " + which + "'s";
  if (!mine->held()) {
    std::string how = mine->outcome == "expired"     ? "expired at " + FormatTimestamp(mine->ended_ms)
                      : mine->outcome == "submitted" ? "has already submitted its diff"
                      : mine->outcome == "failed"    ? "was reported failed"
                                                     : "was " + mine->outcome;
    return "stale lease: " + which + " " + how + newer;
  }
  if (mine->expires_ms <= now_ms) {
    return "stale lease: " + which + " expired at " + FormatTimestamp(mine->expires_ms) +
           " (no heartbeat within the TTL)";
  }
  if (newest_epoch > *epoch) return "stale lease: " + which + newer;
  return std::nullopt;
}

std::string WhyNotReady(const TaskFact& task, const std::vector<TaskFact>& siblings, bool leased) {
  if (task.status != "pending") return task.id + " is " + task.status + ", not pending";
  if (leased) return task.id + " is held under a lease";
  for (const std::string& dep : task.dependencies) {
    auto it = std::find_if(siblings.begin(), siblings.end(), [&](const TaskFact& t) { return t.id == dep; });
    if (it == siblings.end()) return task.id + " depends on " + dep + ", which is not a task of this spec";
    if (it->status != "done" && it->status != "reviewed" && it->status != "diff-submitted") {
      return task.id + " waits for " + dep + " (" + it->status + ")";
    }
  }
  return "";
}

namespace {

int PriorityRank(const std::string& p) {
  if (p == "critical") return 0;
  if (p == "high") return 1;
  if (p == "medium") return 2;
  if (p == "low") return 3;
  return 4;
}

}  // namespace

void OrderReady(std::vector<ReadyTask>* ready) {
  std::stable_sort(ready->begin(), ready->end(), [](const ReadyTask& a, const ReadyTask& b) {
    int pa = PriorityRank(a.spec_priority), pb = PriorityRank(b.spec_priority);
    if (pa != pb) return pa < pb;
    if (a.task.dependencies.size() != b.task.dependencies.size()) {
      return a.task.dependencies.size() < b.task.dependencies.size();
    }
    if (a.spec_id != b.spec_id) return a.spec_id < b.spec_id;
    return a.task.id < b.task.id;
  });
}

}  // namespace specd
