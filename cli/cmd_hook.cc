// specd hook pre-commit [FILE...] | pre-merge-commit | post-merge |
// post-checkout | post-rewrite: what the installed git hooks run (and hook
// managers, with file names). pre-commit checks the staged specs and stops
// the commit on an error, pre-merge-commit the same for a merge's commit; the
// post-* hooks journal what git brought in, quietly, and never fail git.
// None of them reads stdin (a chained user hook gets post-rewrite's) but
// pre-receive, the server's: it audits what a push brings (pipeline/audit.h).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "pipeline/audit.h"
#include "pipeline/git_repo.h"
#include "pipeline/pre_commit.h"

namespace specd::cli {

namespace fs = std::filesystem;

namespace {

struct HookArgs {
  std::string name;
  std::vector<std::string> args;
};

// A file named on the command line, relative to the work tree's root.
std::string RepoRelative(const std::string& arg, const std::string& work_dir) {
  std::error_code ec;
  fs::path abs = fs::path(arg).is_absolute() ? fs::path(arg) : fs::current_path(ec) / arg;
  fs::path root = fs::weakly_canonical(work_dir, ec);
  fs::path dir = fs::weakly_canonical(abs.parent_path(), ec);
  std::string rel = (dir / abs.filename()).lexically_relative(root).generic_string();
  return rel.empty() || rel.rfind("..", 0) == 0 ? arg : rel;
}

// pre-commit, and pre-merge-commit (a merge's index against HEAD, its first
// parent: what the merge brings in is checked as a commit's changes).
int PreCommit(const std::string& name, const std::vector<std::string>& files) {
  Result<std::unique_ptr<pipeline::GitRepo>> repo = pipeline::GitRepo::Open(".", true);
  if (!repo.ok()) {
    std::fprintf(stderr, "specd hook %s: %s\n", name.c_str(), repo.error().message.c_str());
    return kExitUsage;
  }
  std::vector<std::string> paths;
  for (const std::string& f : files) paths.push_back(RepoRelative(f, (*repo)->work_dir()));
  Result<pipeline::StagedReport> report = pipeline::CheckPreCommit(repo->get(), paths, ValidateOptions{});
  if (!report.ok()) {
    PrintLine(stderr, "specd hook " + name + ": " + report.error().message);
    return kExitUsage;
  }
  std::string out;
  for (const Diagnostic& d : report->diagnostics) out += Printable(FormatText(d)) + '\n';
  if (!report->ok()) {
    size_t n = report->files_with_errors;
    out += "specd: commit stopped: " + std::to_string(n) + " of " + std::to_string(report->files) +
           " staged spec" + (report->files == 1 ? "" : "s") + (n == 1 ? " has" : " have") +
           " errors (the staged version is what counts: fix, `git add`, commit again)\n";
  }
  std::fwrite(out.data(), 1, out.size(), stderr);
  return report->ok() ? kExitOk : kExitInvalid;
}

// What git brought in becomes journal entries by "git"; the files are left
// as git wrote them. Trouble is said on stderr; git's operation stands.
int AfterGit(const std::string& name, const std::vector<std::string>& args) {
  if (name == "post-checkout" && args.size() >= 3 && args[2] == "0") return kExitOk;  // files, not a branch
  Result<std::unique_ptr<pipeline::GitRepo>> repo = pipeline::GitRepo::Open(".", true);
  if (!repo.ok() || (*repo)->work_dir().empty()) return kExitOk;  // bare: no specs to reconcile
  if (!fs::is_directory((*repo)->work_dir() + "/.agents/specs")) return kExitOk;
  RepoOptions options;
  options.repo = (*repo)->work_dir();
  std::unique_ptr<Context> ctx = OpenContext(options);
  if (!ctx) {
    std::fprintf(stderr, "specd hook %s: the journal was not updated\n", name.c_str());
    return kExitOk;
  }
  EngineOptions engine_options;
  engine_options.changes_from_git = true;
  SpecEngine engine(Env::Default(), ctx->journal.get(), ctx->root, engine_options);
  Result<PassReport> pass = engine.ReconcileAll();
  if (!pass.ok()) {
    PrintLine(stderr, "specd hook " + name + ": " + pass.error().message);
    return kExitOk;
  }
  for (const EngineEvent& e : pass->events) {
    if (e.kind == EngineEvent::Kind::kInvalid) {
      PrintLine(stderr, "specd hook " + name + ": " + DescribeEvent(e));
    }
  }
  for (const PassReport::Failed& f : pass->failed) {
    PrintLine(stderr, "specd hook " + name + ": " + f.message);
  }
  return kExitOk;
}

// pre-receive, in the repository pushed to (bare, usually): what the push
// brings, "OLD NEW REF" a line on stdin, audited as `specd audit` does, the
// new objects read where git keeps them until the hook says yes (its
// quarantine: GIT_OBJECT_DIRECTORY). What any ref already has was audited
// when it came. Exit 1 refuses the whole push.
int PreReceive() {
  Result<std::unique_ptr<pipeline::GitRepo>> repo = pipeline::GitRepo::Open(".", true);
  if (!repo.ok()) {
    PrintLine(stderr, "specd hook pre-receive: " + repo.error().message);
    return kExitUsage;
  }
  pipeline::AuditRange range;
  range.hide_refs = true;
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream words(line);
    std::string old_id, new_id, ref;
    if (!(words >> old_id >> new_id >> ref)) continue;
    // A deletion (all zeros, SHA-1 or SHA-256) brings nothing; a tag of a
    // tree or a blob brings no commit.
    if (new_id.find_first_not_of('0') != std::string::npos) range.tips.push_back(new_id);
  }
  range.commits_only = true;
  if (range.tips.empty()) return kExitOk;
  Result<pipeline::AuditReport> report = pipeline::Audit(**repo, range);
  if (!report.ok()) {
    PrintLine(stderr, "specd hook pre-receive: " + report.error().message);
    return kExitUsage;
  }
  const int code = PrintAudit(*report, false, "specd hook pre-receive");
  if (code != kExitOk) PrintLine(stderr, "specd hook pre-receive: push refused");
  return code;
}

int RunHook(const HookArgs& a) {
  if (a.name == "pre-receive") return PreReceive();
  if (a.name == "pre-commit" || a.name == "pre-merge-commit") return PreCommit(a.name, a.args);
  if (a.name == "post-merge" || a.name == "post-checkout" || a.name == "post-rewrite")
    return AfterGit(a.name, a.args);
  std::fprintf(stderr,
               "specd hook: no hook '%s' (pre-commit, pre-merge-commit, post-merge, post-checkout, "
               "post-rewrite, pre-receive)\n",
               a.name.c_str());
  return kExitUsage;
}

}  // namespace

Run SetupHook(CLI::App* sub) {
  auto a = std::make_shared<HookArgs>();
  sub->description(
      "Run as a git hook (`specd hooks install` sets this up).\n"
      "pre-commit [FILE...]: check the staged version of each spec (or of the named files): it must\n"
      "  validate, and a status change must be one the life cycle allows; exit 1 stops the commit.\n"
      "pre-merge-commit: the same check for the commit `git merge` makes.\n"
      "post-merge, post-checkout, post-rewrite: journal the transitions git brought in (actor git).\n"
      "pre-receive: in the repository pushed to, audit what the push brings (see `specd audit`);\n"
      "  exit 1 refuses the push. Install it by hand: a one-line hooks/pre-receive running it.");
  sub->add_option("name", a->name,
                  "pre-commit, pre-merge-commit, post-merge, post-checkout, post-rewrite or pre-receive")
      ->required();
  sub->add_option("args", a->args, "What git or the hook manager passes (file names for pre-commit)");
  return [a] { return RunHook(*a); };
}

}  // namespace specd::cli
