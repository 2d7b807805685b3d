// Crash safety of `specd submit` (issue 12), shown: 100 times, in a real git
// repository whose spec is in progress with TASK-001 claimed, a forked
// process submits TASK-001's diff through the engine (journal rows under a
// mark, the diff file .agents/diffs/ID/TASK-001.diff, then the spec, then
// the group's commit) and is killed with SIGKILL at a random point (the
// method of tests/crash_test.cc, tests/crash_util.h). Then this process (the
// restart) checks:
//  - the diff file is absent or byte for byte the patch, never partial, and
//    present whenever the spec names it;
//  - the spec file is byte for byte the old version or the new one (the
//    bytes an uninterrupted run writes);
//  - after ReconcileAll and SweepLeases, and again after its clock has moved
//    past the lease's TTL, the journal's record has the file's status and
//    content hash; a task the file says is diff-submitted stays so (a sweep
//    never puts it back to pending) and keeps no lease;
//  - with the old version, the submission can be made again: with the same
//    token while the lease lives, or by a new claim once it has expired; it
//    ends in the uninterrupted run's bytes (timestamps aside);
//  - no .specd-tmp-* file of the killed process outlives the restart's pass.
// The seed is printed; SPECD_CRASH_SEED=N repeats a run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/hash.h"
#include "engine/journal.h"
#include "engine/spec_model.h"
#include "pipeline/git_workspace.h"
#include "schema/validate.h"
#include "tests/crash_util.h"
#include "tests/fake_env.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::specd::testing::ReadAll;
using ::specd::testing::SwapTrace;
using ::specd::testing::TempDir;
using ::specd::testing::TempFilesUnder;

constexpr int64_t kT0 = 1771408800000;  // 2026-02-18T10:00:00Z: the claim
constexpr int64_t kTtl = 60'000;
constexpr int64_t kSubmitAt = kT0 + 10'000;    // the child's submit
constexpr int64_t kRestartAt = kT0 + 20'000;   // the restart, the lease still live
constexpr int64_t kExpiredAt = kT0 + 120'000;  // the restart's clock past the TTL
constexpr char kId[] = "spec-2026-02-18-002";
constexpr char kRel[] = ".agents/specs/active/spec-2026-02-18-002.yaml";
constexpr char kDiffRel[] = ".agents/diffs/spec-2026-02-18-002/TASK-001.diff";
constexpr char kWorker[] = "wren";

constexpr char kPlanning[] =
    "# Two tasks, one file each; specd keeps this comment.\n"
    "id: spec-2026-02-18-002\n"
    "version: 1.0.0\n"
    "status: planning\n"
    "metadata:\n"
    "  title: Submit under SIGKILL\n"
    "  author: ada\n"
    "  priority: high\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: A submission survives a crash whole or not at all\n"
    "    priority: high\n"
    "    acceptanceCriteria:\n"
    "      - old or new bytes\n"
    "    status: pending\n"
    "tasks:\n"
    "  - id: TASK-001\n"
    "    title: Change a\n"
    "    type: feature\n"
    "    status: pending # the worker's\n"
    "    assignedTo: null\n"
    "    files: [src/a.c]\n"
    "  - id: TASK-002\n"
    "    title: Change b\n"
    "    type: feature\n"
    "    status: pending\n"
    "    assignedTo: null\n"
    "    files: [src/b.c]\n";

std::string JournalPath(const std::string& root) {
  return root + "/.git/specd/journal.db";
}

// One process's view of a repository: its journal handle, its Env, its
// engine on the repository's git (target branch main).
struct Engine {
  Engine(const std::string& root, int64_t now) : env(now) {
    Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPath(root));
    if (!j.ok()) return;
    journal = std::move(*j);
    Result<std::unique_ptr<pipeline::GitWorkspace>> w = pipeline::GitWorkspace::Open(root, "main");
    if (!w.ok()) return;
    workspace = std::move(*w);
    EngineOptions options;
    options.lease_ttl_ms = kTtl;
    engine = std::make_unique<SpecEngine>(&env, journal.get(), root, options);
    engine->SetWorkspace(workspace.get());
  }
  bool ok() const { return engine != nullptr; }
  FakeEnv env;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<pipeline::GitWorkspace> workspace;
  std::unique_ptr<SpecEngine> engine;
};

