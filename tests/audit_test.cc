// Issue 15, item 4: `specd audit` and `specd hook pre-receive` prove each
// approval from git history. Real repositories, real `git commit`s (signed
// with an SSH key made here, checked by the real ssh-keygen), a real bare
// repository with the real pre-receive hook, and a real push.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/hooks_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

constexpr const char* kId = testing::HookRepoFixture::kId;
constexpr const char* kRel = testing::HookRepoFixture::kRel;

using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

// tester wrote the spec (kValidSpec's metadata.author) and reviews too.
constexpr char kRoles[] =
    "roles:\n"
    "  reviewers: [bob@example.com, tester]\n"
    "  maintainers: [alice@example.com]\n";

struct Person {
  const char* name;
  const char* email;
};
constexpr Person kAlice{"Alice", "alice@example.com"};
constexpr Person kBob{"Bob", "bob@example.com"};
constexpr Person kMallory{"Mallory", "mallory@example.com"};
constexpr Person kTester{"Tess Ter", "tester"};

// Where changeLog item `index` starts in `text` (its "  - at:" line), and its `at`.
std::pair<int, std::string> EntryAt(const std::string& text, size_t index) {
  std::istringstream lines(text);
  int number = 0;
  size_t seen = 0;
  bool in_log = false;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line == "changeLog:") in_log = true;
    if (!in_log || line.rfind("  - at: ", 0) != 0) continue;
    if (seen++ != index) continue;
    std::string at = line.substr(8);
    at.erase(std::remove(at.begin(), at.end(), '"'), at.end());
    return {number, at};
  }
  return {0, ""};
}

class AuditTest : public testing::HookRepoFixture {
 protected:
  AuditTest() {
    Write(repo_ / ".agents/specd.yaml", kRoles);
    GitOk({"add", "-A"});
    CommitAs(kAlice, "who may do what");
    SpecdOk("tester", {"request-review", kId});
    CommitAs(kTester, "ready for review");
  }

  Output SpecdAs(const std::string& actor, const std::vector<std::string>& args,
                 const std::string& cwd = "") {
    RunOptions o = Env();
    o.env.emplace_back("SPECD_ACTOR", actor);
    return *RunProcess(cwd.empty() ? repo_.path() : cwd, SPECD_BINARY, args, o);
  }
  void SpecdOk(const std::string& actor, const std::vector<std::string>& args) {
    Output o = SpecdAs(actor, args);
    ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  }
  // Commits everything as `who` (no hook runs: what --no-verify does), and
  // returns the commit's id.
  std::string CommitAs(const Person& who, const std::string& message, std::vector<std::string> extra = {},
                       const std::string& cwd = "") {
    std::vector<std::string> args = {"-c", std::string("user.name=") + who.name, "-c",
                                     std::string("user.email=") + who.email};
    for (std::string& e : extra) args.push_back(std::move(e));
    for (const char* a : {"commit", "-q", "-a", "--no-verify", "-m"}) args.push_back(a);
    args.push_back(message);
    GitOk({"add", "-A"}, cwd);
    GitOk(args, cwd);
    return Head(cwd);
  }
  std::string Head(const std::string& cwd = "") {
    std::string id = Git({"rev-parse", "HEAD"}, cwd).out;
    return id.substr(0, id.size() - 1);
  }
  // The audit's line for changeLog item `index` of the committed spec.
  std::string Line(const std::string& commit, size_t index, const std::string& message,
                   const std::string& rule) {
    auto [line, at] = EntryAt(Git({"show", commit + ":" + kRel}).out, index);
    (void)at;
    return commit + " " + kRel + ":" + std::to_string(line) + ":5: /changeLog/" + std::to_string(index) +
           ": " + message + " [" + rule + "]\n";
  }
  std::string At(size_t index) { return EntryAt(ReadAll(repo_ / kRel), index).second; }
};

TEST_F(AuditTest, AnApprovalCommittedByItsReviewerIsProven) {
  SpecdOk("bob@example.com", {"approve", kId});
  CommitAs(kBob, "approved");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(
      audit.out,
      "specd audit: audited 4 commits: 1 step needing a role, each made by who it names, in that role\n");
  EXPECT_EQ(audit.err, "");
}

