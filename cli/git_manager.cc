#include "cli/git_manager.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "cli/printable.h"
#include "engine/journal.h"
#include "pipeline/spec_merge.h"

namespace specd::cli {

namespace {

// Longer than a gate's own grace (10 s): a `specd gates` child told to stop
// first takes its gate down, SIGKILL included.
constexpr auto kKillGrace = std::chrono::seconds(15);

}  // namespace

GitManager::GitManager(std::string root, std::string journal_path, EventSink* next, int64_t retry_ms)
    : root_(std::move(root)), journal_path_(std::move(journal_path)), next_(next), retry_ms_(retry_ms) {}

GitManager::~GitManager() {
  Stop();
}

void GitManager::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void GitManager::Stop() {
  {
    std::unique_lock<std::mutex> l(mu_);
    stopping_ = true;
    if (child_ > 0) {
      ::kill(-child_, SIGTERM);
      if (!wake_.wait_for(l, kKillGrace, [this] { return child_ == 0; })) ::kill(-child_, SIGKILL);
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GitManager::OnEvent(const EngineEvent& e) {
  if (next_) next_->OnEvent(e);
  if (e.kind != EngineEvent::Kind::kTransition) return;
  if (e.to != "diff-submitted" && e.to != "reviewed" && e.to != "blocked") return;
  {
    std::lock_guard<std::mutex> l(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void GitManager::Loop() {
  bool waiting = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      auto ready = [this] { return poked_ || stopping_; };
      if (waiting) {
        wake_.wait_for(l, std::chrono::milliseconds(retry_ms_), ready);
      } else {
        wake_.wait(l, ready);
      }
      if (stopping_) return;
      poked_ = false;
    }
    waiting = Look();
  }
}

bool GitManager::Look() {
  Result<std::unique_ptr<Journal>> journal = Journal::OpenReadOnly(journal_path_);
  if (!journal.ok()) {
    PrintLine(stderr, "specd watch: the git manager cannot read the journal: " + journal.error().message);
    return true;
  }
  Result<std::vector<std::string>> submitted = (*journal)->SpecIdsIn("diff-submitted");
  if (!submitted.ok()) return true;
  for (const std::string& id : *submitted) RunChild({"gates", id, "--if-needed", "--no-events"});
  Result<std::vector<std::string>> queue = pipeline::MergeQueue(**journal);
  if (!queue.ok() || queue->empty()) return false;
  return RunChild({"merge", "--no-events"}) != 0;
}

int GitManager::RunChild(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"specd"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--repo");
  argv.push_back(root_);
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  // Built before fork: the child of a threaded process may only exec.
  std::vector<std::string> env{"GIT_TERMINAL_PROMPT=0", "GIT_EDITOR=true"};
  for (char** e = environ; *e; ++e) {
    const std::string var = *e;
    if (var.rfind("GIT_TERMINAL_PROMPT=", 0) != 0 && var.rfind("GIT_EDITOR=", 0) != 0) env.push_back(var);
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::unique_lock<std::mutex> l(mu_);
  if (stopping_) return -1;
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execve("/proc/self/exe", raw.data(), envp.data());
    ::_exit(127);
  }
  child_ = pid;
  l.unlock();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  l.lock();
  child_ = 0;
  l.unlock();
  wake_.notify_all();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace specd::cli