std::string TraceOf(Journal* journal) {
  Result<std::optional<SpecRecord>> r = journal->GetSpec(kId);
  return r.ok() && r->has_value() ? (*r)->trace_id : "";
}

// Every "YYYY-MM-DDTHH:MM:SSZ" as "<time>": a retry later on, or after a new
// claim, writes its own time.
std::string WithoutTimes(const std::string& bytes) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  return std::regex_replace(bytes, kTime, "<time>");
}

// What the spec's bytes say (an empty model when they do not load).
SpecModel ModelOf(const std::string& bytes) {
  Document doc;
  bool loaded = false;
  ValidateSpecText(bytes, kRel, ValidateOptions{}, &doc, &loaded);
  return loaded ? ReadSpecModel(doc) : SpecModel{};
}

std::string StatusOf(const std::string& bytes) {
  return ModelOf(bytes).status;
}

std::string Task1Status(const std::string& bytes) {
  for (const TaskFact& t : ModelOf(bytes).tasks) {
    if (t.id == "TASK-001") return t.status;
  }
  return "";
}

class TaskCrashTest : public ::specd::testing::GitFixture {
 protected:
  // The template repository (repo_): src/a.c, src/b.c and the spec in
  // planning, committed; patch_ is TASK-001's change of src/a.c as `git diff`
  // makes it.
  void MakeTemplate() {
    std::string a;
    for (int i = 1; i <= 10; ++i) a += "int a" + std::to_string(i) + " = " + std::to_string(i) + ";\n";
    Commit({{"src/a.c", a}, {"src/b.c", "int b = 0;\n"}, {kRel, kPlanning}}, "a spec in planning");
    ::specd::testing::Write(repo_ / "src/a.c",
                            ::specd::testing::Replace(a, "int a5 = 5;\n", "int a5 = 50; /* TASK-001 */\n"));
    patch_ = GitOut({"diff"});
    GitOut({"checkout", "--", "src/a.c"});
    ASSERT_NE(patch_.find("+int a5 = 50;"), std::string::npos) << patch_;
  }

  // A fresh copy of the template in `dir`, with TASK-001 claimed by kWorker
  // at kT0 (in this process, before any fork); the lease's token.
  std::string Prepare(const std::string& dir) {
    fs::copy(repo_.path(), dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    Engine e(dir, kT0);
    EXPECT_TRUE(e.ok());
    if (!e.ok()) return "";
    Result<TaskReply> claim = e.engine->ClaimTask(kId, "TASK-001", kWorker);
    EXPECT_TRUE(claim.ok()) << claim.error().message;
    if (!claim.ok()) return "";
    EXPECT_EQ(claim->refused, "");
    EXPECT_EQ(claim->lease.epoch, 1);
    EXPECT_EQ(claim->spec_status, "in-progress");
    return claim->lease.token;
  }

  // The submit, as the crashing child runs it.
  ::specd::testing::CrashChild Child(const std::string& root, const std::string& token) {
    return [root, token, this](int kill_at, const std::function<void()>& ready) {
      Engine e(root, kSubmitAt);
      if (!e.ok()) return 3;
      ::specd::testing::KillBeforeCall(&e.env, kill_at);
      ready();
      Result<TaskReply> r = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
      return r.ok() && r->refused.empty() ? 0 : 4;
    };
  }

  // An uninterrupted submit in this process: the new bytes, their trace, and
  // how many Env calls it makes; then the median time of 5 forked ones.
  void RunUninterrupted() {
    {
      TempDir dir;
      const std::string root = dir / "repo";
      const std::string token = Prepare(root);
      Engine e(root, kSubmitAt);
      ASSERT_TRUE(e.ok());
      e.env.SetHook([&](FakeEnv::Op, const std::string&) { ++env_calls_; });
      Result<TaskReply> r = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r->refused, "");
      EXPECT_EQ(r->diff_path, kDiffRel);
      new_bytes_ = ReadAll(root + "/" + kRel);
      new_trace_ = TraceOf(e.journal.get());
      ASSERT_EQ(ReadAll(root + "/" + kDiffRel), patch_);
      ASSERT_EQ(Task1Status(new_bytes_), "diff-submitted") << new_bytes_;
      ASSERT_NE(new_bytes_.find("diffPath: " + std::string(kDiffRel)), std::string::npos) << new_bytes_;
    }
    std::vector<int64_t> times;
    for (int i = 0; i < 5; ++i) {
      TempDir dir;
      const std::string root = dir / "repo";
      const std::string token = Prepare(root);
      int64_t micros = 0;
      int status = ::specd::testing::ForkAndCrash(::specd::testing::NoCrash(), Child(root, token), &micros);
      ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
      times.push_back(micros);
    }
    micros_ = ::specd::testing::Median(times);
  }

