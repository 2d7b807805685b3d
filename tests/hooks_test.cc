// specd's git hooks as a newcomer meets them: real repositories (git init,
// clone, worktree add), `specd hooks install`, and real `git commit`s. Each
// test asserts what git and the hook print, the exit status, what got
// committed and, for install/uninstall, the hooks directory byte for byte.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "pipeline/hook_install.h"
#include "schema/validate.h"
#include "tests/hooks_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

constexpr const char* kId = testing::HookRepoFixture::kId;
constexpr const char* kRel = testing::HookRepoFixture::kRel;

namespace fs = std::filesystem;
using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::Stopped;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

using ::specd::testing::Replace;

const std::string kInvalid = Replace(kValidSpec, "    priority: high\n", "    priority: urgent\n");

// What `specd validate` says about `bytes` at kRel, one line each.
std::string Diagnostics(const std::string& bytes, const std::string& rel = kRel) {
  std::string out;
  for (const Diagnostic& d : ValidateSpecText(bytes, rel, ValidateOptions{})) out += FormatText(d) + "\n";
  return out;
}

// name -> mode, size, content and mtime, for every entry of a directory.
std::map<std::string, std::string> Listing(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    struct stat st;
    EXPECT_EQ(::lstat(e.path().c_str(), &st), 0);
    out[e.path().filename().string()] = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                                        std::to_string(st.st_mtim.tv_sec) + "." +
                                        std::to_string(st.st_mtim.tv_nsec) + " " +
                                        ContentHash(ReadAll(e.path()));
  }
  return out;
}

class HooksTest : public testing::HookRepoFixture {};

