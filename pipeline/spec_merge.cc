#include "pipeline/spec_merge.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/fail_point.h"
#include "pipeline/landed.h"
#include "pipeline/spec_gates.h"
#include "pipeline/squash_merge.h"
#include "pipeline/task_stack.h"

namespace specd::pipeline {

namespace {

// Every reason a merge blocks a spec with starts so; MergeQueue looks again
// at the specs blocked so, and only at those.
constexpr char kMergeBlock[] = "the merge into ";

void Say(std::FILE* out, const std::string& line) {
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
}

std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

// One merge at a time per target branch, across processes: an flock held
// for the call (released by the kernel if the process dies).
class MergeLock {
 public:
  static Result<MergeLock> Take(const std::string& common_dir, const std::string& branch, std::FILE* out) {
    std::string name = branch;
    std::replace(name.begin(), name.end(), '/', '%');
    const std::string dir = common_dir + "/specd";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = dir + "/merge-" + name + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      Say(out, "waiting for another merge into " + branch + " to finish");
      if (::flock(fd, LOCK_EX) != 0) {
        ::close(fd);
        return Error{"cannot lock " + path + ": " + std::strerror(errno)};
      }
    }
    return MergeLock(fd);
  }
  MergeLock(MergeLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~MergeLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit MergeLock(int fd) : fd_(fd) {}
  int fd_;
};

// Who moved the spec to reviewed last (the Reviewed-by trailer).
Result<std::string> ReviewedBy(Journal& journal, const std::string& id) {
  Result<std::vector<TransitionRecord>> ts = journal.Transitions(id);
  if (!ts.ok()) return ts.error();
  for (auto t = ts->rbegin(); t != ts->rend(); ++t) {
    if (t->to == "reviewed" && t->from == "diff-submitted") return t->actor;
  }
  return std::string();
}

// The spec as it is now: its file reconciled, and looked at again in case
// its commit is on the target already (the engine then completes it).
Result<SpecRecord> Current(SpecEngine& engine, Journal& journal, const std::string& id) {
  if (Result<PassReport> pass = engine.ReconcileSpec(id); !pass.ok()) return pass.error();
  Result<std::optional<SpecRecord>> rec = journal.GetSpec(id);
  if (!rec.ok()) return rec.error();
  if (*rec && (*rec)->status == "reviewed") {
    if (Result<PassReport> again = engine.LookAgain(id); !again.ok()) return again.error();
    rec = journal.GetSpec(id);  // completed, when its commit has landed
    if (!rec.ok()) return rec.error();
  }
  if (!*rec || (*rec)->removed) {
    return Error{"no spec " + id + " in " + engine.repo_root() + "/.agents/specs/", ErrorCode::kNotFound};
  }
  return **rec;
}

class Merger {
 public:
  Merger(SpecEngine& engine, Journal& journal, GitWorkspace& ws, const std::string& id, const MergeOptions& o)
      : engine_(engine), journal_(journal), ws_(ws), id_(id), options_(o) {}

  Result<MergeReport> Run() {
    Result<std::string> branch = ws_.Branch();
    if (!branch.ok()) return branch.error();
    report_.branch = *branch;
    Result<MergeLock> lock = MergeLock::Take(ws_.repo().common_dir(), *branch, options_.out);
    if (!lock.ok()) return lock.error();
    Result<SpecRecord> record = Current(engine_, journal_, id_);
    if (!record.ok()) return record.error();
    if (record->status == "completed") return Finish(*record, MergeOutcome::kAlreadyLanded);
    if (record->status == "blocked") {
      Result<bool> retried = RetryBlocked();
      if (!retried.ok()) return retried.error();
      if (!*retried) return report_;
    } else if (record->status != "reviewed") {
      report_.message = id_ + " is " + (record->status.empty() ? "invalid" : record->status) +
                        "; a merge takes a reviewed spec (`specd approve` it once its gates pass)";
      return report_;
    }
    return Land();
  }