// What the hook stops (forgery_test.cc) goes in with --no-verify; the audit
// names the commit, the file, the line and the entry.
TEST_F(AuditTest, AnApprovalCommittedByAnotherIsCaughtNamingTheCommit) {
  SpecdOk("bob@example.com", {"approve", kId});  // as mallory would type it, with bob's name
  const std::string forged = CommitAs(kMallory, "approved");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(forged, 1,
                 "review -> approved at " + At(1) +
                     " by bob@example.com: committed by Mallory <mallory@example.com>, not by "
                     "bob@example.com: an entry that needs a role is committed by the person it names "
                     "(bob@example.com runs `specd approve " +
                     kId + "` and commits it)",
                 "author"));
  EXPECT_EQ(audit.err,
            "specd audit: audited 4 commits: 1 of 1 step needing a role is not proven by the history\n");

  // --since the forgery's parent: one commit; --since the forgery: none.
  Output since = Specd({"audit", "--since", "HEAD~1"});
  EXPECT_EQ(since.exit_code, 1);
  EXPECT_EQ(since.err,
            "specd audit: audited 1 commit: 1 of 1 step needing a role is not proven by the history\n");
  Output none = Specd({"audit", "--since", "HEAD"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "specd audit: audited 0 commits: nothing in them needs a role\n");
  Output bad = Specd({"audit", "--since", "no-such-branch"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("specd audit: 'no-such-branch' names no commit"), std::string::npos) << bad.err;
}

TEST_F(AuditTest, AnApprovalBySomeoneWhoIsNoReviewerIsCaught) {
  // The verb refuses mallory (roles bind it too); typed in, and committed by her.
  SpecdOk("bob@example.com", {"approve", kId});
  Write(repo_ / kRel, Replace(ReadAll(repo_ / kRel), "actor: bob@example.com", "actor: mallory@example.com"));
  const std::string commit = CommitAs(kMallory, "approved");
  Output audit = Specd({"audit", "--json"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_NE(audit.out.find("\"rule\": \"roles.reviewers\""), std::string::npos) << audit.out;
  EXPECT_NE(
      audit.out.find("\"message\": \"review -> approved at " + At(1) +
                     " by mallory@example.com: mallory@example.com may not approve this spec: approving "
                     "needs a reviewer (roles.reviewers: bob@example.com, tester)\""),
      std::string::npos)
      << audit.out;
  EXPECT_NE(audit.out.find("\"commit\": \"" + commit + "\""), std::string::npos) << audit.out;
}

TEST_F(AuditTest, SelfApprovalIsCaughtUnlessTheSettingsAllowIt) {
  // The verb refuses tester's approval of their own spec; typed in, it is
  // committed by tester with --no-verify.
  SpecdOk("bob@example.com", {"approve", kId});
  Write(repo_ / kRel, Replace(ReadAll(repo_ / kRel), "actor: bob@example.com", "actor: tester"));
  const std::string own = CommitAs(kTester, "approved my own");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(own, 1,
                 "review -> approved at " + At(1) +
                     " by tester: tester may not approve this spec: it is their own (metadata.author: "
                     "tester) and allowSelfApproval is false; another reviewer approves it",
                 "allowSelfApproval"));

  // Allowed by a maintainer first: the same approval is proven.
  GitOk({"reset", "-q", "--hard", "HEAD~1"});
  Write(repo_ / ".agents/specd.yaml", std::string(kRoles) + "allowSelfApproval: true\n");
  CommitAs(kAlice, "self-approval is fine here");
  GitOk({"checkout", "-q", own, "--", kRel});
  CommitAs(kTester, "approved my own");
  Output allowed = Specd({"audit"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  EXPECT_EQ(
      allowed.out,
      "specd audit: audited 5 commits: 2 steps needing a role, each made by who it names, in that role\n");
}

// Bob approves in his clone and commits; this clone merges his branch. The
// merge commit is Alice's, and brings nothing of its own: bob's commit
// brought the approval, and it is his.
TEST_F(AuditTest, AnApprovalArrivingInAMergeIsProvenByTheCommitThatMadeIt) {
  TempDir clone_dir("specd-clone");
  const std::string bobs = clone_dir / "bob";
  GitOk({"clone", "-q", repo_.path(), bobs});
  ASSERT_EQ(SpecdAs("bob@example.com", {"approve", kId}, bobs).exit_code, 0);
  CommitAs(kBob, "approved", {}, bobs);
  Write(repo_ / "README", "mine\n");
  CommitAs(kAlice, "a readme");
  GitOk({"-c", "user.name=Alice", "-c", "user.email=alice@example.com", "pull", "-q", "--no-rebase",
         "--no-edit", bobs, "main"});
  EXPECT_EQ(Git({"rev-list", "--count", "--merges", "HEAD"}).out, "1\n");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  // Judged twice: in bob's commit by its parent's roles, and in the merge by
  // the roles of the branch it is merged into.
  EXPECT_EQ(
      audit.out,
      "specd audit: audited 6 commits: 2 steps needing a role, each made by who it names, in that role\n");
}

// An entry only specd writes, under a person's name, and a person's step
// under specd's: typed, whoever commits them.
TEST_F(AuditTest, StepsUnderTheWrongKindOfNameAreCaught) {
  SpecdOk("bob@example.com", {"approve", kId});
  Write(repo_ / kRel, Replace(ReadAll(repo_ / kRel), "actor: bob@example.com", "actor: specd"));
  const std::string commit = CommitAs(kBob, "approved by the engine, supposedly");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(commit, 1,
                 "review -> approved at " + At(1) +
                     " by specd: approve is a person's step, and specd writes it under that person's "
                     "name, never under its own: the entry was typed into the file",
                 "life-cycle"));
}

// No entry at all: `status: approved` typed in, committed with --no-verify.
TEST_F(AuditTest, AStatusSetByHandWithoutItsStepsIsCaught) {
  Write(repo_ / kRel, Replace(ReadAll(repo_ / kRel), "status: review\n", "status: approved\n"));
  const std::string commit = CommitAs(kBob, "approved, by hand");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            commit + " " + kRel +
                ":3:9: /status: review -> approved cannot be made by editing the file: a reviewer runs "
                "`specd approve " +
                kId + "` (its first parent has review) [life-cycle]\n");
}

// A forgery made where no roles bind it (a branch with no history, or one
// that forked before the roles) and merged: the merge takes it under the
// roles of the branch it goes into, and who brought it is who committed it.
TEST_F(AuditTest, AForgeryMergedFromABranchWithoutRolesIsCaughtAtTheMerge) {
  SpecdOk("bob@example.com", {"approve", kId});
  const std::string approved = ReadAll(repo_ / kRel);
  GitOk({"checkout", "-q", "--orphan", "elsewhere"});
  GitOk({"rm", "-q", "-r", "-f", "--cached", "."});
  GitOk({"clean", "-q", "-f", "-d", "-x", "."});
  Write(repo_ / kRel, approved);
  const std::string orphan = CommitAs(kMallory, "an approved spec, from nowhere");
  GitOk({"checkout", "-q", "main"});
  GitOk({"-c", "user.name=Mallory", "-c", "user.email=mallory@example.com", "merge", "-q",
         "--allow-unrelated-histories", "--no-edit", "-X", "theirs", "elsewhere"});
  ASSERT_EQ(ReadAll(repo_ / kRel), approved);
  ASSERT_EQ(ReadAll(repo_ / ".agents/specd.yaml"), kRoles);
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(Head(), 1,
                 "review -> approved at " + At(1) + " by bob@example.com (brought by commit " + orphan +
                     "): committed by Mallory <mallory@example.com>, not by bob@example.com: an entry "
                     "that needs a role is committed by the person it names (bob@example.com runs "
                     "`specd approve " +
                     kId + "` and commits it)",
                 "author"));
}

// The life cycle's graph lets specd fail a spec from review, and its author
// reopen it into planning: no approval on the way. specd fails a spec only
// once work has begun, so the entry was typed.
TEST_F(AuditTest, AnApprovalSkippedThroughFailedIsCaught) {
  const std::string review = ReadAll(repo_ / kRel);
  Write(repo_ / kRel,
        Replace(review, "status: review\n", "status: planning\n") +
            "  - at: \"2026-01-02T10:00:00Z\"\n    actor: specd\n    from: review\n    to: failed\n"
            "    reason: attempts used up\n    trace: 1234abcd1234abcd\n"
            "  - at: \"2026-01-02T10:01:00Z\"\n    actor: tester\n    from: failed\n    to: planning\n"
            "    trace: 1234abcd1234abcd\n");
  const std::string commit = CommitAs(kTester, "reopened");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(commit, 1,
                 "review -> failed at 2026-01-02T10:00:00Z by specd: specd marks a spec failed only once "
                 "work has begun (from planning on): the entry was typed into the file",
                 "life-cycle"));
}

