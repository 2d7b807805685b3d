// The engine: brings journal and files into line (reconcile) and carries
// out requested transitions (the CLI verbs). One code path for a change,
// whether it came from a watcher event, a rescan, a git hook or
// `specd reconcile`. Every effect goes through Env and Journal; every
// decision through the pure state machine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/env.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/journal.h"
#include "engine/plan.h"
#include "engine/state_machine.h"
#include "engine/task_workspace.h"
#include "schema/validate.h"

namespace specd {

struct EngineOptions {
  ValidateOptions validate;
  int max_write_attempts = 8;  // re-read and re-apply this often when a file keeps changing
  // The files were changed by git (a merge, checkout or rebase brought in a
  // teammate's specs; `specd hook post-merge`): every status change is
  // journaled with actor "git" as already decided elsewhere (Via::kSync), the
  // original actor kept in the reason, and the files are never written (no
  // refusal put back, no engine step taken: that waits for the next
  // ordinary pass).
  bool changes_from_git = false;
  // Leases (.agents/specd.yaml `lease`): how long a claim lives without a
  // heartbeat, and how many failed or expired attempts a task has.
  int64_t lease_ttl_ms = 60'000;
  int max_attempts = 3;
  size_t max_diff_bytes = 16u << 20;  // a submitted diff larger than this is refused
  // Who may do what (.agents/specd.yaml `roles`): binds the people's verbs
  // (RequestTransition with a reviewer's or a person's Actor); nullopt: anyone.
  std::optional<RoleRules> roles;
};

// What a task verb did (engine/tasks.cc). `refused` says why not (the CLI
// exits 1 with it); otherwise `lease` is the task's lease as it now stands.
struct TaskReply {
  std::string refused;
  bool nothing_ready = false;  // `specd next`: no task is ready (exit 3)
  LeaseRecord lease;
  std::vector<std::string> files;  // the task's declared files
  std::string title;               // the task's title
  std::string spec_status;         // the spec's status afterwards
  std::string diff_path;           // a submit's stored diff
};

struct PassReport {
  size_t files = 0;
  size_t unchanged = 0;             // skipped on size, mtime and inode (not re-read)
  std::vector<EngineEvent> events;  // empty when the pass was asked not to keep them
  size_t event_count = 0;           // how many there were, kept or not
  // Invalid files left unjournaled because the caller asked to hold them
  // (a watcher that may be looking at a half-written file).
  std::vector<std::string> held;
  // Files that could not be reconciled (ReconcilePaths goes on after one);
  // the caller may try them again.
  struct Failed {
    std::string path, message;
  };
  std::vector<Failed> failed;
};

// Called during a pass over many files: `done` of `total` examined.
using ProgressFn = std::function<void(size_t done, size_t total)>;

class SpecEngine {
 public:
  SpecEngine(Env* env, Journal* journal, std::string repo_root, EngineOptions options = {});
  ~SpecEngine();

  void AddSink(EventSink* sink) { sinks_.push_back(sink); }
  void RemoveSink(EventSink* sink) { std::erase(sinks_, sink); }
  // Asked for its facts about every valid spec before the planner decides.
  void AddFactSource(FactSource* source) { fact_sources_.push_back(source); }

  // Every spec under .agents/specs/active/: new files registered, edited
  // ones re-validated and acted on, deleted ones recorded as removed.
  // Without `keep_events`, the report only counts the events (sinks still
  // hear each): a first pass over 100,000 new specs would otherwise hold
  // them all in memory.
  Result<PassReport> ReconcileAll(const ProgressFn& progress = nullptr, bool keep_events = true);
  // One file (absolute path, or relative to the repository root). With
  // `hold_invalid`, a file that does not validate is not journaled as a
  // failure but listed in PassReport::held: the watcher asks again once the
  // writer has had time to finish, and only then is it an error.
  Result<PassReport> ReconcilePath(const std::string& path, bool hold_invalid = false);
  // Many files, as ReconcilePath each, committed to the journal in groups
  // (one fsync per group); sinks hear a group's events after its commit. A
  // file that fails does not stop the others: it is listed in `failed`. An
  // Error only when the journal cannot commit.
  Result<PassReport> ReconcilePaths(const std::vector<std::string>& paths, bool hold_invalid = false,
                                    const ProgressFn& progress = nullptr);
  // The file of spec `id`, found through the journal; a full pass when the
  // journal does not know it there. What a verb needs: its cost does not
  // grow with the number of specs.
  Result<PassReport> ReconcileSpec(const std::string& id);

