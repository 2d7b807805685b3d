#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/loaded.h"
#include "engine/spec_files.h"
#include "engine/spec_model.h"

namespace specd {

namespace {

// A pass over many files commits the journal every this many files.
constexpr size_t kGroupFiles = 256;
constexpr size_t kProgressEvery = 1000;
// From this many files on, a group's files are read and validated in
// parallel before they are acted on.
constexpr size_t kPreloadFiles = 16;

// specd's temp files older than this were left by a process that died.
constexpr int64_t kStaleTempMs = 10 * 60 * 1000;

}  // namespace

bool HasError(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
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

SpecEngine::~SpecEngine() = default;

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

// Spec files under `dir` and its subdirectories (templates/ is not walked:
// its files are not specs), repo-relative; stale temp files are removed.
Status SpecEngine::ListSpecFiles(const std::string& dir, int depth, std::vector<std::string>* rels) {
  Result<std::vector<std::string>> names = env_->ListDir(dir);
  if (!names.ok())
    return env_->Exists(dir) ? Status(names.error()) : Status::Ok();  // unreadable: not "no specs"
  for (const std::string& n : *names) {
    const std::string path = dir + "/" + n;
    if (IsSpecFileName(n)) {
      rels->push_back(Relative(path));
    } else if (n.rfind(kTempPrefix, 0) == 0) {
      ExcludeTempFilesFromGit(dir);  // out of `git status` while it is there
      RemoveIfStale(path);
    } else if (depth < kMaxSpecDirDepth && !n.empty() && n[0] != '.' && env_->IsDirectory(path)) {
      if (Status s = ListSpecFiles(path, depth + 1, rels); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<PassReport> SpecEngine::ReconcileAll(const ProgressFn& progress, bool keep_events) {
  keep_events_ = keep_events;
  Result<PassReport> r = ReconcileEverything(progress);
  // A reviewed spec waits on a fact from outside its file (its commit on
  // the target): each is looked at again, so a pass completes one whose
  // merge was killed after the commit landed.
  if (r.ok() && !fact_sources_.empty()) {
    Result<std::vector<std::string>> waiting = journal_->SpecIdsIn(StateName(SpecState::kReviewed));
    if (!waiting.ok()) r = waiting.error();
    for (size_t i = 0; r.ok() && i < waiting->size(); ++i) {
      Result<PassReport> again = LookAgain((*waiting)[i]);
      if (!again.ok()) {
        r->failed.push_back({(*waiting)[i], again.error().message});
        continue;
      }
      PassReport more = std::move(*again);
      more.files = 0;
      Merge(std::move(more), &*r);
    }
  }
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
  for (const char* dir : {"/active", "/archive"}) {
    if (Status s = ListSpecFiles(specs + dir, 0, &rels); !s.ok()) return s.error();
  }
  // A submit killed while writing its diff leaves the temp file next to the
  // diffs (.agents/diffs/ID/), where no spec folder's listing looks.
  const std::string diffs = root_ + "/.agents/diffs";
  if (Result<std::vector<std::string>> ids = env_->ListDir(diffs); ids.ok()) {
    for (const std::string& id : *ids) {
      Result<std::vector<std::string>> names = env_->ListDir(diffs + "/" + id);
      for (const std::string& n : names.ok() ? *names : std::vector<std::string>{}) {
        if (n.rfind(kTempPrefix, 0) == 0) RemoveIfStale(diffs + "/" + id + "/" + n);
      }
    }
  }
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

// A temp file whose writer is gone (no one will rename it into place), or
// untouched for kStaleTempMs (ctime: an exchange sets it, so a file displaced
// a moment ago by a live writer is not stale, however old its mtime).
void SpecEngine::RemoveIfStale(const std::string& temp) {
  bool gone = TempFileOrphaned(temp.substr(temp.find_last_of('/') + 1));
  if (!gone) {
    Result<FileStamp> st = env_->Stat(temp);
    gone = st.ok() && st->ctime_ns / 1'000'000 + kStaleTempMs < env_->NowMillis();
  }
  if (gone) RecoverTempFile(env_, temp);
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

// Reads the file whose stamp was taken just before: a save after the stat
// then shows as a changed stamp when the write-back checks it.
Status SpecEngine::Read(const std::string& rel, const FileStamp& stamp, int64_t taken_ns,
                        Loaded* file) const {
  // The rules of `specd validate` (spec_files): a file specd does not read is
  // the spec's error, named with its reason; its bytes are never read.
  const size_t limit = options_.validate.limits.max_bytes;
  Result<FileBytes> bytes = ReadRepoSpecFile(Absolute(rel), root_, limit);
  if (!bytes.ok() && bytes.error().code != ErrorCode::kInvalid) return bytes.error();
  if (!bytes.ok() || bytes->too_large) {
    file->not_read = bytes.ok() ? FileTooLarge(rel, bytes->size, limit)
                                : Diagnostic{rel, 1, 1, "", "file", bytes.error().message, Severity::kError};
  }
  file->bytes = bytes.ok() ? std::move(bytes->data) : std::string();
  file->stamp = stamp;
  file->settled = StampIsSettled(stamp, taken_ns);
  file->hash = ContentHash(file->not_read ? "not read: " + file->not_read->message : file->bytes);
  return Status::Ok();
}

// Validates what Read loaded; false when it is not even YAML.
bool SpecEngine::Parse(const std::string& rel, Loaded* file) const {
  if (file->not_read) {  // never read: the reason is its one error
    file->diags = {*file->not_read};
    file->valid = file->yaml = false;
    return false;
  }
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
      const int64_t taken = env_->FileClockNanos();
      Result<FileStamp> stamp = env_->Stat(Absolute(rel));
      if (!stamp.ok()) continue;
      Result<std::optional<SpecRecord>> rec = journal_->GetSpecByPath(rel);
      if (!rec.ok() || (*rec && !(*rec)->removed && *stamp == StampOf(**rec))) continue;  // unchanged
      Loaded file;
      if (!Read(rel, *stamp, taken, &file).ok()) continue;
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

// One file, one look: skipped when its stamp or hash says nothing changed,
// else its facts gathered, a plan made and applied. kRetry: the file changed
// while the plan was applied; the caller reads it again.
Result<SpecEngine::Outcome> SpecEngine::ReconcileOnce(const std::string& rel, bool hold_invalid,
                                                      PassReport* report) {
  const std::string abs = Absolute(rel);
  Result<std::optional<SpecRecord>> by_path = journal_->GetSpecByPath(rel);
  if (!by_path.ok()) return by_path.error();
  std::optional<SpecRecord> rec = *by_path;
  const int64_t taken = env_->FileClockNanos();
  Result<FileStamp> stamp = env_->Stat(abs);
  if (!stamp.ok()) {
    if (rec && !rec->removed) {
      if (Status s = RecordRemoved(*rec, report); !s.ok()) return s.error();
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
  } else if (Status s = Read(rel, *stamp, taken, &file); !s.ok()) {
    return s.error();
  }
  if (rec && !rec->removed && file.hash == rec->content_hash) {  // touched, not changed: no parse
    ++report->unchanged;
    if (KeptStamp(file) == StampOf(*rec)) return Outcome::kDone;  // still racily clean: nothing to record
    if (Status s = RecordStamp(*rec, KeptStamp(file)); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  const bool loaded = use_preload ? file.yaml : Parse(rel, &file);
  if (!file.valid && loaded && rec && StatusEditIsTheOnlyProblem(file, rec->status, rel)) file.valid = true;
  if (rec && !rec->removed && rec->content_hash.empty() && !rec->status.empty() && rec->errors.empty() &&
      file.valid && file.model.status == rec->status) {
    SpecRecord rehashed = *rec;  // journal v5 changed the hash: the file is taken as it is, once
    rehashed.content_hash = file.hash;
    if (Status s = RecordStamp(rehashed, KeptStamp(file)); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  const std::string id = file.valid ? file.model.id : ExpectedSpecId(rel);
  if (!rec) {  // a file the journal knows under another path (moved, archived, or a copy)
    Result<std::optional<SpecRecord>> by_id = journal_->GetSpec(id);
    if (!by_id.ok()) return by_id.error();
    rec = *by_id;
  }
  const bool elsewhere = rec && rec->path != rel && !rec->removed && env_->Exists(Absolute(rec->path));
  if (rec && !elsewhere && file.hash == rec->content_hash) {
    SpecRecord moved = *rec;  // moved or restored, not changed: the new path and stamp
    moved.path = rel;
    moved.removed = false;
    if (Status s = RecordStamp(moved, KeptStamp(file)); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  if (!file.valid && hold_invalid) {
    report->held.push_back(rel);
    return Outcome::kDone;
  }
  Result<PlanInput> in = Gather(rel, file, rec, options_.changes_from_git ? Source::kGit : Source::kFile);
  if (!in.ok()) return in.error();
  return ApplyPlan(file, *in, PlanSpec(*in), report);
}

}  // namespace specd