// Self-approval hangs on metadata.author: renaming it takes a maintainer.
TEST_F(AuditTest, AnAuthorRenamedByAnyoneButAMaintainerIsCaught) {
  Write(repo_ / kRel, Replace(ReadAll(repo_ / kRel), "  author: tester\n", "  author: someone-else\n"));
  const std::string commit = CommitAs(kTester, "not mine after all");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            commit + " " + kRel +
                ":6:11: /metadata/author: metadata.author changed to 'someone-else' by Tess Ter <tester>, "
                "who is not a maintainer (roles.maintainers: alice@example.com): whose spec it is "
                "decides self-approval [roles.maintainers]\n");
}

// A spec may be named .yml: the engine reads it, so the audit does.
TEST_F(AuditTest, ASpecRenamedToYmlIsAuditedToo) {
  SpecdOk("bob@example.com", {"approve", kId});
  const std::string yml = std::string(kRel).substr(0, std::string(kRel).size() - 5) + ".yml";
  GitOk({"mv", kRel, yml});
  const std::string commit = CommitAs(kMallory, "approved");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_NE(audit.out.find(commit + " " + yml + ":"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("by bob@example.com: committed by Mallory"), std::string::npos) << audit.out;
}

TEST_F(AuditTest, ARolesChangeNeedsAMaintainer) {
  Write(repo_ / ".agents/specd.yaml", Replace(kRoles, "tester]", "tester, mallory@example.com]"));
  const std::string commit = CommitAs(kMallory, "make me a reviewer");
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            commit +
                " .agents/specd.yaml:2:3: /roles: this commit changes who may do what (roles, "
                "allowSelfApproval, requireSignedApprovals, allowedSignersFile or that file), and its "
                "author Mallory <mallory@example.com> is not a maintainer (roles.maintainers: "
                "alice@example.com) [roles.maintainers]\n");
  Output json = Specd({"audit", "--json"});
  EXPECT_NE(json.out.find("\"pointer\": \"/roles\",\n      \"rule\": \"roles.maintainers\","),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"entry\": null"), std::string::npos) << json.out;  // no changeLog entry
}

