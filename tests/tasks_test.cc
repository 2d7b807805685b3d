// Tasks under leases through the engine (engine/tasks.cc): claims, the
// order `next` takes, fencing by epoch, heartbeats, expiry and attempts,
// release and failure, a reopen. Real files, a real journal, a clock the
// test sets (FakeEnv); no git (the base is empty without a workspace: the
// git side is tests/task_cli_test.cc).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "tests/fake_env.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr int64_t kT0 = 1'795'000'000'000;  // 2026-11-18T11:06:40Z
constexpr char kId[] = "spec-2026-11-29-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-11-29-001.yaml";

// A spec in planning with three tasks: TASK-002 depends on TASK-001.
constexpr char kPlanning[] =
    "id: spec-2026-11-29-001\n"
    "version: 1.0.0\n"
    "status: planning\n"
    "metadata:\n"
    "  title: Tasks under leases\n"
    "  author: tester\n"
    "  priority: medium\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: Something must hold\n"
    "    priority: high\n"
    "    acceptanceCriteria:\n"
    "      - it holds\n"
    "    status: pending\n"
    "tasks:\n"
    "  - id: TASK-001\n"
    "    title: First\n"
    "    type: feature\n"
    "    status: pending # claimed by a worker\n"
    "    assignedTo: null\n"
    "    files: [src/a.c]\n"
    "  - id: TASK-002\n"
    "    title: Second, after the first\n"
    "    type: feature\n"
    "    status: pending\n"
    "    assignedTo: null\n"
    "    dependencies: [TASK-001]\n"
    "    files: [src/b.c]\n"
    "  - id: TASK-003\n"
    "    title: Third\n"
    "    type: test\n"
    "    status: pending\n"
    "    assignedTo: null\n"
    "    files: [tests/a_test.c]\n";

class TasksTest : public ::testing::Test {
 protected:
  TasksTest() : env_(kT0) {
    Result<std::unique_ptr<Journal>> j = Journal::Open(journal_dir_ / "journal.db");
    EXPECT_TRUE(j.ok()) << j.error().message;
    if (j.ok()) journal_ = std::move(*j);
    EngineOptions options;
    options.lease_ttl_ms = 60'000;
    options.max_attempts = 2;
    engine_ = std::make_unique<SpecEngine>(&env_, journal_.get(), repo_.path(), options);
    std::filesystem::create_directories(repo_ / ".agents/specs/active");
    Write(repo_ / kRel, kPlanning);
    Result<PassReport> r = engine_->ReconcileAll();
    EXPECT_TRUE(r.ok());
  }

  std::string File() const { return ReadAll(repo_ / kRel); }
  TaskReply Ok(const Result<TaskReply>& r) {
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : TaskReply{};
  }
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    Result<std::vector<EventRecord>> es = journal_->SpecEvents(kId);
    EXPECT_TRUE(es.ok());
    for (const EventRecord& e : *es) {
      out.push_back(e.kind + " " + e.task_id + " " + e.from + "->" + e.to + " " + e.actor + ": " + e.reason);
    }
    return out;
  }
  TaskRecord Counters(const std::string& task) {
    Result<std::optional<TaskRecord>> t = journal_->GetTask(kId, task);
    EXPECT_TRUE(t.ok() && t->has_value());
    return t.ok() && t->has_value() ? **t : TaskRecord{};
  }

  TempDir repo_;
  TempDir journal_dir_;
  FakeEnv env_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<SpecEngine> engine_;
};

