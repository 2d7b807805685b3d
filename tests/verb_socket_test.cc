// The task verbs asked of a running `specd watch` through its socket
// (cli/verb_socket.h): the same answers, bytes and exit codes as specd-git
// gives, and specd-git again when no watcher is there.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/process_util.h"
#include "tests/task_cli_util.h"
#include "tests/watch_util.h"
#include "tests/worker_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

class VerbSocketTest : public WorkerFixture {
 protected:
  // `specd` copied alone into a folder of its own: with no specd-git beside
  // it, a task verb can only be answered by a watcher.
  std::string FrontAlone() {
    fs::create_directories(bin_ / "");
    const std::string front = bin_ / "specd";
    if (!fs::exists(front)) fs::copy_file(SPECD_BINARY, front);
    return front;
  }
  Output Front(const std::vector<std::string>& args, const std::string& input = "") {
    RunOptions o = GitEnv(home_.path());
    o.stdin_text = input;
    return *RunProcess(repo_.path(), FrontAlone(), args, o);
  }
  std::unique_ptr<WatchProcess> Watch() {
    std::unique_ptr<WatchProcess> w = StartSpecd({"watch", "--repo", repo_.path()});
    w->WaitForLine("ready in");
    return w;
  }
  std::string Socket() { return repo_ / ".git/specd/verbs.sock"; }
  std::string NoSpecdGit() {
    return "specd: cannot run " + (bin_ / "specd-git") +
           " (the part of specd that uses git): No such file or directory\n";
  }

  TempDir bin_{"specd-bin"};
};

