#include "engine/task_broker.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "engine/events.h"

namespace specd {

namespace {

constexpr int kSimilarFailures = 5;  // in the brief's similar failures

// The failures most like `text` (FTS), as an agent reads them.
Result<std::string> SimilarFailures(Journal* journal, const std::string& text) {
  Result<std::vector<FailureRecord>> found = journal->SearchFailures(text, kSimilarFailures);
  if (!found.ok()) return found.error();
  std::string similar;
  for (const FailureRecord& f : *found) {
    similar +=
        FormatTimestamp(f.at_ms) + "  " + f.spec_id + (f.task_id.empty() ? "" : " " + f.task_id) + "\n";
    similar += "  " + f.summary + "\n";
    std::string details = f.details;
    for (size_t at = 0; (at = details.find('\n', at)) != std::string::npos && at + 1 < details.size();
         at += 5) {
      details.replace(at, 1, "\n    ");
    }
    if (!details.empty()) similar += "    " + details + (details.back() == '\n' ? "" : "\n");
    if (!f.resolution.empty()) similar += "  resolved: " + f.resolution + "\n";
  }
  return similar;
}

}  // namespace

Result<TaskReply> LocalTaskBroker::Next(const std::string& worker, const std::string& spec_id) {
  return engine_->NextTask(worker, spec_id);
}

Result<TaskReply> LocalTaskBroker::Heartbeat(const LeaseRecord& lease) {
  return engine_->Heartbeat(lease.spec_id, lease.task_id, lease.token);
}

Result<TaskReply> LocalTaskBroker::Submit(const LeaseRecord& lease, const std::string& patch) {
  return engine_->SubmitTask(lease.spec_id, lease.task_id, lease.token, patch);
}

Result<TaskReply> LocalTaskBroker::Fail(const LeaseRecord& lease, const std::string& reason,
                                        const std::string& tail) {
  return engine_->FailTask(lease.spec_id, lease.task_id, lease.token, reason, tail);
}

Result<TaskReply> LocalTaskBroker::Release(const LeaseRecord& lease, const std::string& reason) {
  return engine_->ReleaseTask(lease.spec_id, lease.task_id, lease.token, reason);
}

Result<AttemptBrief> LocalTaskBroker::Brief(const TaskReply& claimed) {
  const LeaseRecord& lease = claimed.lease;
  AttemptBrief brief;
  Result<std::optional<TaskRecord>> task = journal_->GetTask(lease.spec_id, lease.task_id);
  if (!task.ok()) return task.error();
  brief.attempt = *task ? (*task)->attempts + 1 : 1;
  Result<std::optional<SpecRecord>> spec = journal_->GetSpec(lease.spec_id);
  if (!spec.ok()) return spec.error();
  if (!*spec) return Error{"the journal does not know spec " + lease.spec_id, ErrorCode::kNotFound};
  brief.trace_id = (*spec)->trace_id;
  const std::string spec_path = engine_->repo_root() + "/" + (*spec)->path;
  std::ifstream in(spec_path, std::ios::binary);
  if (!in) return Error{"cannot read " + spec_path, ErrorCode::kNotFound};
  brief.spec_bytes.assign(std::istreambuf_iterator<char>(in), {});
  Result<std::string> similar =
      SimilarFailures(journal_, claimed.title + " " + (*task ? (*task)->last_reason : std::string()));
  if (!similar.ok()) return similar.error();
  brief.similar_failures = std::move(*similar);
  return brief;
}

int64_t LocalTaskBroker::EarliestExpiry() {
  Result<std::vector<LeaseRecord>> held = journal_->HeldLeases("");
  if (!held.ok() || held->empty()) return 0;
  int64_t earliest = held->front().expires_ms;
  for (const LeaseRecord& l : *held) earliest = std::min(earliest, l.expires_ms);
  return earliest;
}

}  // namespace specd
