// The life cycle of SPEC_FORMAT.md, checked exhaustively against a table
// written out here from the contract (not derived from the code).
#include "engine/state_machine.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace specd {
namespace {

using S = SpecState;

// Every (from, to, role) the contract allows through a verb or the engine,
// copied from the table in SPEC_FORMAT.md. "any non-terminal -> cancelled"
// (a person) and "any -> failed" (the engine) are added below.
const std::set<std::tuple<S, S, Role>> kContract = {
    {S::kDraft, S::kReview, Role::kAuthor},
    {S::kReview, S::kApproved, Role::kReviewer},
    {S::kReview, S::kDraft, Role::kReviewer},
    {S::kApproved, S::kPlanning, Role::kEngine},
    {S::kPlanning, S::kInProgress, Role::kEngine},
    {S::kInProgress, S::kDiffSubmitted, Role::kEngine},
    {S::kDiffSubmitted, S::kReviewed, Role::kReviewer},
    {S::kReviewed, S::kCompleted, Role::kEngine},
    {S::kReviewed, S::kInProgress, Role::kReviewer},
    {S::kReviewed, S::kInProgress, Role::kEngine},  // a gate fails
    {S::kDiffSubmitted, S::kInProgress, Role::kReviewer},
    {S::kDiffSubmitted, S::kInProgress, Role::kEngine},
    {S::kReviewed, S::kBlocked, Role::kEngine},  // the merge cannot land
    {S::kBlocked, S::kReviewed, Role::kEngine},  // a merge block cleared
    {S::kBlocked, S::kReviewed, Role::kPerson},  // specd unblock
    {S::kBlocked, S::kInProgress, Role::kPerson},
    {S::kBlocked, S::kInProgress, Role::kReviewer},  // specd reject for rework
    {S::kInProgress, S::kBlocked, Role::kEngine},
    {S::kInProgress, S::kBlocked, Role::kWorker},
    {S::kDiffSubmitted, S::kBlocked, Role::kEngine},
    {S::kDiffSubmitted, S::kBlocked, Role::kWorker},
    {S::kBlocked, S::kInProgress, Role::kEngine},
    {S::kBlocked, S::kInProgress, Role::kWorker},
    {S::kFailed, S::kPlanning, Role::kPerson},
};

constexpr Role kRoles[] = {Role::kAuthor, Role::kReviewer, Role::kEngine, Role::kWorker, Role::kPerson};

// Facts under which every guard holds, so only who and how decide.
SpecFacts Permissive() {
  SpecFacts f;
  f.tasks = {{"TASK-001", "diff-submitted", true}};
  f.committed = true;
  return f;
}

bool ContractAllows(S from, S to, Role role, Via via) {
  if (from == to || IsTerminal(from)) return false;
  if (to == S::kCancelled) return role == Role::kPerson && via == Via::kVerb;
  if (to == S::kFailed) return via == Via::kEngine;
  if (via == Via::kFileEdit) return from == S::kDraft && to == S::kReview;  // the one hand edit
  return kContract.count({from, to, role}) > 0;
}

TEST(StateMachine, EveryStateAgainstEveryRequest) {
  int cases = 0;
  for (int i = 0; i < kSpecStateCount; ++i) {
    for (int j = 0; j < kSpecStateCount; ++j) {
      S from = static_cast<S>(i), to = static_cast<S>(j);
      for (Role role : kRoles) {
        for (Via via : {Via::kFileEdit, Via::kVerb, Via::kEngine}) {
          Role asker = via == Via::kEngine ? Role::kEngine : role;
          if (via == Via::kEngine && role != Role::kEngine) continue;
          Decision d = Decide(from, Permissive(), Request{to, via, "because"}, Actor{"someone", asker});
          EXPECT_EQ(d.allowed, ContractAllows(from, to, asker, via))
              << StateName(from) << " -> " << StateName(to) << " by " << RoleName(asker) << " via "
              << static_cast<int>(via) << ": " << d.reason;
          EXPECT_FALSE(d.reason.empty());
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 11 * 11 * (5 * 2 + 1));
}

TEST(StateMachine, AnAgentEditingDraftToCompletedIsRefused) {
  Decision d = Decide(S::kDraft, Permissive(), Request{S::kCompleted, Via::kFileEdit, ""},
                      Actor{"agent-7", Role::kAuthor});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(
      d.reason,
      "draft -> completed is not a step of the spec life cycle (from draft it goes to review, or cancelled)");
}

TEST(StateMachine, AnEditThatIsAReviewersDecisionSaysWhichVerb) {
  Decision d = Decide(S::kReview, Permissive(), Request{S::kApproved, Via::kFileEdit, ""},
                      Actor{"alice", Role::kAuthor});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason,
            "review -> approved cannot be made by editing the file: a reviewer runs `specd approve ID`");
}

TEST(StateMachine, RequestingReviewByEditingTheFileIsAllowed) {
  Decision d =
      Decide(S::kDraft, Permissive(), Request{S::kReview, Via::kFileEdit, ""}, Actor{"alice", Role::kAuthor});
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.from, S::kDraft);
  EXPECT_EQ(d.to, S::kReview);
}

TEST(StateMachine, AnInvalidSpecCannotGoToReview) {
  SpecFacts f = Permissive();
  f.valid = false;
  Decision d = Decide(S::kDraft, f, Request{S::kReview, Via::kVerb, ""}, Actor{"alice", Role::kAuthor});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason,
            "draft -> review must wait: the spec does not validate; run `specd validate` and fix it first");
}

TEST(StateMachine, RejectionsAndCancellationsNeedAReason) {
  EXPECT_EQ(
      Decide(S::kReview, Permissive(), Request{S::kDraft, Via::kVerb, ""}, Actor{"rev", Role::kReviewer})
          .reason,
      "review -> draft needs a reason (--reason)");
  EXPECT_EQ(
      Decide(S::kPlanning, Permissive(), Request{S::kCancelled, Via::kVerb, ""}, Actor{"p", Role::kPerson})
          .reason,
      "cancelling needs a reason (--reason)");
  EXPECT_EQ(
      Decide(S::kBlocked, Permissive(), Request{S::kInProgress, Via::kVerb, ""}, Actor{"w", Role::kWorker})
          .allowed,
      true);  // unblocking clears the reason; none is needed
  EXPECT_EQ(
      Decide(S::kInProgress, Permissive(), Request{S::kBlocked, Via::kVerb, ""}, Actor{"w", Role::kWorker})
          .reason,
      "in-progress -> blocked needs a reason (--reason)");
}

TEST(StateMachine, TerminalStatesAreFinal) {
  Decision d =
      Decide(S::kCompleted, Permissive(), Request{S::kCancelled, Via::kVerb, "x"}, Actor{"p", Role::kPerson});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "the spec is completed; that is final");
}

