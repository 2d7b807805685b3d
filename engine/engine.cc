#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/spec_files.h"
#include "engine/spec_model.h"
#include "engine/writeback.h"

namespace specd {

namespace {

constexpr int kMaxEngineSteps = 8;  // approved -> planning -> in-progress -> ... in one pass

bool HasError(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The progress block as the writer takes it.
Progress ToProgress(const std::vector<std::pair<std::string, int64_t>>& counts) {
  Progress p;
  for (const auto& [key, value] : counts) {
    int v = static_cast<int>(value);
    if (key == "total") p.total = v;
    if (key == "pending") p.pending = v;
    if (key == "inProgress") p.in_progress = v;
    if (key == "diffSubmitted") p.diff_submitted = v;
    if (key == "reviewed") p.reviewed = v;
    if (key == "done") p.done = v;
    if (key == "failed") p.failed = v;
    if (key == "blocked") p.blocked = v;
    if (key == "percent") p.percent = v;
  }
  return p;
}

FileStamp StampOf(const SpecRecord& r) {
  return FileStamp{r.size, r.mtime_ns, r.inode, r.ctime_ns};
}

void SetStamp(SpecRecord* r, const FileStamp& s) {
  r->size = s.size;
  r->mtime_ns = s.mtime_ns;
  r->inode = s.inode;
  r->ctime_ns = s.ctime_ns;
}

// A pass over many files commits the journal every this many files.
constexpr size_t kGroupFiles = 256;
constexpr size_t kProgressEvery = 1000;
// From this many files on, a group's files are read and validated in
// parallel before they are acted on.
constexpr size_t kPreloadFiles = 16;

// specd's temp files older than this were left by a process that died.
constexpr int64_t kStaleTempMs = 10 * 60 * 1000;

}  // namespace

struct SpecEngine::Loaded {
  std::string bytes;
  FileStamp stamp;
  std::string hash;
  std::vector<Diagnostic> diags;
  Document doc;
  bool valid = false;
  bool yaml = false;         // Parse found YAML (valid or not)
  bool author_edit = false;  // changed by someone other than specd since specd last saw it
  SpecModel model;
};

SpecEngine::SpecEngine(Env* env, Journal* journal, std::string repo_root, EngineOptions options)
    : env_(env), journal_(journal), root_(std::move(repo_root)), options_(std::move(options)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string SpecEngine::ActiveDir() const {
  return root_ + "/.agents/specs/active";
}

std::string SpecEngine::Relative(const std::string& path) const {
  if (path.size() > root_.size() + 1 && path.compare(0, root_.size(), root_) == 0 &&
      path[root_.size()] == '/') {
    return path.substr(root_.size() + 1);
  }
  return path;
}

std::string SpecEngine::Absolute(const std::string& rel) const {
  return !rel.empty() && rel[0] == '/' ? rel : root_ + "/" + rel;
}

std::string SpecEngine::Now() const {
  return FormatTimestamp(env_->NowMillis());
}

void SpecEngine::Emit(PassReport* report, EngineEvent event) {
  if (held_events_) {
    held_events_->push_back(event);
  } else {
    for (EventSink* sink : sinks_) sink->OnEvent(event);
  }
  ++report->event_count;
  report->events.push_back(std::move(event));  // one file's: a pass over many keeps them only if asked
}

// Spec files under `dir` and its subdirectories (templates/ is not walked:
// its files are not specs), repo-relative; stale temp files are removed.
void SpecEngine::ListSpecFiles(const std::string& dir, int depth, std::vector<std::string>* rels) {
  Result<std::vector<std::string>> names = env_->ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    const std::string path = dir + "/" + n;
    if (IsSpecFileName(n)) {
      rels->push_back(Relative(path));
    } else if (n.rfind(kTempPrefix, 0) == 0) {
      ExcludeTempFilesFromGit(dir);  // out of `git status` while it is there
      RemoveIfStale(path);
    } else if (depth < kMaxSpecDirDepth && !n.empty() && n[0] != '.' && env_->IsDirectory(path)) {
      ListSpecFiles(path, depth + 1, rels);
    }
  }
}

Result<PassReport> SpecEngine::ReconcileAll(const ProgressFn& progress, bool keep_events) {
  keep_events_ = keep_events;
  Result<PassReport> r = ReconcileEverything(progress);
  keep_events_ = true;
  return r;
}

// Moves `from`'s events into `to` (when kept) and adds up the counts.
void SpecEngine::Merge(PassReport&& from, PassReport* to) const {
  to->files += from.files;
  to->unchanged += from.unchanged;
  to->event_count += from.event_count;
  if (keep_events_) {
    for (EngineEvent& e : from.events) to->events.push_back(std::move(e));
  }
  for (std::string& h : from.held) to->held.push_back(std::move(h));
  for (PassReport::Failed& f : from.failed) to->failed.push_back(std::move(f));
}

Result<PassReport> SpecEngine::ReconcileEverything(const ProgressFn& progress) {
  PassReport report;
  std::vector<std::string> rels;
  const std::string specs = root_ + "/.agents/specs";
  ListSpecFiles(specs + "/active", 0, &rels);
  ListSpecFiles(specs + "/archive", 0, &rels);
  std::set<std::string> seen(rels.begin(), rels.end());
  std::vector<std::string> changed;
  {
    // One read of the journal's stamps for the pass (a lookup per file costs
    // more than the stat that decides whether the file needs reading at all),
    // and only the stamps: 100,000 whole records would not fit the watcher's
    // memory budget.
    Result<std::vector<PathStamp>> stamps = journal_->ListStamps();
    if (!stamps.ok()) return stamps.error();
    std::unordered_map<std::string_view, const PathStamp*> by_path;
    by_path.reserve(stamps->size());
    for (const PathStamp& p : *stamps) by_path.emplace(p.path, &p);
    for (size_t i = 0; i < rels.size(); ++i) {
      const std::string& rel = rels[i];
      if (auto known = by_path.find(rel); known != by_path.end()) {
        const PathStamp& p = *known->second;
        Result<FileStamp> stamp = env_->Stat(Absolute(rel));
        if (stamp.ok() && *stamp == FileStamp{p.size, p.mtime_ns, p.inode, p.ctime_ns}) {
          ++report.files;
          ++report.unchanged;  // not re-read, not re-parsed
          if (progress && (i + 1) % kProgressEvery == 0) progress(i + 1, rels.size());
          continue;
        }
      }
      changed.push_back(rel);
    }
  }
  size_t base = report.files;
  Result<PassReport> done = ReconcilePaths(changed, false, [&](size_t n, size_t) {
    if (progress) progress(base + n, rels.size());
  });
  if (!done.ok()) return done.error();
  Merge(std::move(*done), &report);
  if (progress) progress(rels.size(), rels.size());
  // What the journal knows but the disk no longer has. Listed again: the
  // pass may have moved records to new paths.
  Result<std::vector<PathStamp>> now = journal_->ListStamps();
  if (!now.ok()) return now.error();
  for (const PathStamp& p : *now) {
    if (seen.count(p.path) || env_->Exists(Absolute(p.path))) continue;
    Result<PassReport> gone = ReconcilePath(p.path);  // records the removal
    if (!gone.ok()) {
      report.failed.push_back({p.path, gone.error().message});
      continue;
    }
    gone->files = 0;  // not a file of this pass: it is gone
    Merge(std::move(*gone), &report);
  }
  return report;
}

// Runs `body` holding the journal's write lock (one group): no other specd
// process (a verb, a hook, a watcher) can read a file and decide on it
// between this one's reading the journal and journaling what it did to the
// file, so a change is never recorded twice. Sinks hear the events once the
// group is committed. A call inside a group joins it.
template <typename T, typename Body>
Result<T> SpecEngine::Locked(Body body) {
  if (held_events_) return body();
  if (Status s = journal_->BeginGroup(); !s.ok()) return s.error();
  std::vector<EngineEvent> held;
  held_events_ = &held;
  Result<T> result = body();
  held_events_ = nullptr;
  if (Status s = journal_->EndGroup(); !s.ok()) return s.error();
  for (const EngineEvent& e : held) {
    for (EventSink* sink : sinks_) sink->OnEvent(e);
  }
  return result;
}

Result<PassReport> SpecEngine::ReconcilePaths(const std::vector<std::string>& paths, bool hold_invalid,
                                              const ProgressFn& progress) {
  PassReport report;
  for (size_t start = 0; start < paths.size(); start += kGroupFiles) {
    const size_t end = std::min(paths.size(), start + kGroupFiles);
    // A group of files is one journal transaction: one fsync for them all.
    PassReport part;
    // Parsed before the lock is taken (other processes wait while it is
    // held); ReconcileOnce checks each file's stamp again under the lock.
    std::unordered_map<std::string, Loaded> preloaded;
    if (end - start >= kPreloadFiles) {
      std::vector<std::string> rels;
      for (size_t i = start; i < end; ++i) rels.push_back(Relative(paths[i]));
      Preload(rels, &preloaded);
    }
    Result<bool> done = Locked<bool>([&]() -> Result<bool> {
      if (!preloaded.empty()) preloaded_ = &preloaded;
      for (size_t i = start; i < end; ++i) {
        Result<PassReport> one = ReconcilePath(paths[i], hold_invalid);
        if (!one.ok()) {
          part.failed.push_back({paths[i], one.error().message});
          continue;
        }
        Merge(std::move(*one), &part);
      }
      preloaded_ = nullptr;
      return true;
    });
    if (!done.ok()) {  // not committed (or the lock not had): none of these, nor the rest, is done
      for (size_t i = start; i < paths.size(); ++i) report.failed.push_back({paths[i], done.error().message});
      break;
    } else {
      Merge(std::move(part), &report);
    }
    if (progress) progress(end, paths.size());
  }
  return report;
}

void SpecEngine::RemoveIfStale(const std::string& temp) {
  if (TempFileOrphaned(BaseName(temp))) {  // its writer is gone: no one will rename it into place
    env_->RemoveFile(temp);
    return;
  }
  Result<FileStamp> st = env_->Stat(temp);
  if (st.ok() && st->mtime_ns / 1'000'000 + kStaleTempMs < env_->NowMillis()) env_->RemoveFile(temp);
}

Result<PassReport> SpecEngine::ReconcilePath(const std::string& path, bool hold_invalid) {
  return Locked<PassReport>([&]() -> Result<PassReport> {
    PassReport report;
    report.files = 1;
    std::string rel = Relative(path);
    for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
      Result<Outcome> o = ReconcileOnce(rel, hold_invalid, &report);
      if (!o.ok()) return o.error();
      if (*o == Outcome::kDone) return report;
    }
    return Error{rel + " kept changing while specd tried to update it; try again"};
  });
}

Status SpecEngine::RecordRemoved(const SpecRecord& record, PassReport* report) {
  SpecRecord gone = record;
  gone.removed = true;
  gone.updated_ms = env_->NowMillis();
  JournalBatch batch;
  batch.upserts.push_back(gone);
  Status s = journal_->Apply(batch);
  if (!s.ok()) return s;
  Emit(report, EngineEvent{EngineEvent::Kind::kRemoved, record.id, record.path, record.status, "", "", ""});
  return Status::Ok();
}

// Reads the file whose stamp was taken just before: a save after the stat
// then shows as a changed stamp when the write-back checks it.
Status SpecEngine::Read(const std::string& rel, const FileStamp& stamp, Loaded* file) const {
  Result<std::string> bytes = env_->ReadFile(Absolute(rel));
  if (!bytes.ok()) return bytes.error();
  file->bytes = std::move(*bytes);
  file->stamp = stamp;
  file->hash = Sha256Hex(file->bytes);
  return Status::Ok();
}

// Validates what Read loaded; false when it is not even YAML.
bool SpecEngine::Parse(const std::string& rel, Loaded* file) const {
  bool loaded = false;
  file->diags = ValidateSpecText(file->bytes, rel, options_.validate, &file->doc, &loaded);
  file->valid = loaded && !HasError(file->diags);
  file->yaml = loaded;
  if (loaded) file->model = ReadSpecModel(file->doc);
  return loaded;
}

// Reads and validates, on every core, the files of `rels` that the journal
// does not have as they are: a burst of new or changed files is parsed in
// parallel, then acted on one by one (ReconcileOnce takes a preloaded file
// when its stamp still matches).
void SpecEngine::Preload(const std::vector<std::string>& rels, std::unordered_map<std::string, Loaded>* out) {
  std::vector<std::optional<Loaded>> loaded(rels.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < rels.size();) {
      const std::string& rel = rels[i];
      Result<FileStamp> stamp = env_->Stat(Absolute(rel));
      if (!stamp.ok()) continue;
      Result<std::optional<SpecRecord>> rec = journal_->GetSpecByPath(rel);
      if (!rec.ok() || (*rec && !(*rec)->removed && *stamp == StampOf(**rec))) continue;  // unchanged
      Loaded file;
      if (!Read(rel, *stamp, &file).ok()) continue;
      Parse(rel, &file);
      loaded[i] = std::move(file);
    }
  };
  const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), rels.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (size_t i = 0; i < rels.size(); ++i) {
    if (loaded[i]) out->emplace(rels[i], std::move(*loaded[i]));
  }
}

