// specd_engine_bench: the C++ side of bench/engine (see bench/engine/README.md).
// It drives the engine library directly and, for the peers, spawns the
// specd CLI and git, so every peer of a comparison runs in the same process
// tree, interleaved round by round.
//
//   specd_engine_bench gen --repo DIR --count N
//       N small valid draft specs in DIR/.agents/specs/active (999 a day).
//   specd_engine_bench transitions --lib-repo A --cli-repo B --specd PATH
//                                  --count N [--rounds R] [--git-commits K]
//       N requested transitions (N/5 specs, 5 verbs each) through
//       SpecEngine::RequestTransition in A and through `specd <verb>` in B,
//       plus K `git commit`s of a one-line change per round in B.
//   specd_engine_bench reconcile --repo DIR --specd PATH [--runs R] [--touch]
//       the first pass, then R rounds of: an unchanged ReconcileAll in
//       process, `specd reconcile`, `git status --porcelain`, `specd validate`.
//
// Exit status: 0 every target met, 1 a target missed, 2 setup failed or a
// command misbehaved.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/env.h"
#include "engine/journal.h"
#include "engine/state_machine.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using specd::Env;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitMissed = 1, kExitBroken = 2;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "specd_engine_bench: %s\n", message.c_str());
  std::exit(kExitBroken);
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double CpuSelf() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// --- arguments: --key value and --flag

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  std::string Need(const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end() || it->second.empty()) Die("missing --" + key);
    return it->second;
  }
  long Int(const std::string& key, long fallback) const {
    auto it = values.find(key);
    if (it == values.end()) return fallback;
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (!end || *end || v < 0) Die("--" + key + " wants a number, not '" + it->second + "'");
    return v;
  }
  bool Flag(const std::string& key) const { return values.count(key) > 0; }
};

Args ParseArgs(int argc, char** argv, const std::vector<std::string>& flags) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) Die("unexpected argument '" + s + "'");
    std::string key = s.substr(2);
    if (std::find(flags.begin(), flags.end(), key) != flags.end()) {
      a.values[key] = "1";
      continue;
    }
    if (i + 1 >= argc) Die("--" + key + " needs a value");
    a.values[key] = argv[++i];
  }
  return a;
}

std::string Canonical(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::canonical(dir, ec);
  if (ec) Die(dir + ": " + ec.message());
  return p.string();
}

// --- an Env that counts what the engine asks of the file system

class CountingEnv : public Env {
 public:
  explicit CountingEnv(Env* base) : base_(base) {}
  std::atomic<uint64_t> reads{0}, stats{0}, lists{0}, exists{0}, writes{0};
  void Reset() { reads = stats = lists = exists = writes = 0; }

  specd::Result<std::string> ReadFile(const std::string& path) override {
    ++reads;
    return base_->ReadFile(path);
  }
  specd::Result<specd::FileStamp> Stat(const std::string& path) override {
    ++stats;
    return base_->Stat(path);
  }
  bool Exists(const std::string& path) override {
    ++exists;
    return base_->Exists(path);
  }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  specd::Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    ++lists;
    return base_->ListDir(dir);
  }
  specd::Status MakeDirs(const std::string& dir) override { return base_->MakeDirs(dir); }
  specd::Result<std::unique_ptr<specd::WritableFile>> NewTempFile(const std::string& dir,
                                                                  const std::string& prefix,
                                                                  std::string* path) override {
    ++writes;
    return base_->NewTempFile(dir, prefix, path);
  }
  specd::Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  specd::Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  specd::Result<specd::FileInfo> Lstat(const std::string& path) override { return base_->Lstat(path); }
  specd::Result<std::string> RealPath(const std::string& path) override { return base_->RealPath(path); }
  specd::Result<bool> ExchangeFiles(const std::string& a, const std::string& b) override {
    return base_->ExchangeFiles(a, b);
  }
  specd::Result<bool> OpenForWriting(const std::string& path) override { return base_->OpenForWriting(path); }
  specd::Status LinkNoReplace(const std::string& from, const std::string& to) override {
    return base_->LinkNoReplace(from, to);
  }
  specd::Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  int64_t NowMillis() override { return base_->NowMillis(); }

 private:
  Env* base_;
};

// The journal of `root` where the CLI puts it, opened.
std::unique_ptr<specd::Journal> OpenJournal(const std::string& root) {
  std::string path = specd::JournalPathFor(root);
  if (specd::Status s = Env::Default()->MakeDirs(fs::path(path).parent_path().string()); !s.ok()) {
    Die(s.error().message);
  }
  specd::Result<std::unique_ptr<specd::Journal>> j = specd::Journal::Open(path);
  if (!j.ok()) Die("journal " + path + ": " + j.error().message);
  return std::move(*j);
}

// --- child processes, timed with wait4 (wall, the child's CPU and peak RSS)

