// Who may do what (issue 15, item 2): the pure Decide with the repository's
// roles, each people's verb allowed and refused, wildcards, self-approval on
// and off, and no roles at all deciding exactly as before.
#include <gtest/gtest.h>

#include "engine/state_machine.h"

namespace specd {
namespace {

using S = SpecState;

// Facts under which every guard holds; the spec's author is alice.
SpecFacts Facts(std::optional<RoleRules> roles) {
  SpecFacts f;
  f.tasks = {{"TASK-001", "diff-submitted", true}};
  f.committed = true;
  f.author = "alice@example.com";
  f.roles = std::move(roles);
  return f;
}

RoleRules Team(bool allow_self_approval = false) {
  RoleRules r;
  r.reviewers = {"bob@example.com", "*@review.example.com", "alice@example.com"};
  r.maintainers = {"carol@example.com"};
  r.allow_self_approval = allow_self_approval;
  return r;
}

struct Ask {
  S from, to;
  Role role;
  const char* reason;
};
constexpr Ask kApprove{S::kReview, S::kApproved, Role::kReviewer, ""};
constexpr Ask kApproveDiffs{S::kDiffSubmitted, S::kReviewed, Role::kReviewer, ""};
constexpr Ask kReject{S::kReview, S::kDraft, Role::kReviewer, "not yet"};
constexpr Ask kRejectWork{S::kReviewed, S::kInProgress, Role::kReviewer, "tests fail"};
constexpr Ask kCancel{S::kPlanning, S::kCancelled, Role::kPerson, "not needed"};
constexpr Ask kReopen{S::kFailed, S::kPlanning, Role::kPerson, ""};
constexpr Ask kUnblock{S::kBlocked, S::kInProgress, Role::kPerson, ""};

Decision As(const std::string& who, const Ask& a, const SpecFacts& f) {
  return Decide(a.from, f, Request{a.to, Via::kVerb, a.reason}, Actor{who, a.role});
}

TEST(Roles, AReviewerApprovesAndRejectsAndNoOneElseDoes) {
  const SpecFacts f = Facts(Team());
  for (const Ask& a : {kApprove, kApproveDiffs, kReject, kRejectWork}) {
    Decision ok = As("bob@example.com", a, f);
    EXPECT_TRUE(ok.allowed) << StateName(a.from) << ": " << ok.reason;
    EXPECT_EQ(ok.rule, "");
  }
  const std::string list = "(roles.reviewers: bob@example.com, *@review.example.com, alice@example.com)";
  Decision approve = As("eve@example.com", kApprove, f);
  EXPECT_FALSE(approve.allowed);
  EXPECT_EQ(approve.rule, "roles.reviewers");
  EXPECT_EQ(approve.reason, "eve@example.com may not approve this spec: approving needs a reviewer " + list);
  EXPECT_EQ(As("eve@example.com", kApproveDiffs, f).reason, approve.reason);
  Decision reject = As("carol@example.com", kReject, f);  // a maintainer is not a reviewer
  EXPECT_FALSE(reject.allowed);
  EXPECT_EQ(reject.rule, "roles.reviewers");
  EXPECT_EQ(reject.reason, "carol@example.com may not reject this spec: rejecting needs a reviewer " + list);
  EXPECT_EQ(As("eve@example.com", kRejectWork, f).reason,
            "eve@example.com may not reject this spec: rejecting needs a reviewer " + list);
}

TEST(Roles, AWildcardMatchesAnyRunOfCharactersWithoutRegardToCase) {
  const SpecFacts f = Facts(Team());
  EXPECT_TRUE(As("dan@review.example.com", kApprove, f).allowed);
  EXPECT_TRUE(As("Dan.Smith@Review.Example.COM", kApprove, f).allowed);
  EXPECT_TRUE(As("BOB@example.com", kApprove, f).allowed);
  EXPECT_FALSE(As("dan@review.example.com.evil.org", kApprove, f).allowed);
  EXPECT_FALSE(As("dan@notreview.example.com", kApprove, f).allowed);
  EXPECT_FALSE(As("", kApprove, f).allowed);
  EXPECT_TRUE(MatchesAnyone({"*"}, "anyone at all"));
  EXPECT_TRUE(MatchesAnyone({"a*b*c"}, "abc"));
  EXPECT_TRUE(MatchesAnyone({"a*b*c"}, "a-xb-yb-c"));
  EXPECT_FALSE(MatchesAnyone({"a*b*c"}, "a-xb-yc-d"));
  EXPECT_FALSE(MatchesAnyone({}, "bob"));
}

TEST(Roles, AnAuthorApprovesTheirOwnSpecOnlyWithAllowSelfApproval) {
  const std::string own =
      "Alice@Example.com may not approve this spec: it is their own (metadata.author: alice@example.com) "
      "and allowSelfApproval is false; another reviewer approves it";
  for (const Ask& a : {kApprove, kApproveDiffs}) {
    Decision d = As("Alice@Example.com", a, Facts(Team()));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.rule, "allowSelfApproval");
    EXPECT_EQ(d.reason, own);
    EXPECT_TRUE(As("alice@example.com", a, Facts(Team(true))).allowed);
  }
  // Rejecting one's own spec is no approval.
  EXPECT_TRUE(As("alice@example.com", kReject, Facts(Team())).allowed);
  // Self-approval is a reviewer's privilege: an author who is not one still may not.
  RoleRules others = Team(true);
  others.reviewers = {"bob@example.com"};
  EXPECT_EQ(As("alice@example.com", kApprove, Facts(others)).rule, "roles.reviewers");
}

TEST(Roles, CancelReopenAndUnblockNeedTheAuthorOrAMaintainer) {
  const SpecFacts f = Facts(Team());
  for (const Ask& a : {kCancel, kReopen, kUnblock}) {
    EXPECT_TRUE(As("alice@example.com", a, f).allowed) << StateName(a.from);  // the author
    EXPECT_TRUE(As("carol@example.com", a, f).allowed) << StateName(a.from);  // a maintainer
  }
  const std::string needs =
      "needs its author (alice@example.com) or a maintainer (roles.maintainers: carol@example.com)";
  Decision cancel = As("bob@example.com", kCancel, f);  // a reviewer is not a maintainer
  EXPECT_FALSE(cancel.allowed);
  EXPECT_EQ(cancel.rule, "roles.maintainers");
  EXPECT_EQ(cancel.reason, "bob@example.com may not cancel this spec: cancelling " + needs);
  EXPECT_EQ(As("eve", kReopen, f).reason, "eve may not reopen this spec: reopening " + needs);
  EXPECT_EQ(As("eve", kUnblock, f).reason, "eve may not unblock this spec: unblocking " + needs);
  // The role is checked before the reason, and a refused move stays a refusal of the life cycle first.
  EXPECT_EQ(Decide(S::kPlanning, f, Request{S::kCancelled, Via::kVerb, ""}, Actor{"eve", Role::kPerson}).rule,
            "roles.maintainers");
  EXPECT_EQ(Decide(S::kDraft, f, Request{S::kApproved, Via::kVerb, ""}, Actor{"eve", Role::kReviewer}).rule,
            "");
}

TEST(Roles, AnEmptyListIsNoOneAndSaysSo) {
  RoleRules none;
  Decision d = As("bob@example.com", kApprove, Facts(none));
  EXPECT_EQ(
      d.reason,
      "bob@example.com may not approve this spec: approving needs a reviewer (roles.reviewers is empty: no "
      "one may)");
  SpecFacts nameless = Facts(none);
  nameless.author = "";
  EXPECT_EQ(As("bob", kCancel, nameless).reason,
            "bob may not cancel this spec: cancelling needs its author (none named) or a maintainer "
            "(roles.maintainers is empty: no one may)");
}

TEST(Roles, TheEngineWorkersAndGitAreNotBoundByRoles) {
  const SpecFacts f = Facts(RoleRules{});  // no one holds any role
  EXPECT_TRUE(Decide(S::kReviewed, f, Request{S::kInProgress, Via::kVerb, "gate unit failed"},
                     Actor{"specd", Role::kEngine})
                  .allowed);
  EXPECT_TRUE(
      Decide(S::kReviewed, f, Request{S::kBlocked, Via::kVerb, "conflict"}, Actor{"specd", Role::kEngine})
          .allowed);
  EXPECT_TRUE(
      Decide(S::kBlocked, f, Request{S::kInProgress, Via::kVerb, ""}, Actor{"worker:w1", Role::kWorker})
          .allowed);
  EXPECT_TRUE(
      Decide(S::kReview, f, Request{S::kApproved, Via::kSync, ""}, Actor{"git", Role::kEngine}).allowed);
  EXPECT_TRUE(
      Decide(S::kDraft, f, Request{S::kReview, Via::kVerb, ""}, Actor{"anyone", Role::kAuthor}).allowed);
  EXPECT_TRUE(
      Decide(S::kDraft, f, Request{S::kReview, Via::kFileEdit, ""}, Actor{"x", Role::kAuthor}).allowed);
}

TEST(Roles, WithoutRolesAnyoneDecidesAsBefore) {
  const SpecFacts f = Facts(std::nullopt);
  for (const Ask& a : {kApprove, kApproveDiffs, kReject, kRejectWork, kCancel, kReopen, kUnblock}) {
    Decision d = As("eve", a, f);
    EXPECT_TRUE(d.allowed) << StateName(a.from) << ": " << d.reason;
    EXPECT_EQ(d.rule, "");
  }
  EXPECT_TRUE(As("alice@example.com", kApprove, f).allowed);  // the author, too
}

}  // namespace
}  // namespace specd