TEST(StateMachine, PlanningGuards) {
  SpecFacts f;
  EXPECT_EQ(NextEngineStep(S::kPlanning, f).waiting, "the plan has no tasks yet");
  f.tasks = {{"TASK-001", "pending", false}, {"TASK-002", "pending", false}};
  f.plan_problems = {"dependency cycle: TASK-001 -> TASK-002 -> TASK-001"};
  EXPECT_EQ(NextEngineStep(S::kPlanning, f).waiting,
            "the plan is not sound: dependency cycle: TASK-001 -> TASK-002 -> TASK-001");
  f.plan_problems.clear();
  EXPECT_EQ(NextEngineStep(S::kPlanning, f).waiting, "no task has been claimed yet");
  f.tasks[0].status = "in-progress";
  EngineStep step = NextEngineStep(S::kPlanning, f);
  ASSERT_TRUE(step.to.has_value());
  EXPECT_EQ(*step.to, S::kInProgress);
  EXPECT_EQ(step.waiting, "");
}

TEST(StateMachine, ApprovedMovesToPlanningAtOnce) {
  EngineStep step = NextEngineStep(S::kApproved, SpecFacts{});
  ASSERT_TRUE(step.to.has_value());
  EXPECT_EQ(*step.to, S::kPlanning);
}

TEST(StateMachine, DiffSubmittedGuard) {
  SpecFacts f;
  f.tasks = {
      {"TASK-001", "diff-submitted", true}, {"TASK-002", "in-progress", true}, {"TASK-003", "done", true}};
  EXPECT_EQ(NextEngineStep(S::kInProgress, f).waiting, "1 of 3 tasks have not submitted a diff");
  f.tasks[1].status = "diff-submitted";
  f.diffs_apply = false;
  EXPECT_EQ(NextEngineStep(S::kInProgress, f).waiting,
            "a submitted diff does not apply cleanly to the target branch");
  f.diffs_apply = true;
  EXPECT_EQ(NextEngineStep(S::kInProgress, f).to, S::kDiffSubmitted);
}