struct Proc {
  int exit_code = -1;
  double wall = 0, cpu = 0;
  long maxrss_kib = 0;
};

class Spawner {
 public:
  explicit Spawner(const std::string& scratch)
      : out_(scratch + "/child.out"), err_(scratch + "/child.err"), measured_(scratch + "/child.measured") {}

  // stdout goes to a file when `keep_out` (read it with Out()), else to
  // /dev/null. With `own_rss`, the command runs under `specd_engine_bench
  // exec-measured` (a fresh small process), which times it and takes its
  // peak RSS: a child spawned straight from this process would report this
  // process's peak RSS if larger (exec records the old address space's
  // high-water mark, and a vfork'd child shares ours).
  Proc Run(const std::vector<std::string>& argv_in, bool keep_out, bool own_rss = false) {
    std::vector<std::string> argv = argv_in;
    if (own_rss) {
      argv = {SelfExe(), "exec-measured", measured_, "--"};
      argv.insert(argv.end(), argv_in.begin(), argv_in.end());
      ::unlink(measured_.c_str());
    }
    std::vector<char*> cargv;
    for (const std::string& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, keep_out ? out_.c_str() : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    Proc p;
    pid_t pid = 0;
    Clock::time_point t0 = Clock::now();
    int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) Die(std::string("cannot run ") + argv[0] + ": " + std::strerror(rc));
    int status = 0;
    rusage ru{};
    if (wait4(pid, &status, 0, &ru) < 0) Die(std::string("wait4: ") + std::strerror(errno));
    p.wall = Since(t0);
    p.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    p.maxrss_kib = ru.ru_maxrss;
    p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (own_rss) {  // the command's own numbers, as exec-measured wrote them
      std::string m = Slurp(measured_);
      if (std::sscanf(m.c_str(), "%lf %lf %ld", &p.wall, &p.cpu, &p.maxrss_kib) != 3) {
        Fail(argv, p, "exec-measured wrote no measurement");
      }
    }
    return p;
  }
  std::string Out() const { return Slurp(out_); }
  std::string Err() const { return Slurp(err_); }

  // Dies with the command, its status and the tail of its output.
  [[noreturn]] void Fail(const std::vector<std::string>& argv, const Proc& p,
                         const std::string& problem) const {
    std::string cmd;
    for (const std::string& s : argv) cmd += (cmd.empty() ? "" : " ") + s;
    auto tail = [](const std::string& s) { return s.size() > 2000 ? "..." + s.substr(s.size() - 2000) : s; };
    Die(cmd + "\n  -> " + problem + " (exit status " + std::to_string(p.exit_code) +
        ")\n--- stdout (tail) ---\n" + tail(Out()) + "\n--- stderr (tail) ---\n" + tail(Err()));
  }

 private:
  static std::string Slurp(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return "";
    std::string s;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  }
  static std::string SelfExe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) Die("readlink /proc/self/exe failed");
    return std::string(buf, static_cast<size_t>(n));
  }
  std::string out_, err_, measured_;
};

