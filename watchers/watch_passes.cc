// WatchService's passes: the due paths, what a git operation changed, the
// full rescans, and what the journal says happened.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "watchers/watch_service.h"

namespace specd {

std::string WatchService::Absolute(const std::string& path) const {
  return !path.empty() && path[0] == '/' ? path : engine_->repo_root() + "/" + path;
}

void WatchService::LogWatch(const std::string& kind, const std::string& detail) {
  JournalBatch batch;
  batch.watch.push_back(WatchRecord{0, Env::Default()->NowMillis(), kind, detail});
  if (Status s = journal_->Apply(batch); !s.ok()) spdlog::error("{}", s.error().message);
}

void WatchService::ShowJournal() {
  if (!options_.live_view) return;
  if (Status s = tail_.Drain(options_.live_view); !s.ok()) spdlog::error("{}", s.error().message);
}

// What the engine could not finish is tried again after retry_ms; a
// directory with a spec's name is no spec: said once, never tried again.
void WatchService::RetryFailed(const PassReport& report, bool from_git) {
  const int64_t due = Now() + options_.retry_ms;
  for (const PassReport::Failed& f : report.failed) {
    const std::string path = Absolute(f.path);
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      if (not_specs_.insert(path).second) {
        spdlog::warn("{} is a directory, not a spec file: left alone", path);
      }
      continue;
    }
    spdlog::error("{} (trying again in {} ms)", f.message, options_.retry_ms);
    settler_.Retry(path, due);
    if (from_git) from_git_.insert(path);
  }
}

void WatchService::AskRescan(const std::string& kind, const std::string& why) {
  if (!rescan_kind_.empty()) return;  // the first reason in a turn is the one journaled
  rescan_kind_ = kind;
  rescan_why_ = why;
}

void WatchService::RescanIfAsked(int64_t now) {
  if (rescan_kind_.empty()) return;
  if (gate_.busy()) {
    // Whatever it would find may be git's: the full pass is the git engine's
    // once the operation ends.
    spdlog::info("{}: the full pass waits until {} ends", rescan_why_, git_what_);
    gate_.HoldEverything();
  } else {
    // A full pass covers every pending path too (and holds none: what it
    // finds invalid now is journaled, which is right after a loss).
    Rescan(rescan_kind_, rescan_why_);
  }
  structure_since_.reset();  // covered
}

Status WatchService::Rescan(const std::string& kind, const std::string& why) {
  ++stats_.rescans;
  const int64_t start = Now();
  Result<PassReport> r = engine_->ReconcileAll(nullptr, /*keep_events=*/false);
  ShowJournal();
  if (!r.ok()) {
    spdlog::error("rescan ({}): {}", why, r.error().message);
    return r.error();
  }
  // The full pass covered every pending path (and held none: what it found
  // invalid is journaled, which is right after a loss); what it could not
  // finish is tried again.
  settler_ = Settler(options_.settle_ms);
  from_git_.clear();
  RetryFailed(*r, false);
  stats_.events += r->event_count;
  const size_t changed = r->files - r->unchanged;
  const std::string detail = why + ": rescanned " + std::to_string(r->files) + " files, " +
                             std::to_string(changed) + " changed, " + std::to_string(r->event_count) +
                             " events";
  if (kind == "safety-rescan" && r->event_count == 0) {
    spdlog::debug("{} ({} ms)", detail, Now() - start);
  } else {
    spdlog::info("{} ({} ms)", detail, Now() - start);
    LogWatch(kind, detail);
  }
  return Status::Ok();
}

// A tree that changed shape (deleted and made again, moved in: a branch
// switch, an unpacked archive) is watched again at once (the backend does
// that, and reports the files already inside), but the full pass that finds
// what left without an event waits until the paths in hand have settled:
// run at once, it judged a file that a writer had only just created, and
// reported it invalid with none of the settle's grace (a full pass holds
// nothing). A tree that never goes quiet gets its pass after a while.
void WatchService::StructureRescanIfSettled(int64_t now) {
  if (!structure_since_) return;
  const int64_t structure_max_ms = std::max<int64_t>(options_.settle_ms * 10, 1000);
  if (settler_.pending() != 0 && now < *structure_since_ + structure_max_ms) return;
  rescan_kind_ = "structure", rescan_why_ = structure_why_;
  RescanIfAsked(now);
}