// The file was touched, not changed: only its new stamp is recorded.
Status SpecEngine::RecordStamp(SpecRecord record, const FileStamp& stamp) {
  SetStamp(&record, stamp);
  record.updated_ms = env_->NowMillis();
  JournalBatch batch;
  batch.upserts.push_back(std::move(record));
  return journal_->Apply(batch);
}

// Whether putting back the last legal status alone makes the file valid: an
// illegal status edit can break a status-dependent rule (tasks required from
// in-progress on); it is still a status edit to refuse, not a broken file.
bool SpecEngine::StatusEditIsTheOnlyProblem(const Loaded& file, const std::string& legal,
                                            const std::string& rel) const {
  if (legal.empty() || file.model.status == legal) return false;
  SpecEdits revert;
  revert.status = legal;
  Result<std::string> reverted = ApplyEdits(file.bytes, revert);
  if (!reverted.ok()) return false;
  Document doc;
  bool loaded = false;
  std::vector<Diagnostic> diags = ValidateSpecText(*reverted, rel, options_.validate, &doc, &loaded);
  return loaded && !HasError(diags);
}

Result<SpecEngine::Outcome> SpecEngine::ReconcileOnce(const std::string& rel, bool hold_invalid,
                                                      PassReport* report) {
  const std::string abs = Absolute(rel);
  Result<std::optional<SpecRecord>> by_path = journal_->GetSpecByPath(rel);
  if (!by_path.ok()) return by_path.error();
  std::optional<SpecRecord> rec = *by_path;
  Result<FileStamp> stamp = env_->Stat(abs);
  if (!stamp.ok()) {
    if (rec && !rec->removed) {
      Status s = RecordRemoved(*rec, report);
      if (!s.ok()) return s.error();
    }
    return Outcome::kDone;
  }
  if (rec && !rec->removed && *stamp == StampOf(*rec)) {
    ++report->unchanged;  // not re-read, not re-parsed
    return Outcome::kDone;
  }
  Loaded file;
  auto pre = preloaded_ ? preloaded_->find(rel) : std::unordered_map<std::string, Loaded>::iterator();
  const bool use_preload = preloaded_ && pre != preloaded_->end() && pre->second.stamp == *stamp;
  if (use_preload) {
    file = std::move(pre->second);
    preloaded_->erase(pre);
  } else if (Status s = Read(rel, *stamp, &file); !s.ok()) {
    return s.error();
  }
  if (rec && !rec->removed && file.hash == rec->content_hash) {  // touched, not changed: no parse
    if (Status s = RecordStamp(*rec, file.stamp); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  const bool loaded = use_preload ? file.yaml : Parse(rel, &file);
  if (!file.valid && loaded && rec && StatusEditIsTheOnlyProblem(file, rec->status, rel)) file.valid = true;

  std::string id = file.valid ? file.model.id : ExpectedSpecId(rel);
  if (!rec) {  // a file the journal knows under another path (moved, archived): same spec
    Result<std::optional<SpecRecord>> by_id = journal_->GetSpec(id);
    if (!by_id.ok()) return by_id.error();
    rec = *by_id;
  }
  const bool is_new = !rec;
  SpecRecord record = rec ? *rec : SpecRecord{};
  record.id = id;
  record.path = rel;
  record.removed = false;
  record.updated_ms = env_->NowMillis();
  if (rec && file.hash == rec->content_hash) {  // moved, not changed: the new path and stamp
    if (Status s = RecordStamp(record, file.stamp); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  file.author_edit = !is_new && file.hash != rec->written_hash;  // not specd's own write
  if (file.author_edit) ++record.generation;
  if (!file.valid && hold_invalid) {
    report->held.push_back(rel);
    return Outcome::kDone;
  }
  if (!file.valid) {
    std::string errors;
    const Diagnostic* first = nullptr;
    for (const Diagnostic& d : file.diags) {
      if (d.severity != Severity::kError) continue;
      errors += FormatText(d) + "\n";
      if (!first) first = &d;
    }
    JournalBatch batch;
    if (errors != record.errors) {  // a new failure: searchable later with `specd failures --like`
      batch.failures.push_back(FailureRecord{0, id, "",
                                             first ? first->pointer + ": " + first->message : "invalid",
                                             errors, "", env_->NowMillis()});
    }
    record.errors = errors;
    record.content_hash = file.hash;
    SetStamp(&record, file.stamp);
    batch.upserts.push_back(record);
    Status s = journal_->Apply(batch);
    if (!s.ok()) return s.error();
    Emit(report, EngineEvent{EngineEvent::Kind::kInvalid, id, rel, record.status, "", "",
                             first ? FormatText(*first) : "invalid"});
    return Outcome::kDone;
  }
  Decision unused;
  return Act(rel, file, record, is_new, std::nullopt, Actor{}, report, &unused);
}

namespace {

// Trailing changeLog entries the journal has not recorded yet, if they chain
// from the journal's status to the file's: specd's own write whose journal
// entry was cut off by a crash, or transitions a teammate made (git).
std::optional<std::vector<ChangeLogEntry>> Unjournaled(const std::vector<ChangeLogEntry>& log,
                                                       const std::vector<TransitionRecord>& journaled,
                                                       const std::string& from, const std::string& to) {
  std::set<std::tuple<std::string, std::string, std::string>> known;
  for (const TransitionRecord& t : journaled) known.insert({FormatTimestamp(t.at_ms), t.from, t.to});
  size_t start = log.size();
  while (start > 0 && !known.count({log[start - 1].at, log[start - 1].from, log[start - 1].to})) --start;
  std::vector<ChangeLogEntry> tail(log.begin() + static_cast<std::ptrdiff_t>(start), log.end());
  std::string cur = from;
  for (const ChangeLogEntry& e : tail) {
    std::optional<SpecState> a = ParseState(e.from), b = ParseState(e.to);
    if (e.from != cur || !a || !b || !IsLifeCycleEdge(*a, *b)) return std::nullopt;
    cur = e.to;
  }
  if (tail.empty() || cur != to) return std::nullopt;
  return tail;
}

}  // namespace

Result<SpecEngine::Outcome> SpecEngine::Act(const std::string& rel, const Loaded& file, SpecRecord record,
                                            bool is_new, std::optional<Request> verb, const Actor& verb_actor,
                                            PassReport* report, Decision* verb_decision) {
  const int64_t now_ms = env_->NowMillis() / 1000 * 1000;  // changeLog has seconds; keep both equal
  const std::string now = FormatTimestamp(now_ms);
  const SpecModel& model = file.model;
  bool author_edit = file.author_edit;
  // Not a state name only when the status edit is being refused (see
  // StatusEditIsTheOnlyProblem); otherwise the schema has checked it.
  const std::optional<SpecState> file_status = ParseState(model.status);
  SpecFacts facts;
  facts.valid = true;
  facts.tasks = model.tasks;
  std::string author = model.author.empty() ? "author" : model.author;

  JournalBatch batch;
  SpecEdits edits;
  std::vector<EngineEvent> events;
  if (!record.errors.empty()) {  // it was invalid: say how the last failure was resolved
    Result<std::vector<FailureRecord>> failures = journal_->Failures(record.id);
    if (!failures.ok()) return failures.error();
    for (auto it = failures->rbegin(); it != failures->rend(); ++it) {
      if (!it->resolution.empty()) break;
      FailureRecord resolved = *it;
      resolved.resolution = "fixed by an edit of the file at " + now + " (author edit #" +
                            std::to_string(record.generation) + ")";
      batch.failures.push_back(resolved);
      break;
    }
  }
  auto transition = [&](SpecState from, SpecState to, const std::string& actor, const std::string& reason,
                        bool write_log) {
    batch.transitions.push_back(TransitionRecord{0, record.id, record.trace_id, actor, StateName(from),
                                                 StateName(to), reason, now_ms, ""});
    if (write_log) {
      edits.append_changelog.push_back(
          ChangeLogEntry{now, actor, StateName(from), StateName(to), reason, record.trace_id});
    }
    events.push_back(EngineEvent{EngineEvent::Kind::kTransition, record.id, rel, StateName(from),
                                 StateName(to), actor, reason});
  };

  SpecState current = file_status ? *file_status : *ParseState(record.status);
  if (is_new || record.status.empty()) {
    record.trace_id = Sha256Hex(record.id + "@" + now).substr(0, 16);
    batch.transitions.push_back(TransitionRecord{0, record.id, record.trace_id, "specd", "",
                                                 StateName(current), "registered", now_ms, file.hash});
    events.push_back(
        EngineEvent{EngineEvent::Kind::kRegistered, record.id, rel, "", StateName(current), "specd", ""});
  } else if (record.status != model.status) {
    const SpecState legal = *ParseState(record.status);
    Result<std::vector<TransitionRecord>> journaled = journal_->Transitions(record.id);
    if (!journaled.ok()) return journaled.error();
    if (auto tail = Unjournaled(model.change_log, *journaled, record.status, model.status)) {
      // Entries under this clone's trace were written by specd here (the
      // journal missed them in a crash): not an author's edit.
      bool ours = std::all_of(tail->begin(), tail->end(),
                              [&](const ChangeLogEntry& e) { return e.trace == record.trace_id; });
      if (ours && author_edit) {
        --record.generation;
        author_edit = false;
      }
      for (const ChangeLogEntry& e : *tail) {  // the file wins; the journal records that it did
        // Journaled at the entry's own time, so the next catch-up matches it.
        // From git, the entry is git's; whoever made it is named in the reason.
        const bool via_git = options_.changes_from_git;
        std::string reason = e.reason.empty() ? "recorded from the file" : e.reason;
        if (via_git) reason = "by " + (e.actor.empty() ? std::string("someone") : e.actor) + ": " + reason;
        const std::string actor = via_git ? "git" : e.actor;
        batch.transitions.push_back(TransitionRecord{0, record.id, record.trace_id, actor, e.from, e.to,
                                                     reason, ParseTimestamp(e.at).value_or(now_ms),
                                                     file.hash});
        events.push_back(EngineEvent{EngineEvent::Kind::kTransition, record.id, rel, e.from, e.to, actor,
                                     "recorded from the file's changeLog"});
      }
    } else if (options_.changes_from_git && file_status) {
      // Already decided where it was made: recorded, never refused or rewritten.
      std::string reason = "by " + author + ": status edited in the file, brought in by git";
      Decision d =
          Decide(legal, facts, Request{*file_status, Via::kSync, reason}, Actor{"git", Role::kEngine});
      if (!d.allowed) reason += " (" + d.reason + ")";
      batch.transitions.push_back(TransitionRecord{0, record.id, record.trace_id, "git", StateName(legal),
                                                   model.status, reason, now_ms, ""});
      events.push_back(EngineEvent{EngineEvent::Kind::kTransition, record.id, rel, StateName(legal),
                                   model.status, "git", reason});
    } else {
      Decision d =
          file_status
              ? Decide(legal, facts, Request{*file_status, Via::kFileEdit, ""}, Actor{author, Role::kAuthor})
              : Decision{false, legal, legal, "'" + model.status + "' is not a spec status", {}};
      if (d.allowed) {
        transition(legal, *file_status, author, "status edited in the file", true);
      } else {
        batch.refusals.push_back(
            RefusalRecord{0, record.id, author, StateName(legal), model.status, d.reason, now_ms});
        events.push_back(EngineEvent{EngineEvent::Kind::kRefused, record.id, rel, StateName(legal),
                                     model.status, author, d.reason});
        current = legal;
        edits.status = StateName(legal);
      }
    }
  }

  if (verb) {
    *verb_decision = Decide(current, facts, *verb, verb_actor);
    if (!verb_decision->allowed) return Outcome::kDone;  // nothing written, nothing journaled
    for (const TaskChange& tc : verb_decision->task_changes) {
      TaskEdit te;
      te.task_id = tc.task_id;
      te.status = tc.status;
      if (tc.clear_assignee) te.assigned_to = std::optional<std::string>();
      edits.tasks.push_back(te);
      for (TaskFact& t : facts.tasks) {
        if (t.id == tc.task_id) t.status = tc.status, t.assigned = t.assigned && !tc.clear_assignee;
      }
    }
    transition(current, verb->to, verb_actor.name, verb->reason, true);
    current = verb->to;
  }

  record.waiting.clear();
  for (int i = 0; i < kMaxEngineSteps && !options_.changes_from_git; ++i) {
    EngineStep step = NextEngineStep(current, facts);
    if (!step.to) {
      record.waiting = step.waiting;
      if (!step.waiting.empty()) {
        events.push_back(EngineEvent{EngineEvent::Kind::kWaiting, record.id, rel, StateName(current), "",
                                     "specd", step.waiting});
      }
      break;
    }
    transition(current, *step.to, "specd", step.reason, true);
    current = *step.to;
  }

  std::vector<std::pair<std::string, int64_t>> progress = DeriveProgress(facts.tasks);
  if ((!facts.tasks.empty() || model.has_progress) && progress != model.progress)
    edits.progress = ToProgress(progress);
  if (!file_status || current != *file_status) edits.status = StateName(current);
  if (options_.changes_from_git) edits = SpecEdits{};  // git's files are left as git wrote them

  std::string on_disk = file.bytes;
  FileStamp stamp = file.stamp;
  std::string path = rel;
  bool writeback_failed = false;
  record.errors.clear();
  if (!edits.empty()) {
    edits.updated_at = now;
    Result<std::string> updated = ApplyEdits(file.bytes, edits);
    if (!updated.ok()) {
      writeback_failed = true;
      record.errors = "specd cannot update this file: " + updated.error().message + "\n";
      events.clear();
      events.push_back(
          EngineEvent{EngineEvent::Kind::kInvalid, record.id, rel, record.status, "", "", record.errors});
      batch = JournalBatch{};
    } else {
      Status w = WriteFileAtomic(env_, Absolute(rel), *updated, &file.stamp);
      if (!w.ok() && w.error().code == ErrorCode::kConflict) return Outcome::kRetry;  // re-read, re-apply
      if (!w.ok()) return w.error();
      on_disk = std::move(*updated);
      record.written_hash = Sha256Hex(on_disk);
      Result<FileStamp> after = env_->Stat(Absolute(rel));
      if (!after.ok()) return after.error();
      stamp = *after;
    }
  }
  if (!writeback_failed) record.status = StateName(current);
  if (IsTerminal(current) && rel.find("/archive/") == std::string::npos && !options_.changes_from_git) {
    std::string month = now.substr(0, 7);
    std::string dir = root_ + "/.agents/specs/archive/" + month;
    Status s = env_->MakeDirs(dir);
    if (s.ok()) s = env_->RenameFile(Absolute(rel), dir + "/" + BaseName(rel));
    if (s.ok()) s = env_->SyncDir(dir);
    if (s.ok()) s = env_->SyncDir(Absolute(rel.substr(0, rel.find_last_of('/'))));
    if (!s.ok()) return s.error();
    path = Relative(dir + "/" + BaseName(rel));
    Result<FileStamp> moved = env_->Stat(Absolute(path));
    if (moved.ok()) stamp = *moved;
    events.push_back(
        EngineEvent{EngineEvent::Kind::kArchived, record.id, path, "", StateName(current), "specd", ""});
  }
  record.path = path;
  record.content_hash = Sha256Hex(on_disk);
  SetStamp(&record, stamp);
  for (TransitionRecord& t : batch.transitions) {
    if (t.content_hash.empty()) t.content_hash = record.content_hash;
    t.trace_id = record.trace_id;
  }
  if (events.empty() && author_edit) {
    events.push_back(EngineEvent{EngineEvent::Kind::kEdited, record.id, path, record.status, "", author, ""});
  }
  batch.upserts.push_back(record);
  Status s = journal_->Apply(batch);
  if (!s.ok()) return s.error();
  for (EngineEvent& e : events) Emit(report, std::move(e));
  return Outcome::kDone;
}

Result<PassReport> SpecEngine::ReconcileSpec(const std::string& id) {
  Result<std::optional<SpecRecord>> rec = journal_->GetSpec(id);
  if (!rec.ok()) return rec.error();
  if (*rec && !(*rec)->removed && env_->Exists(Absolute((*rec)->path))) return ReconcilePath((*rec)->path);
  return ReconcileAll();  // new to the journal, or moved: look everywhere
}

Result<Decision> SpecEngine::RequestTransition(const std::string& id, SpecState to, const Actor& actor,
                                               const std::string& reason) {
  return Locked<Decision>([&]() { return Transition(id, to, actor, reason); });
}

Result<Decision> SpecEngine::Transition(const std::string& id, SpecState to, const Actor& actor,
                                        const std::string& reason) {
  Result<PassReport> pass = ReconcileSpec(id);  // act on the file as it is now
  if (!pass.ok()) return pass.error();
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    Result<std::optional<SpecRecord>> rec = journal_->GetSpec(id);
    if (!rec.ok()) return rec.error();
    if (!*rec || (*rec)->removed) return Error{"no spec " + id + " in " + root_ + "/.agents/specs/"};
    const SpecRecord& record = **rec;
    if (!record.errors.empty()) {
      Decision d;
      d.to = to;
      d.reason = "the spec does not validate; fix it first:\n" + record.errors;
      return d;
    }
    Loaded file;
    Result<FileStamp> stamp = env_->Stat(Absolute(record.path));
    if (!stamp.ok()) return stamp.error();
    if (Status s = Read(record.path, *stamp, &file); !s.ok()) return s.error();
    const bool current = file.hash == record.content_hash;
    if (current) Parse(record.path, &file);
    if (!current || !file.valid) {
      // Saved since the pass: reconcile that version, then decide again.
      if (Result<PassReport> again = ReconcilePath(record.path); !again.ok()) return again.error();
      continue;
    }
    PassReport report;
    Decision decision;
    Result<Outcome> o =
        Act(record.path, file, record, false, Request{to, Via::kVerb, reason}, actor, &report, &decision);
    if (!o.ok()) return o.error();
    if (*o == Outcome::kDone) return decision;
    if (Result<PassReport> again = ReconcilePath(record.path); !again.ok()) return again.error();
  }
  return Error{id + " kept changing while specd tried to update it; try again"};
}

}  // namespace specd