TEST(StateMachine, ReviewGatesAndCommitGuards) {
  SpecFacts f = Permissive();
  f.gates_pass = false;
  EXPECT_EQ(
      Decide(S::kDiffSubmitted, f, Request{S::kReviewed, Via::kVerb, ""}, Actor{"r", Role::kReviewer}).reason,
      "diff-submitted -> reviewed must wait: the automatic gates have not passed");
  f = Permissive();
  f.committed = false;
  EXPECT_EQ(NextEngineStep(S::kReviewed, f).waiting, "the diffs have not been committed yet");
}

TEST(StateMachine, RejectingReviewedWorkSendsItsTasksBackToPending) {
  SpecFacts f;
  f.tasks = {
      {"TASK-001", "reviewed", true}, {"TASK-002", "done", true}, {"TASK-003", "diff-submitted", true}};
  Decision d =
      Decide(S::kReviewed, f, Request{S::kInProgress, Via::kVerb, "tests fail"}, Actor{"r", Role::kReviewer});
  ASSERT_TRUE(d.allowed) << d.reason;
  ASSERT_EQ(d.task_changes.size(), 2u);
  EXPECT_EQ(d.task_changes[0].task_id, "TASK-001");
  EXPECT_EQ(d.task_changes[0].status, "pending");
  EXPECT_TRUE(d.task_changes[0].clear_assignee);
  EXPECT_EQ(d.task_changes[1].task_id, "TASK-003");
}

TEST(StateMachine, RejectingSubmittedWorkSendsTheNamedTasksBack) {
  SpecFacts f;
  f.tasks = {
      {"TASK-001", "diff-submitted", true}, {"TASK-002", "diff-submitted", true}, {"TASK-003", "done", true}};
  const Actor reviewer{"r", Role::kReviewer};
  Decision d =
      Decide(S::kDiffSubmitted, f, Request{S::kInProgress, Via::kVerb, "b is wrong", {"TASK-002"}}, reviewer);
  ASSERT_TRUE(d.allowed) << d.reason;
  ASSERT_EQ(d.task_changes.size(), 1u);
  EXPECT_EQ(d.task_changes[0].task_id, "TASK-002");
  EXPECT_EQ(d.task_changes[0].status, "pending");
  EXPECT_EQ(
      Decide(S::kDiffSubmitted, f, Request{S::kInProgress, Via::kVerb, "x", {"TASK-009"}}, reviewer).reason,
      "the spec has no task TASK-009");
  EXPECT_EQ(
      Decide(S::kDiffSubmitted, f, Request{S::kInProgress, Via::kVerb, "x", {"TASK-003"}}, reviewer).reason,
      "TASK-003 is done; only submitted work is rejected");
  EXPECT_EQ(Decide(S::kReview, f, Request{S::kDraft, Via::kVerb, "x", {"TASK-001"}}, reviewer).reason,
            "tasks are named only when submitted work is rejected");
  f.gates_pass = false;
  f.gates_problem = "gate unit did not pass on main 1a2b3c4: fail (exit 2); its log: /l/unit.log";
  EXPECT_EQ(
      Decide(S::kDiffSubmitted, f, Request{S::kReviewed, Via::kVerb, ""}, reviewer).reason,
      "diff-submitted -> reviewed must wait: gate unit did not pass on main 1a2b3c4: fail (exit 2); its "
      "log: /l/unit.log");
}

TEST(StateMachine, ChangesBroughtByGitFollowTheGraphOnly) {
  EXPECT_TRUE(
      Decide(S::kReview, SpecFacts{}, Request{S::kApproved, Via::kSync, ""}, Actor{"git", Role::kAuthor})
          .allowed);
  Decision d =
      Decide(S::kDraft, SpecFacts{}, Request{S::kCompleted, Via::kSync, ""}, Actor{"git", Role::kAuthor});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "draft -> completed is not a step of the spec life cycle");
}

TEST(StateMachine, AttemptsUsedUpFail) {
  SpecFacts f;
  f.attempts_exhausted = true;
  EXPECT_EQ(NextEngineStep(S::kInProgress, f).to, S::kFailed);
  EXPECT_FALSE(NextEngineStep(S::kFailed, f).to.has_value());
}

TEST(StateNames, RoundTrip) {
  for (int i = 0; i < kSpecStateCount; ++i) {
    S s = static_cast<S>(i);
    EXPECT_EQ(ParseState(StateName(s)), s);
  }
  EXPECT_FALSE(ParseState("complete").has_value());
}

}  // namespace
}  // namespace specd
