// Crash safety, shown: 200 times, a forked process runs a CLI verb through
// the engine (write-back, then journal) and is killed with SIGKILL at a
// random point; then this process (the restart) checks what is on disk and
// reconciles:
//  - the spec file parses and validates, and is byte for byte either the old
//    version or the new one (the version an uninterrupted run writes);
//  - after a fresh reconcile the journal agrees with the file (status,
//    content hash, path) and holds each transition once;
//  - no author edit is lost: one made before the run, one made right after
//    the crash, before the restart;
//  - no temp file of the killed process outlives the restart's pass.
// Two ways to pick the point (tests/crash_util.h): half the runs end the
// child inside a chosen Env call, half are killed by this process after a
// random delay, which also lands inside SQLite's commit. The seed is
// printed; SPECD_CRASH_SEED=N repeats a run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "engine/spec_model.h"
#include "schema/validate.h"
#include "tests/crash_util.h"
#include "tests/fake_env.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kT0 = 1771408800000;  // 2026-02-18T10:00:00Z
constexpr int64_t kMinute = 60'000;
constexpr char kId[] = "spec-2026-02-18-001";
constexpr char kActive[] = ".agents/specs/active/spec-2026-02-18-001.yaml";
constexpr char kArchived[] = ".agents/specs/archive/2026-02/spec-2026-02-18-001.yaml";

// The author's spec, moved to review by the author's own edit, with an edit
// of theirs that must survive everything.
const std::string kDraft =
    "# Written by hand; specd must keep this comment.\n"
    "id: spec-2026-02-18-001\n"
    "version: \"1.0.0\"\n"
    "status: draft # the author's status\n"
    "\n"
    "metadata:\n"
    "  title: Export reports as CSV files # the title\n"
    "  author: ada\n"
    "  createdAt: \"2026-02-18T09:00:00Z\"\n"
    "\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: Reports can be exported.\n"
    "    priority: high\n"
    "    acceptanceCriteria:\n"
    "      - a CSV file downloads\n"
    "    status: pending\n"
    "# The end.\n";
constexpr char kAuthorsTitle[] = "  title: Export reports as CSV, quoted per RFC 4180 # the title\n";
constexpr char kAuthorsNote[] = "  # ada's distinctive note: 7f3a-keep-me\n";

using ::specd::testing::ReadAll;
using ::specd::testing::SwapTrace;
using ::specd::testing::TempDir;

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

bool EditorWrite(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string temp = fs::path(path).parent_path().string() + "/.editor-swap";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out.good()) return false;
  }
  return ::rename(temp.c_str(), path.c_str()) == 0;
}

// The verb the crashing process runs.
struct Verb {
  const char* name;
  SpecState to;
  const char* actor;
  Role role;
  const char* reason;
  std::vector<std::pair<std::string, std::string>> steps;  // the transitions it adds
  const char* final_status;
};

const Verb kApprove{"approve", SpecState::kApproved,
                    "rex",     Role::kReviewer,
                    "",        {{"review", "approved"}, {"approved", "planning"}},
                    "planning"};
const Verb kCancel{"cancel",      SpecState::kCancelled,        "pat",
                   Role::kPerson, "superseded by a wider spec", {{"review", "cancelled"}},
                   "cancelled"};

std::string JournalPath(const std::string& root) {
  return root + "/.git/specd/journal.db";
}

// <root>: a git-like repository whose spec is in review after the author's
// edit (registered at kT0, edited at kT0 + 1 minute).
void Prepare(const std::string& root) {
  fs::create_directories(root + "/.git");
  Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(root));
  ASSERT_TRUE(j.ok()) << j.error().message;
  FakeEnv env(kT0);
  SpecEngine engine(&env, j->get(), root);
  ASSERT_TRUE(EditorWrite(root + "/" + kActive, kDraft));
  ASSERT_TRUE(engine.ReconcileAll().ok());
  env.SetNowMillis(kT0 + kMinute);
  std::string edited = Replace(kDraft, "status: draft #", "status: review #");
  edited = Replace(edited, "  title: Export reports as CSV files # the title\n", kAuthorsTitle);
  edited = Replace(edited, "  author: ada\n", std::string("  author: ada\n") + kAuthorsNote);
  ASSERT_TRUE(EditorWrite(root + "/" + kActive, edited));
  Result<PassReport> r = engine.ReconcileAll();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->events.size(), 1u);
  ASSERT_EQ(DescribeEvent(r->events[0]),
            "spec-2026-02-18-001: draft -> review (ada: status edited in the file)");
}

