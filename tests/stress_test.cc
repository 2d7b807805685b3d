// Issue 10, item 1, as a load test: `specd watch` on a real git repository
// while 4 editor processes save their own specs (rename-saves, in-place
// writes, appends, status edits draft -> review), each save adding a
// uniquely numbered line `# author line E-N`, while this process runs specd
// verbs and SIGKILLs and restarts the watcher. At the end every author line
// written must be in its spec file (0 lost), every file validates, and the
// journal agrees with every file after `specd reconcile`.
//
// SPECD_STRESS_SECONDS (default 3) sets how long the editors run;
// bench/stress/run runs it for 60 s. The summary line starts "stress:".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/env.h"
#include "engine/journal.h"
#include "engine/spec_model.h"
#include "schema/validate.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr int kEditors = 4;
constexpr int kSpecsPerEditor = 2;
constexpr char kActive[] = ".agents/specs/active";
constexpr int64_t kHangGuardMs = 60'000;

int64_t NowMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

void SleepMs(int64_t ms) {
  struct timespec d = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  while (::nanosleep(&d, &d) != 0 && errno == EINTR) {
  }
}

std::string Id(int editor, int spec) {
  return "spec-2026-03-01-0" + std::to_string(editor) + std::to_string(spec);
}
std::string Rel(int editor, int spec) {
  return std::string(kActive) + "/" + Id(editor, spec) + ".yaml";
}
std::string AuthorLine(int editor, long n) {
  return "# author line " + std::to_string(editor) + "-" + std::to_string(n) + "\n";
}

// --- the editor processes (forked; plain POSIX calls, no gtest)

