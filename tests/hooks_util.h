// A real repository with one spec committed at draft, git run with a home
// of its own, and specd's hooks a call away: what the hook tests share.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/process_util.h"

namespace specd::testing {

// What the pre-commit hook prints last when it stops a commit.
inline std::string Stopped(size_t bad, size_t staged) {
  return "specd: commit stopped: " + std::to_string(bad) + " of " + std::to_string(staged) + " staged spec" +
         (staged == 1 ? "" : "s") + (bad == 1 ? " has" : " have") +
         " errors (the staged version is what counts: fix, `git add`, commit again)\n";
}

class HookRepoFixture : public ::testing::Test {
 public:
  static constexpr char kId[] = "spec-2026-01-01-001";
  static constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";

 protected:
  HookRepoFixture() {
    Init(repo_.path());
    Write(repo_ / kRel, kValidSpec);
    Git({"add", "-A"});
    Git({"commit", "-q", "-m", "first spec"});
  }

  // git with a home of its own (no user config, no global core.hooksPath).
  RunOptions Env() const {
    RunOptions o;
    o.env = {{"HOME", home_.path()},    {"GIT_CONFIG_NOSYSTEM", "1"},     {"SPECD_ACTOR", "tester"},
             {"GIT_DIR", std::nullopt}, {"GIT_INDEX_FILE", std::nullopt}, {"GIT_WORK_TREE", std::nullopt}};
    return o;
  }
  Output Run(const std::string& cwd, const std::string& program, const std::vector<std::string>& args) {
    return *RunProcess(cwd, program, args, Env());
  }
  Output Git(const std::vector<std::string>& args, const std::string& cwd = "") {
    Output o = Run(cwd.empty() ? repo_.path() : cwd, "git", args);
    return o;
  }
  void GitOk(const std::vector<std::string>& args, const std::string& cwd = "") {
    Output o = Git(args, cwd);
    EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  }
  Output Specd(const std::vector<std::string>& args, const std::string& cwd = "") {
    return Run(cwd.empty() ? repo_.path() : cwd, SPECD_BINARY, args);
  }
  void Init(const std::string& dir) {
    Output o = Run(dir, "git", {"init", "-q", "-b", "main", dir});
    ASSERT_EQ(o.exit_code, 0) << o.err;
    for (auto [k, v] : {std::pair{"user.name", "Tess Ter"},
                        {"user.email", "tess@example.com"},
                        {"commit.gpgsign", "false"}}) {
      ASSERT_EQ(Run(dir, "git", {"config", k, v}).exit_code, 0);
    }
  }
  void Install(const std::string& cwd = "") {
    Output o = Specd({"hooks", "install"}, cwd);
    ASSERT_EQ(o.exit_code, 0) << o.err;
  }
  // A clone of the repository in `dir`/mine, as Me <me@example.com>, with
  // specd's hooks installed: a teammate's side. Returns its path.
  std::string CloneWithHooks(const TempDir& dir) {
    const std::string mine = dir / "mine";
    GitOk({"clone", "-q", repo_.path(), mine});
    for (auto [k, v] : {std::pair{"user.name", "Me"}, {"user.email", "me@example.com"}})
      GitOk({"config", k, v}, mine);
    Install(mine);
    return mine;
  }
  // What HEAD holds at kRel.
  std::string Committed(const std::string& rel = kRel) { return Git({"show", "HEAD:" + rel}).out; }

  TempDir home_{"specd-home"};
  TempDir repo_;
};

}  // namespace specd::testing