// The crashing process: opens its own journal, says it is ready, runs the
// verb. With kill_at > 0 it ends itself with SIGKILL right before its
// kill_at-th Env call.
::specd::testing::CrashChild Child(const std::string& root, const Verb& verb) {
  return [root, &verb](int kill_at, const std::function<void()>& ready) {
    Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(root));
    if (!j.ok()) return 3;
    FakeEnv env(kT0 + 2 * kMinute);
    SpecEngine engine(&env, j->get(), root);
    ::specd::testing::KillBeforeCall(&env, kill_at);
    ready();
    Result<Decision> d = engine.RequestTransition(kId, verb.to, Actor{verb.actor, verb.role}, verb.reason);
    return d.ok() && d->allowed ? 0 : 4;
  };
}

// The trace id the engine gave the spec at <root> (random: each run has its own).
std::string TraceOf(const std::string& root) {
  Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(root));
  if (!j.ok()) return "";
  Result<std::optional<SpecRecord>> r = (*j)->GetSpec(kId);
  return r.ok() && r->has_value() ? (*r)->trace_id : "";
}

struct Reference {
  std::string new_bytes;
  std::string trace;  // the reference run's trace id, in new_bytes
  std::string new_rel;
  int env_calls = 0;
  int64_t micros = 0;
};

// An uninterrupted run, in this process: what the new version is, how many
// Env calls it makes and how long it takes.
Reference RunUninterrupted(const Verb& verb) {
  TempDir dir;
  Prepare(dir.path());
  Reference ref;
  Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(dir.path()));
  EXPECT_TRUE(j.ok());
  if (!j.ok()) return ref;
  FakeEnv env(kT0 + 2 * kMinute);
  SpecEngine engine(&env, j->get(), dir.path());
  env.SetHook([&](FakeEnv::Op, const std::string&) { ++ref.env_calls; });
  Clock::time_point start = Clock::now();
  Result<Decision> d = engine.RequestTransition(kId, verb.to, Actor{verb.actor, verb.role}, verb.reason);
  ref.micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  EXPECT_TRUE(d.ok() && d->allowed);
  ref.new_rel = verb.to == SpecState::kCancelled ? kArchived : kActive;
  ref.new_bytes = ReadAll(dir / ref.new_rel);
  ref.trace = TraceOf(dir.path());
  EXPECT_EQ(ref.trace.size(), 16u);
  return ref;
}

// How long a forked child takes from saying it is ready to exiting, when
// nothing kills it (the median of 5 runs): the window the timer kills in.
int64_t ForkedRunMicros(const Verb& verb) {
  std::vector<int64_t> times;
  for (int i = 0; i < 5; ++i) {
    TempDir dir;
    Prepare(dir.path());
    int64_t micros = 0;
    int status =
        ::specd::testing::ForkAndCrash(::specd::testing::NoCrash(), Child(dir.path(), verb), &micros);
    EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    times.push_back(micros);
  }
  return ::specd::testing::Median(times);
}

struct Stats : ::specd::testing::CrashCounts {
  int old_version = 0, new_version = 0, new_unmoved = 0;
  int temp_files_left = 0;
  int journal_behind = 0;  // the crash came after the file's write, before the journal's commit
};

// Which spec files exist, as repo-relative paths.
std::vector<std::string> SpecFiles(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root + "/.agents/specs", ec)) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 5 && name.substr(name.size() - 5) == ".yaml" && name[0] != '.') {
      out.push_back(fs::relative(e.path(), root).string());
    }
  }
  return out;
}

