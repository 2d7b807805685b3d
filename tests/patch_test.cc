// ReadPatch and PathsOutOfScope on patches made by git itself in a real
// repository: what a submitted diff touches and which of it a task may not.
#include "pipeline/patch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace specd::pipeline {
namespace {

using specd::testing::Output;
using specd::testing::RunProcess;
using specd::testing::Write;

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += std::to_string(i) + "\n";
  return out;
}

std::string Show(const PatchDelta& d) {
  return std::string(1, d.status) + " " + (d.old_path.empty() ? "-" : d.old_path) + " -> " +
         (d.new_path.empty() ? "-" : d.new_path) + (d.mode_change ? " mode" : "") +
         (d.binary ? " binary" : "");
}

std::vector<std::string> Shown(const Result<std::vector<PatchDelta>>& r) {
  std::vector<std::string> out;
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (r.ok()) {
    for (const PatchDelta& d : *r) out.push_back(Show(d));
  }
  return out;
}

class PatchTest : public specd::testing::GitFixture {
 protected:
  PatchTest() { Commit({{"src/a.c", Lines(1, 10)}, {"src/b.c", "b\n"}, {"docs/y.md", "# y\n"}}, "first"); }

  // The staged diff after `change` (`git diff --cached` plus `args`); the
  // repository is put back to HEAD afterwards.
  std::string DiffAfter(const std::function<void()>& change, std::vector<std::string> args = {}) {
    change();
    GitOut({"add", "-A"});
    args.insert(args.begin(), {"diff", "--cached"});
    std::string patch = GitOut(args);
    GitOut({"reset", "-q", "--hard", "HEAD"});
    GitOut({"clean", "-fdq"});
    return patch;
  }
  std::vector<std::string> OutOfScope(const std::string& patch, const std::vector<std::string>& files) {
    Result<std::vector<PatchDelta>> deltas = ReadPatch(patch);
    EXPECT_TRUE(deltas.ok()) << deltas.error().message;
    return deltas.ok() ? PathsOutOfScope(*deltas, files) : std::vector<std::string>{"(unread)"};
  }
  void Chmod(const std::string& rel, mode_t mode) { ASSERT_EQ(::chmod((repo_ / rel).c_str(), mode), 0); }
  void Remove(const std::string& rel) { ASSERT_TRUE(std::filesystem::remove(repo_ / rel)); }
};

TEST_F(PatchTest, GitDiffGivesEveryDeltaInPatchOrder) {
  std::string patch = DiffAfter([&] {
    Write(repo_ / "src/a.c", Lines(1, 11));
    Write(repo_ / "src/new.c", "new\n");
    Remove("docs/y.md");
  });
  EXPECT_EQ(Shown(ReadPatch(patch)),
            (std::vector<std::string>{"D docs/y.md -> -", "M src/a.c -> src/a.c", "A - -> src/new.c"}));
}

TEST_F(PatchTest, FormatPatchMailHeaderAndSignatureAreSkipped) {
  Commit({{"src/a.c", Lines(2, 10)}}, "drop the first line");
  std::string mail = GitOut({"format-patch", "-1", "--stdout"});
  ASSERT_EQ(mail.rfind("From ", 0), 0u) << mail;
  EXPECT_EQ(Shown(ReadPatch(mail)), (std::vector<std::string>{"M src/a.c -> src/a.c"}));
}