 private:
  Result<SquashRequest> Request(const std::string& expected_tip, bool check_only) {
    SpecModel model;
    Result<std::vector<StackedPatch>> stack = engine_.SpecStack(id_, &model);
    if (!stack.ok()) return stack.error();
    Result<std::optional<SpecRecord>> rec = journal_.GetSpec(id_);
    if (!rec.ok()) return rec.error();
    Result<std::string> by = ReviewedBy(journal_, id_);
    if (!by.ok()) return by.error();
    SquashRequest r;
    r.spec_id = id_;
    r.title = model.title;
    r.trace_id = *rec ? (*rec)->trace_id : "";
    r.reviewed_by = *by;
    for (const StackedPatch& p : *stack) {
      r.task_ids.push_back(p.task_id);
      r.stack.push_back({p.task_id, p.patch});
    }
    r.branch = report_.branch;
    r.expected_tip = expected_tip;
    r.check_only = check_only;
    return r;
  }

  // A blocked spec: would the merge land now? Then back to reviewed.
  Result<bool> RetryBlocked() {
    Result<std::string> tip = BranchTip(ws_.repo(), report_.branch);
    if (!tip.ok()) return tip.error();
    Result<SquashRequest> r = Request(*tip, /*check_only=*/true);
    if (!r.ok()) return r.error();
    Result<SquashResult> check = SquashMerge(ws_.repo(), *r);
    if (!check.ok()) return check.error();
    if (check->outcome != SquashOutcome::kLanded) {
      report_.outcome = MergeOutcome::kBlocked;
      report_.paths = check->paths;
      report_.message = "still blocked: " + check->message;
      return false;
    }
    Result<Decision> d = engine_.RequestTransition(id_, SpecState::kReviewed, Actor{"specd", Role::kEngine},
                                                   "the merge into " + report_.branch + " can go ahead now");
    if (!d.ok()) return d.error();
    if (!d->allowed) {
      report_.message = d->reason;
      return false;
    }
    return true;
  }

  Result<MergeReport> Block(const SquashResult& r) {
    report_.outcome = MergeOutcome::kBlocked;
    report_.paths = r.paths;
    std::string reason = kMergeBlock + report_.branch;
    if (r.outcome == SquashOutcome::kConflict) {
      reason += " conflicts: " + r.message + "; rework it (`specd reject " + id_ + " --reason ...`)";
    } else {
      reason += " waits: " + r.message + "; commit or stash them and it goes on";
    }
    Result<Decision> d =
        engine_.RequestTransition(id_, SpecState::kBlocked, Actor{"specd", Role::kEngine}, reason);
    if (!d.ok()) return d.error();
    report_.message = d->allowed ? reason : d->reason;
    return report_;
  }

  Result<MergeReport> Land() {
    for (int regates = 0;; ++regates) {
      Result<std::optional<SpecRecord>> rec = journal_.GetSpec(id_);
      if (!rec.ok()) return rec.error();
      SpecGatesOptions gates;
      gates.out = options_.out;
      gates.if_needed = true;
      gates.stop = options_.stop;
      Result<SpecGatesReport> g = RunSpecGates(engine_, journal_, ws_, **rec, gates);
      if (!g.ok() && g.error().code != ErrorCode::kConflict) return g.error();
      std::string tip;
      if (g.ok()) {
        if (!g->already && !g->gates.empty()) ++report_.gate_runs;
        if (!g->passed) {
          report_.outcome = MergeOutcome::kSentBack;
          report_.message = g->failed_reason + "; the work went back to its tasks";
          return report_;
        }
        tip = g->candidate.tip;
      } else {  // the stack no longer applies: SquashMerge names the paths
        Result<std::string> now = BranchTip(ws_.repo(), report_.branch);
        if (!now.ok()) return now.error();
        tip = *now;
      }
      Result<SquashRequest> r = Request(tip, /*check_only=*/false);
      if (!r.ok()) return r.error();
      Result<SquashResult> s = SquashMerge(ws_.repo(), *r);
      if (!s.ok()) return s.error();
      switch (s->outcome) {
        case SquashOutcome::kLanded:
          Say(options_.out, s->message);
          report_.commit = s->commit;
          FailPoint("merge:after-land");
          return Completed();
        case SquashOutcome::kConflict:
        case SquashOutcome::kDirty:
          return Block(*s);
        case SquashOutcome::kTipMoved:
          if (regates >= options_.max_regates) {
            report_.message = report_.branch + " kept moving (" + std::to_string(regates + 1) +
                              " tips); the merge is left for the next try";
            return report_;
          }
          Say(options_.out,
              report_.branch + " moved to " + s->tip.substr(0, 7) + "; the gates run again there");
          break;
      }
    }
  }

