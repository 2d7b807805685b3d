// specd next | claim | heartbeat | release | fail | submit: a worker's side
// of the life cycle (issue 12). A refusal (stale lease, not ready, wrong
// state) exits 1 with one line naming the reason; usage and I/O errors exit
// 2; `next` with nothing ready exits 3.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "engine/events.h"

namespace specd::cli {

namespace {

constexpr int kExitNothingReady = 3;
constexpr size_t kLogTailBytes = 4096;
constexpr int kBusyWaitMs = 120'000;

struct TaskArgs {
  RepoOptions repo;
  std::string spec, task, worker, lease, reason, log, diff;
};

void PrintJson(const nlohmann::ordered_json& out) {
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

nlohmann::ordered_json LeaseJson(const TaskReply& r) {
  const LeaseRecord& l = r.lease;
  return {{"spec", l.spec_id}, {"task", l.task_id}, {"worker", l.worker},
          {"lease", l.token},  {"epoch", l.epoch},  {"expiresAt", FormatTimestamp(l.expires_ms)},
          {"base", l.base},    {"files", r.files}};
}

void PrintLease(const TaskReply& r, const char* what) {
  const LeaseRecord& l = r.lease;
  std::string files;
  for (const std::string& f : r.files) files += (files.empty() ? "" : ", ") + f;
  PrintLine(stdout, l.spec_id + " " + l.task_id + " " + what + " by " + l.worker);
  PrintLine(stdout, "  lease    " + l.token);
  PrintLine(stdout, "  epoch    " + std::to_string(l.epoch));
  PrintLine(stdout, "  expires  " + FormatTimestamp(l.expires_ms));
  if (!l.base.empty()) PrintLine(stdout, "  base     " + l.base);
  if (!files.empty()) PrintLine(stdout, "  files    " + files);
}

// Reads FILE, or standard input for "-".
Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path + ": no such file or not readable", ErrorCode::kNotFound};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool Missing(const char* verb, const std::string& value, const char* what) {
  if (!value.empty()) return false;
  std::fprintf(stderr, "specd %s: %s is required\n", verb, what);
  return true;
}

// The common end of every task verb: the reply printed, the exit code.
int Finish(const char* verb, const RepoOptions& repo, const Result<TaskReply>& reply,
           const std::function<void(const TaskReply&)>& print) {
  if (!reply.ok()) {
    PrintLine(stderr, std::string("specd ") + verb + ": " + reply.error().message);
    return kExitUsage;
  }
  if (reply->nothing_ready) {
    if (repo.json) PrintJson(nlohmann::ordered_json{{"ready", false}});
    PrintLine(stderr, std::string("specd ") + verb + ": no task is ready");
    return kExitNothingReady;
  }
  if (!reply->refused.empty()) {
    PrintLine(stderr, std::string("specd ") + verb + ": refused: " + reply->refused);
    return kExitInvalid;
  }
  print(*reply);
  return kExitOk;
}

int RunTaskVerb(const char* verb, const TaskArgs& a) {
  const std::string name = verb;
  const bool needs_task = name != "next";
  const bool needs_lease = name == "heartbeat" || name == "release" || name == "fail" || name == "submit";
  if (needs_task && (Missing(verb, a.spec, "a spec id") || Missing(verb, a.task, "a task id")))
    return kExitUsage;
  if ((name == "next" || name == "claim") && Missing(verb, a.worker, "--worker NAME")) return kExitUsage;
  if (needs_lease && Missing(verb, a.lease, "--lease TOKEN")) return kExitUsage;
  if (name == "fail" && Missing(verb, a.reason, "--reason TEXT")) return kExitUsage;
  if (name == "submit" && Missing(verb, a.diff, "--diff FILE|-")) return kExitUsage;
  std::string patch, log_tail;
  if (name == "submit") {
    Result<std::string> bytes = ReadInput(a.diff);
    if (!bytes.ok()) {
      PrintLine(stderr, std::string("specd submit: ") + bytes.error().message);
      return kExitUsage;
    }
    patch = std::move(*bytes);
  }
  if (name == "fail" && !a.log.empty()) {
    Result<std::string> bytes = ReadInput(a.log);
    if (!bytes.ok()) {
      PrintLine(stderr, std::string("specd fail: ") + bytes.error().message);
      return kExitUsage;
    }
    log_tail = bytes->size() > kLogTailBytes ? bytes->substr(bytes->size() - kLogTailBytes) : *bytes;
  }
  std::unique_ptr<Context> ctx = OpenTaskContext(a.repo, verb);
  if (!ctx) return kExitUsage;
  EventLines sink(a.repo.json ? nullptr : stderr);
  ctx->engine->AddSink(&sink);
  SpecEngine& e = *ctx->engine;
  auto lease_out = [&](const char* what) {
    return [&a, what](const TaskReply& r) {
      if (a.repo.json) {
        PrintJson(LeaseJson(r));
      } else {
        PrintLease(r, what);
      }
    };
  };
  auto state_out = [&](const char* what) {
    return [&a, what](const TaskReply& r) {
      if (a.repo.json) {
        nlohmann::ordered_json out = {{"spec", r.lease.spec_id},
                                      {"task", r.lease.task_id},
                                      {"epoch", r.lease.epoch},
                                      {"outcome", r.lease.outcome},
                                      {"specStatus", r.spec_status}};
        if (!r.diff_path.empty()) out["diffPath"] = r.diff_path;
        PrintJson(out);
      } else {
        PrintLine(stdout, r.lease.spec_id + " " + r.lease.task_id + " " + what +
                              (r.diff_path.empty() ? "" : ": " + r.diff_path) + "; the spec is " +
                              r.spec_status);
      }
    };
  };
  // A worker's verb waits its turn: when the journal stays busy past
  // SQLite's timeout (many claimers on a loaded machine), nothing was done,
  // so it asks again, for up to kBusyWaitMs.
  auto queued = [&](const std::function<Result<TaskReply>()>& call) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyWaitMs);
    std::minstd_rand jitter(static_cast<unsigned>(::getpid()));
    for (;;) {
      Result<TaskReply> r = call();
      if (r.ok() || r.error().code != ErrorCode::kBusy || std::chrono::steady_clock::now() >= until) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter() % 20));
    }
  };
  if (name == "next")
    return Finish(verb, a.repo, queued([&] { return e.NextTask(a.worker, a.spec); }), lease_out("claimed"));
  if (name == "claim")
    return Finish(verb, a.repo, queued([&] { return e.ClaimTask(a.spec, a.task, a.worker); }),
                  lease_out("claimed"));
  if (name == "heartbeat")
    return Finish(verb, a.repo, queued([&] { return e.Heartbeat(a.spec, a.task, a.lease); }),
                  lease_out("renewed"));
  if (name == "release") {
    return Finish(verb, a.repo, queued([&] { return e.ReleaseTask(a.spec, a.task, a.lease, a.reason); }),
                  state_out("released"));
  }
  if (name == "fail") {
    return Finish(verb, a.repo,
                  queued([&] { return e.FailTask(a.spec, a.task, a.lease, a.reason, log_tail); }),
                  state_out("failed"));
  }
  return Finish(verb, a.repo, queued([&] { return e.SubmitTask(a.spec, a.task, a.lease, patch); }),
                state_out("diff-submitted"));
}