TEST_F(HooksTest, InstallSaysWhereAndWhat) {
  Output o = Specd({"hooks", "install"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "hooks directory: " + repo_.path() +
                "/.git/hooks\npre-commit: installed\npre-merge-commit: installed\npost-merge: installed\n"
                "post-checkout: installed\npost-rewrite: installed\n");
  EXPECT_EQ(o.err, "");
  Output again = Specd({"hooks", "install"});
  EXPECT_EQ(again.out, "hooks directory: " + repo_.path() +
                           "/.git/hooks\npre-commit: already installed\npre-merge-commit: already installed\n"
                           "post-merge: already installed\n"
                           "post-checkout: already installed\npost-rewrite: already installed\n");
  Output status = Specd({"hooks", "status"});
  EXPECT_EQ(status.out, "hooks directory: " + repo_.path() +
                            "/.git/hooks\npre-commit: installed\npre-merge-commit: installed\npost-merge: "
                            "installed\npost-checkout: installed\npost-rewrite: installed\n");
  EXPECT_EQ(ReadAll(repo_ / ".git/hooks/pre-commit"), pipeline::HookScript("pre-commit", SPECD_BINARY));
}

TEST_F(HooksTest, InvalidStagedSpecStopsTheCommit) {
  Install();
  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Output o = Git({"commit", "-q", "-m", "break it"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, Diagnostics(kInvalid) + Stopped(1, 1));
  EXPECT_EQ(Committed(), kValidSpec);
}

TEST_F(HooksTest, TheIndexCountsNotTheDisk) {
  Install();
  // Valid on disk, invalid in the index: stopped.
  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Write(repo_ / kRel, Replace(kValidSpec, "Something must hold", "Something else holds"));
  Output o = Git({"commit", "-q", "-m", "partially staged"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, Diagnostics(kInvalid) + Stopped(1, 1));
  // Invalid on disk, valid in the index: committed.
  const std::string staged = Replace(kValidSpec, "Something must hold", "Something else holds");
  Write(repo_ / kRel, staged);
  GitOk({"add", kRel});
  Write(repo_ / kRel, kInvalid);
  o = Git({"commit", "-q", "-m", "valid staged"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Committed(), staged);
}

TEST_F(HooksTest, CommitDashAAndCommitPathCheckWhatGitCommits) {
  Install();
  // Staged valid, broken on disk since: `commit -a` and `commit PATH` take the disk's.
  const std::string staged = Replace(kValidSpec, "Something must hold", "Something else holds");
  Write(repo_ / kRel, staged);
  GitOk({"add", kRel});
  Write(repo_ / kRel, kInvalid);
  Output a = Git({"commit", "-q", "-a", "-m", "all"});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_EQ(a.err, Diagnostics(kInvalid) + Stopped(1, 1));
  Output path = Git({"commit", "-q", "-m", "one path", kRel});
  EXPECT_EQ(path.exit_code, 1);
  EXPECT_EQ(path.err, Diagnostics(kInvalid) + Stopped(1, 1));
  // And the reverse: staged broken, fixed on disk.
  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Write(repo_ / kRel, staged);
  Output fixed = Git({"commit", "-q", "-a", "-m", "all, fixed"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(Committed(), staged);
  const std::string again = Replace(staged, "Something else holds", "Something third holds");
  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Write(repo_ / kRel, again);
  Output fixed_path = Git({"commit", "-q", "-m", "one path, fixed", kRel});
  EXPECT_EQ(fixed_path.exit_code, 0) << fixed_path.err;
  EXPECT_EQ(Committed(), again);
}

TEST_F(HooksTest, IllegalStatusJumpStopsTheCommitLegalOnePasses) {
  Install();
  const std::string jumped = Replace(kValidSpec, "status: draft\n", "status: approved\n");
  Write(repo_ / kRel, jumped);
  Output o = Git({"commit", "-q", "-a", "-m", "skip review"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err,
            std::string(kRel) +
                ":3:9: error: /status: draft -> approved is not a step of the spec life cycle (from draft it "
                "goes to review, or cancelled) (HEAD has draft)\n" +
                Stopped(1, 1));
  const std::string review = Replace(kValidSpec, "status: draft\n", "status: review\n");
  Write(repo_ / kRel, review);
  o = Git({"commit", "-q", "-a", "-m", "ready for review"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Committed(), review);
  // A reviewer's step made by hand names the verb to use instead.
  Write(repo_ / kRel, jumped);
  o = Git({"commit", "-q", "-a", "-m", "approve by hand"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err,
            std::string(kRel) +
                ":3:9: error: /status: review -> approved cannot be made by editing the file: a reviewer "
                "runs `specd approve spec-2026-01-01-001` (HEAD has review)\n" +
                Stopped(1, 1));
}

TEST_F(HooksTest, TransitionsSpecdMadeAreCommitted) {
  Install();
  // The author asks for review by hand and commits that.
  Write(repo_ / kRel, Replace(kValidSpec, "status: draft\n", "status: review\n"));
  GitOk({"commit", "-q", "-a", "-m", "ready for review"});
  Output approve = Specd({"approve", kId});  // also records the hand edit in the changeLog
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  Output approved = Git({"commit", "-q", "-a", "-m", "approved"});
  EXPECT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(approved.err, "");
}

TEST_F(HooksTest, TransitionsSpecdMadeFromDraftAreCommitted) {
  Install();
  Output review = Specd({"request-review", kId});
  ASSERT_EQ(review.exit_code, 0) << review.err;
  RunOptions as_rex = Env();
  as_rex.env.emplace_back("SPECD_ACTOR", "rex");
  Output approve = *RunProcess(repo_.path(), SPECD_BINARY, {"approve", kId}, as_rex);
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  const std::string planning = ReadAll(repo_ / kRel);
  ASSERT_NE(planning.find("\nstatus: planning\n"), std::string::npos) << planning;
  Output o = Git({"commit", "-q", "-a", "-m", "approved"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Committed(), planning);
}

TEST_F(HooksTest, UsersOwnHookStillRunsAndItsFailureStillStopsTheCommit) {
  const std::string user_hook =
      "#!/bin/sh\necho \"user hook ran with $# args\" >&2\nexit \"${USER_HOOK_STATUS:-0}\"\n";
  Write(repo_ / ".git/hooks/pre-commit", user_hook);
  fs::permissions(repo_ / ".git/hooks/pre-commit", fs::perms(0755));
  Output o = Specd({"hooks", "install"});
  EXPECT_EQ(o.out,
            "hooks directory: " + repo_.path() +
                "/.git/hooks\npre-commit: installed, chained to your hook (now pre-commit.specd-chained)\n"
                "pre-merge-commit: installed\npost-merge: installed\npost-checkout: installed\npost-rewrite: "
                "installed\n");
  Output status = Specd({"hooks", "status"});
  EXPECT_EQ(status.out,
            "hooks directory: " + repo_.path() +
                "/.git/hooks\npre-commit: installed, chained to your hook\npre-merge-commit: installed\n"
                "post-merge: installed\n"
                "post-checkout: installed\npost-rewrite: installed\n");
  Write(repo_ / kRel, Replace(kValidSpec, "Something must hold", "Something else holds"));
  Output ok = Git({"commit", "-q", "-a", "-m", "both hooks pass"});
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.err, "user hook ran with 0 args\n");
  // The user's hook fails: the commit stops, whatever specd thinks.
  RunOptions failing = Env();
  failing.env.emplace_back("USER_HOOK_STATUS", "3");
  Write(repo_ / kRel, kValidSpec);
  Output stopped = *RunProcess(repo_.path(), "git", {"commit", "-q", "-a", "-m", "user says no"}, failing);
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_EQ(stopped.err, "user hook ran with 0 args\n");
  // specd's failure stops it too, after the user's hook ran.
  Write(repo_ / kRel, kInvalid);
  Output invalid = Git({"commit", "-q", "-a", "-m", "specd says no"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_EQ(invalid.err, "user hook ran with 0 args\n" + Diagnostics(kInvalid) + Stopped(1, 1));
}

TEST_F(HooksTest, InstallThenUninstallLeavesTheHooksDirectoryByteIdentical) {
  const std::string hooks = repo_ / ".git/hooks";
  Write(hooks + "/pre-commit", "#!/bin/sh\nexit 0\n");
  fs::permissions(hooks + "/pre-commit", fs::perms(0750));
  Write(hooks + "/post-rewrite", "#!/bin/sh\ncat >/dev/null\n");
  fs::permissions(hooks + "/post-rewrite", fs::perms(0700));
  const std::map<std::string, std::string> before = Listing(hooks);
  Install();
  EXPECT_NE(Listing(hooks), before);
  Install();  // twice: still one chain
  Output o = Specd({"hooks", "uninstall"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "hooks directory: " + hooks +
                "\npre-commit: removed, your hook is back\npre-merge-commit: removed\npost-merge: removed\n"
                "post-checkout: removed\n"
                "post-rewrite: removed, your hook is back\n");
  EXPECT_EQ(Listing(hooks), before);
  Output status = Specd({"hooks", "status"});
  EXPECT_EQ(status.out,
            "hooks directory: " + hooks +
                "\npre-commit: someone else's hook (install chains to it)\npre-merge-commit: not installed\n"
                "post-merge: not installed\n"
                "post-checkout: not installed\npost-rewrite: someone else's hook (install chains to it)\n");
}

TEST_F(HooksTest, CoreHooksPathIsWhereTheHooksGo) {
  GitOk({"config", "core.hooksPath", ".githooks"});
  Output o = Specd({"hooks", "install"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.substr(0, o.out.find('\n')), "hooks directory: " + repo_.path() + "/.githooks");
  EXPECT_TRUE(fs::exists(repo_ / ".githooks/pre-commit"));
  EXPECT_FALSE(fs::exists(repo_ / ".git/hooks/pre-commit"));
  Write(repo_ / kRel, kInvalid);
  Output stopped = Git({"commit", "-q", "-a", "-m", "break it"});
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_EQ(stopped.err, Diagnostics(kInvalid) + Stopped(1, 1));
}

TEST_F(HooksTest, LinkedWorktreeSharesTheHooksAndChecksItsOwnIndex) {
  Install();
  TempDir other("specd-wt");
  const std::string wt = other / "wt";
  GitOk({"worktree", "add", "-q", "-b", "side", wt});
  Write(wt + "/" + kRel, kInvalid);
  Output o = Git({"commit", "-q", "-a", "-m", "in the worktree"}, wt);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, Diagnostics(kInvalid) + Stopped(1, 1));
  Output status = Specd({"hooks", "status"}, wt);
  EXPECT_EQ(status.out.substr(0, status.out.find('\n')), "hooks directory: " + repo_.path() + "/.git/hooks");
  const std::string review = Replace(kValidSpec, "status: draft\n", "status: review\n");
  Write(wt + "/" + kRel, review);
  o = Git({"commit", "-q", "-a", "-m", "review, in the worktree"}, wt);
  EXPECT_EQ(o.exit_code, 0) << o.err;
}

TEST_F(HooksTest, HookManagersNameTheFiles) {
  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Write(repo_ / "README.md", "not a spec\n");
  Output o = Specd({"hook", "pre-commit", kRel, "README.md"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, Diagnostics(kInvalid) + Stopped(1, 1));
  Output others = Specd({"hook", "pre-commit", "README.md"});
  EXPECT_EQ(others.exit_code, 0) << others.err;
  EXPECT_EQ(others.err, "");
  // From a subdirectory, names are relative to it, as a shell gives them.
  Output sub = Specd({"hook", "pre-commit", "active/spec-2026-01-01-001.yaml"}, repo_ / ".agents/specs");
  EXPECT_EQ(sub.exit_code, 1);
  EXPECT_EQ(sub.err, Diagnostics(kInvalid) + Stopped(1, 1));
}

TEST_F(HooksTest, BinaryHugeAndSymlinkedStagedFilesAreJudgedNotCrashedOn) {
  Install();
  const std::string bin = ".agents/specs/active/spec-2026-01-01-002.yaml";
  Write(repo_ / bin, std::string("\x7f"
                                 "ELF\x02\x01\x01\x00\xff\xfe",
                                 10));
  GitOk({"add", bin});
  Output o = Git({"commit", "-q", "-m", "a binary"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, bin + ":1:1: error: control byte 0x7f is not allowed in YAML (is this a binary file?)\n" +
                       Stopped(1, 1));
  GitOk({"rm", "-q", "--cached", bin});
  fs::remove(repo_ / bin);

  const std::string huge = ".agents/specs/active/spec-2026-01-01-003.yaml";
  Write(repo_ / huge, "id: " + std::string(2 << 20, 'x') + "\n");
  GitOk({"add", huge});
  o = Git({"commit", "-q", "-m", "a huge file"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err,
            FormatText(FileTooLarge(huge, (2 << 20) + 5, LoadLimits{}.max_bytes)) + "\n" + Stopped(1, 1));
  GitOk({"rm", "-q", "--cached", huge});
  fs::remove(repo_ / huge);

  const std::string link = ".agents/specs/active/spec-2026-01-01-004.yaml";
  fs::create_symlink("spec-2026-01-01-001.yaml", repo_ / link);
  GitOk({"add", link});
  o = Git({"commit", "-q", "-m", "a symlink"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, link +
                       ":1:1: warning: a symlink in the index: not checked (the file it points to is checked "
                       "on its own path)\n");
}

TEST_F(HooksTest, PullJournalsATeammatesTransitionsAsGitAndLeavesTheFile) {
  TempDir clone_dir("specd-clone");
  const std::string mine = CloneWithHooks(clone_dir);
  Output reg = Specd({"reconcile"}, mine);
  ASSERT_EQ(reg.exit_code, 0) << reg.err;

  // The teammate (in the origin repository) asks for review with specd.
  RunOptions alice = Env();
  alice.env.emplace_back("SPECD_ACTOR", "alice");
  Output review = *RunProcess(repo_.path(), SPECD_BINARY, {"request-review", kId}, alice);
  ASSERT_EQ(review.exit_code, 0) << review.err;
  GitOk({"commit", "-q", "-a", "-m", "review please"});
  const std::string theirs = ReadAll(repo_ / kRel);

  Output pull = Git({"pull", "-q", "--ff-only"}, mine);
  EXPECT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_EQ(pull.err, "");
  EXPECT_EQ(ReadAll(mine + "/" + kRel), theirs);  // nothing written into git's file
  Output log = Specd({"log", kId}, mine);
  EXPECT_EQ(log.exit_code, 0) << log.err;
  static const std::regex kTime("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");
  static const std::regex kTrace("\\[trace [0-9a-f]+\\]");
  const std::string masked =
      std::regex_replace(std::regex_replace(log.out, kTime, "<at>"), kTrace, "[trace]");
  EXPECT_EQ(masked,
            "#1  <at>  registered at draft  by specd: registered  [trace]\n"
            "#2  <at>  draft -> review  by git: by alice: recorded from the file  [trace]\n");
}

// The installed binary is gone (and no specd on PATH): a commit without a
// spec goes through; one with a spec is stopped, naming the missing path
// and the ways out.
TEST_F(HooksTest, WithoutSpecdOnlyACommitCarryingSpecsIsStopped) {
  const std::string hook = repo_ / ".git/hooks/pre-commit";
  Write(hook, pipeline::HookScript("pre-commit", "/nonexistent/bin/specd"));
  ASSERT_EQ(::chmod(hook.c_str(), 0755), 0);
  RunOptions env = Env();
  env.env.emplace_back("PATH", "/usr/bin:/bin");
  auto git = [&](const std::vector<std::string>& args) {
    return *RunProcess(repo_.path(), "git", args, env);
  };
  Write(repo_ / "README.md", "hello\n");
  ASSERT_EQ(git({"add", "README.md"}).exit_code, 0);
  Output docs = git({"commit", "-q", "-m", "docs"});
  EXPECT_EQ(docs.exit_code, 0) << docs.err;
  EXPECT_EQ(docs.err, "");
  Write(repo_ / kRel, Replace(kValidSpec, "Something must hold", "Something else must hold"));
  ASSERT_EQ(git({"add", kRel}).exit_code, 0);
  Output spec = git({"commit", "-q", "-m", "a spec"});
  EXPECT_EQ(spec.exit_code, 1);
  EXPECT_EQ(
      spec.err,
      "specd hook: /nonexistent/bin/specd is missing (and no specd on PATH), so the staged specs cannot be "
      "checked; commit stopped.\n"
      "specd hook: put specd back at that path, or remove the hooks with `specd hooks uninstall`, or "
      "commit without the check: git commit --no-verify\n");
  EXPECT_EQ(Git({"log", "--format=%s"}).out, "docs\nfirst spec\n");
}

// The hook runs specd-hook when it sits beside the installed specd (one
// start, and a light one, instead of specd's hand-over to specd-git), and
// specd itself when it does not.
TEST_F(HooksTest, TheHookRunsSpecdHookBesideTheInstalledSpecd) {
  TempDir bin;
  const std::string front = bin / "specd";
  Write(front, "#!/bin/sh\necho \"the front ran\" >&2\nexit 3\n");
  ASSERT_EQ(::chmod(front.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(SPECD_HOOK_BINARY, (bin / "specd-hook").c_str()), 0);
  const std::string hook = repo_ / ".git/hooks/pre-commit";
  Write(hook, pipeline::HookScript("pre-commit", front));
  ASSERT_EQ(::chmod(hook.c_str(), 0755), 0);

  Write(repo_ / kRel, kInvalid);
  GitOk({"add", kRel});
  Output checked = Git({"commit", "-q", "-m", "break it"});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_EQ(checked.err, Diagnostics(kInvalid) + Stopped(1, 1));

  ASSERT_EQ(::unlink((bin / "specd-hook").c_str()), 0);
  Output handed = Git({"commit", "-q", "-m", "break it"});
  EXPECT_EQ(handed.exit_code, 1);  // git stops the commit, whatever the hook's exit code
  EXPECT_EQ(handed.err, "the front ran\n");
  EXPECT_EQ(Committed(), kValidSpec);
}

// A staged spec that is a symlink out of the repository, or to what is not
// a file in the index, would carry that to every clone: refused.
TEST_F(HooksTest, StagedSymlinkOutOfTheRepositoryOrToANonFileIsRefused) {
  Install();
  const std::string out = ".agents/specs/active/spec-2026-01-01-002.yaml";
  const std::string up = ".agents/specs/active/spec-2026-01-01-003.yaml";
  const std::string none = ".agents/specs/active/spec-2026-01-01-004.yaml";
  fs::create_symlink("/etc/passwd", repo_ / out);
  fs::create_symlink("../../../../outside.yaml", repo_ / up);
  fs::create_symlink("missing.yaml", repo_ / none);
  GitOk({"add", out, up, none});
  Output o = Git({"commit", "-q", "-m", "links"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err,
            out +
                ":1:1: error: a symlink to /etc/passwd, outside the repository: refused (commit the file, "
                "not a link out)\n" +
                up +
                ":1:1: error: a symlink to ../../../../outside.yaml, outside the repository: refused "
                "(commit the file, not a link out)\n" +
                none + ":1:1: error: a symlink to missing.yaml, which is not a regular file in the index: " +
                "refused\n" + Stopped(3, 3));
}

TEST_F(HooksTest, AMergeBringingAnIllegalStatusJumpIsStoppedByPreMergeCommit) {
  Install();
  EXPECT_EQ(ReadAll(repo_ / ".git/hooks/pre-merge-commit"),
            pipeline::HookScript("pre-merge-commit", SPECD_BINARY));
  // Their branch skips review (past its own pre-commit with --no-verify).
  GitOk({"checkout", "-q", "-b", "other"});
  Write(repo_ / kRel, Replace(kValidSpec, "status: draft\n", "status: approved\n"));
  GitOk({"commit", "-q", "-a", "--no-verify", "-m", "skip review"});
  GitOk({"checkout", "-q", "main"});
  Write(repo_ / "README", "ours\n");  // so the merge makes a commit (not a fast-forward)
  GitOk({"add", "README"});
  GitOk({"commit", "-q", "-m", "ours"});

  Output merge = Git({"merge", "-q", "--no-edit", "other"});
  EXPECT_EQ(merge.exit_code, 1);
  EXPECT_EQ(merge.err,
            std::string(kRel) +
                ":3:9: error: /status: draft -> approved is not a step of the spec life cycle (from draft it "
                "goes to review, or cancelled) (HEAD has draft)\n" +
                Stopped(1, 1) + "Not committing merge; use 'git commit' to complete the merge.\n");
  EXPECT_EQ(Git({"log", "-1", "--format=%s"}).out, "ours\n");  // no merge commit
  // A merge that brings a legal step goes through.
  GitOk({"merge", "--abort"});
  GitOk({"checkout", "-q", "-b", "legal", "main~1"});
  Write(repo_ / kRel, Replace(kValidSpec, "status: draft\n", "status: review\n"));
  GitOk({"commit", "-q", "-a", "-m", "ready for review"});
  GitOk({"checkout", "-q", "main"});
  Output legal = Git({"merge", "-q", "--no-edit", "legal"});
  EXPECT_EQ(legal.exit_code, 0) << legal.err;
  EXPECT_EQ(Committed(), Replace(kValidSpec, "status: draft\n", "status: review\n"));
}

}  // namespace
}  // namespace specd