  struct Stats : ::specd::testing::CrashCounts {
    int old_version = 0, new_version = 0, diff_without_spec = 0, journal_behind = 0;
    int temp_files_after_crash = 0, retried_same_token = 0, reclaimed = 0;
  };

  // The journal's record agrees with the spec file as it is now.
  void ExpectAgreement(Journal* journal, const std::string& root, const char* when) {
    SCOPED_TRACE(when);
    const std::string bytes = ReadAll(root + "/" + kRel);
    Result<std::optional<SpecRecord>> rec = journal->GetSpec(kId);
    ASSERT_TRUE(rec.ok() && rec->has_value());
    EXPECT_EQ((*rec)->status, StatusOf(bytes));
    EXPECT_EQ((*rec)->content_hash, ContentHash(bytes));
    EXPECT_EQ((*rec)->path, kRel);
    EXPECT_EQ((*rec)->errors, "");
    EXPECT_EQ(TempFilesUnder(root + "/.agents"), std::vector<std::string>{})
        << "a temp file outlived its writer and the restart's pass";
  }

  void CrashOnce(std::mt19937_64& rng, int run, Stats* stats);

  std::string patch_, new_bytes_, new_trace_;
  int env_calls_ = 0;
  int64_t micros_ = 0;
};

void TaskCrashTest::CrashOnce(std::mt19937_64& rng, int run, Stats* stats) {
  SCOPED_TRACE("run " + std::to_string(run));
  TempDir dir;
  const std::string root = dir / "repo";
  const std::string token = Prepare(root);
  ASSERT_FALSE(token.empty());
  const std::string old_bytes = ReadAll(root + "/" + kRel);
  ASSERT_EQ(Task1Status(old_bytes), "in-progress");

  // Drawn before the crash, used only if the old version is left, so that a
  // seed repeats the same points whatever each run's timing.
  const bool reclaim = rng() % 2 == 1;
  ASSERT_NO_FATAL_FAILURE(::specd::testing::CrashAt(rng, env_calls_, micros_, Child(root, token), stats));

  // (a) The diff file: absent or whole. The spec: old or new.
  const bool diff_there = fs::exists(root + "/" + kDiffRel);
  if (diff_there) {
    EXPECT_EQ(ReadAll(root + "/" + kDiffRel), patch_) << "a partial diff file";
  }
  const std::string bytes = ReadAll(root + "/" + kRel);
  Engine e(root, kRestartAt);
  ASSERT_TRUE(e.ok());
  const std::string trace = TraceOf(e.journal.get());
  const std::string new_bytes = SwapTrace(new_bytes_, new_trace_, trace);
  const bool is_new = bytes != old_bytes;
  if (is_new) {
    ASSERT_EQ(SwapTrace(bytes, trace, trace), new_bytes) << "neither the old nor the new version";
    EXPECT_TRUE(diff_there) << "the spec names a diff file that is not there";
    ++stats->new_version;
  } else {
    ++stats->old_version;
    stats->diff_without_spec += diff_there;
  }
  stats->temp_files_after_crash += static_cast<int>(TempFilesUnder(root + "/.agents").size());
  {
    Result<std::optional<SpecRecord>> before = e.journal->GetSpec(kId);
    ASSERT_TRUE(before.ok() && before->has_value());
    stats->journal_behind += (*before)->content_hash != ContentHash(bytes);
  }

  // (b) The restart's pass, the lease still live: nothing expires.
  Result<PassReport> pass = e.engine->ReconcileAll();
  ASSERT_TRUE(pass.ok()) << pass.error().message;
  std::string said = "after the crash the spec was " + std::string(is_new ? "new" : "old") +
                     (diff_there ? ", the diff there" : ", no diff") + "; the restart's reconcile said:";
  for (const EngineEvent& ev : pass->events) said += "\n  " + DescribeEvent(ev);
  SCOPED_TRACE(said);
  Result<size_t> swept = e.engine->SweepLeases();
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(*swept, 0u);
  EXPECT_EQ(ReadAll(root + "/" + kRel), bytes) << "the restart rewrote the file";
  ExpectAgreement(e.journal.get(), root, "after the restart's pass");
  {
    // The journal never holds a submission the file does not have; one it
    // holds is this patch, at this path.
    Result<std::optional<TaskRecord>> task = e.journal->GetTask(kId, "TASK-001");
    ASSERT_TRUE(task.ok() && task->has_value());
    if (!is_new) {
      EXPECT_EQ((*task)->submitted_seq, 0) << "the journal is ahead of the file";
    }
    if ((*task)->submitted_seq > 0) {
      EXPECT_EQ((*task)->diff_path, kDiffRel);
      EXPECT_EQ((*task)->diff_hash, ContentHash(patch_));
      EXPECT_EQ((*task)->submitted_epoch, 1);
    }
  }

  if (is_new) {
    // (c) Submitted is submitted: a sweep past the TTL ends the lease, the
    // file keeps the task diff-submitted.
    e.env.SetNowMillis(kExpiredAt);
    swept = e.engine->SweepLeases();
    ASSERT_TRUE(swept.ok()) << swept.error().message;
    EXPECT_EQ(ReadAll(root + "/" + kRel), bytes) << "a sweep changed a submitted task";
    ExpectAgreement(e.journal.get(), root, "after a sweep past the TTL");
    Result<std::vector<LeaseRecord>> held = e.journal->HeldLeases(kId);
    ASSERT_TRUE(held.ok());
    EXPECT_TRUE(held->empty()) << "a lease outlived its task's submission";
    return;
  }

  // (d) The old version: the submission is made again, with the same token
  // while the lease lives, or by a new claim after it has expired.
  std::string retry_token = token;
  if (!reclaim) {
    ++stats->retried_same_token;
  } else {
    ++stats->reclaimed;
    e.env.SetNowMillis(kExpiredAt);
    swept = e.engine->SweepLeases();
    ASSERT_TRUE(swept.ok()) << swept.error().message;
    EXPECT_EQ(*swept, 1u);
    EXPECT_EQ(Task1Status(ReadAll(root + "/" + kRel)), "pending");
    ExpectAgreement(e.journal.get(), root, "after the lease expired");
    Result<TaskReply> claim = e.engine->ClaimTask(kId, "TASK-001", kWorker);
    ASSERT_TRUE(claim.ok()) << claim.error().message;
    ASSERT_EQ(claim->refused, "");
    EXPECT_EQ(claim->lease.epoch, 3);  // 1 expired, 2 fenced off by the expiry
    retry_token = claim->lease.token;
  }
  Result<TaskReply> again = e.engine->SubmitTask(kId, "TASK-001", retry_token, patch_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_EQ(again->refused, "");
  const std::string final_bytes = ReadAll(root + "/" + kRel);
  EXPECT_EQ(WithoutTimes(SwapTrace(final_bytes, trace, trace)), WithoutTimes(new_bytes));
  EXPECT_EQ(ReadAll(root + "/" + kDiffRel), patch_);
  ExpectAgreement(e.journal.get(), root, "after the submission was made again");
}

// The point that left a temp file no pass looked at (the diffs' folder is no
// spec folder), made sure of: the child ends right before it syncs the
// diff's temp file. The restart's pass removes it; the same token submits.
TEST_F(TaskCrashTest, ADiffsTempFileLeftByAKilledSubmitIsRemovedByTheRestartsPass) {
  MakeTemplate();
  ASSERT_FALSE(HasFatalFailure());
  TempDir dir;
  const std::string root = dir / "repo";
  const std::string token = Prepare(root);
  const std::string old_bytes = ReadAll(root + "/" + kRel);
  const int status = ::specd::testing::ForkAndCrash(
      ::specd::testing::NoCrash(), [&](int, const std::function<void()>& ready) {
        Engine e(root, kSubmitAt);
        if (!e.ok()) return 3;
        e.env.SetHook([](FakeEnv::Op op, const std::string& path) {
          if (op == FakeEnv::Op::kSync && path.find("/.agents/diffs/") != std::string::npos) ::raise(SIGKILL);
        });
        ready();
        Result<TaskReply> r = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
        return r.ok() ? 4 : 5;
      });
  ASSERT_TRUE(::specd::testing::KilledBySigkill(status)) << "child status " << status;
  EXPECT_FALSE(fs::exists(root + "/" + kDiffRel));
  EXPECT_EQ(ReadAll(root + "/" + kRel), old_bytes);
  const std::vector<std::string> temps = TempFilesUnder(root + "/.agents");
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_EQ(fs::path(temps[0]).parent_path().string(), root + "/.agents/diffs/" + kId);

  Engine e(root, kRestartAt);
  ASSERT_TRUE(e.ok());
  Result<PassReport> pass = e.engine->ReconcileAll();
  ASSERT_TRUE(pass.ok()) << pass.error().message;
  EXPECT_EQ(TempFilesUnder(root + "/.agents"), std::vector<std::string>{});
  EXPECT_EQ(ReadAll(root + "/" + kRel), old_bytes);

  Result<TaskReply> again = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->refused, "");
  EXPECT_EQ(ReadAll(root + "/" + kDiffRel), patch_);
  EXPECT_EQ(Task1Status(ReadAll(root + "/" + kRel)), "diff-submitted");
  ExpectAgreement(e.journal.get(), root, "after the submission was made again");
}