// specd_engine_bench exec-measured RESULT -- COMMAND...: runs COMMAND with
// this process's stdin, stdout and stderr, writes "wall_s cpu_s maxrss_kib"
// of it to RESULT and exits with its status.
int CmdExecMeasured(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) Die("usage: exec-measured RESULT -- COMMAND...");
  pid_t pid = 0;
  Clock::time_point t0 = Clock::now();
  int rc = posix_spawnp(&pid, argv[4], nullptr, nullptr, argv + 4, environ);
  if (rc != 0) Die(std::string("cannot run ") + argv[4] + ": " + std::strerror(rc));
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) < 0) Die(std::string("wait4: ") + std::strerror(errno));
  double wall = Since(t0);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  FILE* f = std::fopen(argv[2], "w");
  if (!f) Die(std::string(argv[2]) + ": " + std::strerror(errno));
  std::fprintf(f, "%.9f %.9f %ld\n", wall, cpu, ru.ru_maxrss);
  std::fclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string LastLine(const std::string& s) {
  size_t end = s.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t start = s.find_last_of('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1,
                  end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// --- statistics

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Percentile(std::vector<double> v, double q) {  // nearest rank
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// --- gen: small valid draft specs, written directly

std::string SpecId(int index) {  // 999 ids a day from 2026-01-05 (NNN is 001..999)
  using namespace std::chrono;
  sys_days day = sys_days{year{2026} / January / 5} + days{index / 999};
  year_month_day ymd{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "spec-%04d-%02u-%02u-%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), index % 999 + 1);
  return buf;
}

std::string SpecText(const std::string& id, int index) {
  std::string date = id.substr(5, 10);
  std::string n = std::to_string(index);
  return "# " + id +
         ": generated by specd_engine_bench (bench/engine)\n"
         "id: " +
         id +
         "\n"
         "version: \"1.0.0\"\n"
         "status: draft\n"
         "metadata:\n"
         "  title: \"Benchmark spec " +
         n +
         ": keep reconcile cheap on big trees\"\n"
         "  description: |\n"
         "    A small, valid spec written by the engine benchmark. Reconcile must\n"
         "    skip it when it has not changed since the journal last saw it.\n"
         "  author: specd-bench\n"
         "  createdAt: \"" +
         date +
         "T09:00:00Z\"\n"
         "  updatedAt: \"" +
         date +
         "T09:00:00Z\"\n"
         "  priority: medium\n"
         "  tags: [bench, engine]\n"
         "  estimatedDuration: 2h\n"
         "requirements:\n"
         "  - id: REQ-001\n"
         "    description: An unchanged file is not read again.\n"
         "    priority: high\n"
         "    acceptanceCriteria:\n"
         "      - \"the unchanged pass makes no ReadFile call\"\n"
         "    status: pending\n"
         "  - id: REQ-002  # a second one, so the file is not trivial\n"
         "    description: A requested transition is journaled once.\n"
         "    priority: medium\n"
         "    acceptanceCriteria:\n"
         "      - \"the journal holds one row per transition\"\n"
         "      - \"the file's changeLog agrees with the journal\"\n"
         "    status: pending\n";
}

int CmdGen(const Args& args) {
  std::string repo = args.Need("repo");
  long count = args.Int("count", 0);
  if (count <= 0 || count > 999 * 365) Die("--count must be in 1..364635");
  std::string dir = repo + "/.agents/specs/active";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Die(dir + ": " + ec.message());
  Clock::time_point t0 = Clock::now();
  uint64_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    std::string id = SpecId(i);
    std::string text = SpecText(id, i + 1);
    std::string path = dir + "/" + id + ".yaml";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::close(fd) != 0) {
      Die(path + ": " + std::strerror(errno));
    }
    bytes += text.size();
  }
  std::printf("  gen: %ld specs (%.1f MiB) in %s, %.1f s\n", count, static_cast<double>(bytes) / (1 << 20),
              dir.c_str(), Since(t0));
  return kExitOk;
}

size_t CountSpecFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0) ++n;
  }
  if (ec) Die(dir + ": " + ec.message());
  return n;
}

uint64_t TreeBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

// --- transitions

struct Step {
  const char* verb;
  specd::SpecState to;
  specd::Role role;
  const char* reason;  // "" for the verbs that take none
};

// Per spec: 5 requested transitions, 6 journaled (approve brings the
// engine's own approved -> planning; with no tasks, planning then waits).
// cancel archives the file, so every transition also writes the spec file.
const Step kScript[] = {
    {"request-review", specd::SpecState::kReview, specd::Role::kAuthor, ""},
    {"reject", specd::SpecState::kDraft, specd::Role::kReviewer, "needs a clearer acceptance criterion"},
    {"request-review", specd::SpecState::kReview, specd::Role::kAuthor, ""},
    {"approve", specd::SpecState::kApproved, specd::Role::kReviewer, ""},
    {"cancel", specd::SpecState::kCancelled, specd::Role::kPerson, "superseded by a later spec"},
};
constexpr int kVerbsPerSpec = 5;
constexpr int kJournaledPerSpec = 6;
constexpr const char* kActor = "specd-bench";

std::vector<std::string> SortedIds(const std::string& root) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root + "/.agents/specs/active", ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0)
      ids.push_back(name.substr(0, name.size() - 5));
  }
  if (ec) Die(root + "/.agents/specs/active: " + ec.message());
  std::sort(ids.begin(), ids.end());
  return ids;
}

struct JournalCount {
  size_t specs = 0, registered = 0, journaled = 0, cancelled_archived = 0;
};

JournalCount CountJournal(const std::string& root) {
  std::unique_ptr<specd::Journal> j = OpenJournal(root);
  specd::Result<std::vector<specd::SpecRecord>> specs = j->ListSpecs(true);
  if (!specs.ok()) Die(specs.error().message);
  JournalCount c;
  for (const specd::SpecRecord& r : *specs) {
    ++c.specs;
    if (r.status == "cancelled" && r.path.find("/archive/") != std::string::npos && !r.removed)
      ++c.cancelled_archived;
    specd::Result<std::vector<specd::TransitionRecord>> ts = j->Transitions(r.id);
    if (!ts.ok()) Die(ts.error().message);
    for (const specd::TransitionRecord& t : *ts) (t.from.empty() ? c.registered : c.journaled)++;
  }
  return c;
}