class SignedAuditTest : public AuditTest {
 protected:
  SignedAuditTest() {
    for (const char* who : {"bob", "mallory"}) {
      Output k =
          Run(keys_.path(), "ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-C", who, "-f", keys_ / who});
      EXPECT_EQ(k.exit_code, 0) << k.err;
    }
    std::string pub = ReadAll(keys_ / "bob.pub");
    pub = pub.substr(0, pub.find(' ', pub.find(' ') + 1));  // "ssh-ed25519 AAAA..."
    Write(repo_ / ".agents/allowed_signers", "bob@example.com " + pub + "\n");
    Write(
        repo_ / ".agents/specd.yaml",
        std::string(kRoles) + "requireSignedApprovals: true\nallowedSignersFile: .agents/allowed_signers\n");
    CommitAs(kAlice, "signed approvals only");
  }
  std::vector<std::string> SignedWith(const std::string& key) {
    return {"-c", "gpg.format=ssh", "-c", "user.signingkey=" + (keys_ / key), "-c", "commit.gpgsign=true"};
  }
  TempDir keys_{"specd-keys"};
};

TEST_F(SignedAuditTest, ConfigSaysWhatAuditAsksOfSignaturesAndWhereItIsSet) {
  Output config = Specd({"config"});
  ASSERT_EQ(config.exit_code, 0) << config.err;
  std::istringstream lines(config.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("requireSignedApprovals", 0) == 0 || line.rfind("allowedSignersFile", 0) == 0)
      rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), 2u) << config.out;
  EXPECT_EQ(rows[0].substr(rows[0].find_first_not_of(' ', 22)),
            "true                     (.agents/specd.yaml:4:25)");
  EXPECT_EQ(rows[1].substr(rows[1].find_first_not_of(' ', 18)),
            ".agents/allowed_signers  (.agents/specd.yaml:5:21)");
}

TEST_F(SignedAuditTest, OnlyAnApprovalSignedByTheReviewersKeyIsProven) {
  SpecdOk("bob@example.com", {"approve", kId});
  const std::string unsigned_commit = CommitAs(kBob, "approved");
  const std::string what = "review -> approved at " + At(1) + " by bob@example.com: ";
  Output audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(unsigned_commit, 1,
                 what + "requireSignedApprovals asks for bob@example.com's signature on the commit: the "
                        "commit is not signed",
                 "signature"));

  GitOk({"reset", "-q", "--soft", "HEAD~1"});
  const std::string mallorys = CommitAs(kBob, "approved", SignedWith("mallory"));
  audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_NE(audit.out.find(mallorys + " " + kRel), std::string::npos) << audit.out;
  EXPECT_NE(
      audit.out.find(what + "requireSignedApprovals asks for bob@example.com's signature on the commit: "
                            "ssh-keygen does not accept it ("),
      std::string::npos)
      << audit.out;

  GitOk({"reset", "-q", "--soft", "HEAD~1"});
  CommitAs(kBob, "approved", SignedWith("bob"));
  audit = Specd({"audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_EQ(
      audit.out,
      "specd audit: audited 5 commits: 2 steps needing a role, each made by who it names, in that role\n");
}

