// specd next | claim | heartbeat | release | fail | submit: a worker's side
// of the life cycle (issue 12). A refusal (stale lease, not ready, wrong
// state) exits 1 with one line naming the reason; usage and I/O errors exit
// 2; `next` with nothing ready exits 3.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/hand_over.h"
#include "cli/printable.h"
#include "cli/verb_socket.h"
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

void PrintJson(std::FILE* to, const nlohmann::ordered_json& out) {
  PrintLine(to, out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::ordered_json LeaseJson(const TaskReply& r) {
  const LeaseRecord& l = r.lease;
  return {{"spec", l.spec_id}, {"task", l.task_id}, {"worker", l.worker},
          {"lease", l.token},  {"epoch", l.epoch},  {"expiresAt", FormatTimestamp(l.expires_ms)},
          {"base", l.base},    {"files", r.files}};
}

void PrintLease(std::FILE* to, const TaskReply& r, const char* what) {
  const LeaseRecord& l = r.lease;
  std::string files;
  for (const std::string& f : r.files) files += (files.empty() ? "" : ", ") + f;
  PrintLine(to, l.spec_id + " " + l.task_id + " " + what + " by " + l.worker);
  PrintLine(to, "  lease    " + l.token);
  PrintLine(to, "  epoch    " + std::to_string(l.epoch));
  PrintLine(to, "  expires  " + FormatTimestamp(l.expires_ms));
  if (!l.base.empty()) PrintLine(to, "  base     " + l.base);
  if (!files.empty()) PrintLine(to, "  files    " + files);
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

// The diff of `submit` and the log of `fail`, read into the request.
bool ReadInputs(const TaskArgs& a, VerbRequest* r) {
  if (r->verb == "submit") {
    Result<std::string> bytes = ReadInput(a.diff);
    if (!bytes.ok()) {
      PrintLine(stderr, "specd submit: " + bytes.error().message);
      return false;
    }
    r->patch = std::move(*bytes);
  }
  if (r->verb == "fail" && !a.log.empty()) {
    Result<std::string> bytes = ReadInput(a.log);
    if (!bytes.ok()) {
      PrintLine(stderr, "specd fail: " + bytes.error().message);
      return false;
    }
    r->log_tail = bytes->size() > kLogTailBytes ? bytes->substr(bytes->size() - kLogTailBytes) : *bytes;
  }
  return true;
}

// Where a verb's words go: the terminal, or the answer a watcher sends back.
struct Streams {
  std::FILE* out;
  std::FILE* err;
};

// The common end of every task verb: the reply printed, the exit code.
int Finish(const VerbRequest& r, Streams io, const Result<TaskReply>& reply,
           const std::function<void(const TaskReply&)>& print) {
  const std::string& verb = r.verb;
  if (!reply.ok()) {
    PrintLine(io.err, "specd " + verb + ": " + reply.error().message);
    return kExitUsage;
  }
  if (reply->nothing_ready) {
    if (r.json) PrintJson(io.out, nlohmann::ordered_json{{"ready", false}});
    PrintLine(io.err, "specd " + verb + ": no task is ready");
    return kExitNothingReady;
  }
  if (!reply->refused.empty()) {
    PrintLine(io.err, "specd " + verb + ": refused: " + reply->refused);
    return kExitInvalid;
  }
  print(*reply);
  return kExitOk;
}

// One verb on an open repository, its words on `io`: what specd-git runs,
// and what a watcher runs for a verb asked through its socket.
int DoTaskVerb(Context* ctx, const VerbRequest& r, Streams io) {
  EventLines sink(r.json ? nullptr : io.err);
  ctx->engine->AddSink(&sink);
  struct Unhook {
    SpecEngine* e;
    EventSink* s;
    ~Unhook() { e->RemoveSink(s); }
  } unhook{ctx->engine.get(), &sink};
  SpecEngine& e = *ctx->engine;
  auto lease_out = [&](const char* what) {
    return [&r, io, what](const TaskReply& reply) {
      if (r.json) {
        PrintJson(io.out, LeaseJson(reply));
      } else {
        PrintLease(io.out, reply, what);
      }
    };
  };
  auto state_out = [&](const char* what) {
    return [&r, io, what](const TaskReply& reply) {
      if (r.json) {
        nlohmann::ordered_json out = {{"spec", reply.lease.spec_id},
                                      {"task", reply.lease.task_id},
                                      {"epoch", reply.lease.epoch},
                                      {"outcome", reply.lease.outcome},
                                      {"specStatus", reply.spec_status}};
        if (!reply.diff_path.empty()) out["diffPath"] = reply.diff_path;
        PrintJson(io.out, out);
      } else {
        PrintLine(io.out, reply.lease.spec_id + " " + reply.lease.task_id + " " + what +
                              (reply.diff_path.empty() ? "" : ": " + reply.diff_path) + "; the spec is " +
                              reply.spec_status);
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
      Result<TaskReply> reply = call();
      if (reply.ok() || reply.error().code != ErrorCode::kBusy || std::chrono::steady_clock::now() >= until)
        return reply;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter() % 20));
    }
  };
  const std::string& name = r.verb;
  if (name == "next")
    return Finish(r, io, queued([&] { return e.NextTask(r.worker, r.spec); }), lease_out("claimed"));
  if (name == "claim")
    return Finish(r, io, queued([&] { return e.ClaimTask(r.spec, r.task, r.worker); }), lease_out("claimed"));
  if (name == "heartbeat")
    return Finish(r, io, queued([&] { return e.Heartbeat(r.spec, r.task, r.lease); }), lease_out("renewed"));
  if (name == "release") {
    return Finish(r, io, queued([&] { return e.ReleaseTask(r.spec, r.task, r.lease, r.reason); }),
                  state_out("released"));
  }
  if (name == "fail") {
    return Finish(r, io, queued([&] { return e.FailTask(r.spec, r.task, r.lease, r.reason, r.log_tail); }),
                  state_out("failed"));
  }
  if (name == "submit") {
    return Finish(r, io, queued([&] { return e.SubmitTask(r.spec, r.task, r.lease, r.patch); }),
                  state_out("diff-submitted"));
  }
  PrintLine(io.err, "specd: " + name + " is not a task verb");
  return kExitUsage;
}

// In specd: the verb asked of the watcher serving the repository, if one
// does; nullopt when none does (nothing was sent: specd-git runs it). The
// inputs are read first, so a slow producer on stdin holds no watcher up.
std::optional<int> ThroughWatcher(const TaskArgs& a, VerbRequest* request) {
  std::optional<std::string> root = FindRoot(a.repo);
  if (!root) return kExitUsage;
  if (!ReadInputs(a, request)) return kExitUsage;
  request->root = *root;
  int fd = ConnectToWatcher(*root);
  if (fd < 0) return std::nullopt;
  Result<VerbAnswer> answer = AskWatcher(fd, *request);
  if (!answer.ok()) {
    PrintLine(stderr, "specd " + request->verb +
                          ": the watcher (specd watch) did not answer: " + answer.error().message + "; the " +
                          request->verb + " may have been done: `specd show " +
                          (request->spec.empty() ? "ID" : request->spec) + "` says");
    return kExitUsage;
  }
  std::fwrite(answer->out.data(), 1, answer->out.size(), stdout);
  std::fwrite(answer->err.data(), 1, answer->err.size(), stderr);
  return answer->exit_code;
}

// What was read from standard input, put back there for specd-git, which
// reads it again.
bool RefeedStdin(const TaskArgs& a, const VerbRequest& r) {
  const std::string* bytes = a.diff == "-" && r.verb == "submit" ? &r.patch
                             : a.log == "-" && r.verb == "fail"  ? &r.log_tail
                                                                 : nullptr;
  if (!bytes) return true;
  int fd = ::memfd_create("specd-stdin", MFD_CLOEXEC);
  bool ok = fd >= 0;
  for (size_t at = 0; ok && at < bytes->size();) {
    ssize_t n = ::write(fd, bytes->data() + at, bytes->size() - at);
    ok = n > 0;
    if (ok) at += static_cast<size_t>(n);
  }
  ok = ok && ::lseek(fd, 0, SEEK_SET) == 0 && ::dup2(fd, STDIN_FILENO) == STDIN_FILENO;
  if (fd >= 0) ::close(fd);
  if (!ok) PrintLine(stderr, "specd " + r.verb + ": cannot hand standard input on to specd-git");
  return ok;
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
  VerbRequest request{name, "", a.spec, a.task, a.worker, a.lease, a.reason, a.repo.json, "", ""};
  if (IsFront()) {
    if (std::optional<int> code = ThroughWatcher(a, &request)) return *code;
    if (!RefeedStdin(a, request)) return kExitUsage;
    HandOver();  // no watcher: specd-git runs the verb (returns only when it cannot)
    return kExitUsage;
  }
  if (!ReadInputs(a, &request)) return kExitUsage;
  std::unique_ptr<Context> ctx = OpenTaskContext(a.repo, verb);
  if (!ctx) return kExitUsage;
  return DoTaskVerb(ctx.get(), request, Streams{stdout, stderr});
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

VerbAnswer AnswerTaskVerb(Context* ctx, const VerbRequest& request) {
  VerbAnswer answer;
  if (request.root != ctx->root) {
    answer.err =
        "specd " + request.verb + ": this watcher serves " + ctx->root + ", not " + request.root + "\n";
    return answer;
  }
  // The verb's words, gathered: closed and freed however the verb ends.
  struct Captured {
    char* bytes = nullptr;
    size_t size = 0;
    std::FILE* file = ::open_memstream(&bytes, &size);
    std::string Take() {
      if (file) std::fclose(file);
      file = nullptr;
      return bytes ? std::string(bytes, size) : std::string();
    }
    ~Captured() {
      if (file) std::fclose(file);
      std::free(bytes);
    }
  } out, err;
  if (!out.file || !err.file) {
    answer.err = "specd " + request.verb + ": the watcher is out of memory\n";
    return answer;
  }
  answer.exit_code = DoTaskVerb(ctx, request, Streams{out.file, err.file});
  answer.out = out.Take();
  answer.err = err.Take();
  return answer;
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