void PrintLatencyRow(const char* label, const std::vector<double>& lat_s, double total_s,
                     const char* note = "") {
  auto us = [](double s) { return s * 1e6; };
  std::printf("  %-38s %9.0f %9.0f %9.0f %9.0f %9.1f s  %s\n", label, us(Mean(lat_s)),
              us(Percentile(lat_s, 0.5)), us(Percentile(lat_s, 0.9)), us(Percentile(lat_s, 0.99)), total_s,
              note);
}

int CmdTransitions(const Args& args) {
  const std::string lib_root = Canonical(args.Need("lib-repo"));
  const std::string cli_root = Canonical(args.Need("cli-repo"));
  const std::string specd_bin = args.Need("specd");
  const std::string scratch = args.Get("scratch", cli_root + "/..");
  const long count = args.Int("count", 10000);
  const long rounds = std::max(1L, args.Int("rounds", 5));
  const long git_commits = args.Int("git-commits", 100);
  if (count <= 0 || count % kVerbsPerSpec) Die("--count must be a positive multiple of 5");
  const size_t n_specs = static_cast<size_t>(count / kVerbsPerSpec);
  if (static_cast<size_t>(rounds) > n_specs)
    Die("--rounds must not exceed the number of specs (--count / 5)");

  std::vector<std::string> ids = SortedIds(lib_root);
  if (ids.size() != n_specs || SortedIds(cli_root) != ids) {
    Die("both repos must hold the same " + std::to_string(n_specs) + " specs (--count / 5); " + lib_root +
        " has " + std::to_string(ids.size()) + " (make them with `specd_engine_bench gen --count " +
        std::to_string(n_specs) + "`)");
  }
  if (git_commits > 0 && !fs::exists(cli_root + "/notes.txt"))
    Die(cli_root + "/notes.txt: missing (tracked by git)");
  Spawner sp(scratch);

  // Register every spec (not timed): the library in its repo, the CLI in its own.
  CountingEnv env(Env::Default());
  std::unique_ptr<specd::Journal> journal = OpenJournal(lib_root);
  specd::SpecEngine engine(&env, journal.get(), lib_root);
  {
    specd::Result<specd::PassReport> first = engine.ReconcileAll();
    if (!first.ok()) Die("library reconcile: " + first.error().message);
    if (first->events.size() != n_specs)
      Die("library reconcile registered " + std::to_string(first->events.size()) + " specs, not " +
          std::to_string(n_specs));
    std::vector<std::string> argv = {specd_bin, "reconcile", "--repo", cli_root};
    Proc p = sp.Run(argv, true);
    std::string want =
        std::to_string(n_specs) + " specs: 0 unchanged, " + std::to_string(n_specs) + " events";
    if (p.exit_code != 0 || LastLine(sp.Out()) != want) sp.Fail(argv, p, "expected '" + want + "'");
  }

  std::vector<double> lib_lat, cli_lat, git_lat, gitsync_lat;
  std::map<std::string, std::vector<double>> lib_by_verb, cli_by_verb;
  std::vector<double> lib_round, cli_round, git_round, gitsync_round;  // mean seconds per op, per round
  double lib_total = 0, cli_total = 0, git_total = 0, gitsync_total = 0;
  uint64_t lib_stats = 0, lib_reads = 0, lib_writes = 0;
  long commit_no = 0;

  auto run_lib = [&](size_t from, size_t to) {
    env.Reset();
    Clock::time_point t0 = Clock::now();
    for (size_t i = from; i < to; ++i) {
      for (const Step& step : kScript) {
        Clock::time_point t = Clock::now();
        specd::Result<specd::Decision> d =
            engine.RequestTransition(ids[i], step.to, specd::Actor{kActor, step.role}, step.reason);
        lib_lat.push_back(Since(t));
        lib_by_verb[step.verb].push_back(lib_lat.back());
        if (!d.ok()) Die("library " + std::string(step.verb) + " " + ids[i] + ": " + d.error().message);
        if (!d->allowed) Die("library " + std::string(step.verb) + " " + ids[i] + " refused: " + d->reason);
      }
    }
    double el = Since(t0);
    lib_total += el;
    lib_round.push_back(el / static_cast<double>((to - from) * kVerbsPerSpec));
    lib_stats += env.stats, lib_reads += env.reads, lib_writes += env.writes;
  };
  auto run_cli = [&](size_t from, size_t to) {
    Clock::time_point t0 = Clock::now();
    for (size_t i = from; i < to; ++i) {
      for (const Step& step : kScript) {
        std::vector<std::string> argv = {specd_bin, step.verb, "--repo", cli_root, "--actor", kActor};
        if (*step.reason) argv.insert(argv.end(), {"--reason", step.reason});
        argv.push_back(ids[i]);
        Proc p = sp.Run(argv, false);
        cli_lat.push_back(p.wall);
        cli_by_verb[step.verb].push_back(p.wall);
        if (p.exit_code != 0) sp.Fail(argv, p, "the verb failed");
      }
    }
    double el = Since(t0);
    cli_total += el;
    cli_round.push_back(el / static_cast<double>((to - from) * kVerbsPerSpec));
  };
  // A one-line change committed with git: the familiar "durable local write".
  // git's defaults fsync no loose object, ref or index; core.fsync=all does.
  auto run_git = [&](bool durable) {
    std::vector<double>& lat = durable ? gitsync_lat : git_lat;
    Clock::time_point t0 = Clock::now();
    for (long k = 0; k < git_commits; ++k) {
      {
        FILE* f = std::fopen((cli_root + "/notes.txt").c_str(), "a");
        if (!f) Die(cli_root + "/notes.txt: " + std::strerror(errno));
        std::fprintf(f, "note %ld\n", ++commit_no);
        std::fclose(f);
      }
      std::vector<std::string> argv = {"git",
                                       "-C",
                                       cli_root,
                                       "-c",
                                       "user.name=specd-bench",
                                       "-c",
                                       "user.email=specd-bench@localhost",
                                       "-c",
                                       "gc.auto=0",
                                       "-c",
                                       "core.hooksPath=/dev/null",
                                       "-c",
                                       "commit.gpgSign=false"};
      if (durable) argv.insert(argv.end(), {"-c", "core.fsync=all", "-c", "core.fsyncMethod=fsync"});
      argv.insert(argv.end(), {"commit", "-q", "-m", "note " + std::to_string(commit_no), "--", "notes.txt"});
      Proc p = sp.Run(argv, false);
      lat.push_back(p.wall);
      if (p.exit_code != 0) sp.Fail(argv, p, "git commit failed");
    }
    double el = Since(t0);
    (durable ? gitsync_total : git_total) += el;
    (durable ? gitsync_round : git_round).push_back(el / static_cast<double>(git_commits));
  };

  std::printf("transitions: %zu specs in each of two repos, %d verbs each\n", n_specs, kVerbsPerSpec);
  std::printf(
      "  script per spec: request-review, reject, request-review, approve (+ the engine's approved ->\n"
      "  planning), cancel (archives the file): %d requested, %d journaled transitions\n",
      kVerbsPerSpec, kJournaledPerSpec);
  std::printf("  %ld rounds, interleaved in rotating order; each round: %zu library + %zu CLI transitions",
              rounds, n_specs / rounds * kVerbsPerSpec, n_specs / rounds * kVerbsPerSpec);
  if (git_commits > 0) std::printf(", 2 x %ld git commits", git_commits);
  std::printf("\n");
  std::fflush(stdout);

  Clock::time_point all0 = Clock::now();
  for (long r = 0; r < rounds; ++r) {
    size_t from = n_specs * static_cast<size_t>(r) / static_cast<size_t>(rounds);
    size_t to = n_specs * static_cast<size_t>(r + 1) / static_cast<size_t>(rounds);
    std::vector<std::function<void()>> peers = {[&] { run_lib(from, to); }, [&] { run_cli(from, to); }};
    if (git_commits > 0) {
      peers.push_back([&] { run_git(false); });
      peers.push_back([&] { run_git(true); });
    }
    std::rotate(peers.begin(), peers.begin() + (r % static_cast<long>(peers.size())), peers.end());
    for (auto& run : peers) run();
    if (isatty(2)) std::fprintf(stderr, "  transitions: round %ld/%ld, %.0f s\r", r + 1, rounds, Since(all0));
  }
  if (isatty(2)) std::fprintf(stderr, "%60s\r", "");

  // What the journals recorded: the same in both, and what the script asks for.
  JournalCount lj = CountJournal(lib_root), cj = CountJournal(cli_root);
  const size_t want_journaled = n_specs * kJournaledPerSpec;
  bool journals_ok = true;
  for (const auto& [name, c] : {std::pair{"library", lj}, std::pair{"CLI", cj}}) {
    if (c.specs != n_specs || c.registered != n_specs || c.journaled != want_journaled ||
        c.cancelled_archived != n_specs) {
      std::fprintf(
          stderr,
          "specd_engine_bench: the %s journal holds %zu specs, %zu registrations, %zu transitions, %zu "
          "cancelled and archived; expected %zu, %zu, %zu, %zu\n",
          name, c.specs, c.registered, c.journaled, c.cancelled_archived, n_specs, n_specs, want_journaled,
          n_specs);
      journals_ok = false;
    }
  }

  std::printf("\nper requested transition (wall)       mean µs    p50 µs    p90 µs    p99 µs     total\n");
  PrintLatencyRow("library: SpecEngine::RequestTransition", lib_lat, lib_total);
  PrintLatencyRow("CLI: specd <verb>, a process each", cli_lat, cli_total);
  if (git_commits > 0) {
    PrintLatencyRow("git commit, one line (git defaults)", git_lat, git_total, "(no fsync)");
    PrintLatencyRow("git commit, one line, core.fsync=all", gitsync_lat, gitsync_total, "(fsynced)");
  }
  for (const auto& [name, by_verb] : {std::pair{"library", &lib_by_verb}, std::pair{"CLI", &cli_by_verb}}) {
    std::printf("  %s p50 by verb:", name);
    for (const char* verb : {"request-review", "reject", "approve", "cancel"}) {
      std::printf("%s %s %.0f µs", verb == std::string("request-review") ? "" : ",", verb,
                  Percentile((*by_verb)[verb], 0.5) * 1e6);
    }
    std::printf("\n");
  }
  std::printf("  journaled: library %zu, CLI %zu transitions (+ %zu registrations each); expected %zu  %s\n",
              lj.journaled, cj.journaled, n_specs, want_journaled, journals_ok ? "OK" : "MISMATCH");
  const double lib_ops = static_cast<double>(lib_lat.size());
  std::printf(
      "  library, per transition: %.0f Stat, %.2f ReadFile, %.2f atomic file writes (Env calls,\n"
      "    in a repository of %zu specs: a verb reconciles only its own spec)\n",
      static_cast<double>(lib_stats) / lib_ops, static_cast<double>(lib_reads) / lib_ops,
      static_cast<double>(lib_writes) / lib_ops, n_specs);

  auto ratio_line = [](const std::string& label, double v, const std::string& note) {
    std::printf("  %-44s %7.2f  %s\n", label.c_str(), v, note.c_str());
  };
  double lib_m = Median(lib_round), cli_m = Median(cli_round);
  std::vector<double> per_round;
  for (size_t i = 0; i < lib_round.size(); ++i) per_round.push_back(cli_round[i] / lib_round[i]);
  std::printf("\nratios (medians of per-round means; no target is set for transitions)\n");
  char range[64];
  std::snprintf(range, sizeof range, "(rounds: %.2f .. %.2f)",
                *std::min_element(per_round.begin(), per_round.end()),
                *std::max_element(per_round.begin(), per_round.end()));
  ratio_line("(info) CLI / library, per transition", cli_m / lib_m, range);
  if (git_commits > 0) {
    ratio_line("(info) library / git commit (defaults)", lib_m / Median(git_round), "");
    ratio_line("(info) library / git commit (core.fsync=all)", lib_m / Median(gitsync_round), "");
    ratio_line("(info) CLI / git commit (core.fsync=all)", cli_m / Median(gitsync_round), "");
  }
  std::fflush(stdout);
  return journals_ok ? kExitOk : kExitBroken;
}