// A submit whose reply was lost (a worker over NATS retries it with the
// same token): answered as the first was, nothing changed; another patch
// under the same ended lease is still refused.
TEST_F(TaskCrashTest, ASubmitMadeAgainWithTheSameTokenIsAnsweredAsTheFirst) {
  MakeTemplate();
  ASSERT_FALSE(HasFatalFailure());
  TempDir dir;
  const std::string root = dir / "repo";
  const std::string token = Prepare(root);
  Engine e(root, kSubmitAt);
  ASSERT_TRUE(e.ok());
  Result<TaskReply> first = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->refused, "");
  const std::string bytes = ReadAll(root + "/" + kRel);
  Result<int64_t> events = e.journal->LastEventSeq();
  ASSERT_TRUE(events.ok());

  Result<TaskReply> again = e.engine->SubmitTask(kId, "TASK-001", token, patch_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->refused, "");
  EXPECT_EQ(again->diff_path, first->diff_path);
  EXPECT_EQ(again->lease.outcome, "submitted");
  EXPECT_EQ(ReadAll(root + "/" + kRel), bytes);
  EXPECT_EQ(*e.journal->LastEventSeq(), *events);

  Result<TaskReply> other = e.engine->SubmitTask(kId, "TASK-001", token, patch_ + "\n");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_NE(other->refused, "");
  EXPECT_EQ(ReadAll(root + "/" + kDiffRel), patch_);
}