// GPG: the signature is checked with the keyring in GNUPGHOME, and the key's
// user id must be the entry's actor.
class GpgAuditTest : public AuditTest {
 protected:
  GpgAuditTest() {
    Write(repo_ / ".agents/specd.yaml", std::string(kRoles) + "requireSignedApprovals: true\n");
    CommitAs(kAlice, "signed approvals only");
    for (const char* uid : {"Bob <bob@example.com>", "Mallory <mallory@example.com>"}) {
      Output k = Gpg({"--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid,
                      "ed25519", "sign", "never"});
      EXPECT_EQ(k.exit_code, 0) << k.err;
    }
  }
  ~GpgAuditTest() override { Run(gnupg_.path(), "gpgconf", {"--kill", "gpg-agent"}); }
  RunOptions WithKeyring() const {
    RunOptions o = Env();
    o.env.emplace_back("GNUPGHOME", gnupg_.path());
    return o;
  }
  Output Gpg(const std::vector<std::string>& args) {
    return *RunProcess(gnupg_.path(), "gpg", args, WithKeyring());
  }
  std::string CommitSigned(const Person& who, const std::string& key) {
    GitOk({"add", "-A"});
    Output o =
        *RunProcess(repo_.path(), "git",
                    {"-c", std::string("user.name=") + who.name, "-c", std::string("user.email=") + who.email,
                     "-c", "gpg.format=openpgp", "-c", "user.signingkey=" + key, "commit", "-q", "-a", "-S",
                     "--no-verify", "-m", "approved"},
                    WithKeyring());
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return Head();
  }
  Output Audit() { return *RunProcess(repo_.path(), SPECD_BINARY, {"audit"}, WithKeyring()); }
  TempDir gnupg_{"specd-gnupg"};
};

TEST_F(GpgAuditTest, OnlyAnApprovalSignedWithTheReviewersKeyIsProven) {
  SpecdOk("bob@example.com", {"approve", kId});
  const std::string mallorys = CommitSigned(kBob, "mallory@example.com");
  Output audit = Audit();
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_EQ(audit.out,
            Line(mallorys, 1,
                 "review -> approved at " + At(1) +
                     " by bob@example.com: requireSignedApprovals asks for bob@example.com's signature "
                     "on the commit: it is signed by Mallory <mallory@example.com>, not by "
                     "bob@example.com",
                 "signature"));
  GitOk({"reset", "-q", "--soft", "HEAD~1"});
  CommitSigned(kBob, "bob@example.com");
  audit = Audit();
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

// The server side: a bare repository whose pre-receive runs specd. A push
// with a forged approval is refused, and nothing of it lands; the honest one
// goes in.
TEST_F(AuditTest, PreReceiveRefusesAPushThatBringsAForgery) {
  TempDir server_dir("specd-server");
  const std::string server = server_dir / "origin.git";
  GitOk({"clone", "-q", "--bare", repo_.path(), server});
  Write(server + "/hooks/pre-receive",
        std::string("#!/bin/sh\nexec '") + SPECD_BINARY + "' hook pre-receive\n");
  ASSERT_EQ(Run(server, "chmod", {"+x", "hooks/pre-receive"}).exit_code, 0);
  GitOk({"remote", "add", "origin", server});
  const std::string before = Git({"rev-parse", "main"}, server).out;

  SpecdOk("bob@example.com", {"approve", kId});
  const std::string forged = CommitAs(kMallory, "approved");
  Output push = Git({"push", "-q", "origin", "main"});
  EXPECT_NE(push.exit_code, 0);
  EXPECT_NE(push.err.find("remote: " + forged + " " + kRel), std::string::npos) << push.err;
  EXPECT_NE(push.err.find("[author]"), std::string::npos) << push.err;
  EXPECT_NE(push.err.find("remote: specd hook pre-receive: push refused"), std::string::npos) << push.err;
  EXPECT_NE(push.err.find("pre-receive hook declined"), std::string::npos) << push.err;
  EXPECT_EQ(Git({"rev-parse", "main"}, server).out, before);

  GitOk({"reset", "-q", "--soft", "HEAD~1"});
  CommitAs(kBob, "approved");
  Output honest = Git({"push", "-q", "origin", "main"});
  EXPECT_EQ(honest.exit_code, 0) << honest.err;
  EXPECT_EQ(Git({"rev-parse", "main"}, server).out, Git({"rev-parse", "main"}).out);
}

}  // namespace
}  // namespace specd
