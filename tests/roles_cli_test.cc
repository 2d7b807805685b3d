// Identities and roles from the command line (issue 15, items 1-2): the real
// specd in a real git repository, the actor taken from git's config when no
// --actor or SPECD_ACTOR says otherwise, and `roles` in .agents/specd.yaml
// deciding who may approve and cancel: exact messages, exit codes, file
// bytes and journal rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/process_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kId[] = "spec-2026-01-01-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";
constexpr char kRoles[] =
    "roles:\n"
    "  reviewers: [bob@example.com, \"*@review.example.com\", alice@example.com]\n"
    "  maintainers: [carol@example.com]\n";

// kValidSpec in `status`, written by alice.
std::string SpecIn(const std::string& status) {
  return Replace(Replace(kValidSpec, "status: draft\n", "status: " + status + "\n"), "author: tester",
                 "author: alice@example.com");
}

class RolesCliTest : public GitFixture {
 protected:
  // specd as `actor` (SPECD_ACTOR; "" leaves it unset, so git's config says),
  // with $USER set: git's identity must come before it.
  Output Specd(const std::vector<std::string>& args, const std::string& actor) {
    RunOptions o = GitEnv(home_.path());
    o.env.push_back({"SPECD_ACTOR", actor.empty() ? std::nullopt : std::optional<std::string>(actor)});
    o.env.push_back({"USER", "unix-user"});
    return *RunProcess(repo_.path(), SPECD_BINARY, args, o);
  }
  void Start(const std::string& status, const std::string& settings) {
    Write(repo_ / kRel, SpecIn(status));
    if (!settings.empty()) Write(repo_ / ".agents/specd.yaml", settings);
    Output o = Specd({"reconcile"}, "");
    ASSERT_EQ(o.exit_code, 0) << o.err;
  }
  std::string File(const std::string& rel = kRel) { return ReadAll(repo_ / rel); }
  std::unique_ptr<Journal> OpenJournal() {
    Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPathFor(repo_.path()));
    EXPECT_TRUE(j.ok()) << j.error().message;
    return j.ok() ? std::move(*j) : nullptr;
  }
  // "from -> to by actor" for each of the spec's transitions after registering.
  std::vector<std::string> Moves() {
    std::vector<std::string> out;
    std::unique_ptr<Journal> j = OpenJournal();
    Result<std::vector<TransitionRecord>> ts = j->Transitions(kId);
    EXPECT_TRUE(ts.ok());
    for (const TransitionRecord& t : *ts) {
      if (!t.from.empty()) out.push_back(t.from + " -> " + t.to + " by " + t.actor);
    }
    return out;
  }
  std::vector<RefusalRecord> Refusals() {
    std::unique_ptr<Journal> j = OpenJournal();
    Result<std::vector<RefusalRecord>> rs = j->Refusals(kId);
    EXPECT_TRUE(rs.ok());
    for (RefusalRecord& r : *rs) r.seq = r.at_ms = 0;
    return *rs;
  }
};

TEST_F(RolesCliTest, TheActorIsGitsUserEmailThenUserNameUnlessOverridden) {
  Start("draft", "");
  GitOut({"config", "user.email", "ada@example.com"});
  GitOut({"config", "user.name", "Ada Lovelace"});
  Output o = Specd({"request-review", kId}, "");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(File().find("    actor: ada@example.com\n    from: draft\n    to: review\n"), std::string::npos)
      << File();
  // No email: the name. --actor and SPECD_ACTOR still override git.
  GitOut({"config", "--unset", "user.email"});
  ASSERT_EQ(Specd({"approve", kId}, "").exit_code, 0);
  ASSERT_EQ(
      Specd({"cancel", kId, "--reason", "done with it", "--actor", "grace"}, "ada@example.com").exit_code, 0);
  EXPECT_EQ(Moves(), (std::vector<std::string>{
                         "draft -> review by ada@example.com", "review -> approved by Ada Lovelace",
                         "approved -> planning by specd", "planning -> cancelled by grace"}));
}

TEST_F(RolesCliTest, WithoutGitsIdentityUserActsAndSpecdActorComesBeforeGit) {
  Start("draft", "");
  ASSERT_EQ(Specd({"request-review", kId}, "").exit_code, 0);
  GitOut({"config", "user.email", "ada@example.com"});
  ASSERT_EQ(Specd({"reject", kId, "--reason", "not yet"}, "sam").exit_code, 0);
  EXPECT_EQ(Moves(), (std::vector<std::string>{"draft -> review by unix-user", "review -> draft by sam"}));
}