TEST_F(TaskCrashTest, KilledWhileSubmitting100Times) {
  std::mt19937_64 rng(::specd::testing::CrashSeed("task crash test"));
  MakeTemplate();
  ASSERT_FALSE(HasFatalFailure());
  RunUninterrupted();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GT(env_calls_, 0);

  const auto start = std::chrono::steady_clock::now();
  Stats s;
  constexpr int kRuns = 100;
  for (int run = 0; run < kRuns; ++run) {
    CrashOnce(rng, run, &s);
    if (HasFatalFailure()) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "submit: " << s.runs << " runs (" << s.by_hook << " ended inside an Env call, " << s.by_timer
            << " killed after a delay; uninterrupted: " << env_calls_ << " Env calls, " << micros_
            << " us in a forked child), " << s.killed << " killed, " << s.finished << " finished first; "
            << s.old_version << " left the old spec (" << s.diff_without_spec
            << " with the diff file written), " << s.new_version << " the new one; " << s.journal_behind
            << " with the journal behind the file; " << s.temp_files_after_crash
            << " temp files left by the crash, none after the restart; " << s.retried_same_token
            << " retried with the same token, " << s.reclaimed << " claimed again after expiry\n";
  std::cout << kRuns << " runs in " << secs << " s\n";
}

}  // namespace
}  // namespace specd
