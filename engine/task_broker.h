// Where a worker's tasks come from, behind one interface: this repository's
// engine and journal (LocalTaskBroker), or a coordinator on another machine
// over NATS (bus/remote_tasks.h). specd worker's loop (pipeline/worker.h)
// is the same for both.
#pragma once

#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "engine/journal.h"

namespace specd {

// What an attempt tells its agent besides the lease: the spec as it is now,
// its trace, the attempt's number, and failures like this task's last one.
struct AttemptBrief {
  std::string spec_bytes, trace_id, similar_failures;
  int64_t attempt = 1;
};

class TaskBroker {
 public:
  virtual ~TaskBroker() = default;
  virtual Result<TaskReply> Next(const std::string& worker, const std::string& spec_id) = 0;
  virtual Result<TaskReply> Heartbeat(const LeaseRecord& lease) = 0;
  virtual Result<TaskReply> Submit(const LeaseRecord& lease, const std::string& patch) = 0;
  virtual Result<TaskReply> Fail(const LeaseRecord& lease, const std::string& reason,
                                 const std::string& tail) = 0;
  virtual Result<TaskReply> Release(const LeaseRecord& lease, const std::string& reason) = 0;
  // For the task `claimed` has just handed out.
  virtual Result<AttemptBrief> Brief(const TaskReply& claimed) = 0;
  // When an idle worker looks again at the latest: the earliest expiry of
  // anyone's held lease (ms since the epoch), 0 when none is known.
  virtual int64_t EarliestExpiry() = 0;
};

class LocalTaskBroker : public TaskBroker {
 public:
  LocalTaskBroker(SpecEngine* engine, Journal* journal) : engine_(engine), journal_(journal) {}
  Result<TaskReply> Next(const std::string& worker, const std::string& spec_id) override;
  Result<TaskReply> Heartbeat(const LeaseRecord& lease) override;
  Result<TaskReply> Submit(const LeaseRecord& lease, const std::string& patch) override;
  Result<TaskReply> Fail(const LeaseRecord& lease, const std::string& reason,
                         const std::string& tail) override;
  Result<TaskReply> Release(const LeaseRecord& lease, const std::string& reason) override;
  Result<AttemptBrief> Brief(const TaskReply& claimed) override;
  int64_t EarliestExpiry() override;

 private:
  SpecEngine* engine_;
  Journal* journal_;
};

}  // namespace specd