  // The commit is on the branch: the next pass completes the spec
  // (LandedFacts), then the rest is tidied.
  Result<MergeReport> Completed() {
    Result<SpecRecord> record = Current(engine_, journal_, id_);
    if (!record.ok()) return record.error();
    if (record->status != "completed") {
      return Error{id_ + " landed as " + report_.commit.substr(0, 7) + " but is " + record->status +
                   "; `specd reconcile` completes it"};
    }
    return Finish(*record, MergeOutcome::kLanded);
  }

  // Completed: the checkout finished (after a crash between the ref and the
  // files) and the refs under refs/specd/ID/ deleted.
  Result<MergeReport> Finish(const SpecRecord& record, MergeOutcome outcome) {
    report_.outcome = outcome;
    Result<std::optional<std::string>> landed = FindLanded(ws_.repo(), report_.branch, id_, record.trace_id);
    if (!landed.ok()) return landed.error();
    if (*landed) {
      report_.commit = **landed;
      Result<CheckoutSync> synced = FinishCheckout(ws_.repo(), report_.branch, report_.commit);
      if (synced.ok() && !synced->updated.empty()) {
        Say(options_.out, "brought the checkout of " + report_.branch + " in line: " + List(synced->updated));
      }
    }
    Result<size_t> refs = DeleteSpecRefs(ws_.repo(), id_);
    if (!refs.ok()) return refs.error();
    report_.message = id_ + (outcome == MergeOutcome::kLanded ? " landed on " : " had landed on ") +
                      report_.branch + (report_.commit.empty() ? "" : " as " + report_.commit.substr(0, 7)) +
                      "; completed";
    return report_;
  }

  SpecEngine& engine_;
  Journal& journal_;
  GitWorkspace& ws_;
  const std::string id_;
  const MergeOptions& options_;
  MergeReport report_;
};

}  // namespace

const char* MergeOutcomeName(MergeOutcome o) {
  switch (o) {
    case MergeOutcome::kLanded:
      return "landed";
    case MergeOutcome::kAlreadyLanded:
      return "already-landed";
    case MergeOutcome::kBlocked:
      return "blocked";
    case MergeOutcome::kSentBack:
      return "sent-back";
    case MergeOutcome::kWaiting:
      return "waiting";
  }
  return "waiting";
}

Result<MergeReport> MergeSpec(SpecEngine& engine, Journal& journal, GitWorkspace& workspace,
                              const std::string& id, const MergeOptions& options) {
  return Merger(engine, journal, workspace, id, options).Run();
}

Result<std::vector<std::string>> MergeQueue(Journal& journal) {
  Result<std::vector<SpecRecord>> specs = journal.ListSpecs();
  if (!specs.ok()) return specs.error();
  std::vector<std::pair<int64_t, std::string>> queue;  // (reviewed at, id)
  for (const SpecRecord& s : *specs) {
    if (s.status != "reviewed" && s.status != "blocked") continue;
    Result<std::vector<TransitionRecord>> ts = journal.Transitions(s.id);
    if (!ts.ok()) return ts.error();
    if (ts->empty()) continue;
    if (s.status == "blocked" && ts->back().reason.rfind(kMergeBlock, 0) != 0) continue;
    int64_t reviewed_at = 0;
    for (const TransitionRecord& t : *ts) {
      if (t.to == "reviewed" && t.from == "diff-submitted") reviewed_at = t.at_ms;
    }
    queue.emplace_back(reviewed_at, s.id);
  }
  std::stable_sort(queue.begin(), queue.end());
  std::vector<std::string> ids;
  for (auto& [at, id] : queue) ids.push_back(id);
  return ids;
}

}  // namespace specd::pipeline