bool ReadWhole(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

bool WriteAllTo(int fd, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

enum EditOp { kRenameSave, kInPlace, kAppend, kStatusEdit, kEditOps };

// One save of `path` adding `line`; false when it did not happen (the file
// could not be read: nothing written, the line not counted).
bool Save(EditOp op, const std::string& path, const std::string& line) {
  if (op == kAppend) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = WriteAllTo(fd, line);
    ::close(fd);
    if (!ok) std::_Exit(3);  // half a line: the count would be wrong
    return true;
  }
  std::string text;
  if (!ReadWhole(path, &text)) return false;
  if (op == kStatusEdit) {
    size_t at = text.find("\nstatus: draft\n");
    if (at != std::string::npos) text.replace(at, 15, "\nstatus: review\n");
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += line;
  if (op == kInPlace) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = WriteAllTo(fd, text);
    ::close(fd);
    if (!ok) std::_Exit(3);
    return true;
  }
  // vim's way: the new bytes under a swap name the watcher ignores, renamed over.
  const std::string swap =
      fs::path(path).parent_path().string() + "/." + fs::path(path).filename().string() + ".swp";
  int fd = ::open(swap.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !WriteAllTo(fd, text) || ::close(fd) != 0) std::_Exit(3);
  if (::rename(swap.c_str(), path.c_str()) != 0) std::_Exit(3);
  return true;
}

// Saves its specs until `deadline_ms`, then writes "<lines> <op0> <op1> <op2> <op3>" to `out`.
[[noreturn]] void Editor(int editor, const std::string& root, int64_t deadline_ms, int out, uint64_t seed) {
  std::mt19937_64 rng(seed);
  long lines = 0;
  long by_op[kEditOps] = {};
  while (NowMs() < deadline_ms) {
    const int spec = static_cast<int>(rng() % kSpecsPerEditor);
    const EditOp op = static_cast<EditOp>(rng() % kEditOps);
    if (Save(op, root + "/" + Rel(editor, spec), AuthorLine(editor, lines + 1))) {
      ++lines;
      ++by_op[op];
    }
    SleepMs(1 + static_cast<int64_t>(rng() % 8));  // a typing pace, not a busy loop
  }
  std::string report = std::to_string(lines);
  for (long n : by_op) report += " " + std::to_string(n);
  WriteAllTo(out, report + "\n");
  std::_Exit(0);
}

// --- the watcher: output to a file (a pipe nobody drains would stall it)

class Watcher {
 public:
  Watcher(const std::string& root, const std::string& log) : root_(root), log_(log) {}
  ~Watcher() { Kill(SIGKILL); }

  // Starts it and waits until it says it is ready (the start-up pass done).
  void Start() {
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(120);
      ::unsetenv("NOTIFY_SOCKET");
      ::unsetenv("WATCHDOG_USEC");
      testing::ExecOrExit(SPECD_BINARY, {"watch", "--repo", root_});
    }
    ++starts_;
    const int64_t guard = NowMs() + kHangGuardMs;
    while (Count("ready in") < static_cast<size_t>(starts_)) {
      ASSERT_LT(NowMs(), guard) << "specd watch did not get ready; its log:\n" << ReadAll(log_);
      int status;
      ASSERT_EQ(::waitpid(pid_, &status, WNOHANG), 0) << "specd watch exited; its log:\n" << ReadAll(log_);
      SleepMs(5);
    }
  }

  // Ends it with `sig` and reaps it; its exit status (-1: ended by a signal).
  int Kill(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  size_t Count(const std::string& needle) const {
    std::istringstream in(ReadAll(log_));
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
  }
  int starts() const { return starts_; }

 private:
  std::string root_, log_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

int StressSeconds() {
  const char* s = std::getenv("SPECD_STRESS_SECONDS");
  int n = s ? std::atoi(s) : 0;
  return n > 0 ? n : 3;
}

TEST(StressTest, NoAuthorLineIsLostWithTheWatcherKilledAndVerbsRunning) {
  const int seconds = StressSeconds();
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("SPECD_STRESS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "stress test seed: " << seed << " (SPECD_STRESS_SEED=" << seed << " repeats the choices)\n";
  std::mt19937_64 rng(seed);

  TempDir repo("specd-stress"), io("specd-stress-io");
  const std::string root = repo.path();
  ASSERT_EQ(RunProcess(root, "git", {"init", "-q", root})->exit_code, 0);
  for (int e = 0; e < kEditors; ++e) {
    for (int s = 0; s < kSpecsPerEditor; ++s) {
      Write(repo / Rel(e, s),
            Replace(kValidSpec, "spec-2026-01-01-001", Id(e, s)) + "# the author's notes\n");
    }
  }
  Output first = *RunProcess(root, SPECD_BINARY, {"reconcile", "--repo", root});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  Watcher watcher(root, io / "watch.log");
  watcher.Start();
  if (::testing::Test::HasFatalFailure()) return;

  const int64_t start = NowMs();
  const int64_t deadline = start + seconds * 1000;
  int pipes[kEditors][2];
  pid_t editors[kEditors];
  for (int e = 0; e < kEditors; ++e) {
    ASSERT_EQ(::pipe(pipes[e]), 0);
    const uint64_t editor_seed = rng();
    editors[e] = ::fork();
    ASSERT_GE(editors[e], 0);
    if (editors[e] == 0) {
      ::close(pipes[e][0]);
      Editor(e, root, deadline, pipes[e][1], editor_seed);
    }
    ::close(pipes[e][1]);
  }

  // Verbs, one after another, and a SIGKILL of the watcher every quarter of the run.
  const int64_t kill_every = std::max<int64_t>(500, seconds * 1000 / 4);
  int64_t next_kill = start + kill_every;
  int verbs = 0, verbs_ok = 0, kills = 0;
  while (NowMs() < deadline) {
    const int e = static_cast<int>(rng() % kEditors), s = static_cast<int>(rng() % kSpecsPerEditor);
    std::vector<std::string> args;
    switch (rng() % 5) {
      case 0:
        args = {"status"};
        break;
      case 1:
        args = {"show", Id(e, s)};
        break;
      case 2:
        args = {"reject", Id(e, s), "--reason", "once more", "--actor", "rex"};
        break;
      case 3:
        args = {"request-review", Id(e, s), "--actor", "tester"};
        break;
      default:
        args = {"reconcile"};
        break;
    }
    args.push_back("--repo");
    args.push_back(root);
    Output v = *RunProcess(root, SPECD_BINARY, args);
    ++verbs;
    verbs_ok += v.exit_code == 0;
    EXPECT_NE(v.exit_code, -1) << "specd " << args[0] << " died of a signal: " << v.err;
    EXPECT_EQ(v.err.find("internal error"), std::string::npos) << v.err;
    if (NowMs() >= next_kill && NowMs() < deadline) {
      EXPECT_EQ(watcher.Kill(SIGKILL), -1);
      ++kills;
      watcher.Start();
      if (::testing::Test::HasFatalFailure()) break;
      next_kill = NowMs() + kill_every;
    }
  }

  long written = 0;
  long lines[kEditors] = {};
  long by_op[kEditOps] = {};
  for (int e = 0; e < kEditors; ++e) {
    int status = 0;
    ASSERT_EQ(::waitpid(editors[e], &status, 0), editors[e]);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "editor " << e << " status " << status;
    std::string report;
    char buf[256];
    for (ssize_t n; (n = ::read(pipes[e][0], buf, sizeof buf)) > 0;)
      report.append(buf, static_cast<size_t>(n));
    ::close(pipes[e][0]);
    std::istringstream in(report);
    in >> lines[e];
    for (long& n : by_op) {
      long k = 0;
      in >> k;
      n += k;
    }
    written += lines[e];
  }
  watcher.Kill(SIGTERM);
  Output final_pass = *RunProcess(root, SPECD_BINARY, {"reconcile", "--repo", root});
  EXPECT_EQ(final_pass.exit_code, 0) << final_pass.out << final_pass.err;

  // Every author line, in its spec file; failing that, in a kept version.
  std::vector<std::string> kept_files;
  for (const auto& entry : fs::directory_iterator(repo / kActive)) {
    const std::string name = entry.path().filename();
    if (name.find(kKeptInfix) != std::string::npos) kept_files.push_back(ReadAll(entry.path()));
    EXPECT_NE(name.rfind(kTempPrefix, 0), 0u) << "a temp file left behind: " << name;
  }
  long lost = 0, kept = 0;
  std::string first_lost;
  for (int e = 0; e < kEditors; ++e) {
    std::string files;
    for (int s = 0; s < kSpecsPerEditor; ++s) files += ReadAll(repo / Rel(e, s));
    for (long n = 1; n <= lines[e]; ++n) {
      const std::string line = AuthorLine(e, n);
      if (files.find(line) != std::string::npos) continue;
      if (std::any_of(kept_files.begin(), kept_files.end(),
                      [&](const std::string& k) { return k.find(line) != std::string::npos; })) {
        ++kept;
        continue;
      }
      if (lost++ == 0) first_lost = line;
    }
  }
  std::cout << "stress: " << seconds << " s, " << kEditors << " editors, " << written
            << " author lines written (" << by_op[kRenameSave] << " rename-saves, " << by_op[kInPlace]
            << " in-place writes, " << by_op[kAppend] << " appends, " << by_op[kStatusEdit]
            << " status edits), " << lost << " lost, " << kept << " only in a kept version; " << verbs
            << " verbs (" << verbs_ok << " exit 0), watcher SIGKILLed " << kills << " times\n";
  EXPECT_GT(written, 0);
  EXPECT_EQ(lost, 0) << "the first one lost: " << first_lost;
  EXPECT_EQ(kept, 0) << kept_files.size() << " kept versions";

  // Every file validates; the journal agrees with every file.
  Output valid = *RunProcess(root, SPECD_BINARY, {"validate", "--repo", root});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPathFor(root));
  ASSERT_TRUE(j.ok()) << j.error().message;
  for (int e = 0; e < kEditors; ++e) {
    for (int s = 0; s < kSpecsPerEditor; ++s) {
      SCOPED_TRACE(Rel(e, s));
      const std::string bytes = ReadAll(repo / Rel(e, s));
      Document doc;
      bool loaded = false;
      EXPECT_EQ(ValidateSpecText(bytes, Rel(e, s), ValidateOptions{}, &doc, &loaded).size(), 0u);
      ASSERT_TRUE(loaded);
      Result<std::optional<SpecRecord>> rec = (*j)->GetSpec(Id(e, s));
      ASSERT_TRUE(rec.ok() && rec->has_value());
      EXPECT_EQ((*rec)->path, Rel(e, s));
      EXPECT_EQ((*rec)->status, ReadSpecModel(doc).status);
      EXPECT_EQ((*rec)->content_hash, ContentHash(bytes));
      EXPECT_EQ((*rec)->errors, "");
      EXPECT_FALSE((*rec)->removed);
    }
  }
}

}  // namespace
}  // namespace specd