TEST_F(TasksTest, FirstClaimWritesTheTaskAndStartsTheSpec) {
  TaskReply r = Ok(engine_->ClaimTask(kId, "TASK-001", "w1"));
  ASSERT_EQ(r.refused, "");
  EXPECT_EQ(r.lease.epoch, 1);
  EXPECT_EQ(r.lease.worker, "w1");
  EXPECT_EQ(r.lease.expires_ms, kT0 + 60'000);
  EXPECT_EQ(LeaseTokenEpoch(r.lease.token), 1);
  EXPECT_EQ(r.files, std::vector<std::string>{"src/a.c"});
  EXPECT_EQ(r.spec_status, "in-progress");
  const std::string trace = (*journal_->GetSpec(kId))->trace_id;
  std::string expected = Replace(kPlanning, "status: planning\n", "status: in-progress\n");
  expected = Replace(expected, "  priority: medium\n",
                     "  priority: medium\n  updatedAt: \"2026-11-18T11:06:40Z\"\n");
  expected = Replace(expected, "status: pending # claimed", "status: in-progress # claimed");
  expected = Replace(expected, "assignedTo: null\n", "assignedTo: w1\n");
  expected +=
      "progress:\n  total: 3\n  pending: 2\n  inProgress: 1\n  diffSubmitted: 0\n  reviewed: 0\n"
      "  done: 0\n  failed: 0\n  blocked: 0\n  percent: 0\n"
      "changeLog:\n  - at: \"2026-11-18T11:06:40Z\"\n    actor: specd\n    from: planning\n"
      "    to: in-progress\n    reason: the plan is sound and a task is claimed\n    trace: " +
      trace + "\n";
  EXPECT_EQ(File(), expected);
  std::vector<std::string> events = Events();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(events.end() - 3, events.end()),
            (std::vector<std::string>{
                "claimed TASK-001 pending->in-progress worker:w1: lease epoch 1 until 2026-11-18T11:07:40Z",
                "transition  planning->in-progress specd: the plan is sound and a task is claimed",
                "waiting  in-progress-> specd: 3 of 3 tasks have not submitted a diff"}));
  Result<std::vector<LeaseRecord>> held = journal_->HeldLeases(kId);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0], r.lease);
}

TEST_F(TasksTest, NextTakesReadyTasksInOrderThenSaysNothingIsReady) {
  TaskReply a = Ok(engine_->NextTask("w1"));
  TaskReply b = Ok(engine_->NextTask("w2"));
  EXPECT_EQ(a.lease.task_id, "TASK-001");  // no dependencies, lowest id
  EXPECT_EQ(b.lease.task_id, "TASK-003");  // TASK-002 waits for TASK-001
  TaskReply none = Ok(engine_->NextTask("w3"));
  EXPECT_TRUE(none.nothing_ready);
  TaskReply refused = Ok(engine_->ClaimTask(kId, "TASK-002", "w3"));
  EXPECT_EQ(refused.refused, "spec-2026-11-29-001 TASK-002 waits for TASK-001 (in-progress)");
  TaskReply taken = Ok(engine_->ClaimTask(kId, "TASK-001", "w3"));
  EXPECT_EQ(taken.refused, "spec-2026-11-29-001 TASK-001 is in-progress, not pending");
}