size_t WatchService::PassDue(int64_t now) {
  std::vector<Settler::Due> due = settler_.Take(now);
  if (gate_.busy()) {
    // Changed before the operation began: an edit, judged as one once git
    // is done (what git itself then wrote is held in the gate, and its
    // pass comes first).
    deferred_.insert(deferred_.end(), due.begin(), due.end());
    return due.size();
  }
  if (!deferred_.empty()) {
    std::set<std::string> taken;
    for (const Settler::Due& d : due) taken.insert(d.path);
    for (Settler::Due& d : deferred_) {
      if (taken.insert(d.path).second) due.push_back(std::move(d));
    }
    deferred_.clear();
  }
  if (due.empty()) return 0;
  std::vector<std::string> first_look, last_look, held;
  std::vector<int64_t> held_since;
  for (Settler::Due& d : due) {
    if (!d.last_look) {
      first_look.push_back(std::move(d.path));
    } else if (now - d.held_since_ms < options_.max_hold_ms) {
      held.push_back(std::move(d.path));
      held_since.push_back(d.held_since_ms);
    } else {
      last_look.push_back(std::move(d.path));
    }
  }
  if (!held.empty()) {
    std::vector<bool> open = OpenForWriting(held);
    for (size_t i = 0; i < held.size(); ++i) {
      if (open[i]) {  // its writer is not done
        settler_.Hold(held[i], now, held_since[i], std::max(options_.settle_ms, options_.open_check_ms));
      } else {
        last_look.push_back(std::move(held[i]));
      }
    }
  }
  if (!first_look.empty()) Pass(first_look, /*hold=*/true, now);
  if (!last_look.empty()) Pass(last_look, /*hold=*/false, now);
  return due.size();
}

// What git changed and did not finish (held invalid, failed) goes through the
// git engine again; the rest through the ordinary one.
void WatchService::Pass(const std::vector<std::string>& paths, bool hold, int64_t now) {
  std::vector<std::string> git, own;
  for (const std::string& p : paths) {
    if (from_git_.erase(p)) {
      git.push_back(p);
    } else {
      own.push_back(p);
    }
  }
  if (!own.empty()) PassWith(engine_, own, hold, now);
  if (!git.empty()) PassWith(options_.git_engine, git, hold, now);
}

void WatchService::PassWith(SpecEngine* engine, const std::vector<std::string>& paths, bool hold,
                            int64_t now) {
  const bool from_git = engine != engine_;
  Result<PassReport> r = engine->ReconcilePaths(paths, hold);
  ShowJournal();
  ++stats_.passes;
  stats_.examined += paths.size();
  if (!r.ok()) {  // the journal could not commit: try them all again
    spdlog::error("{}", r.error().message);
    for (const std::string& p : paths) {
      settler_.Retry(p, now + options_.retry_ms);
      if (from_git) from_git_.insert(p);
    }
    return;
  }
  stats_.unchanged += r->unchanged;
  stats_.events += r->event_count;
  for (const std::string& p : r->held) {
    ++stats_.held;
    spdlog::debug("{} does not validate yet; looking again once it is quiet", p);
    settler_.Hold(Absolute(p), now, now);
    if (from_git) from_git_.insert(Absolute(p));
  }
  RetryFailed(*r, from_git);
  spdlog::debug("pass: {} files, {} unchanged, {} events", paths.size(), r->unchanged, r->event_count);
}

// The git operation is over: what changed meanwhile is git's (a merge's
// result, a pulled teammate's transitions), journaled as actor git and
// never written; the post-* hook may have done it first, and then the
// stamps match and nothing happens. An invalid file (a conflict left for
// the author) is held as any other and looked at again by the git engine.
void WatchService::EndOfGitOperation(int64_t now) {
  GitGate::Held held = gate_.Take();
  ++stats_.git_passes;
  std::string detail = "after " + git_what_ + ": ";
  if (held.everything) {
    Result<PassReport> r = options_.git_engine->ReconcileAll(nullptr, /*keep_events=*/false);
    ShowJournal();
    if (!r.ok()) {
      spdlog::error("{}", r.error().message);
      AskRescan("rescan", "after " + git_what_);
      return;
    }
    settler_ = Settler(options_.settle_ms);
    from_git_.clear();
    RetryFailed(*r, true);
    stats_.events += r->event_count;
    detail += "rescanned " + std::to_string(r->files) + " files as git changes, " +
              std::to_string(r->files - r->unchanged) + " changed, " + std::to_string(r->event_count) +
              " events";
  } else {
    const size_t before = stats_.events;
    PassWith(options_.git_engine, held.paths, /*hold=*/true, now);
    detail += std::to_string(held.paths.size()) + " changed spec" + (held.paths.size() == 1 ? "" : "s") +
              " reconciled as git changes, " + std::to_string(stats_.events - before) + " events";
  }
  spdlog::info("{}", detail);
  LogWatch("git", detail);
}

}  // namespace specd