TEST_F(RolesCliTest, ANonReviewersApproveIsRefusedAndJournaledAndAReviewersPasses) {
  Start("review", kRoles);
  GitOut({"config", "user.email", "eve@example.com"});
  const std::string before = File();
  Output refused = Specd({"approve", kId}, "");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  const std::string why =
      "eve@example.com may not approve this spec: approving needs a reviewer (roles.reviewers: "
      "bob@example.com, *@review.example.com, alice@example.com)";
  EXPECT_EQ(refused.err, "specd approve: refused: " + why + "\n");
  EXPECT_EQ(File(), before);
  EXPECT_EQ(Refusals(),
            (std::vector<RefusalRecord>{{0, kId, "eve@example.com", "review", "approved", why, 0}}));
  Output log = Specd({"log", kId}, "");
  EXPECT_NE(log.out.find("refused review -> approved by eve@example.com: " + why), std::string::npos)
      << log.out;

  GitOut({"config", "user.email", "dan@review.example.com"});
  Output approved = Specd({"approve", kId}, "");
  EXPECT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(Moves(), (std::vector<std::string>{"review -> approved by dan@review.example.com",
                                               "approved -> planning by specd"}));
  EXPECT_EQ(Refusals().size(), 1u);
}

TEST_F(RolesCliTest, AnAuthorApprovesTheirOwnSpecOnlyWithAllowSelfApproval) {
  Start("review", kRoles);
  const std::string before = File();
  Output own = Specd({"approve", kId}, "alice@example.com");
  EXPECT_EQ(own.exit_code, 1);
  EXPECT_EQ(
      own.err,
      "specd approve: refused: alice@example.com may not approve this spec: it is their own "
      "(metadata.author: alice@example.com) and allowSelfApproval is false; another reviewer approves it\n");
  EXPECT_EQ(File(), before);
  Write(repo_ / ".agents/specd.yaml", std::string(kRoles) + "allowSelfApproval: true\n");
  Output allowed = Specd({"approve", kId}, "alice@example.com");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(Moves().front(), "review -> approved by alice@example.com");
}

TEST_F(RolesCliTest, TheAuthorOrAMaintainerCancelsAndAStrangerCannot) {
  Start("planning", kRoles);
  const std::string before = File();
  Output stranger = Specd({"cancel", kId, "--reason", "not wanted"}, "bob@example.com");
  EXPECT_EQ(stranger.exit_code, 1);
  EXPECT_EQ(stranger.err,
            "specd cancel: refused: bob@example.com may not cancel this spec: cancelling needs its author "
            "(alice@example.com) or a maintainer (roles.maintainers: carol@example.com)\n");
  EXPECT_EQ(File(), before);
  GitOut({"config", "user.email", "alice@example.com"});
  Output author = Specd({"cancel", kId, "--reason", "not wanted"}, "");
  EXPECT_EQ(author.exit_code, 0) << author.err;
  EXPECT_FALSE(fs::exists(repo_ / kRel));
  EXPECT_EQ(Moves(), (std::vector<std::string>{"planning -> cancelled by alice@example.com"}));
}

TEST_F(RolesCliTest, UnusableSettingsStopAVerbBeforeAnyoneActs) {
  Start("review", "");
  Write(repo_ / ".agents/specd.yaml", "roles:\n  reviewers: bob@example.com\n");
  const std::string before = File();
  Output o = Specd({"approve", kId}, "bob@example.com");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err,
            "specd approve: the settings are not usable:\n.agents/specd.yaml:2:14: error: /roles/reviewers: "
            "expected list, got 'bob@example.com'\n");
  EXPECT_EQ(File(), before);
}

TEST_F(RolesCliTest, ConfigListsTheRolesAndWhereTheyCameFrom) {
  Start("review", std::string(kRoles) + "allowSelfApproval: false\n");
  Output o = Specd({"config"}, "");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "targetBranch            main                                                      (HEAD)\n"
            "lease.ttlSeconds        60                                                        (default)\n"
            "lease.heartbeatSeconds  20                                                        (default)\n"
            "lease.maxAttempts       3                                                         (default)\n"
            "gates                   (none)                                                    (default)\n"
            "roles.reviewers         bob@example.com, *@review.example.com, alice@example.com  "
            "(.agents/specd.yaml:2:14)\n"
            "roles.maintainers       carol@example.com                                         "
            "(.agents/specd.yaml:3:16)\n"
            "allowSelfApproval       false                                                     "
            "(.agents/specd.yaml:4:20)\n");
  Output j = Specd({"config", "--json"}, "");
  EXPECT_EQ(j.exit_code, 0) << j.err;
  EXPECT_NE(j.out.find("\"roles.maintainers\": {\n    \"value\": [\n      \"carol@example.com\"\n    ],\n"
                       "    \"from\": \".agents/specd.yaml:3:16\"\n  }"),
            std::string::npos)
      << j.out;
}

}  // namespace
}  // namespace specd::testing
