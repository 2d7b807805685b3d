// The journal: one SQLite file per clone that records what specd knows about
// each spec file, every status transition, refused changes and failures (with
// full-text search, so a later worker can find how a similar failure was
// resolved). The spec file is the source of truth (SPEC_FORMAT.md); the journal
// is history and a cache that lets reconcile skip unchanged files.
//
// Several processes may use one journal at once: WAL mode, a busy timeout, and
// every write is one BEGIN IMMEDIATE transaction (Apply). Nothing is ever
// deleted: a spec whose file is gone is marked removed and keeps its history.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hash.h"
#include "engine/lease.h"
#include "schema/result.h"

namespace specd {

class SqliteDb;  // engine/sqlite_db.h

struct SpecRecord {
  std::string id;    // spec id
  std::string path;  // repo-relative path of the file, e.g. .agents/specs/active/spec-2026-02-18-001.yaml
  std::string content_hash;  // ContentHash of the file bytes ("" when unknown: re-hash, not an edit)
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  std::string status;        // last status known legal ("" if never valid)
  int64_t generation = 0;    // counts author edits only
  std::string written_hash;  // hash of the bytes specd itself last wrote (to tell its own writes apart)
  std::string trace_id;      // current life-cycle trace id
  bool removed = false;      // the file is gone; history kept
  std::string errors;        // the last validation errors as text lines ("" if valid)
  int64_t updated_ms = 0;
  int64_t ctime_ns = 0;  // with size, mtime and inode: the stamp that says "unchanged"
  std::string waiting;   // why the engine does not move it on ("" when nothing is missing)
  bool operator==(const SpecRecord&) const = default;
};

struct TransitionRecord {
  int64_t seq = 0;  // assigned by the journal, strictly increasing (ignored by Apply)
  std::string spec_id, trace_id, actor, from, to, reason;
  int64_t at_ms = 0;
  std::string content_hash;
  bool operator==(const TransitionRecord&) const = default;
};

struct RefusalRecord {  // a change that was not obeyed
  int64_t seq = 0;      // assigned by the journal (ignored by Apply)
  std::string spec_id, actor, from, requested, reason;
  int64_t at_ms = 0;
  bool operator==(const RefusalRecord&) const = default;
};

struct FailureRecord {
  // 0: Apply records a new failure and assigns the id. Non-zero: Apply
  // replaces that failure's fields (how a resolution is added later); an
  // unknown id fails the batch.
  int64_t id = 0;
  std::string spec_id, task_id, summary, details, resolution;
  int64_t at_ms = 0;
  double rank = 0;  // filled by SearchFailures (lower = more similar, as FTS5 bm25)
};

// What the watcher did that is not about one spec: started, rescanned after
// a kernel queue overflow or on its safety timer, stopped.
struct WatchRecord {
  int64_t seq = 0;  // assigned by the journal (ignored by Apply)
  int64_t at_ms = 0;
  std::string kind;    // started, overflow, rescan, stopped, ...
  std::string detail;  // for people: "rescanned 1203 files, 17 changed"
  bool operator==(const WatchRecord&) const = default;
};

// One entry of the event log: everything the engine reports (and, later,
// other producers), every spec, one sequence. `specd events` and `specd
// watch` read it; a publisher can resume from a seq.
struct EventRecord {
  int64_t seq = 0;  // assigned by the journal, one sequence for every event, strictly increasing
  int64_t at_ms = 0;
  std::string kind;  // "registered", "transition", "refused", "invalid", "waiting", "archived",
                     // "removed", "edited" (EventKindName of engine/events.h) and later kinds
  std::string spec_id, task_id, path, from, to, actor, reason, trace_id;
  bool operator==(const EventRecord&) const = default;
};

// A worker on another machine, as the coordinator last heard from it.
struct RemoteWorkerRecord {
  std::string name;
  int64_t last_seen_ms = 0;
  std::string last_verb;  // next, heartbeat, submit, fail, release
};

// The part of a spec record that says whether its file changed: what a pass
// over every file needs, without the rest (100,000 of them fit in a few MB).
struct PathStamp {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  int64_t ctime_ns = 0;
};

// One gate's run on a candidate (schema v7): the target's tip with the
// spec's stack applied, named by that tree's id.
struct GateRunRecord {
  int64_t seq = 0;  // assigned by the journal (ignored by Apply)
  std::string spec_id, trace_id;
  std::string tip;        // the target branch's commit the stack was applied on
  std::string candidate;  // the tree the gate ran on
  std::string gate;
  std::string outcome;  // pass, fail, timeout, blocked
  int64_t exit_code = -1;
  int64_t duration_ms = 0;
  std::string log_path, why;
  int64_t at_ms = 0;
};

// One atomic unit of journal changes: all applied in one BEGIN IMMEDIATE
// transaction, or none. Applied in this order: upserts, transitions,
// refusals, failures, watch, events (so a batch may add a spec and its first
// transition, and its events are written with the change they report).
struct JournalBatch {
  std::vector<SpecRecord> upserts;            // each stores the whole record as given, keyed by id
  std::vector<TransitionRecord> transitions;  // spec_id must name a spec (in the journal or this batch)
  std::vector<RefusalRecord> refusals;        // likewise
  std::vector<FailureRecord> failures;        // spec_id is free text ("" allowed)
  std::vector<WatchRecord> watch;
  std::vector<LeaseRecord> leases;  // each stores the whole row, keyed by (spec, task, epoch)
  std::vector<TaskRecord> tasks;    // each stores the whole row, keyed by (spec, task)
  std::vector<GateRunRecord> gate_runs;
  std::vector<EventRecord> events;  // applied last, same transaction/savepoint
};

// What Apply assigned, in batch order.
struct AppliedIds {
  std::vector<int64_t> transition_seqs;
  std::vector<int64_t> refusal_seqs;
  std::vector<int64_t> failure_ids;
  std::vector<int64_t> event_seqs;
};

// Thread-safe: a mutex serialises the calls on one Journal. Each process (and
// each forked child) opens its own.
class Journal {
 public:
  // Opens (creating the file and its directory, migrating) the journal at
  // `path`: WAL, synchronous=FULL, busy_timeout 5000 ms, foreign_keys on. A
  // journal written by a newer specd (higher schema version) is an Error and
  // is left untouched. Every call's Error says what failed: kBusy when another
  // process held the lock past the timeout; a damaged file names its path and
  // says that moving it aside rebuilds the journal from the spec files.
  static Result<std::unique_ptr<Journal>> Open(const std::string& path);
  // For looking only, where the journal cannot be written (a read-only
  // folder or file, a full disk): creates, configures and migrates nothing;
  // every write fails. A journal older than this specd's schema is kInvalid
  // (it needs one run that can write it: `specd reconcile`); newer, as Open.
  static Result<std::unique_ptr<Journal>> OpenReadOnly(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  static int SchemaVersion();  // current schema version (PRAGMA user_version)
  const std::string& path() const { return path_; }
  // Writes are refused: OpenReadOnly, or Open found the file write-protected.
  bool read_only() const;

  // Seq values are assigned in batch order. On any failure nothing is
  // written and the Error names the record that failed.
  Status Apply(const JournalBatch& batch) { return Apply(batch, nullptr); }
  Status Apply(const JournalBatch& batch, AppliedIds* applied);  // `applied` filled on success

  Result<std::optional<SpecRecord>> GetSpec(const std::string& id);
  // The live spec at `path`, else the most recently updated removed one.
  Result<std::optional<SpecRecord>> GetSpecByPath(const std::string& path);
  Result<std::vector<SpecRecord>> ListSpecs(bool include_removed = false);        // ordered by id
  Result<std::vector<std::string>> SpecIdsIn(const std::string& status);          // the ids, ordered
  Result<std::vector<TransitionRecord>> Transitions(const std::string& spec_id);  // oldest first
  Result<std::vector<RefusalRecord>> Refusals(const std::string& spec_id);        // oldest first
  Result<std::vector<FailureRecord>> Failures(const std::string& spec_id);        // oldest first
  // Failures most similar to `text` first (FTS5 bm25 over summary, details and
  // resolution; a word in the summary counts double). `text` is free words
  // from a user: any word matches (so a partial match still ranks), and no
  // punctuation or FTS keyword can make a syntax error. No words: empty.
  Result<std::vector<FailureRecord>> SearchFailures(const std::string& text, int limit);
  Result<int64_t> LastSeq();  // the highest transition seq, 0 when there is none
  Result<int64_t> LastRefusalSeq();
  // Every spec's rows after `seq`, oldest first, at most `limit`: what a live
  // view (specd watch) shows of what any process journaled.
  Result<std::vector<TransitionRecord>> TransitionsAfter(int64_t seq, int limit);
  Result<std::vector<RefusalRecord>> RefusalsAfter(int64_t seq, int limit);
  // The event log: every spec's events after `seq`, oldest first, at most
  // `limit`; one spec's, oldest first; the highest seq (0 when none).
  Result<std::vector<EventRecord>> EventsAfter(int64_t seq, int limit);
  Result<std::vector<EventRecord>> SpecEvents(const std::string& spec_id);
  Result<int64_t> LastEventSeq();
  // The outbox of `sink` (a publisher of the event log, "nats:<stream>"):
  // the last event seq it has published (0 when it never has), and moving
  // it on once the events up to `seq` are published (journal_outbox.cc).
  Result<int64_t> OutboxSeq(const std::string& sink);
  Status SetOutboxSeq(const std::string& sink, int64_t seq, int64_t at_ms);
  // The remote workers a coordinator has heard from (`specd status`).
  Status SawRemoteWorker(const std::string& name, const std::string& verb, int64_t at_ms);
  Result<std::vector<RemoteWorkerRecord>> RemoteWorkers();  // by name
  // Live specs only, ordered by path.
  Result<std::vector<PathStamp>> ListStamps();
  Result<std::vector<WatchRecord>> WatchLog();  // oldest first

  // Tasks and leases (journal_tasks.cc). A task the journal has never seen
  // reads as nullopt; HeldLeases("") is every spec's, by spec and task.
  Result<std::optional<TaskRecord>> GetTask(const std::string& spec_id, const std::string& task_id);
  Result<std::vector<TaskRecord>> SpecTasks(const std::string& spec_id);  // by task id
  Result<std::optional<LeaseRecord>> GetLease(const std::string& spec_id, const std::string& task_id,
                                              int64_t epoch);
  Result<std::vector<LeaseRecord>> HeldLeases(const std::string& spec_id);

  // Gate runs (journal_gates.cc): spec `spec_id`'s on `candidate` (every
  // candidate's when ""), oldest first.
  Result<std::vector<GateRunRecord>> GateRuns(const std::string& spec_id, const std::string& candidate);

  // Group commit: between BeginGroup and EndGroup every Apply joins one
  // write transaction (each Apply is a savepoint inside it: all of a batch
  // or none), so a burst of files costs one fsync, not one each. Readers in
  // this process see the group's writes; other processes see them at
  // EndGroup. EndGroup(false) rolls the whole group back.
  Status BeginGroup();
  Status EndGroup(bool commit = true);
  // Inside a group: a mark that later batches can be undone back to, as one
  // (what a spec's apply step uses: its rows go in before its file is
  // written, and come out again if the write fails). Unmark(true) keeps them.
  Status Mark();
  Status Unmark(bool keep);

 private:
  explicit Journal(std::unique_ptr<SqliteDb> db);

  const std::string path_;
  std::mutex mu_;
  // Guarded by mu_: statements and transactions must not interleave.
  std::unique_ptr<SqliteDb> db_;
  bool in_group_ = false;
};

// Where a repository's journal lives, outside the committed tree:
//  - <repo>/.git is a directory: <repo>/.git/specd/journal.db.
//  - <repo>/.git is a file "gitdir: <dir>" (a linked worktree or a submodule):
//    <dir>/specd/journal.db, the worktree's OWN git dir, not the common one.
//    Each worktree has its own checkout of .agents/specs, with its own inodes,
//    mtimes and possibly other spec versions; one shared journal would see
//    every worktree's files as edits of the others. (git worktree remove
//    takes the journal with the worktree, which is what we want.)
//  - no usable .git: <repo>/.agents/.specd/journal.db. That directory must be
//    gitignored (and is never a spec: it is outside .agents/specs).
// A pure function of the file system (reads .git; no libgit2, no GIT_DIR).
std::string JournalPathFor(const std::string& repo_root);

// A file in the journal's folder: the watcher's lock (one `specd watch` per
// journal, watchers/lock.h) and the task verbs' socket (cli/verb_socket.h).
std::string BesideJournal(const std::string& journal_path, const char* name);
inline std::string WatchLockPathFor(const std::string& journal_path) {
  return BesideJournal(journal_path, "watch.lock");
}

}  // namespace specd