TEST_F(PatchTest, DiffUOutputIsRefusedSayingToUseGitDiff) {
  Write(repo_ / "a.orig", Lines(1, 3));
  Write(repo_ / "a.new", Lines(1, 4));
  Output plain = *RunProcess(repo_.path(), "diff", {"-u", "a.orig", "a.new"});
  ASSERT_EQ(plain.exit_code, 1) << plain.err;
  Result<std::vector<PatchDelta>> r = ReadPatch(plain.out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(
      r.error().message,
      "not a git-format patch: make it with `git diff` or `git format-patch` (this looks like `diff -u` "
      "output)");
  Result<std::vector<PatchDelta>> prose = ReadPatch("please change line 5 to five\n");
  ASSERT_FALSE(prose.ok());
  EXPECT_EQ(prose.error().message, "not a git-format patch: make it with `git diff` or `git format-patch`");
}

TEST_F(PatchTest, ATruncatedPatchCannotBeRead) {
  std::string patch = DiffAfter([&] { Write(repo_ / "src/a.c", "1\n2\n3\n4\nfive\n" + Lines(6, 10)); });
  Result<std::vector<PatchDelta>> r = ReadPatch(patch.substr(0, patch.find("-5\n")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().message,
            "the diff cannot be read: invalid patch hunk, expected 7 old lines and 7 new lines");
}

TEST_F(PatchTest, AnEmptyPatchIsRefused) {
  for (const std::string& empty : {std::string(), std::string("\n \n"), DiffAfter([] {})}) {
    Result<std::vector<PatchDelta>> r = ReadPatch(empty);
    ASSERT_FALSE(r.ok()) << "'" << empty << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(r.error().message, "the diff is empty");
  }
}

TEST_F(PatchTest, RenameModeChangeAndDeleteAreRead) {
  std::string patch = DiffAfter([&] {
    GitOut({"mv", "src/b.c", "src/c.c"});
    Chmod("src/a.c", 0755);
    Remove("docs/y.md");
  });
  EXPECT_EQ(
      Shown(ReadPatch(patch)),
      (std::vector<std::string>{"D docs/y.md -> -", "M src/a.c -> src/a.c mode", "R src/b.c -> src/c.c"}));
}

TEST_F(PatchTest, BinaryChangeNeedsItsData) {
  auto change = [&] { Write(repo_ / "img/logo.bin", std::string("a\0b\0c", 5)); };
  Result<std::vector<PatchDelta>> with = ReadPatch(DiffAfter(change, {"--binary"}));
  EXPECT_EQ(Shown(with), (std::vector<std::string>{"A - -> img/logo.bin binary"}));
  std::string without = DiffAfter(change);
  ASSERT_NE(without.find("Binary files /dev/null and b/img/logo.bin differ"), std::string::npos) << without;
  Result<std::vector<PatchDelta>> r = ReadPatch(without);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().message,
            "binary change to img/logo.bin without its data: make the diff with `git diff --binary`");
}

TEST_F(PatchTest, PathsOutsideTheDeclaredFiles) {
  std::string patch = DiffAfter([&] {
    Write(repo_ / "src/a.c", Lines(1, 11));
    Write(repo_ / "docs/y.md", "# why\n");
    Write(repo_ / "src/new.c", "new\n");
  });
  EXPECT_EQ(OutOfScope(patch, {"src/a.c"}), (std::vector<std::string>{"docs/y.md", "src/new.c"}));
  EXPECT_EQ(OutOfScope(patch, {"src/", "docs/y.md"}), std::vector<std::string>{});
  EXPECT_EQ(OutOfScope(patch, {"src", "docs/"}), (std::vector<std::string>{"src/a.c", "src/new.c"}));
}

TEST_F(PatchTest, ARenameOutOfScopeListsBothPaths) {
  std::string patch = DiffAfter([&] {
    std::filesystem::create_directory(repo_ / "lib");
    GitOut({"mv", "src/b.c", "lib/b.c"});
  });
  EXPECT_EQ(OutOfScope(patch, {"src/a.c"}), (std::vector<std::string>{"src/b.c", "lib/b.c"}));
  EXPECT_EQ(OutOfScope(patch, {"src/b.c"}), (std::vector<std::string>{"lib/b.c"}));
  EXPECT_EQ(OutOfScope(patch, {"lib/b.c"}), (std::vector<std::string>{"src/b.c"}));
  EXPECT_EQ(OutOfScope(patch, {"src/b.c", "lib/"}), std::vector<std::string>{});
}

TEST_F(PatchTest, ADeleteAndAModeChangeCount) {
  std::string patch = DiffAfter([&] {
    Remove("docs/y.md");
    Chmod("src/b.c", 0755);
    Write(repo_ / "src/a.c", Lines(1, 11));
  });
  EXPECT_EQ(OutOfScope(patch, {"src/a.c"}), (std::vector<std::string>{"docs/y.md", "src/b.c"}));
}

TEST_F(PatchTest, AgentsAndGitPathsAreRefusedEvenWhenDeclared) {
  Commit({{".agents/specs/active/spec-2026-01-01-001.yaml", specd::testing::kValidSpec}}, "a spec");
  std::string patch = DiffAfter([&] {
    Write(repo_ / ".agents/specs/active/spec-2026-01-01-001.yaml", "id: changed\n");
    Write(repo_ / "src/a.c", Lines(1, 11));
  });
  EXPECT_EQ(OutOfScope(patch, {".agents/", ".agents/specs/active/spec-2026-01-01-001.yaml", "src/a.c"}),
            (std::vector<std::string>{".agents/specs/active/spec-2026-01-01-001.yaml"}));
  EXPECT_TRUE(NeverInDiff(".agents"));
  EXPECT_TRUE(NeverInDiff(".git/config"));
  EXPECT_TRUE(NeverInDiff("vendor/lib/.GIT/hooks/pre-commit"));
  EXPECT_FALSE(NeverInDiff(".gitignore"));
  EXPECT_FALSE(NeverInDiff(".agentsrc"));
  EXPECT_FALSE(NeverInDiff("docs/.agents/notes.md"));
}

TEST(PathsOutOfScope, EachPathOnceInPatchOrder) {
  std::vector<PatchDelta> deltas = {
      {"x.c", "x.c", 'M'}, {"x.c", "y.c", 'C'}, {"", "z.c", 'A'}, {"y.c", "", 'D'}};
  EXPECT_EQ(PathsOutOfScope(deltas, {"z.c"}), (std::vector<std::string>{"x.c", "y.c"}));
}

}  // namespace
}  // namespace specd::pipeline
