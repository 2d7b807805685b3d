// specd audit [--since REV] [--json]: the check for CI that local hooks
// cannot be (`git commit --no-verify` skips them). It walks the history
// (HEAD's, or what came after REV) and, for every changeLog entry that needs
// a role, checks the commit that brought it: authored by the person the
// entry names, who held the role then, signed when the settings ask for it
// (pipeline/audit.h). `specd hook pre-receive` runs the same check on what a
// push brings to a bare repository.
//
// Exit 0: nothing wrong; 1: one line per violation (the commit, the file
// and line, the entry, the rule); 2: usage and git errors.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "pipeline/audit.h"
#include "pipeline/git_repo.h"

namespace specd::cli {

namespace {

struct AuditArgs {
  RepoOptions repo;
  std::string since;
};

std::string AuditLine(const pipeline::AuditViolation& v) {
  return v.commit + " " + v.file + ":" + std::to_string(v.line) + ":" + std::to_string(v.column) + ": " +
         v.pointer + ": " + v.message + " [" + v.rule + "]";
}

std::string AuditSummary(const pipeline::AuditReport& r) {
  const std::string commits = std::to_string(r.commits) + " commit" + (r.commits == 1 ? "" : "s");
  if (r.violations.empty()) {
    if (r.checked == 0)
      return "audited " + commits + ": nothing in " + (r.commits == 1 ? "it" : "them") + " needs a role";
    return "audited " + commits + ": " + std::to_string(r.checked) + " step" + (r.checked == 1 ? "" : "s") +
           " needing a role, each made by who it names, in that role";
  }
  return "audited " + commits + ": " + std::to_string(r.violations.size()) + " of " +
         std::to_string(r.checked) + " step" + (r.checked == 1 ? "" : "s") + " needing a role " +
         (r.violations.size() == 1 ? "is" : "are") + " not proven by the history";
}

}  // namespace

namespace {

nlohmann::ordered_json EntryJson(const ChangeLogEntry& e) {
  return {{"at", e.at}, {"actor", e.actor},   {"from", e.from},
          {"to", e.to}, {"reason", e.reason}, {"trace", e.trace}};
}

}  // namespace

int PrintAudit(const pipeline::AuditReport& report, bool json, const std::string& who) {
  if (json) {
    nlohmann::ordered_json violations = nlohmann::ordered_json::array();
    for (const pipeline::AuditViolation& v : report.violations) {
      violations.push_back(
          {{"commit", v.commit},
           {"author", v.author},
           {"file", v.file},
           {"line", v.line},
           {"column", v.column},
           {"pointer", v.pointer},
           {"rule", v.rule},
           {"message", v.message},
           {"entry", v.pointer.rfind("/changeLog/", 0) == 0 ? EntryJson(v.entry) : nullptr}});
    }
    nlohmann::ordered_json out = {
        {"commits", report.commits}, {"checked", report.checked}, {"violations", violations}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    for (const pipeline::AuditViolation& v : report.violations) PrintLine(stdout, AuditLine(v));
    PrintLine(report.violations.empty() ? stdout : stderr, who + ": " + AuditSummary(report));
  }
  return report.violations.empty() ? kExitOk : kExitInvalid;
}

namespace {

int RunAudit(const AuditArgs& args) {
  Result<std::unique_ptr<pipeline::GitRepo>> repo =
      pipeline::GitRepo::Open(args.repo.repo.empty() ? "." : args.repo.repo, false);
  if (!repo.ok()) {
    PrintLine(stderr, "specd audit: " + repo.error().message);
    return kExitUsage;
  }
  pipeline::AuditRange range;
  if (!args.since.empty()) range.hide.push_back(args.since);
  Result<pipeline::AuditReport> report = pipeline::Audit(**repo, range);
  if (!report.ok()) {
    PrintLine(stderr, "specd audit: " + report.error().message);
    return kExitUsage;
  }
  return PrintAudit(*report, args.repo.json, "specd audit");
}

}  // namespace

Run SetupAudit(CLI::App* sub) {
  auto args = std::make_shared<AuditArgs>();
  AddRepoOptions(sub, &args->repo, true);
  sub->description(
      "Check the history: every changeLog entry that needs a role (approve, reject: a reviewer;\n"
      "cancel, reopen, unblock: the author or a maintainer) must come in a commit authored by the\n"
      "person it names, who held the role in the settings that commit was made on, and signed by\n"
      "them when requireSignedApprovals is set. A change to the roles needs a maintainer. Without\n"
      "roles in .agents/specd.yaml nothing needs a role. Run it in CI, or as `specd hook\n"
      "pre-receive` in a bare repository: a local hook can be skipped, these cannot.\n"
      "Exit 0: all proven; 1: a line per violation (commit, file:line:col, entry, [rule]); 2: errors.");
  sub->add_option("--since", args->since,
                  "Audit only the commits after this revision (a tag, a branch, a commit): what a "
                  "pull request adds is `--since origin/main`");
  return [args] { return RunAudit(*args); };
}

}  // namespace specd::cli
