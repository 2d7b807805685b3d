// The engine's one decision path, as a pure function (ninja's Plan, leveldb's
// VersionEdit): the facts about one spec go in (the file as read, the
// journal's record and history, facts from the registered FactSources, the
// request and where it came from); a plan comes out (the journal rows, the
// edits of the file, the archive move, the events), as values. ApplyPlan
// (engine/apply.cc) carries a plan out; nothing here touches a disk, a clock
// or a journal, so the tests drive it by tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/events.h"
#include "engine/journal.h"
#include "engine/lease.h"
#include "engine/spec_model.h"
#include "engine/state_machine.h"
#include "engine/writeback.h"

namespace specd {

// How the change reached the engine.
enum class Source : uint8_t {
  kFile,  // a save, a rescan, `specd reconcile`: a hand edit is judged, the engine's steps follow
  kGit,   // git wrote the file (merge, checkout, rebase): recorded as decided elsewhere, never written
  kVerb,  // a CLI verb: PlanInput::verb is the request
};

struct PlanInput {
  Source source = Source::kFile;
  std::string rel;  // repo-relative path of the file
  std::string id;   // the spec's id (the file's, or the one its name implies when invalid)

  // The journal's view. `record` is nullopt for a spec the journal has never
  // seen. `journaled` (its transitions) is needed only when the file's status
  // differs from the record's; `open_failure`, the last failure with no
  // resolution yet, only when the record holds errors.
  std::optional<SpecRecord> record;
  std::vector<TransitionRecord> journaled;
  std::vector<ChangeLogEntry> known_log;  // entries recorded elsewhere (the pre-commit hook: HEAD's)
  std::optional<FailureRecord> open_failure;

  // The file's. `valid` is false when it does not validate: `errors` holds
  // every error as text lines, `first_error` the first as a one-line
  // summary with its position and `first_error_pointer` as pointer: message.
  bool valid = true;
  std::string errors, first_error, first_error_pointer;
  bool duplicate = false;  // the error is another file holding the same id
  SpecModel model;
  std::string hash;          // ContentHash of the bytes read
  bool author_edit = false;  // changed since specd last wrote or saw it

  // What the FactSources said (tasks come from the model).
  SpecFacts facts;

  std::optional<Request> verb;  // with Source::kVerb
  Actor verb_actor;
  std::optional<TaskAction> task;  // with Source::kVerb: a task's claim, release, expiry, failure, submit
  std::vector<TaskRecord> task_records;  // the journal's counters of this spec's tasks (a reopen resets them)
  int max_attempts = 3;                  // a failed, expired or rejected attempt past this fails the task
  std::string verb_details;              // a reject's log tail (a failed gate's), for the failures table

  int64_t now_ms = 0;        // whole seconds: changeLog entries have seconds
  std::string new_trace_id;  // the trace a new spec starts with
};

struct SpecPlan {
  SpecRecord record;   // the journal's record after the change; ApplyPlan fills stamp and hashes
  JournalBatch batch;  // transitions, refusals, failures: the record is added by ApplyPlan
  SpecEdits edits;     // empty: the file is not written
  std::optional<std::string> archive_dir;  // "archive/2026-11": the file moves there
  std::vector<EngineEvent> events;
  // Files written besides the spec, before it (a submitted diff): repo-relative path, bytes.
  struct FileWrite {
    std::string rel, bytes;
  };
  std::vector<FileWrite> writes;
  std::optional<Decision> verb;   // the verb's decision; refused: nothing else is in the plan
  std::vector<size_t> caught_up;  // changeLog entries recorded as made elsewhere (indices)
  bool recheck = false;           // the stamp is not recorded: every pass looks at the file again
  bool holds_changes() const { return !batch.transitions.empty() || !batch.refusals.empty(); }
};

SpecPlan PlanSpec(const PlanInput& in);

// The plan for a file that cannot be updated (`why`: the write-back's
// error): no edits, its problem recorded as the spec's error.
SpecPlan PlanUnwritable(const PlanInput& in, const std::string& why);

// The changeLog entries at the end of `log`, from the first that leaves
// `from`, when they chain from `from` to `to` along life-cycle edges and
// none of them is `known` (already recorded: in the journal, or in HEAD's
// file): what specd's verbs and steps wrote since, in this clone or
// another. Indices into `log`; nullopt when there is no such chain.
template <typename Known>
std::optional<std::vector<size_t>> NewChangeLogChain(const std::vector<ChangeLogEntry>& log,
                                                     const Known& known, const std::string& from,
                                                     const std::string& to) {
  size_t start = log.size();
  while (start > 0 && !known(log[start - 1])) --start;
  for (; start < log.size(); ++start) {
    if (log[start].from != from) continue;
    std::vector<size_t> chain;
    std::string cur = from;
    for (size_t i = start; i < log.size(); ++i) {
      std::optional<SpecState> a = ParseState(log[i].from), b = ParseState(log[i].to);
      if (log[i].from != cur || !a || !b || !IsLifeCycleEdge(*a, *b)) break;
      cur = log[i].to;
      chain.push_back(i);
    }
    if (chain.size() == log.size() - start && cur == to) return chain;
  }
  return std::nullopt;
}

}  // namespace specd
