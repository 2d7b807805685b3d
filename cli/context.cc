#include "cli/context.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/printable.h"
#include "engine/repo.h"
#include "engine/settings.h"

namespace specd::cli {

namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void RequestStop(int) {
  stop_requested = 1;
}

}  // namespace

const volatile std::sig_atomic_t* StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = RequestStop;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  return &stop_requested;
}

void EventLines::OnEvent(const EngineEvent& e) {
  if (out_) PrintLine(out_, DescribeEvent(e));
}

namespace fs = std::filesystem;

std::optional<std::string> FindRoot(const RepoOptions& options) {
  std::optional<std::string> root;
  if (!options.repo.empty()) {
    const std::string& repo = options.repo;
    struct stat st;
    if (::stat(repo.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || ::access(repo.c_str(), R_OK | X_OK) != 0) {
      const char* why = errno == EACCES   ? "permission denied"
                        : errno == ENOENT ? "no such directory"
                                          : nullptr;
      if (::stat(repo.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) why = "not a directory";
      std::fprintf(stderr, "specd: --repo %s: %s\n", Printable(repo).c_str(),
                   why ? why : std::strerror(errno));
      return std::nullopt;
    }
    std::error_code ec;
    root = FindRepoRoot(fs::canonical(repo, ec).string());
    if (!root) {
      std::fprintf(stderr,
                   "specd: --repo %s: not in a repository (no .agents/specs/ or .git there or above)\n",
                   Printable(repo).c_str());
      return std::nullopt;
    }
  } else {
    root = FindRepoRoot(".");
    if (!root) {
      std::fprintf(stderr, "specd: not inside a repository with .agents/specs/ (use --repo DIR)\n");
      return std::nullopt;
    }
  }
  if (Status s = CheckSpecTree(*root); !s.ok()) {
    std::fprintf(stderr, "specd: %s\n", Printable(s.error().message).c_str());
    return std::nullopt;
  }
  return root;
}

EngineOptions LeaseOptions(const RepoSettings& settings) {
  EngineOptions options;
  options.lease_ttl_ms = settings.lease_ttl_seconds * 1000;
  options.max_attempts = settings.max_attempts;
  return options;
}

std::unique_ptr<Context> OpenContext(const RepoOptions& options, const EngineOptions& engine_options) {
  std::optional<std::string> root = FindRoot(options);
  if (!root) return nullptr;
  auto ctx = std::make_unique<Context>();
  ctx->root = *root;
  std::string path = JournalPathFor(ctx->root);
  if (Status s = Env::Default()->MakeDirs(fs::path(path).parent_path().string()); !s.ok()) {
    std::fprintf(stderr, "specd: %s\n", Printable(s.error().message).c_str());
    return nullptr;
  }
  Result<std::unique_ptr<Journal>> journal = Journal::Open(path);
  if (!journal.ok()) {  // whole: a corrupt journal's message says how to rebuild it
    PrintLine(stderr, "specd: " + journal.error().message);
    return nullptr;
  }
  ctx->journal = std::move(*journal);
  ctx->engine = std::make_unique<SpecEngine>(Env::Default(), ctx->journal.get(), ctx->root, engine_options);
  return ctx;
}

namespace {

// One pass before looking. A pass that cannot write (a full disk) is said,
// and the journal is shown as it was.
std::unique_ptr<Context> Reconcile(std::unique_ptr<Context> ctx, const char* verb) {
  Result<PassReport> pass = ctx->engine->ReconcileAll();
  if (!pass.ok()) {
    PrintLine(stderr, std::string("specd ") + verb + ": " + pass.error().message);
    PrintLine(stderr, std::string("specd ") + verb + ": showing the journal as it was before this pass");
    ctx->pass_error = pass.error().message;
    return ctx;
  }
  // Another file that could not be read is said, not a reason to refuse.
  for (const PassReport::Failed& f : pass->failed)
    PrintLine(stderr, std::string("specd ") + verb + ": " + f.message);
  return ctx;
}

// The journal of a repository that has one, for looking: as OpenContext
// opens it when it can be written, else read-only.
Result<std::unique_ptr<Journal>> OpenJournalForLooking(const std::string& path, const char* verb,
                                                       bool* read_only) {
  Result<std::unique_ptr<Journal>> journal = Journal::Open(path);
  if (journal.ok() && !(*journal)->read_only()) return journal;
  if (!journal.ok() && journal.error().code == ErrorCode::kBusy) return journal;
  Result<std::unique_ptr<Journal>> looking = journal.ok() ? std::move(journal) : Journal::OpenReadOnly(path);
  if (!looking.ok()) {
    // Say why it could not be written; the read-only open's reason only when
    // it is about the journal itself (its schema).
    return looking.error().code == ErrorCode::kInvalid ? looking.error() : journal.error();
  }
  *read_only = true;
  PrintLine(stderr,
            std::string("specd ") + verb + ": note: journal is read-only here; showing it as last written");
  return looking;
}

}  // namespace

std::unique_ptr<Context> OpenForLooking(const RepoOptions& options, const char* verb, bool reconcile) {
  std::optional<std::string> root = FindRoot(options);
  if (!root) return nullptr;
  const std::string path = JournalPathFor(*root);
  struct stat st;
  const bool has_journal = ::lstat(path.c_str(), &st) == 0;
  std::error_code ec;
  if (!has_journal && !fs::is_directory(SpecsDir(*root), ec)) {
    auto ctx = std::make_unique<Context>();  // nothing to show, and nothing to create
    ctx->root = *root;
    ctx->no_specs = true;
    return ctx;
  }
  if (!has_journal) {
    std::unique_ptr<Context> ctx = OpenContext(options);
    return ctx && reconcile ? Reconcile(std::move(ctx), verb) : std::move(ctx);
  }
  bool read_only = false;
  Result<std::unique_ptr<Journal>> journal = OpenJournalForLooking(path, verb, &read_only);
  if (!journal.ok()) {
    PrintLine(stderr, "specd: " + journal.error().message);
    return nullptr;
  }
  auto ctx = std::make_unique<Context>();
  ctx->root = *root;
  ctx->journal = std::move(*journal);
  ctx->engine = std::make_unique<SpecEngine>(Env::Default(), ctx->journal.get(), ctx->root);
  return reconcile && !read_only ? Reconcile(std::move(ctx), verb) : std::move(ctx);
}

void AddRepoOptions(CLI::App* sub, RepoOptions* options, bool json) {
  sub->add_option("--repo", options->repo, "Repository root (default: found from the current directory)");
  if (json) sub->add_flag("--json", options->json, "Print JSON");
}

CLI::Validator WholeNumberIn(uint64_t lo, uint64_t hi) {
  const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        uint64_t v = 0;
        bool ok = !text.empty() && text.size() <= 20;
        for (char c : text) {
          ok = ok && c >= '0' && c <= '9';
          if (ok && v > (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10) ok = false;  // past 2^64
          if (ok) v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        if (ok && v >= lo && v <= hi) return "";
        return "'" + text + "' is out of range: must be " + range;
      },
      std::to_string(lo) + ".." + std::to_string(hi));
}

std::string ActorName(const RepoOptions& options) {
  if (!options.actor.empty()) return options.actor;
  for (const char* var : {"SPECD_ACTOR", "USER"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "someone";
}

}  // namespace specd::cli