int TempFilesLeft(const std::string& root) {
  return static_cast<int>(::specd::testing::TempFilesUnder(root + "/.agents/specs").size());
}

std::string StatusOf(const std::string& bytes, const std::string& rel) {
  Document doc;
  bool loaded = false;
  ValidateSpecText(bytes, rel, ValidateOptions{}, &doc, &loaded);
  return loaded ? ReadSpecModel(doc).status : "";
}

// One run: prepare, crash, check, restart, check.
void CrashOnce(const Verb& verb, const Reference& ref, std::mt19937_64& rng, int run, Stats* stats) {
  SCOPED_TRACE(std::string(verb.name) + " run " + std::to_string(run));
  TempDir dir;
  const std::string root = dir.path();
  Prepare(root);
  const std::string old_bytes = ReadAll(dir / kActive);
  const std::string new_bytes = SwapTrace(ref.new_bytes, ref.trace, TraceOf(root));

  ASSERT_NO_FATAL_FAILURE(
      ::specd::testing::CrashAt(rng, ref.env_calls, ref.micros, Child(root, verb), stats));

  // (a) One spec file, valid, the old version or the new one.
  std::vector<std::string> files = SpecFiles(root);
  ASSERT_EQ(files.size(), 1u) << "spec files after the crash";
  const std::string rel = files[0];
  const std::string bytes = ReadAll(dir / rel);
  EXPECT_EQ(ValidateSpecText(bytes, rel, ValidateOptions{}).size(), 0u) << bytes;
  if (bytes == old_bytes) {
    EXPECT_EQ(rel, kActive);
    ++stats->old_version;
  } else {
    ASSERT_EQ(SwapTrace(bytes, TraceOf(root), TraceOf(root)), new_bytes)
        << "neither the old nor the new version, at " << rel;
    EXPECT_TRUE(rel == ref.new_rel || rel == kActive) << rel;
    ++stats->new_version;
    stats->new_unmoved += rel != ref.new_rel;
  }
  stats->temp_files_left += TempFilesLeft(root);

  // The author saves right after the crash, before the restart.
  const std::string note = "# ada, after crash " + std::to_string(run) + "\n";
  const std::string authors = Replace(bytes, "# The end.\n", note + "# The end.\n");
  ASSERT_TRUE(EditorWrite(dir / rel, authors));

  // (b) The restart: a fresh journal handle and engine, one reconcile.
  Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(root));
  ASSERT_TRUE(j.ok()) << j.error().message;
  FakeEnv env(kT0 + 3 * kMinute);
  SpecEngine engine(&env, j->get(), root);
  Result<std::optional<SpecRecord>> before = (*j)->GetSpec(kId);
  ASSERT_TRUE(before.ok() && before->has_value());
  stats->journal_behind += (*before)->content_hash != ContentHash(bytes);
  Result<PassReport> pass = engine.ReconcileAll();
  ASSERT_TRUE(pass.ok()) << pass.error().message;
  std::string said = "the restart's reconcile said:";
  for (const EngineEvent& e : pass->events) said += "\n  " + DescribeEvent(e);
  SCOPED_TRACE(said + "\nafter the crash the file was at " + rel +
               (bytes == old_bytes ? " (old)" : " (new)"));

  // The killed writer's temp file (its pid is in the name) is gone.
  EXPECT_EQ(TempFilesLeft(root), 0) << "a temp file outlived its writer and the restart's pass";

  files = SpecFiles(root);
  ASSERT_EQ(files.size(), 1u);
  const std::string final_rel = files[0];
  const std::string final_bytes = ReadAll(dir / final_rel);
  EXPECT_EQ(final_bytes, authors) << "the restart rewrote the file";
  const std::string file_status = StatusOf(final_bytes, final_rel);
  EXPECT_EQ(final_rel, file_status == "cancelled" ? kArchived : kActive);

  Result<std::optional<SpecRecord>> rec = (*j)->GetSpec(kId);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  const SpecRecord& r = **rec;
  EXPECT_EQ(r.status, file_status);
  EXPECT_EQ(r.content_hash, ContentHash(final_bytes));
  EXPECT_EQ(r.path, final_rel);
  EXPECT_EQ(r.errors, "");
  EXPECT_FALSE(r.removed);

  std::vector<std::pair<std::string, std::string>> expected = {{"", "draft"}, {"draft", "review"}};
  if (file_status != "review") expected.insert(expected.end(), verb.steps.begin(), verb.steps.end());
  Result<std::vector<TransitionRecord>> ts = (*j)->Transitions(kId);
  ASSERT_TRUE(ts.ok());
  std::vector<std::pair<std::string, std::string>> got;
  for (const TransitionRecord& t : *ts) got.emplace_back(t.from, t.to);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(ts->back().to, file_status);
  Result<std::vector<RefusalRecord>> refusals = (*j)->Refusals(kId);
  ASSERT_TRUE(refusals.ok());
  EXPECT_TRUE(refusals->empty());

  // (c) No author edit lost.
  EXPECT_NE(final_bytes.find(kAuthorsTitle), std::string::npos);
  EXPECT_NE(final_bytes.find(kAuthorsNote), std::string::npos);
  EXPECT_NE(final_bytes.find(note), std::string::npos);
  EXPECT_NE(final_bytes.find("# Written by hand; specd must keep this comment.\n"), std::string::npos);

  // And life goes on: a run cut short before its write can be made again.
  if (file_status == "review") {
    Result<Decision> d = engine.RequestTransition(kId, verb.to, Actor{verb.actor, verb.role}, verb.reason);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_TRUE(d->allowed) << d->reason;
    Result<std::optional<SpecRecord>> after = (*j)->GetSpec(kId);
    ASSERT_TRUE(after.ok() && after->has_value());
    EXPECT_EQ((*after)->status, verb.final_status);
  }
}