// --- reconcile

struct Timing {
  std::vector<double> wall, cpu;
  long maxrss_kib = -1;  // -1: in process
};

int CmdReconcile(const Args& args) {
  const std::string root = Canonical(args.Need("repo"));
  const std::string specd_bin = args.Need("specd");
  const std::string scratch = args.Get("scratch", root + "/..");
  const long runs = std::max(1L, args.Int("runs", 5));
  const double target_s = 2.0;
  const std::string active = root + "/.agents/specs/active";
  const size_t n = CountSpecFiles(active);
  if (n == 0) Die(active + ": no specs (make them with `specd_engine_bench gen`)");
  const std::string ns = std::to_string(n);
  Spawner sp(scratch);
  CountingEnv env(Env::Default());

  std::printf("reconcile: %zu specs (%.1f MiB) in %s\n", n,
              static_cast<double>(TreeBytes(active)) / (1 << 20), active.c_str());
  std::fflush(stdout);

  // The first pass registers every spec: informational.
  {
    std::unique_ptr<specd::Journal> journal = OpenJournal(root);
    specd::SpecEngine engine(&env, journal.get(), root);
    env.Reset();
    Clock::time_point t0 = Clock::now();
    specd::Result<specd::PassReport> pass = engine.ReconcileAll();
    double el = Since(t0);
    if (!pass.ok()) Die("first reconcile: " + pass.error().message);
    size_t registered = 0;
    for (const specd::EngineEvent& e : pass->events)
      registered += e.kind == specd::EngineEvent::Kind::kRegistered;
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "  first pass (registers every spec; informational): %.1f s, %zu registered, %zu events, "
        "ReadFile %llu, WriteFile %llu, peak resident %.1f MiB\n",
        el, registered, pass->events.size(), static_cast<unsigned long long>(env.reads.load()),
        static_cast<unsigned long long>(env.writes.load()), ru.ru_maxrss / 1024.0);
    if (registered != n || pass->events.size() != n)
      Die("the first pass should register each of the " + ns + " specs");
    if (env.writes != 0) Die("the first pass wrote spec files; the git status peer would not be clean");
  }
  std::error_code ec;
  std::string journal_path = specd::JournalPathFor(root);
  uint64_t journal_bytes = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (fs::exists(journal_path + suffix, ec)) journal_bytes += fs::file_size(journal_path + suffix, ec);
  }
  std::printf("  journal: %s (%.1f MiB with its WAL)\n", journal_path.c_str(),
              static_cast<double>(journal_bytes) / (1 << 20));
  std::printf("  runs: %ld rounds, interleaved in rotating order, after one warm-up each\n", runs);
  std::fflush(stdout);

  // The unchanged pass in process: a fresh journal handle and engine each time
  // (what `specd reconcile` does, less the process).
  uint64_t last_reads = ~0ULL, last_stats = 0, last_lists = 0, bad_unchanged = 0;
  size_t last_unchanged = 0, last_events = 0, last_files = 0;
  auto lib_pass = [&](Timing* t) {
    env.Reset();
    double c0 = CpuSelf();
    Clock::time_point t0 = Clock::now();
    std::unique_ptr<specd::Journal> journal = OpenJournal(root);
    specd::SpecEngine engine(&env, journal.get(), root);
    specd::Result<specd::PassReport> pass = engine.ReconcileAll();
    journal.reset();
    double el = Since(t0);
    if (!pass.ok()) Die("reconcile: " + pass.error().message);
    if (t) t->wall.push_back(el), t->cpu.push_back(CpuSelf() - c0);
    last_files = pass->files, last_unchanged = pass->unchanged, last_events = pass->events.size();
    last_reads = env.reads, last_stats = env.stats, last_lists = env.lists;
    if (last_unchanged != n || last_files != n || last_events != 0 || last_reads != 0) ++bad_unchanged;
  };
  auto child = [&](std::vector<std::string> argv, std::function<std::string(const std::string&)> check) {
    return [&sp, argv, check](Timing* t) {
      Proc p = sp.Run(argv, true, /*own_rss=*/true);
      std::string problem = p.exit_code != 0 ? "non-zero exit" : check(sp.Out());
      if (!problem.empty()) sp.Fail(argv, p, problem);
      if (t)
        t->wall.push_back(p.wall), t->cpu.push_back(p.cpu),
            t->maxrss_kib = std::max(t->maxrss_kib, p.maxrss_kib);
    };
  };
  const std::string want_reconcile = ns + " specs: " + ns + " unchanged, 0 events";
  const std::string want_validate = ns + " files: " + ns + " valid, 0 invalid";
  struct Peer {
    const char* name;
    std::function<void(Timing*)> run;
    Timing t;
  };
  std::vector<Peer> peers;
  peers.push_back({"reconcile (library, in process)", lib_pass, {}});
  peers.push_back({"specd reconcile",
                   child({specd_bin, "reconcile", "--repo", root},
                         [&](const std::string& out) {
                           return LastLine(out) == want_reconcile ? std::string()
                                                                  : "expected '" + want_reconcile + "'";
                         }),
                   {}});
  peers.push_back({"git status --porcelain",
                   child({"git", "-C", root, "status", "--porcelain"},
                         [](const std::string& out) {
                           return out.empty() ? std::string()
                                              : "the tree is not clean: " + out.substr(0, 500);
                         }),
                   {}});
  peers.push_back({"specd validate",
                   child({specd_bin, "validate", active},
                         [&](const std::string& out) {
                           return LastLine(out) == want_validate ? std::string()
                                                                 : "expected '" + want_validate + "'";
                         }),
                   {}});
  for (size_t k = 1; k < peers.size(); ++k) peers[k].t.maxrss_kib = 0;  // children: from wait4
  for (Peer& p : peers) p.run(nullptr);  // warm-up (git status refreshes its index here)
  Clock::time_point all0 = Clock::now();
  for (long r = 0; r < runs; ++r) {
    for (size_t k = 0; k < peers.size(); ++k) {
      Peer& p = peers[(k + static_cast<size_t>(r)) % peers.size()];
      p.run(&p.t);
    }
    if (isatty(2)) std::fprintf(stderr, "  reconcile: round %ld/%ld, %.0f s\r", r + 1, runs, Since(all0));
  }
  if (isatty(2)) std::fprintf(stderr, "%60s\r", "");

  std::printf("\nmedian wall time                        median       min       max  cpu/wall   peak RSS\n");
  for (const Peer& p : peers) {
    std::vector<double> cw;
    for (size_t i = 0; i < p.t.wall.size(); ++i) cw.push_back(p.t.cpu[i] / p.t.wall[i]);
    char rss[32] = "-";
    if (p.t.maxrss_kib >= 0)
      std::snprintf(rss, sizeof rss, "%.1f MiB", static_cast<double>(p.t.maxrss_kib) / 1024);
    std::printf("  %-34s %7.3f s %7.3f s %7.3f s %9.2f %10s\n", p.name, Median(p.t.wall),
                *std::min_element(p.t.wall.begin(), p.t.wall.end()),
                *std::max_element(p.t.wall.begin(), p.t.wall.end()), Median(cw), rss);
  }
  const double lib = Median(peers[0].t.wall), cli = Median(peers[1].t.wall), git = Median(peers[2].t.wall),
               val = Median(peers[3].t.wall);

  bool ok = true;
  auto check = [&](const std::string& label, const std::string& value, bool pass) {
    std::printf("  %-46s %-34s %s\n", label.c_str(), value.c_str(), pass ? "PASS" : "FAIL");
    ok &= pass;
  };
  char buf[128];
  std::printf("\nchecks (every unchanged pass, warm-up included)\n");
  std::snprintf(buf, sizeof buf, "%zu of %zu files, %zu events", last_unchanged, last_files, last_events);
  check("not re-parsed: PassReport.unchanged", buf, bad_unchanged == 0 && last_unchanged == n);
  std::snprintf(buf, sizeof buf, "%llu (Stat %llu, ListDir %llu)",
                static_cast<unsigned long long>(last_reads), static_cast<unsigned long long>(last_stats),
                static_cast<unsigned long long>(last_lists));
  check("not re-read: Env::ReadFile calls", buf, bad_unchanged == 0 && last_reads == 0);
  std::snprintf(buf, sizeof buf, "%.3f s  target <= %.0f s", cli, target_s);
  check("specd reconcile, " + ns + " unchanged", buf, cli <= target_s);
  std::snprintf(buf, sizeof buf, "%.3f s  target <= %.0f s", lib, target_s);
  check("reconcile (library), " + ns + " unchanged", buf, lib <= target_s);

  std::printf("\nratios (lower is better; no target, for scale)\n");
  std::printf("  %-46s %7.3f  (both stat every file; git uses its index)\n",
              "(info) specd reconcile / git status", cli / git);
  std::printf("  %-46s %7.3f  (what re-parsing every file costs)\n",
              "(info) specd reconcile / specd validate", cli / val);
  std::printf("  %-46s %7.3f\n", "(info) reconcile (library) / git status", lib / git);
  std::printf("  %-46s %7.3f  (process start, journal open, printing)\n", "(info) specd reconcile / library",
              cli / lib);
  std::fflush(stdout);

  if (args.Flag("touch")) {
    // Every file touched, bytes unchanged (a checkout, a `touch`, a copy):
    // size and inode match, mtime does not, so the hash has to decide.
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[1] = times[0];
    for (const fs::directory_entry& e : fs::directory_iterator(active)) {
      if (utimensat(AT_FDCWD, e.path().c_str(), times, 0) != 0)
        Die(e.path().string() + ": " + std::strerror(errno));
    }
    std::unique_ptr<specd::Journal> journal = OpenJournal(root);
    specd::SpecEngine engine(&env, journal.get(), root);
    env.Reset();
    Clock::time_point t0 = Clock::now();
    specd::Result<specd::PassReport> pass = engine.ReconcileAll();
    double el = Since(t0);
    if (!pass.ok()) Die("touched reconcile: " + pass.error().message);
    std::printf(
        "\n(info) every file touched, bytes unchanged: one pass %.1f s (%.2f x specd validate),\n"
        "  unchanged %zu, %zu events, ReadFile %llu, file writes %llu (one journal transaction per file\n"
        "  records its new mtime)\n",
        el, el / val, pass->unchanged, pass->events.size(), static_cast<unsigned long long>(env.reads.load()),
        static_cast<unsigned long long>(env.writes.load()));
    lib_pass(nullptr);  // and the pass after it is unchanged again
    std::printf("  the pass after it: unchanged %zu of %zu, ReadFile %llu\n", last_unchanged, last_files,
                static_cast<unsigned long long>(last_reads));
    std::fflush(stdout);
  }
  return ok ? kExitOk : kExitMissed;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage:\n"
      "  specd_engine_bench gen --repo DIR --count N\n"
      "  specd_engine_bench transitions --lib-repo A --cli-repo B --specd PATH --count N\n"
      "                     [--rounds R] [--git-commits K] [--scratch DIR]\n"
      "  specd_engine_bench reconcile --repo DIR --specd PATH [--runs R] [--touch] [--scratch DIR]\n");
  return kExitBroken;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "exec-measured") return CmdExecMeasured(argc, argv);
  Args args = ParseArgs(argc - 2, argv + 2, {"touch"});
  if (cmd == "gen") return CmdGen(args);
  if (cmd == "transitions") return CmdTransitions(args);
  if (cmd == "reconcile") return CmdReconcile(args);
  return Usage();
}
