// The subcommand table. Each command lives in its own cmd_*.cc and adds its
// options to a CLI11 subcommand; the returned function runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string_view>

namespace specd::pipeline {
struct AuditReport;
}

namespace specd::cli {

using Run = std::function<int()>;  // returns the process exit code

struct Command {
  const char* name;
  const char* help;
  Run (*setup)(CLI::App* sub);  // null in specd for a command specd-git runs (hand_over.h)
};

Run SetupValidate(CLI::App* sub);
Run SetupSchema(CLI::App* sub);
Run SetupConfig(CLI::App* sub);  // cmd_config.cc: the effective settings
Run SetupGates(CLI::App* sub);   // cmd_gates.cc: the gates on a spec's candidate
Run SetupMerge(CLI::App* sub);   // cmd_merge.cc: the squash commit (reviewed -> completed)
Run SetupWorker(CLI::App* sub);  // cmd_worker.cc: an agent on each ready task (pipeline/worker.h)
Run SetupNew(CLI::App* sub);
Run SetupStatus(CLI::App* sub);
Run SetupShow(CLI::App* sub);
Run SetupLog(CLI::App* sub);
Run SetupEvents(CLI::App* sub);
Run SetupReconcile(CLI::App* sub);
Run SetupFailures(CLI::App* sub);
Run SetupService(CLI::App* sub);
Run SetupWatch(CLI::App* sub);
Run SetupHook(CLI::App* sub);   // cmd_hook.cc: what the git hooks run
Run SetupHooks(CLI::App* sub);  // cmd_hooks.cc: install|uninstall|status
Run SetupAudit(CLI::App* sub);  // cmd_audit.cc: approvals proven from git history (pipeline/audit.h)
// An audit's lines (or JSON) on stdout, its summary after `who: `; the exit
// code (cmd_audit.cc, for `specd audit` and `specd hook pre-receive`).
int PrintAudit(const pipeline::AuditReport& report, bool json, const std::string& who);
// request-review, approve, reject, cancel, reopen (cmd_transition.cc).
void SetupTransitionVerbs(CLI::App* app, std::map<CLI::App*, Run>* runs);
// next, claim, heartbeat, release, fail, submit (cmd_tasks.cc).
void SetupTaskVerbs(CLI::App* app, std::map<CLI::App*, Run>* runs);
struct Context;
struct VerbRequest;
struct VerbAnswer;
// A task verb asked through the watcher's socket (verb_socket.h), run on the
// watcher's `ctx`: its output and exit code, as the command line would give.
VerbAnswer AnswerTaskVerb(Context* ctx, const VerbRequest& request);

// All commands, in the order `specd --help` lists them.
const std::vector<Command>& Commands();

// True in specd, false in specd-git (hand_over.h).
bool IsFront();

// Exit codes shared by every command.
constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;  // usage and I/O errors

}  // namespace specd::cli
