// What the tests of `specd worker` share: a real git repository with specs
// whose tasks form a dependency graph, the stand-in agents of
// fixtures/agents, the worker run to its end (--once) or as a child the test
// signals, and what is left behind read back: the event log, `specd show`,
// task worktrees, branches, logs.
#pragma once

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/process_util.h"
#include "tests/task_cli_util.h"
#include "tests/watch_util.h"

namespace specd::testing {

// A planning spec `id` with `tasks` (made with Task()).
inline std::string SpecWithId(const std::string& id, const std::string& tasks) {
  return Replace(Spec(tasks), std::string("id: ") + kId, "id: " + id);
}

// A fixtures/agents script by name ("correct" -> .../fixtures/agents/correct.sh).
inline std::string Agent(const std::string& name) {
  return std::string(SPECD_SOURCE_DIR) + "/fixtures/agents/" + name + ".sh";
}

// The lines of `text` that contain `needle`.
inline std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  for (size_t at = 0, nl; at < text.size(); at = nl + 1) {
    nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    if (line.find(needle) != std::string::npos) out.push_back(std::move(line));
  }
  return out;
}

// The last line of `text` that contains `needle`; "" when none does.
inline std::string LastLineWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> lines = LinesWith(text, needle);
  return lines.empty() ? "" : lines.back();
}

// Whether `pid` is a live process (not gone, not a zombie).
inline bool Alive(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class WorkerFixture : public TaskCliFixture {
 protected:
  // Commits `specs` (id -> tasks), `files` and the settings, then reconciles.
  void StartSpecs(const std::vector<std::pair<std::string, std::string>>& specs,
                  std::vector<std::pair<std::string, std::string>> files, const std::string& settings = "") {
    for (const auto& [id, tasks] : specs) {
      files.push_back({".agents/specs/active/" + id + ".yaml", SpecWithId(id, tasks)});
    }
    if (!settings.empty()) files.push_back({".agents/specd.yaml", settings});
    tip_ = Commit(files, "specs and sources");
    Output r = Specd({"reconcile"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // `specd worker ARGS` run to its end in the repository.
  Output Worker(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"worker"};
    all.insert(all.end(), args.begin(), args.end());
    return Specd(all);
  }

  // `specd ARGS` as a child the test reads and signals (stdout and stderr
  // in one pipe), under the same git environment as Specd().
  std::unique_ptr<WatchProcess> StartSpecd(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"-u",
                                    "GIT_DIR",
                                    "-u",
                                    "GIT_INDEX_FILE",
                                    "-u",
                                    "GIT_WORK_TREE",
                                    "HOME=" + home_.path(),
                                    "GIT_CONFIG_NOSYSTEM=1",
                                    "SPECD_ACTOR=tester",
                                    SPECD_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    return std::make_unique<WatchProcess>("/usr/bin/env", all);
  }
  // `specd worker ARGS` in the repository, so.
  std::unique_ptr<WatchProcess> StartWorker(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"worker", "--repo", repo_.path()};
    all.insert(all.end(), args.begin(), args.end());
    return StartSpecd(all);
  }

  // Every row of the event log, oldest first (`specd events --json`).
  std::vector<nlohmann::json> Events() {
    Output o = Specd({"events", "--json"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    std::vector<nlohmann::json> out;
    for (const std::string& line : LinesWith(o.out, "{")) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  // The event log's rows of `kind` for one task.
  std::vector<nlohmann::json> TaskEvents(const std::string& kind, const std::string& spec,
                                         const std::string& task) {
    std::vector<nlohmann::json> out;
    for (const nlohmann::json& e : Events()) {
      if (e["kind"] == kind && e["spec"] == spec && e["task"] == task) out.push_back(e);
    }
    return out;
  }

  nlohmann::json Show(const std::string& id) {
    Output o = Specd({"show", id, "--json"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return o.exit_code == 0 ? nlohmann::json::parse(o.out) : nlohmann::json::object();
  }
  nlohmann::json ShowTask(const std::string& id, const std::string& task) {
    const nlohmann::json shown = Show(id);
    for (const nlohmann::json& t : shown["tasks"]) {
      if (t["id"] == task) return t;
    }
    ADD_FAILURE() << task << " not in " << id;
    return nlohmann::json::object();
  }
  // How many of the spec's tasks are in each status.
  std::map<std::string, int> TaskStates(const std::string& id) {
    std::map<std::string, int> out;
    const nlohmann::json shown = Show(id);
    for (const nlohmann::json& t : shown["tasks"]) out[t["status"].get<std::string>()]++;
    return out;
  }

  std::string CommonDir() { return repo_ / ".git"; }
  std::string WorktreePath(const std::string& spec, const std::string& task, int64_t epoch) {
    return CommonDir() + "/specd/worktrees/" + spec + "-" + task + "-" + std::to_string(epoch);
  }
  std::string LogPath(const std::string& spec, const std::string& task, int64_t epoch) {
    return CommonDir() + "/specd/logs/" + spec + "/" + task + "/" + std::to_string(epoch) + ".log";
  }
  // The entries of .git/specd/worktrees (none when the folder is absent).
  std::vector<std::string> TaskWorktreeDirs() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(CommonDir() + "/specd/worktrees", ec)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }
  // `git worktree list --porcelain`'s worktree lines: the repository's own
  // checkout only when every task worktree is gone.
  std::vector<std::string> GitWorktrees() {
    return LinesWith(GitOut({"worktree", "list", "--porcelain"}), "worktree ");
  }
  std::string Branches() { return GitOut({"for-each-ref", "--format=%(refname)", "refs/heads/"}); }

  // The SIGTERM and SIGKILL tests' agent: says its pid, then sleeps until it
  // is killed (no output, no CPU: blocked only after the default --quiet).
  static std::string SleepingAgent() { return "echo \"agent started $$\"; exec sleep 600"; }
  // The pid the sleeping agent printed in `line`.
  static pid_t AgentPid(const std::string& line) {
    const size_t at = line.find("agent started ");
    return at == std::string::npos ? -1 : static_cast<pid_t>(std::stol(line.substr(at + 14)));
  }
};

}  // namespace specd::testing