TEST_F(TasksTest, ClaimOfASpecNotInPlanningOrOfNoSuchTaskIsRefused) {
  std::string draft = Replace(kPlanning, "status: planning\n", "status: draft\n");
  draft = Replace(draft, "id: spec-2026-11-29-001\n", "id: spec-2026-11-29-002\n");
  Write(repo_ / ".agents/specs/active/spec-2026-11-29-002.yaml", draft);
  TaskReply r = Ok(engine_->ClaimTask("spec-2026-11-29-002", "TASK-001", "w1"));
  EXPECT_EQ(r.refused, "spec-2026-11-29-002 is draft: tasks are claimed in planning or in-progress");
  TaskReply only = Ok(engine_->NextTask("w1", "spec-2026-11-29-002"));
  EXPECT_EQ(only.refused, "spec-2026-11-29-002 is draft: tasks are claimed in planning or in-progress");
  TaskReply unknown = Ok(engine_->ClaimTask(kId, "TASK-009", "w1"));
  EXPECT_EQ(unknown.refused, "spec-2026-11-29-001 has no task TASK-009");
  Result<TaskReply> missing = engine_->ClaimTask("spec-2026-11-29-404", "TASK-001", "w1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(TasksTest, HeartbeatExtendsTheLeaseWithoutWritingTheFile) {
  TaskReply r = Ok(engine_->ClaimTask(kId, "TASK-001", "w1"));
  const std::string after_claim = File();
  env_.AdvanceMillis(45'000);
  TaskReply hb = Ok(engine_->Heartbeat(kId, "TASK-001", r.lease.token));
  ASSERT_EQ(hb.refused, "");
  EXPECT_EQ(hb.lease.expires_ms, kT0 + 45'000 + 60'000);
  EXPECT_EQ(File(), after_claim);
  env_.AdvanceMillis(45'000);  // past the first expiry, within the renewed one
  EXPECT_EQ(Ok(engine_->Heartbeat(kId, "TASK-001", r.lease.token)).refused, "");
  EXPECT_EQ(Ok(engine_->Heartbeat(kId, "TASK-001", "1.0000")).refused,
            "spec-2026-11-29-001 TASK-001: the token is not lease epoch 1's");
  EXPECT_EQ(
      Ok(engine_->Heartbeat(kId, "TASK-001", "nonsense")).refused,
      "spec-2026-11-29-001 TASK-001: not a lease token: 'nonsense' (use the \"lease\" a claim printed)");
}

TEST_F(TasksTest, AnExpiredLeaseIsFencedOffAndTheTaskGoesBackToPending) {
  TaskReply a = Ok(engine_->ClaimTask(kId, "TASK-001", "A"));
  env_.AdvanceMillis(61'000);  // A is stopped past the TTL
  TaskReply b = Ok(engine_->ClaimTask(kId, "TASK-001", "B"));
  ASSERT_EQ(b.refused, "");
  EXPECT_EQ(b.lease.epoch, 3);  // the expiry raised the epoch past A's
  EXPECT_EQ(Counters("TASK-001").attempts, 1);
  // A resumes: its heartbeat and release are refused, nothing changes.
  const std::string file = File();
  EXPECT_EQ(Ok(engine_->Heartbeat(kId, "TASK-001", a.lease.token)).refused,
            "spec-2026-11-29-001 TASK-001: stale lease: lease epoch 1 expired at 2026-11-18T11:07:41Z; the "
            "task is under epoch 3 now");
  EXPECT_EQ(Ok(engine_->ReleaseTask(kId, "TASK-001", a.lease.token, "")).refused,
            "spec-2026-11-29-001 TASK-001: stale lease: lease epoch 1 expired at 2026-11-18T11:07:41Z; the "
            "task is under epoch 3 now");
  EXPECT_EQ(File(), file);
  EXPECT_NE(File().find("assignedTo: B\n"), std::string::npos);
}

TEST_F(TasksTest, AttemptsUsedUpFailTheTaskAndTheSpecThenReopenResetsThem) {
  TaskReply first = Ok(engine_->ClaimTask(kId, "TASK-003", "w1"));
  env_.AdvanceMillis(61'000);
  Result<size_t> swept = engine_->SweepLeases();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1u);
  EXPECT_NE(File().find("    title: Third\n    type: test\n    status: pending\n    assignedTo: null\n"),
            std::string::npos);
  TaskReply second = Ok(engine_->ClaimTask(kId, "TASK-003", "w2"));
  ASSERT_EQ(second.refused, "");
  TaskReply failed = Ok(engine_->FailTask(kId, "TASK-003", second.lease.token, "tests do not build",
                                          "cc: error: a_test.c:3: missing ;\n"));
  ASSERT_EQ(failed.refused, "");
  EXPECT_EQ(failed.spec_status, "failed");
  EXPECT_NE(File().find("    status: failed\n    assignedTo: null\n"), std::string::npos);
  EXPECT_NE(File().find("reason: \"TASK-003 used up its 2 attempts; last: tests do not build\""),
            std::string::npos)
      << File();
  Result<std::vector<FailureRecord>> found = journal_->SearchFailures("missing", 5);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].task_id, "TASK-003");
  EXPECT_EQ((*found)[0].summary, "tests do not build");

  Result<Decision> reopen =
      engine_->RequestTransition(kId, SpecState::kPlanning, Actor{"ana", Role::kPerson}, "");
  ASSERT_TRUE(reopen.ok());
  ASSERT_TRUE(reopen->allowed) << reopen->reason;
  EXPECT_EQ(Counters("TASK-003").attempts, 0);
  EXPECT_NE(File().find("    title: Third\n    type: test\n    status: pending\n    assignedTo: null\n"),
            std::string::npos);
  EXPECT_EQ(Ok(engine_->ClaimTask(kId, "TASK-003", "w3")).refused, "");
}

TEST_F(TasksTest, ReleaseGivesTheTaskBackWithoutCountingAnAttempt) {
  TaskReply r = Ok(engine_->ClaimTask(kId, "TASK-001", "w1"));
  TaskReply released = Ok(engine_->ReleaseTask(kId, "TASK-001", r.lease.token, "out of time"));
  ASSERT_EQ(released.refused, "");
  EXPECT_EQ(released.lease.outcome, "released");
  EXPECT_EQ(Counters("TASK-001").attempts, 0);
  EXPECT_NE(File().find("status: pending # claimed by a worker\n    assignedTo: null\n"), std::string::npos);
  EXPECT_EQ(Ok(engine_->ReleaseTask(kId, "TASK-001", r.lease.token, "")).refused,
            "spec-2026-11-29-001 TASK-001: stale lease: lease epoch 1 was released");
  EXPECT_EQ(Ok(engine_->ClaimTask(kId, "TASK-001", "w2")).lease.epoch, 2);
  // The journal names a worker's verb worker:NAME; the lease and the file keep NAME.
  env_.AdvanceMillis(61'000);
  ASSERT_TRUE(engine_->SweepLeases().ok());
  std::vector<std::string> events = Events();
  std::vector<std::string> tasks;
  for (const std::string& e : events)
    if (e.find(" TASK-001 ") != std::string::npos) tasks.push_back(e.substr(0, e.find(": ")));
  EXPECT_EQ(tasks, (std::vector<std::string>{"claimed TASK-001 pending->in-progress worker:w1",
                                             "released TASK-001 in-progress->pending worker:w1",
                                             "claimed TASK-001 pending->in-progress worker:w2",
                                             "expired TASK-001 in-progress->pending specd"}));
}

TEST_F(TasksTest, SubmitWithoutAGitRepositoryIsRefused) {
  TaskReply r = Ok(engine_->ClaimTask(kId, "TASK-001", "w1"));
  const std::string file = File();
  TaskReply s = Ok(engine_->SubmitTask(kId, "TASK-001", r.lease.token, "diff --git a/src/a.c b/src/a.c\n"));
  EXPECT_EQ(s.refused, "spec-2026-11-29-001 TASK-001: submitting a diff needs a git repository");
  EXPECT_EQ(File(), file);
  EXPECT_FALSE(std::filesystem::exists(repo_ / ".agents/diffs"));
}

TEST(LeaseTokenTest, CarriesItsEpochAndNothingElseParses) {
  std::string t = NewLeaseToken(42);
  EXPECT_EQ(LeaseTokenEpoch(t), 42);
  EXPECT_EQ(t.size(), 3u + 32u);
  EXPECT_NE(NewLeaseToken(42), t);
  for (const char* bad : {"", ".", "1.", ".abc", "x.abc", "0.abc", "-1.abc", "99999999999999999999.a"}) {
    EXPECT_EQ(LeaseTokenEpoch(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace specd
