// The pure planner (engine/plan.h), by tables: every kind of decision a
// spec's pass makes, from a file save, from git, or from a verb, asserted
// as the rows, edits, archive move and events it plans. No disk, no
// journal, no clock.
#include "engine/plan.h"

#include <gtest/gtest.h>

namespace specd {
namespace {

constexpr int64_t kNow = 1'764'417'600'000;  // 2025-11-29T12:00:00Z
const char* kNowText = "2025-11-29T12:00:00Z";

SpecRecord Known(const std::string& status, const std::string& trace = "t-here") {
  SpecRecord r;
  r.id = "spec-2026-01-01-001";
  r.path = ".agents/specs/active/spec-2026-01-01-001.yaml";
  r.status = status;
  r.trace_id = trace;
  r.content_hash = "old";
  r.written_hash = "old";
  if (status == "planning") r.waiting = "the plan has no tasks yet";
  return r;
}

PlanInput File(const std::string& status, std::optional<SpecRecord> record, Source source = Source::kFile) {
  PlanInput in;
  in.source = source;
  in.rel = ".agents/specs/active/spec-2026-01-01-001.yaml";
  in.id = "spec-2026-01-01-001";
  in.model.id = in.id;
  in.model.status = status;
  in.model.author = "alice";
  in.record = std::move(record);
  in.hash = "new";
  in.author_edit = in.record.has_value();
  in.now_ms = kNow;
  in.new_trace_id = "t-new";
  return in;
}

std::vector<std::string> Kinds(const SpecPlan& plan) {
  std::vector<std::string> kinds;
  for (const EngineEvent& e : plan.events) kinds.push_back(EventKindName(e.kind));
  return kinds;
}

std::vector<std::string> Moves(const SpecPlan& plan) {
  std::vector<std::string> moves;
  for (const TransitionRecord& t : plan.batch.transitions) {
    moves.push_back((t.from.empty() ? "" : t.from + " -> ") + t.to + " by " + t.actor);
  }
  return moves;
}

using Strings = std::vector<std::string>;

// Each row: where the file is and what the journal says, what the plan is.
struct Row {
  const char* name;
  std::string file_status;
  std::optional<std::string> journal_status;  // nullopt: a new spec
  Strings moves, kinds;
  bool writes;  // the file is edited
  std::string status_after;
};

class PlanRows : public ::testing::TestWithParam<Row> {};

TEST_P(PlanRows, PlansTheRow) {
  const Row& row = GetParam();
  std::optional<SpecRecord> record;
  if (row.journal_status) record = Known(*row.journal_status);
  SpecPlan plan = PlanSpec(File(row.file_status, record));
  EXPECT_EQ(Moves(plan), row.moves);
  EXPECT_EQ(Kinds(plan), row.kinds);
  EXPECT_EQ(!plan.edits.empty(), row.writes);
  EXPECT_EQ(plan.record.status, row.status_after);
  EXPECT_FALSE(plan.archive_dir);
}

INSTANTIATE_TEST_SUITE_P(
    Act, PlanRows,
    ::testing::Values(
        // Registering writes nothing: a fresh clone stays clean.
        Row{"NewDraft", "draft", std::nullopt, {"draft by specd"}, {"registered"}, false, "draft"},
        Row{"NewReview", "review", std::nullopt, {"review by specd"}, {"registered"}, false, "review"},
        Row{"NewPlanningWithoutTasks",
            "planning",
            std::nullopt,
            {"planning by specd"},
            {"registered", "waiting"},
            false,
            "planning"},
        // An engine step is a real change: written.
        Row{"NewApprovedStepsToPlanning",
            "approved",
            std::nullopt,
            {"approved by specd", "approved -> planning by specd"},
            {"registered", "transition", "waiting"},
            true,
            "planning"},
        Row{"TitleEditOnly", "draft", "draft", {}, {"edited"}, false, "draft"},
        Row{"HandEditToReview",
            "review",
            "draft",
            {"draft -> review by alice"},
            {"transition"},
            true,
            "review"},
        Row{"IllegalJumpPutBack", "completed", "planning", {}, {"refused"}, true, "planning"},
        Row{"NotAStatePutBack", "bogus", "draft", {}, {"refused"}, true, "draft"},
        Row{"WaitingAgainIsNoNews", "planning", "planning", {}, {"edited"}, false, "planning"}),
    [](const ::testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

TEST(Plan, AcceptedHandEditWritesChangeLogAndUpdatedAtAtTheSameTime) {
  SpecPlan plan = PlanSpec(File("review", Known("draft")));
  ASSERT_EQ(plan.edits.append_changelog.size(), 1u);
  const ChangeLogEntry& e = plan.edits.append_changelog[0];
  EXPECT_EQ(e.at, kNowText);
  EXPECT_EQ(e.actor, "alice");
  EXPECT_EQ(e.from, "draft");
  EXPECT_EQ(e.to, "review");
  EXPECT_EQ(e.reason, "status edited in the file");
  EXPECT_EQ(e.trace, "t-here");
  EXPECT_EQ(plan.edits.updated_at, kNowText);
  EXPECT_FALSE(plan.edits.status);  // the file already says review
}

TEST(Plan, RefusalPutsBackTheLegalStatusAndRecordsWhy) {
  SpecPlan plan = PlanSpec(File("completed", Known("planning")));
  ASSERT_EQ(plan.batch.refusals.size(), 1u);
  const RefusalRecord& r = plan.batch.refusals[0];
  EXPECT_EQ(r.actor, "alice");
  EXPECT_EQ(r.from, "planning");
  EXPECT_EQ(r.requested, "completed");
  EXPECT_EQ(
      r.reason,
      "planning -> completed is not a step of the spec life cycle (from planning it goes to in-progress, "
      "or cancelled)");
  EXPECT_EQ(plan.edits.status, "planning");
  EXPECT_TRUE(plan.edits.append_changelog.empty());
}

TEST(Plan, StaleProgressAloneIsNotWritten) {
  PlanInput in = File("planning", Known("planning"));
  in.model.tasks = {{"TASK-001", "pending", false}};
  in.model.has_progress = false;  // missing: shown, never written on its own
  SpecPlan plan = PlanSpec(in);
  EXPECT_TRUE(plan.edits.empty());
}

TEST(Plan, ProgressRidesAlongWithARealChange) {
  PlanInput in = File("approved", std::nullopt);
  in.model.tasks = {{"TASK-001", "pending", false}, {"TASK-002", "done", false}};
  SpecPlan plan = PlanSpec(in);
  ASSERT_TRUE(plan.edits.progress);
  EXPECT_EQ(plan.edits.progress->total, 2);
  EXPECT_EQ(plan.edits.progress->pending, 1);
  EXPECT_EQ(plan.edits.progress->done, 1);
  EXPECT_EQ(plan.edits.progress->percent, 50);
}

TEST(Plan, ANewSpecStartsItsTrace) {
  SpecPlan plan = PlanSpec(File("approved", std::nullopt));
  EXPECT_EQ(plan.record.trace_id, "t-new");
  for (const TransitionRecord& t : plan.batch.transitions) EXPECT_EQ(t.trace_id, "t-new");
  ASSERT_EQ(plan.edits.append_changelog.size(), 1u);
  EXPECT_EQ(plan.edits.append_changelog[0].trace, "t-new");
  EXPECT_EQ(plan.batch.transitions[0].content_hash, "new");  // the registered bytes
}

// A teammate's transitions (another clone's trace) arrive through the file.
PlanInput Teammate(Source source) {
  PlanInput in = File("approved", Known("review"), source);
  in.model.change_log = {{"2025-11-28T09:00:00Z", "alice", "draft", "review", "", "t-here"},
                         {"2025-11-29T08:00:00Z", "bob", "review", "approved", "looks good", "t-there"}};
  in.journaled = {
      TransitionRecord{1, in.id, "t-here", "alice", "draft", "review", "", 1'764'320'400'000, ""}};
  return in;
}

TEST(Plan, TeammatesTransitionsAreRecordedFromTheChangeLogWithoutWriting) {
  PlanInput in = Teammate(Source::kFile);
  SpecPlan plan = PlanSpec(in);
  ASSERT_GE(plan.batch.transitions.size(), 1u);
  const TransitionRecord& t = plan.batch.transitions[0];
  EXPECT_EQ(t.actor, "bob");
  EXPECT_EQ(t.reason, "looks good");
  EXPECT_EQ(t.at_ms, 1'764'403'200'000);  // the entry's own time
  EXPECT_EQ(plan.caught_up, std::vector<size_t>{1});
  // approved -> planning is this clone's own step, and it is written.
  EXPECT_EQ(Moves(plan), (Strings{"review -> approved by bob", "approved -> planning by specd"}));
}

TEST(Plan, FromGitTheTeammatesEntriesAreGitsAndNothingIsWrittenOrStepped) {
  SpecPlan plan = PlanSpec(Teammate(Source::kGit));
  EXPECT_EQ(Moves(plan), (Strings{"review -> approved by git"}));
  EXPECT_EQ(plan.batch.transitions[0].reason, "by bob: looks good");
  EXPECT_TRUE(plan.edits.empty());
  EXPECT_EQ(plan.record.status, "approved");
  EXPECT_EQ(plan.record.waiting, "");
}

TEST(Plan, FromGitAnIllegalEditIsRecordedNotRefused) {
  SpecPlan plan = PlanSpec(File("completed", Known("planning"), Source::kGit));
  EXPECT_EQ(Moves(plan), (Strings{"planning -> completed by git"}));
  EXPECT_EQ(
      plan.batch.transitions[0].reason,
      "by alice: status edited in the file, brought in by git (planning -> completed is not a step of the "
      "spec life cycle)");
  EXPECT_TRUE(plan.batch.refusals.empty());
  EXPECT_TRUE(plan.edits.empty());
  EXPECT_FALSE(plan.archive_dir);  // git's files stay where git put them
}

TEST(Plan, OurOwnEntriesCutOffByACrashAreNotAnAuthorEdit) {
  PlanInput in = File("review", Known("draft"));
  in.record->generation = 3;  // already counted this save as an edit
  in.model.change_log = {{"2025-11-29T11:59:00Z", "alice", "draft", "review", "", "t-here"}};
  SpecPlan plan = PlanSpec(in);
  EXPECT_EQ(plan.record.generation, 2);
  EXPECT_EQ(Kinds(plan), (Strings{"transition"}));
  EXPECT_TRUE(plan.edits.empty());
}

PlanInput VerbOn(const std::string& status, SpecState to, Role role, const std::string& reason = "") {
  PlanInput in = File(status, Known(status), Source::kVerb);
  in.author_edit = false;
  in.hash = "old";
  in.verb = Request{to, Via::kVerb, reason};
  in.verb_actor = Actor{"bob", role};
  return in;
}

TEST(Plan, AnApprovedVerbStepsOnToPlanning) {
  SpecPlan plan = PlanSpec(VerbOn("review", SpecState::kApproved, Role::kReviewer));
  ASSERT_TRUE(plan.verb);
  EXPECT_TRUE(plan.verb->allowed);
  EXPECT_EQ(Moves(plan), (Strings{"review -> approved by bob", "approved -> planning by specd"}));
  EXPECT_EQ(Kinds(plan), (Strings{"transition", "transition", "waiting"}));
  EXPECT_EQ(plan.edits.status, "planning");
  EXPECT_EQ(plan.record.waiting, "the plan has no tasks yet");
}

TEST(Plan, ARefusedVerbPlansNothing) {
  SpecPlan plan = PlanSpec(VerbOn("draft", SpecState::kApproved, Role::kReviewer));
  ASSERT_TRUE(plan.verb);
  EXPECT_FALSE(plan.verb->allowed);
  EXPECT_TRUE(plan.batch.transitions.empty());
  EXPECT_TRUE(plan.batch.refusals.empty());
  EXPECT_TRUE(plan.events.empty());
  EXPECT_TRUE(plan.edits.empty());
}

TEST(Plan, RejectSendsReviewedTasksBackToPending) {
  PlanInput in = VerbOn("reviewed", SpecState::kInProgress, Role::kReviewer, "tests fail");
  in.model.tasks = {{"TASK-001", "reviewed", true}, {"TASK-002", "done", true}};
  SpecPlan plan = PlanSpec(in);
  ASSERT_TRUE(plan.verb && plan.verb->allowed);
  ASSERT_EQ(plan.edits.tasks.size(), 1u);
  EXPECT_EQ(plan.edits.tasks[0].task_id, "TASK-001");
  EXPECT_EQ(plan.edits.tasks[0].status, "pending");
  ASSERT_TRUE(plan.edits.progress);
  EXPECT_EQ(plan.edits.progress->pending, 1);
}

TEST(Plan, ACancelledSpecIsArchivedInTheMonthOfTheChange) {
  SpecPlan plan = PlanSpec(VerbOn("draft", SpecState::kCancelled, Role::kPerson, "not needed"));
  EXPECT_EQ(plan.archive_dir, ".agents/specs/archive/2025-11");
  EXPECT_EQ(plan.record.status, "cancelled");
}

TEST(Plan, AnInvalidFileIsAFailureOnceAndNeverWritten) {
  PlanInput in = File("draft", Known("draft"));
  in.valid = false;
  in.errors = "a.yaml:3:1: error: /version: required\n";
  in.first_error = "a.yaml:3:1: error: /version: required";
  in.first_error_pointer = "/version: required";
  SpecPlan plan = PlanSpec(in);
  ASSERT_EQ(plan.batch.failures.size(), 1u);
  EXPECT_EQ(plan.batch.failures[0].summary, "/version: required");
  EXPECT_EQ(plan.record.errors, in.errors);
  EXPECT_EQ(Kinds(plan), (Strings{"invalid"}));
  EXPECT_TRUE(plan.edits.empty());

  in.record->errors = in.errors;  // the same errors again: no second failure
  EXPECT_TRUE(PlanSpec(in).batch.failures.empty());
}

TEST(Plan, TheFixingEditResolvesTheOpenFailure) {
  PlanInput in = File("draft", Known("draft"));
  in.record->errors = "a.yaml:3:1: error: /version: required\n";
  in.record->generation = 4;
  in.open_failure = FailureRecord{7, in.id, "", "/version: required", in.record->errors, "", 0};
  SpecPlan plan = PlanSpec(in);
  ASSERT_EQ(plan.batch.failures.size(), 1u);
  EXPECT_EQ(plan.batch.failures[0].id, 7);
  EXPECT_EQ(plan.batch.failures[0].resolution,
            "fixed by an edit of the file at 2025-11-29T12:00:00Z (author edit #4)");
  EXPECT_EQ(plan.record.errors, "");
}

TEST(Plan, AnUnwritableFileKeepsItsStatusAndSaysWhy) {
  SpecPlan plan = PlanUnwritable(File("completed", Known("planning")), "status is an alias");
  EXPECT_EQ(plan.record.status, "planning");
  EXPECT_EQ(plan.record.errors, "specd cannot update this file: status is an alias\n");
  EXPECT_EQ(Kinds(plan), (Strings{"invalid"}));
  EXPECT_TRUE(plan.batch.failures.empty());
  EXPECT_TRUE(plan.edits.empty());
}

TEST(ChangeLogChain, FindsTheNewEntriesThatChainToTheFile) {
  std::vector<ChangeLogEntry> log = {{"t1", "a", "draft", "review", "", ""},
                                     {"t2", "b", "review", "approved", "", ""},
                                     {"t3", "specd", "approved", "planning", "", ""}};
  auto known_first = [](const ChangeLogEntry& e) { return e.at == "t1"; };
  EXPECT_EQ(NewChangeLogChain(log, known_first, "review", "planning"), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(NewChangeLogChain(log, known_first, "review", "approved"), std::nullopt);  // ends elsewhere
  EXPECT_EQ(NewChangeLogChain(log, known_first, "draft", "planning"), std::nullopt);   // t1 is known
  auto none = [](const ChangeLogEntry&) { return false; };
  EXPECT_EQ(NewChangeLogChain(log, none, "draft", "planning"), (std::vector<size_t>{0, 1, 2}));
  std::vector<ChangeLogEntry> skip = {{"t1", "a", "draft", "draft", "", ""},
                                      {"t2", "b", "review", "approved", "", ""}};
  EXPECT_EQ(NewChangeLogChain(skip, none, "review", "approved"), (std::vector<size_t>{1}));
}

}  // namespace
}  // namespace specd