TEST_F(VerbSocketTest, WithAWatcherRunningTheVerbsAreAnsweredByIt) {
  Start(Task(1, "src/a.c") + Task(2, "src/b.c"));
  std::unique_ptr<WatchProcess> w = Watch();
  struct stat st;
  ASSERT_EQ(::stat(Socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // this user's alone

  Output first = Front({"next", "--worker", "w1", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  nlohmann::json lease = nlohmann::json::parse(first.out);
  EXPECT_EQ(lease["task"], "TASK-001");
  EXPECT_EQ(lease["worker"], "w1");
  EXPECT_EQ(lease["base"], tip_);
  EXPECT_EQ(Rev("refs/specd/spec-2026-11-29-001/TASK-001/1"), tip_);

  // A diff that is not UTF-8 travels as it is.
  const std::string patch = DiffOf("src/a.c", "one\ntwo, \xE9t\xE9\nthree\n");
  Output sub = Front({"submit", kId, "TASK-001", "--lease", lease["lease"], "--diff", "-"}, patch);
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, std::string(kId) + " TASK-001 diff-submitted: .agents/diffs/" + kId +
                         "/TASK-001.diff; the spec is in-progress\n");
  EXPECT_EQ(sub.err, std::string(kId) + " TASK-001: submitted by worker:w1, in-progress -> diff-submitted\n" +
                         kId + ": in-progress, waiting: 1 of 2 tasks have not submitted a diff\n");
  EXPECT_EQ(ReadAll(repo_ / ".agents/diffs/spec-2026-11-29-001/TASK-001.diff"), patch);
  EXPECT_NE(File().find("    status: diff-submitted\n    assignedTo: w1\n"), std::string::npos) << File();

  // Refusals and "nothing ready" keep their exit codes and words.
  Output other = Front({"submit", kId, "TASK-001", "--lease", lease["lease"], "--diff", "-"}, patch + "\n");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.out, "");
  EXPECT_EQ(other.err,
            "specd submit: refused: spec-2026-11-29-001 TASK-001: stale lease: lease epoch 1 has "
            "already submitted its diff\n");
  EXPECT_EQ(Front({"claim", kId, "TASK-002", "--worker", "w2"}).exit_code, 0);
  Output none = Front({"next", "--worker", "w3", "--json"});
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_EQ(none.out, "{\n  \"ready\": false\n}\n");
  EXPECT_EQ(none.err, "specd next: no task is ready\n");
  // What a verb reads from a file is read by the specd that was run.
  Output missing = Front({"submit", kId, "TASK-002", "--lease", "1.x", "--diff", "no-such.diff"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "specd submit: cannot read no-such.diff: no such file or not readable\n");

  // One journaled event each, as from specd-git.
  EXPECT_EQ(TaskEvents("claimed", kId, "TASK-001").size(), 1u);
  EXPECT_EQ(TaskEvents("submitted", kId, "TASK-001").size(), 1u);

  // The watcher gone, its socket goes with it, and the verb is specd-git's again.
  ::kill(w->pid(), SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
  EXPECT_FALSE(fs::exists(fs::symlink_status(Socket())));
  Output handed = Front({"next", "--worker", "w4"});
  EXPECT_EQ(handed.exit_code, 2);
  EXPECT_EQ(handed.err, NoSpecdGit());
}

// A watcher killed outright leaves its socket file; nothing answers on it,
// so the verb runs in specd-git, and the next watcher takes the path over.
TEST_F(VerbSocketTest, ASocketLeftByAKilledWatcherIsNotUsedAndIsReplaced) {
  Start(Task(1, "src/a.c") + Task(2, "src/b.c"));
  std::unique_ptr<WatchProcess> killed = Watch();
  ::kill(killed->pid(), SIGKILL);
  killed->Wait();
  ASSERT_TRUE(fs::exists(fs::symlink_status(Socket())));

  EXPECT_EQ(Front({"next", "--worker", "w1"}).err, NoSpecdGit());
  Output local = Specd({"next", "--worker", "w1", "--json"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(nlohmann::json::parse(local.out)["task"], "TASK-001");

  std::unique_ptr<WatchProcess> w = Watch();
  Output second = Front({"next", "--worker", "w2", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(nlohmann::json::parse(second.out)["task"], "TASK-002");
  ::kill(w->pid(), SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
}

// The watcher's verbs use the settings as they are now, as specd-git's do:
// a lease's length follows an edit of .agents/specd.yaml.
TEST_F(VerbSocketTest, TheWatchersVerbsFollowTheSettingsFile) {
  Start(Task(1, "src/a.c") + Task(2, "src/b.c"), "lease:\n  ttlSeconds: 60\n  heartbeatSeconds: 10\n");
  std::unique_ptr<WatchProcess> w = Watch();
  auto lease_seconds = [&](const std::string& worker) {
    Output o = Front({"next", "--worker", worker, "--json"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    nlohmann::json lease = o.exit_code == 0 ? nlohmann::json::parse(o.out) : nlohmann::json::object();
    const std::string expires = lease.value("expiresAt", "");
    std::tm tm{};
    ::strptime(expires.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return static_cast<long>(::timegm(&tm) - ::time(nullptr));
  };
  const long first = lease_seconds("w1");
  EXPECT_GT(first, 40);
  EXPECT_LE(first, 60);
  Write(repo_ / ".agents/specd.yaml", "lease:\n  ttlSeconds: 3600\n  heartbeatSeconds: 60\n");
  const long second = lease_seconds("w2");
  EXPECT_GT(second, 3500);
  EXPECT_LE(second, 3600);
  ::kill(w->pid(), SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
}

// A watcher stopped by a signal (Ctrl-Z in its terminal) takes connections
// and never answers: the verbs pass it by and run in specd-git, stdin
// included. Stood in for by a socket that listens and never accepts, and a
// watch lock naming a stopped process.
TEST_F(VerbSocketTest, AStoppedWatcherIsPassedBy) {
  Start(Task(1, "src/a.c"));
  const pid_t stopped = ::fork();
  ASSERT_GE(stopped, 0);
  if (stopped == 0) {
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_EQ(::kill(stopped, SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(stopped, &status, WUNTRACED), stopped);
  Write(repo_ / ".git/specd/watch.lock", std::to_string(stopped) + "\n");
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, Socket().c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(listener, 8), 0);

  Output local = Specd({"next", "--worker", "w1", "--json"});
  EXPECT_EQ(local.exit_code, 0) << local.err;
  nlohmann::json lease = local.exit_code == 0 ? nlohmann::json::parse(local.out) : nlohmann::json::object();
  const std::string patch = DiffOf("src/a.c", "one\ntwo, changed\nthree\n");
  Output sub = Specd({"submit", kId, "TASK-001", "--lease", lease.value("lease", ""), "--diff", "-"}, patch);
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(ReadAll(repo_ / ".agents/diffs/spec-2026-11-29-001/TASK-001.diff"), patch);
  ::close(listener);
  ::kill(stopped, SIGKILL);
  ::waitpid(stopped, &status, 0);
}

// A socket that cannot be made (a folder in its place) costs the watcher
// nothing but the answering: it says so once and watches; specd-git runs
// the verbs.
TEST_F(VerbSocketTest, AWatcherThatCannotListenSaysSoAndWatchesOn) {
  Start(Task(1, "src/a.c"));
  fs::create_directories(Socket());
  std::unique_ptr<WatchProcess> w = Watch();
  EXPECT_NE(w->output().find("specd watch: the task verbs will not be answered here: cannot listen on " +
                             Socket() + ": "),
            std::string::npos)
      << w->output();
  Output local = Specd({"next", "--worker", "w1", "--json"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(nlohmann::json::parse(local.out)["task"], "TASK-001");
  ::kill(w->pid(), SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
  EXPECT_TRUE(fs::is_directory(Socket()));  // not ours to remove
}

// A repository deeper than a socket address can name (108 bytes) is served
// all the same.
TEST_F(VerbSocketTest, ARepositoryPathLongerThanASocketAddressIsServed) {
  const std::string deep = repo_ / (std::string(60, 'd') + "/" + std::string(60, 'e'));
  fs::create_directories(deep);
  InitRepo(deep);
  Write(deep + "/" + kRel, Spec(Task(1, "src/a.c")));
  Write(deep + "/src/a.c", "one\n");
  GitOut({"add", "-A"}, deep);
  GitOut({"commit", "-q", "-m", "deep"}, deep);
  ASSERT_GT((deep + "/.git/specd/verbs.sock").size(), sizeof(sockaddr_un::sun_path));

  std::unique_ptr<WatchProcess> w = StartSpecd({"watch", "--repo", deep});
  w->WaitForLine("ready in");
  EXPECT_TRUE(fs::exists(fs::symlink_status(deep + "/.git/specd/verbs.sock")));
  RunOptions o = GitEnv(home_.path());
  Output next = *RunProcess(deep, FrontAlone(), {"next", "--worker", "w1", "--json"}, o);
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(nlohmann::json::parse(next.out)["task"], "TASK-001");
  ::kill(w->pid(), SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
  EXPECT_FALSE(fs::exists(fs::symlink_status(deep + "/.git/specd/verbs.sock")));
}

}  // namespace
}  // namespace specd::testing