  // Spec `id` looked at again although its file did not change: a fact
  // from outside the file (a FactSource's: its squash commit on the target)
  // may let the engine take its next step. Nothing is written when none.
  Result<PassReport> LookAgain(const std::string& id);

  // A CLI verb: move spec `id` to `to` as `actor`. Refused requests come
  // back as a Decision with allowed == false; errors (no such spec, I/O) as
  // Error.
  // A reject of submitted work may name `tasks` (default: every submitted
  // one) and carry `details` (a failed gate's log tail) for the failures
  // table. An approve of submitted work asks the TaskWorkspace for the
  // candidate and the journal for its gate runs (engine/gates.h).
  Result<Decision> RequestTransition(const std::string& id, SpecState to, const Actor& actor,
                                     const std::string& reason, const std::vector<std::string>& tasks = {},
                                     const std::string& details = "");
  // The stack of spec `id` as it stands, and its candidate on the target's
  // tip (needs a TaskWorkspace): what `specd gates` runs on.
  // With `model`: the spec as read (its title, tasks) is given there too.
  Result<std::vector<StackedPatch>> SpecStack(const std::string& id, SpecModel* model = nullptr);

  // Tasks under leases (engine/tasks.cc). Each runs in one journal group:
  // expired leases are swept first, then the request is decided on the
  // spec's file as it is now and planned like any other change.
  void SetWorkspace(TaskWorkspace* workspace) { workspace_ = workspace; }
  // The next ready task of any spec in planning or in-progress (or of
  // `spec_id`), claimed for `worker`.
  Result<TaskReply> NextTask(const std::string& worker, const std::string& spec_id = "");
  Result<TaskReply> ClaimTask(const std::string& spec_id, const std::string& task_id,
                              const std::string& worker);
  Result<TaskReply> Heartbeat(const std::string& spec_id, const std::string& task_id,
                              const std::string& token);
  Result<TaskReply> ReleaseTask(const std::string& spec_id, const std::string& task_id,
                                const std::string& token, const std::string& reason);
  Result<TaskReply> FailTask(const std::string& spec_id, const std::string& task_id, const std::string& token,
                             const std::string& reason, const std::string& log_tail);
  // The same submit made again with the same token and patch (a retry)
  // is answered as the first was, and changes nothing.
  Result<TaskReply> SubmitTask(const std::string& spec_id, const std::string& task_id,
                               const std::string& token, const std::string& patch);
  // Every lease past its expiry: the task back to pending with an attempt
  // counted (or failed, and its spec with it, when they are used up).
  // Returns how many expired.
  Result<size_t> SweepLeases();

  const std::string& repo_root() const { return root_; }
  std::string ActiveDir() const;

 private:
  struct Loaded;  // one file as read and validated (engine/loaded.h)
  enum class Outcome { kDone, kRetry };

  // Passes (engine.cc).
  template <typename T, typename Body>
  Result<T> Locked(Body body);
  Result<PassReport> ReconcileEverything(const ProgressFn& progress);
  void Merge(PassReport&& from, PassReport* to) const;
  Result<Outcome> ReconcileOnce(const std::string& rel, bool hold_invalid, PassReport* report);
  Status ListSpecFiles(const std::string& dir, int depth, std::vector<std::string>* rels);
  void Preload(const std::vector<std::string>& rels, std::unordered_map<std::string, Loaded>* out);
  void RemoveIfStale(const std::string& temp);
  // `stamp` is what a stat made after `taken_ns` (Env::FileClockNanos) returned.
  Status Read(const std::string& rel, const FileStamp& stamp, int64_t taken_ns, Loaded* file) const;
  bool Parse(const std::string& rel, Loaded* file) const;
  static FileStamp KeptStamp(const Loaded& file);

