// What the tests that run real programs share: files read and written
// whole, and a child process run in a chosen directory with its stdout,
// stderr and exit status captured (specd itself, git, a shell).
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_util.h"

namespace specd::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Creates the parent directories; the file holds exactly `bytes` after.
inline void Write(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// In a forked child: runs `program` (looked up in PATH when it has no
// slash) with `args`; exits 123 when it cannot.
[[noreturn]] inline void ExecOrExit(const std::string& program, const std::vector<std::string>& args) {
  std::vector<std::string> copy = args;
  std::string binary = program;
  std::vector<char*> argv;
  argv.push_back(binary.data());
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(binary.c_str(), argv.data());
  ::_exit(123);
}

struct Output {
  int exit_code = -1;  // -1: did not exit normally
  std::string out;
  std::string err;
};

struct RunOptions {
  // Environment changes: a value sets the variable, nullopt unsets it.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  bool as_nobody = false;  // drop root first, so that file permissions apply
  std::string stdin_text;  // what the child reads; empty: /dev/null
};

// Runs `program` (looked up in PATH when it has no slash) with `args` in
// `cwd`. nullopt when the child could not drop to nobody as asked.
inline std::optional<Output> RunProcess(const std::string& cwd, const std::string& program,
                                        const std::vector<std::string>& args,
                                        const RunOptions& options = {}) {
  TempDir io("specd-io");
  const std::string out_path = io / "stdout", err_path = io / "stderr", in_path = io / "stdin";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << options.stdin_text;
  }
  pid_t pid = ::fork();
  if (pid < 0) return Output{};
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (out < 0 || err < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
      ::_exit(120);
    }
    if (::chdir(cwd.c_str()) != 0) ::_exit(121);
    for (const auto& [name, value] : options.env) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
    if (options.as_nobody && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(122);
    }
    ExecOrExit(program, args);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Output o;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = ReadAll(out_path);
  o.err = ReadAll(err_path);
  if (o.exit_code == 122 && options.as_nobody) return std::nullopt;
  EXPECT_NE(o.exit_code, 120) << "could not redirect the child's output";
  EXPECT_NE(o.exit_code, 121) << "could not chdir to " << cwd;
  EXPECT_NE(o.exit_code, 123) << "could not run " << program;
  return o;
}

// git as the tests run it: a home of its own (no user or system config, no
// global core.hooksPath), none of a hook's GIT_* variables, a fixed author.
inline RunOptions GitEnv(const std::string& home) {
  RunOptions o;
  o.env = {{"HOME", home},
           {"GIT_CONFIG_NOSYSTEM", "1"},
           {"GIT_DIR", std::nullopt},
           {"GIT_INDEX_FILE", std::nullopt},
           {"GIT_WORK_TREE", std::nullopt},
           {"GIT_AUTHOR_NAME", "Tess Ter"},
           {"GIT_AUTHOR_EMAIL", "tess@example.com"},
           {"GIT_COMMITTER_NAME", "Tess Ter"},
           {"GIT_COMMITTER_EMAIL", "tess@example.com"}};
  return o;
}

// A real git repository in a temporary directory, on branch `main`, with git
// run under a home of its own (no user or system config) as a fixed author.
class GitFixture : public ::testing::Test {
 protected:
  GitFixture() { InitRepo(repo_.path()); }

  Output Git(const std::vector<std::string>& args, const std::string& cwd = "") {
    return *RunProcess(cwd.empty() ? repo_.path() : cwd, "git", args, GitEnv(home_.path()));
  }
  // git's stdout; a test failure when it does not exit 0.
  std::string GitOut(const std::vector<std::string>& args, const std::string& cwd = "") {
    Output o = Git(args, cwd);
    EXPECT_EQ(o.exit_code, 0) << "git " << args[0] << ": " << o.out << o.err;
    return o.out;
  }
  void InitRepo(const std::string& dir) { GitOut({"init", "-q", "-b", "main", dir}, dir); }

  // Writes each (path, bytes), stages everything, commits; the new commit's id.
  std::string Commit(const std::vector<std::pair<std::string, std::string>>& files,
                     const std::string& message) {
    for (const auto& [path, bytes] : files) Write(repo_ / path, bytes);
    GitOut({"add", "-A"});
    GitOut({"commit", "-q", "-m", message});
    return Rev("HEAD");
  }
  std::string Rev(const std::string& rev, const std::string& cwd = "") {
    std::string out = GitOut({"rev-parse", "--verify", "-q", rev}, cwd);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // What a check must leave alone: branches and tags, HEAD, the index's
  // bytes, the working tree's status (read without refreshing the index).
  std::string RepoState(const std::string& cwd = "") {
    const std::string dir = cwd.empty() ? repo_.path() : cwd;
    std::string index = GitOut({"rev-parse", "--path-format=absolute", "--git-path", "index"}, dir);
    if (!index.empty()) index.pop_back();  // the newline
    return GitOut({"for-each-ref", "refs/heads", "refs/tags"}, dir) +
           Git({"symbolic-ref", "-q", "HEAD"}, dir).out + GitOut({"rev-parse", "HEAD"}, dir) +
           "index: " + std::to_string(std::hash<std::string>{}(ReadAll(index))) + "\nstatus:\n" +
           GitOut({"--no-optional-locks", "status", "--porcelain", "--untracked-files=all"}, dir);
  }
  // How many objects the repository holds (loose and packed).
  std::string ObjectCount() { return GitOut({"count-objects", "-v"}); }

  TempDir home_{"specd-home"};
  TempDir repo_{"specd-git"};
};

}  // namespace specd::testing