// The task verbs, in the order `specd --help` lists them.
struct Def {
  const char* name;
  const char* help;
};
const Def kDefs[] = {
    {"next", "Claim the next ready task for a worker (exit 3: none is ready)"},
    {"claim", "Claim one named task for a worker"},
    {"heartbeat", "Extend a task's lease"},
    {"release", "Give a task's lease back; the task is pending again"},
    {"fail", "Report a failed attempt at a task (an attempt is counted)"},
    {"submit", "Submit a task's diff (git-format) under its lease"},
};

}  // namespace

bool IsTaskVerb(std::string_view name) {
  for (const Def& def : kDefs) {
    if (name == def.name) return true;
  }
  return false;
}

void SetupTaskVerbs(CLI::App* app, std::map<CLI::App*, Run>* runs) {
  for (const Def& def : kDefs) {
    const std::string name = def.name;
    CLI::App* sub = app->add_subcommand(def.name, def.help);
    auto a = std::make_shared<TaskArgs>();
    AddRepoOptions(sub, &a->repo, true);
    if (name == "next") {
      sub->add_option("--spec", a->spec, "Only this spec's tasks");
    } else {
      sub->add_option("id", a->spec, "Spec id (spec-YYYY-MM-DD-NNN)");
      sub->add_option("task", a->task, "Task id (TASK-NNN)");
    }
    if (name == "next" || name == "claim")
      sub->add_option("--worker", a->worker, "Who works on it (required)");
    if (name != "next" && name != "claim")
      sub->add_option("--lease", a->lease, "The lease token a claim printed");
    if (name == "release" || name == "fail") sub->add_option("--reason", a->reason, "Why");
    if (name == "fail")
      sub->add_option("--log", a->log, "A log whose tail is kept with the failure (- for stdin)");
    if (name == "submit")
      sub->add_option("--diff", a->diff, "The diff: a git-format patch file, or - for stdin");
    (*runs)[sub] = [def, a] { return RunTaskVerb(def.name, *a); };
  }
}

}  // namespace specd::cli
