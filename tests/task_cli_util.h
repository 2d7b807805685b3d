// A real git repository with one spec in planning, its sources, and specd
// run as a real process in it: what the task and review CLI tests share.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/process_util.h"

namespace specd::testing {

inline constexpr char kId[] = "spec-2026-11-29-001";
inline constexpr char kRel[] = ".agents/specs/active/spec-2026-11-29-001.yaml";

inline std::string Task(int n, const std::string& file, const std::string& deps = "") {
  char id[16];
  std::snprintf(id, sizeof id, "TASK-%03d", n);
  return std::string("  - id: ") + id + "\n    title: Task number " + std::to_string(n) +
         "\n    type: feature\n    status: pending\n    assignedTo: null\n" +
         (deps.empty() ? "" : "    dependencies: [" + deps + "]\n") + "    files: [" + file + "]\n";
}

inline std::string Spec(const std::string& tasks) {
  return std::string("id: ") + kId +
         "\nversion: 1.0.0\nstatus: planning\nmetadata:\n  title: Tasks from the command line\n"
         "  author: tester\nrequirements:\n  - id: REQ-001\n    description: It works\n    priority: high\n"
         "    acceptanceCriteria:\n      - it works\n    status: pending\ntasks:\n" +
         tasks;
}

class TaskCliFixture : public GitFixture {
 protected:
  void Start(const std::string& tasks, const std::string& settings = "") {
    std::vector<std::pair<std::string, std::string>> files = {
        {kRel, Spec(tasks)}, {"src/a.c", "one\ntwo\nthree\n"}, {"src/b.c", "bee\n"}, {"src/c.c", "sea\n"}};
    if (!settings.empty()) files.push_back({".agents/specd.yaml", settings});
    tip_ = Commit(files, "specs and sources");
    ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  }

  Output Specd(const std::vector<std::string>& args, const std::string& input = "") {
    RunOptions o = GitEnv(home_.path());
    o.stdin_text = input;
    o.env.push_back({"SPECD_ACTOR", "tester"});
    return *RunProcess(repo_.path(), SPECD_BINARY, args, o);
  }
  nlohmann::json Claim(const std::vector<std::string>& args) {
    Output o = Specd(args);
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return o.exit_code == 0 ? nlohmann::json::parse(o.out) : nlohmann::json::object();
  }
  // The diff of `file` changed to `bytes` from the working tree (put back after).
  std::string DiffOf(const std::string& file, const std::string& bytes) {
    const std::string old = ReadAll(repo_ / file);
    Write(repo_ / file, bytes);
    std::string patch = GitOut({"diff", "--", file});
    Write(repo_ / file, old);
    return patch;
  }
  std::string File() { return ReadAll(repo_ / kRel); }

  std::string tip_;
};

}  // namespace specd::testing