TEST(CrashTest, KilledWhileWritingBackAndJournaling200Times) {
  std::mt19937_64 rng(::specd::testing::CrashSeed("crash test"));

  const Verb* verbs[] = {&kApprove, &kCancel};
  Reference refs[2];
  for (int v = 0; v < 2; ++v) {
    refs[v] = RunUninterrupted(*verbs[v]);
    refs[v].micros = ForkedRunMicros(*verbs[v]);
    ASSERT_GT(refs[v].env_calls, 0);
    ASSERT_FALSE(refs[v].new_bytes.empty());
  }
  ASSERT_NE(refs[0].new_bytes.find("status: planning #"), std::string::npos) << refs[0].new_bytes;
  ASSERT_NE(refs[1].new_bytes.find("status: cancelled #"), std::string::npos) << refs[1].new_bytes;

  Clock::time_point start = Clock::now();
  Stats stats[2];
  constexpr int kRuns = 200;
  for (int run = 0; run < kRuns; ++run) {
    int v = run % 2;
    CrashOnce(*verbs[v], refs[v], rng, run, &stats[v]);
    if (::testing::Test::HasFatalFailure()) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (int v = 0; v < 2; ++v) {
    const Stats& s = stats[v];
    std::cout << verbs[v]->name << ": " << s.runs << " runs (" << s.by_hook << " ended inside an Env call, "
              << s.by_timer << " killed after a delay; uninterrupted: " << refs[v].env_calls << " Env calls, "
              << refs[v].micros << " us in a forked child), " << s.killed << " killed, " << s.finished
              << " finished first; " << s.old_version << " left the old version, " << s.new_version
              << " the new one (" << s.new_unmoved << " not yet moved, " << s.journal_behind
              << " with the journal behind the file); " << s.temp_files_left << " temp files left behind\n";
  }
  std::cout << kRuns << " runs in " << secs << " s\n";
}

}  // namespace
}  // namespace specd