  // Facts (facts.cc): what the planner is given.
  Result<PlanInput> Gather(const std::string& rel, const Loaded& file, std::optional<SpecRecord> record,
                           Source source);
  bool StatusEditIsTheOnlyProblem(const Loaded& file, const std::string& legal, const std::string& rel) const;
  std::optional<std::string> DuplicateOf(const std::string& rel, const SpecRecord& record);

  // Apply (apply.cc): a plan carried out, file and journal together.
  Result<Outcome> ApplyPlan(const Loaded& file, const PlanInput& in, SpecPlan plan, PassReport* report);
  Status ArchiveFile(const std::string& rel, const std::string& dir, std::string* moved_to);
  Status RecordRemoved(const SpecRecord& record, PassReport* report);
  Status RecordStamp(SpecRecord record, const FileStamp& stamp);
  void Emit(PassReport* report, EngineEvent event);

  // Verbs (verbs.cc).
  Result<Decision> Transition(const std::string& id, SpecState to, const Actor& actor, const Request& request,
                              const std::string& details);
  Status GatherGates(const SpecModel& model, SpecFacts* facts);
  // Spec `id`'s record and file as they are now, valid or not. kRetry: the
  // file was saved since the journal saw it; that version was reconciled,
  // ask again.
  Result<Outcome> LoadCurrent(const std::string& id, SpecRecord* record, Loaded* file);
  // LoadCurrent until the file holds still, at most max_write_attempts
  // reads: kRetry means it never did.
  Result<Outcome> LoadSettled(const std::string& id, SpecRecord* record, Loaded* file);

  // Tasks (tasks.cc).
  using TaskDecider = std::function<Result<std::optional<TaskAction>>(const PlanInput& in, TaskReply* reply)>;
  Result<TaskReply> OnSpecTask(const std::string& spec_id, const TaskDecider& decide);
  // A verb on a task's live lease (release, fail, submit): swept, the token
  // checked against its epoch's lease, then `decide` given the lease (ended
  // now) and the task's counters.
  using LeasedDecider = std::function<Result<std::optional<TaskAction>>(
      const PlanInput& in, LeaseRecord lease, TaskRecord counters, TaskReply* reply)>;
  Result<TaskReply> UnderLease(const std::string& spec_id, const std::string& task_id,
                               const std::string& token, const LeasedDecider& decide);
  Result<TaskReply> Claim(const std::string& spec_id, const std::string& task_id, const std::string& worker);
  Result<TaskReply> SubmitUnderLease(const std::string& spec_id, const std::string& task_id,
                                     const std::string& token, const std::string& patch);
  Result<std::optional<std::string>> LeaseProblem(const std::string& spec_id, const std::string& task_id,
                                                  const std::string& token, LeaseRecord* lease,
                                                  TaskRecord* counters);
  Result<std::vector<StackedPatch>> Stack(const SpecModel& model, const std::string& except_task);
  Result<size_t> Sweep();

  std::string Relative(const std::string& path) const;
  std::string Absolute(const std::string& rel) const;

  Env* env_;
  Journal* journal_;
  std::string root_;
  EngineOptions options_;
  std::vector<EventSink*> sinks_;
  std::vector<FactSource*> fact_sources_;
  TaskWorkspace* workspace_ = nullptr;
  std::vector<EngineEvent>* held_events_ = nullptr;               // set while Locked holds a journal group
  std::unordered_map<std::string, Loaded>* preloaded_ = nullptr;  // set by ReconcilePaths for its group
  bool keep_events_ = true;  // ReconcileAll's keep_events, for its duration
};

}  // namespace specd
