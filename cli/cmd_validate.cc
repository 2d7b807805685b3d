// specd validate [--format text|json] [--repo DIR] [PATH...]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "cli/report_json.h"
#include "engine/repo.h"
#include "engine/settings.h"
#include "engine/validate_run.h"

namespace specd::cli {

namespace fs = std::filesystem;

namespace {

struct ValidateArgs {
  std::string format = "text";
  std::string repo;
  std::vector<std::string> paths;
  bool syntax_only = false;
  int jobs = 0;
  ValidateOptions options;
};

// With no PATH: <repo>/.agents/specs/, shown relative to the current directory.
bool DefaultInputs(const std::string& root, std::vector<std::string>* inputs) {
  std::error_code ec;
  fs::path specs = SpecsDir(root);
  if (!fs::is_directory(specs, ec)) {
    PrintLine(stderr, "specd: no " + specs.string() + " directory (name files, or use --repo DIR)");
    return false;
  }
  std::string shown = fs::proximate(specs, fs::current_path(ec), ec).string();
  if (shown.empty() || shown == ".") shown = specs.string();
  inputs->push_back(shown);
  return true;
}

// With no PATH, the repository's settings file too (when there is one), first.
void AddSettings(const std::string& root, ValidateReport* report) {
  std::error_code ec;
  std::string shown = fs::proximate(fs::path(root) / kSettingsPath, fs::current_path(ec), ec).string();
  if (shown.empty()) shown = root + "/" + kSettingsPath;
  SettingsCheck check = CheckRepoSettings(root, shown);
  if (!check.present) return;
  FileResult r;
  r.path = shown;
  r.diagnostics = std::move(check.diagnostics);
  bool error = std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                           [](const Diagnostic& d) { return d.severity == Severity::kError; });
  r.outcome = check.io_error ? Outcome::kUnreadable : error ? Outcome::kInvalid : Outcome::kValid;
  ++(r.outcome == Outcome::kUnreadable ? report->unreadable : error ? report->invalid : report->valid);
  report->files.insert(report->files.begin(), std::move(r));
}

int RunValidate(ValidateArgs& a) {
  std::optional<std::string> root;
  if (!a.repo.empty()) {
    RepoOptions repo;
    repo.repo = a.repo;
    root = FindRoot(repo);  // found as git does, its tree checked; the reason printed
    if (!root) return kExitUsage;
  } else {
    root = FindRepoRoot(".");
    if (Status s = root ? CheckSpecTree(*root) : Status::Ok(); !s.ok()) {
      PrintLine(stderr, "specd: " + s.error().message);
      return kExitUsage;
    }
  }
  std::vector<std::string> inputs = a.paths;
  if (inputs.empty()) {
    if (!root) {
      std::fprintf(stderr,
                   "specd: not inside a repository with .agents/specs/ (name files, or use --repo DIR)\n");
      return kExitUsage;
    }
    if (!DefaultInputs(*root, &inputs)) return kExitUsage;
  }
  std::error_code ec;
  std::string boundary = root ? *root : fs::current_path(ec).string();
  std::vector<SpecFile> files = CollectSpecFiles(inputs, boundary);
  a.options.syntax_only = a.syntax_only;
  ValidateReport report = ValidateSpecFiles(files, a.options, a.jobs);
  if (a.paths.empty()) AddSettings(*root, &report);

  if (a.format == "json") {
    std::cout << ReportJson(report) << '\n';
  } else {
    std::string out;
    for (const FileResult& f : report.files) {
      for (const Diagnostic& d : f.diagnostics) out += Printable(FormatText(d)) + '\n';
    }
    out += SummaryLine(report) + '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  return report.ExitCode();
}

}  // namespace

Run SetupValidate(CLI::App* sub) {
  auto a = std::make_shared<ValidateArgs>();
  sub->description(
      "Check spec files against the JSON Schema and the spec rules.\n"
      "With no PATH, checks every spec under the repository's .agents/specs/\n"
      "(found by walking up from the current directory, like git).\n"
      "Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error.");
  sub->add_option("paths", a->paths, "Spec files or directories (walked for *.yaml, *.yml)");
  sub->add_option("--format", a->format, "Output: text (file:line:col: error: ...) or json")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--repo", a->repo, "Repository root (default: found from the current directory)");
  sub->add_flag("--syntax-only", a->syntax_only, "Check encoding and YAML rules only, not the schema");
  sub->add_flag("--reference-parser", a->options.reference_parser,
                "Parse every file with yaml-cpp, without the fast path (slower; same results)");
  sub->add_option("-j,--jobs", a->jobs, "Threads to use (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--max-bytes", a->options.limits.max_bytes, "Largest spec file, in bytes (1 to 1 GiB)")
      ->capture_default_str()
      ->check(WholeNumberIn(1, size_t{1} << 30));
  sub->add_option("--max-depth", a->options.limits.max_depth, "Deepest nesting of mappings and lists")
      ->capture_default_str();
  sub->add_option("--max-nodes", a->options.limits.max_nodes, "Most YAML nodes, aliases expanded")
      ->capture_default_str();
  return [a] { return RunValidate(*a); };
}

}  // namespace specd::cli
