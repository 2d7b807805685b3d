// The squash merge tests' repository: a git CLI-made history with two files
// and a stack of two diffs over its tip, the message every merge here
// carries, and what they assert with (porcelain, trees, refs). Shared by
// squash_merge_test.cc and checked_out_test.cc.
#pragma once

#include <git2.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/squash_merge.h"
#include "tests/process_util.h"

namespace specd::pipeline {

using specd::testing::ReadAll;
using specd::testing::Replace;
using specd::testing::RunOptions;
using specd::testing::TempDir;
using specd::testing::Write;

inline constexpr char kSpec[] = "spec-2026-01-01-001";
inline constexpr int64_t kWhen = 1767225600;  // 2026-01-01T00:00:00Z

inline std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += std::to_string(i) + "\n";
  return out;
}

inline std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class SquashMergeTest : public specd::testing::GitFixture {
 protected:
  SquashMergeTest() {
    // The commit's zone is the local one; UTC makes its bytes known.
    const char* tz = ::getenv("TZ");
    if (tz) saved_tz_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    tip_ = Commit({{"src/a.c", Lines(1, 10)}, {"src/b.c", "b\n"}, {"docs/y.md", "# y\n"}}, "first");
    Result<std::unique_ptr<GitRepo>> r = GitRepo::Open(repo_.path(), false);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok()) git_ = std::move(*r);
    stack_ = {{"TASK-001", PatchOver(tip_, {{"src/a.c", Replace(Lines(1, 10), "2\n", "two\n")}})},
              {"TASK-002", PatchOver(tip_, {{"src/new.c", "new\n"}})}};
  }
  ~SquashMergeTest() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

  // git with its own index (GIT_INDEX_FILE): HEAD, the index and the working
  // tree are left alone.
  std::string GitWithIndex(const std::string& index, const std::vector<std::string>& args,
                           const std::string& stdin_text = "") {
    RunOptions options = specd::testing::GitEnv(home_.path());
    options.env.emplace_back("GIT_INDEX_FILE", index);
    options.stdin_text = stdin_text;
    specd::testing::Output o = *specd::testing::RunProcess(repo_.path(), "git", args, options);
    EXPECT_EQ(o.exit_code, 0) << "git " << args[0] << ": " << o.out << o.err;
    return Trimmed(o.out);
  }
  // The diff that writes `files` over `from`'s tree.
  std::string PatchOver(const std::string& from,
                        const std::vector<std::pair<std::string, std::string>>& files) {
    TempDir tmp("specd-index");
    const std::string index = tmp / "index";
    GitWithIndex(index, {"read-tree", from});
    for (const auto& [path, bytes] : files) {
      const std::string blob = GitWithIndex(index, {"hash-object", "-w", "--stdin"}, bytes);
      GitWithIndex(index, {"update-index", "--add", "--cacheinfo", "100644," + blob + "," + path});
    }
    return GitWithIndex(index, {"diff", "--cached", from}) + "\n";
  }
  // The tree `git apply --cached` makes of the stack on `from`.
  std::string GitTree(const std::string& from, const std::vector<StackedDiff>& stack) {
    TempDir tmp("specd-index");
    const std::string index = tmp / "index";
    GitWithIndex(index, {"read-tree", from});
    for (const StackedDiff& d : stack) {
      Write(tmp / "patch", d.patch);
      GitWithIndex(index, {"apply", "--cached", tmp / "patch"});
    }
    return GitWithIndex(index, {"write-tree"});
  }

  SquashRequest Request(const std::string& expected) {
    SquashRequest r;
    r.spec_id = kSpec;
    r.title = "Faster startup";
    r.trace_id = "4bf92f3577b34da6";
    r.reviewed_by = "Rita Reviewer <rita@example.com>";
    r.task_ids = {"TASK-001", "TASK-002"};
    r.stack = stack_;
    r.branch = "main";
    r.expected_tip = expected;
    r.author_name = "Ada Author";
    r.author_email = "ada@example.com";
    r.when_seconds = kWhen;
    return r;
  }
  SquashResult Merge(const SquashRequest& r) {
    Result<SquashResult> out = SquashMerge(*git_, r);
    EXPECT_TRUE(out.ok()) << out.error().message;
    return out.ok() ? *out : SquashResult{};
  }
  // Someone else's commit on main (HEAD detached first, then put back).
  std::string CommitOnMain(const std::string& path, const std::string& bytes) {
    const std::string head = Trimmed(Git({"symbolic-ref", "-q", "HEAD"}).out);
    GitOut({"checkout", "-q", "main"});
    const std::string made = Commit({{path, bytes}}, "meanwhile");
    if (head.empty()) GitOut({"checkout", "-q", "--detach"});
    return made;
  }
  static void ExpectConflict(const SquashResult& r, const std::string& tip,
                             const std::vector<std::string>& paths, const std::string& message) {
    EXPECT_EQ(r.outcome, SquashOutcome::kConflict) << r.message;
    EXPECT_EQ(r.tip, tip);
    EXPECT_EQ(r.paths, paths);
    EXPECT_EQ(r.message, message);
  }
  std::string Porcelain(const std::string& cwd = "") {
    return GitOut({"status", "--porcelain", "--untracked-files=all"}, cwd);
  }

  static constexpr char kMessage[] =
      "spec-2026-01-01-001: Faster startup\n\n"
      "Spec-Id: spec-2026-01-01-001\n"
      "Trace-Id: 4bf92f3577b34da6\n"
      "Tasks: TASK-001, TASK-002\n"
      "Reviewed-by: Rita Reviewer <rita@example.com>\n";

  std::optional<std::string> saved_tz_;
  std::string tip_;
  std::unique_ptr<GitRepo> git_;
  std::vector<StackedDiff> stack_;
};

}  // namespace specd::pipeline
