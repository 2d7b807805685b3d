#include "pipeline/gate_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>

#include "pipeline/proc_watch.h"

extern char** environ;

namespace specd::pipeline {

namespace {

constexpr int64_t kSampleMs = 500;        // CPU is compared over this long once a gate is quiet
constexpr int64_t kPollMs = 100;          // the longest the loop sleeps on the pipe
constexpr int64_t kDrainQuietMs = 2'000;  // after the kill: stop reading a pipe this long silent
constexpr int64_t kUnkillableMs = 5'000;  // after SIGKILL: stop waiting for a process in D state
constexpr size_t kTailBytes = 4096, kTailLines = 40;

int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// "3" for 3000, "1.5" for 1500: how long, in the seconds settings are written in.
std::string Seconds(int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) s += "." + std::to_string((ms % 1000) / 100);
  return s;
}

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the log or terminal is gone: the gate still runs to its outcome
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// The end of the output as the log has it: at most kTailLines lines and
// kTailBytes bytes, starting at a line's start when one fits.
std::string TailOf(const std::string& recent) {
  size_t from = recent.size() > kTailBytes ? recent.size() - kTailBytes : 0;
  size_t pos = recent.size();
  if (pos > from && recent[pos - 1] == '\n') --pos;
  size_t lines = 0;
  for (; pos > from; --pos) {
    if (recent[pos - 1] == '\n' && ++lines == kTailLines) break;
  }
  if (pos == from && from > 0) {  // cut by the byte limit: begin at the next whole line, or a whole character
    size_t nl = recent.find('\n', from);
    if (nl != std::string::npos && nl + 1 < recent.size()) {
      pos = nl + 1;
    } else {
      while (pos < recent.size() && (static_cast<unsigned char>(recent[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  return recent.substr(pos);
}

// Where output goes as it arrives: the log byte for byte, the stream as whole
// lines with the gate's prefix, and the last bytes kept for the tail.
class OutputSink {
 public:
  OutputSink(std::string name, int log_fd, int stream_fd, std::function<void(const std::string&)> on_line)
      : prefix_("[" + std::move(name) + "] "),
        log_fd_(log_fd),
        stream_fd_(stream_fd),
        on_line_(std::move(on_line)) {}

  void Add(const char* data, size_t n) {
    WriteAll(log_fd_, data, n);
    recent_.append(data, n);
    if (recent_.size() > 4 * kTailBytes) recent_.erase(0, recent_.size() - 2 * kTailBytes);
    if (stream_fd_ < 0 && !on_line_) return;
    partial_.append(data, n);
    std::string lines;
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (on_line_) on_line_(partial_.substr(start, nl - start));
      if (stream_fd_ < 0) continue;
      lines += prefix_;
      lines.append(partial_, start, nl + 1 - start);
    }
    partial_.erase(0, start);
    if (stream_fd_ >= 0) WriteAll(stream_fd_, lines.data(), lines.size());
  }

  // A last line without its newline still reaches the stream, ended.
  void Finish() {
    if (partial_.empty()) return;
    if (on_line_) on_line_(partial_);
    const std::string line = prefix_ + partial_ + "\n";
    partial_.clear();
    if (stream_fd_ >= 0) WriteAll(stream_fd_, line.data(), line.size());
  }

  std::string Tail() const { return TailOf(recent_); }

 private:
  std::string prefix_;
  int log_fd_, stream_fd_;
  std::function<void(const std::string&)> on_line_;
  std::string partial_;  // the stream's line not yet ended
  std::string recent_;   // the output's last bytes, for the tail
};

// Ours, with GIT_TERMINAL_PROMPT=0, GIT_EDITOR=true and the caller's on top.
std::vector<std::string> GateEnvironment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> vars = {{"GIT_TERMINAL_PROMPT", "0"},
                                                           {"GIT_EDITOR", "true"}};
  for (const auto& kv : extra) {
    auto same = [&](const auto& v) { return v.first == kv.first; };
    vars.erase(std::remove_if(vars.begin(), vars.end(), same), vars.end());
    vars.push_back(kv);
  }
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (std::none_of(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; })) {
      out.push_back(entry);
    }
  }
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

struct Spawned {
  pid_t pid = -1;
  int out_fd = -1;  // the read end of the gate's stdout + stderr
};

// In the forked child (async-signal-safe calls only): why it could not go on,
// as a tag and errno on the status pipe, then exit.
[[noreturn]] void ChildFail(int status_fd, char tag) {
  const int err = errno;
  char msg[1 + sizeof err];
  msg[0] = tag;
  std::memcpy(msg + 1, &err, sizeof err);
  ssize_t ignored = ::write(status_fd, msg, sizeof msg);
  (void)ignored;
  ::_exit(127);
}

[[noreturn]] void ExecGate(const char* workdir, char* const argv[], char* const envp[], int in_fd, int out_fd,
                           int status_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // a watcher's blocked SIGTERM must not reach the gate
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // nor an ignored SIGPIPE
  if (::setsid() < 0) ChildFail(status_fd, 's');
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) ChildFail(status_fd, 'd');
  if (::chdir(workdir) != 0) ChildFail(status_fd, 'c');
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // nothing else of ours leaks into the gate
  ::execve("/bin/sh", argv, envp);
  ChildFail(status_fd, 'e');
}

Error SpawnError(const GateCommand& gate, const GateRunOptions& options, char tag, int err) {
  const std::string why = std::strerror(err);
  const std::string head = "gate '" + gate.name + "': ";
  switch (tag) {
    case 'c':
      return Error{head + "cannot enter " + options.workdir + ": " + why,
                   err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound
                   : err == EACCES                 ? ErrorCode::kPermission
                                                   : ErrorCode::kOther};
    case 'e':
      return Error{head + "cannot run /bin/sh: " + why, ErrorCode::kOther};
    default:
      return Error{head + "cannot start its session: " + why, ErrorCode::kOther};
  }
}

Result<Spawned> Spawn(const GateCommand& gate, const GateRunOptions& options) {
  std::vector<std::string> env = GateEnvironment(options.env);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", run = gate.run;
  char* argv[] = {sh.data(), dash_c.data(), run.data(), nullptr};
  int out[2], status[2];
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) return Error{"gate '" + gate.name + "': /dev/null: " + std::strerror(errno)};
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in);
    return Error{"gate '" + gate.name + "': pipe: " + std::strerror(errno)};
  }
  if (::pipe2(status, O_CLOEXEC) != 0) {
    for (int fd : {in, out[0], out[1]}) ::close(fd);
    return Error{"gate '" + gate.name + "': pipe: " + std::strerror(errno)};
  }
  const pid_t pid = ::fork();
  if (pid == 0) ExecGate(options.workdir.c_str(), argv, envp.data(), in, out[1], status[1]);
  const int fork_errno = errno;
  for (int fd : {in, out[1], status[1]}) ::close(fd);
  char msg[1 + sizeof(int)] = {};
  ssize_t n = 0;
  if (pid > 0) {
    while ((n = ::read(status[0], msg, sizeof msg)) < 0 && errno == EINTR) {
    }
  }
  ::close(status[0]);
  if (pid > 0 && n <= 0) return Spawned{pid, out[0]};  // exec closed the status pipe: it runs
  ::close(out[0]);
  if (pid < 0) return Error{"gate '" + gate.name + "': fork: " + std::strerror(fork_errno)};
  int ignored = 0;
  while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
  }
  int err = 0;
  std::memcpy(&err, msg + 1, sizeof err);
  return SpawnError(gate, options, msg[0], err);
}

Result<int> OpenLog(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  const int err = errno;
  return Error{"cannot create the gate log " + path + ": " + std::strerror(err),
               err == EACCES || err == EPERM || err == EROFS ? ErrorCode::kPermission : ErrorCode::kOther};
}

}  // namespace

const char* GateOutcomeName(GateOutcome outcome) {
  switch (outcome) {
    case GateOutcome::kPass:
      return "pass";
    case GateOutcome::kFail:
      return "fail";
    case GateOutcome::kTimeout:
      return "timeout";
    case GateOutcome::kBlocked:
      return "blocked";
  }
  return "fail";
}

namespace {

// One running gate: its shell, its pipe, and the loop that decides.
class GateRun {
 public:
  GateRun(const GateCommand& gate, const GateRunOptions& options, Spawned spawned, int log_fd)
      : gate_(gate),
        options_(options),
        pid_(spawned.pid),
        out_fd_(spawned.out_fd),
        sink_(gate.name, log_fd, options.stream_fd, options.on_line) {
    struct stat st {};
    if (::fstat(out_fd_, &st) == 0) pipe_inode_ = st.st_ino;
    // Readable when the shell exits: the loop wakes then, not at its next
    // turn (-1 on a kernel without pidfds: the loop's turn it is).
    exit_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  }
  ~GateRun() {
    if (out_fd_ >= 0) ::close(out_fd_);
    if (exit_fd_ >= 0) ::close(exit_fd_);
  }

  GateResult Run(int64_t started) {
    Watch(started);
    while (!killed_ && Pump(0)) {  // what the shell wrote before it exited
    }
    KillAll();  // timeout, blocked, or what the shell left running
    Drain();
    sink_.Finish();
    GateResult r;
    r.name = gate_.name;
    r.log_path = options_.log_path;
    r.tail = sink_.Tail();
    Judge(&r);
    r.duration_ms = NowMs() - started;
    return r;
  }
  bool stopped() const { return stopped_; }

 private:
  // Until the shell exits, runs past its timeout or is found blocked.
  void Watch(int64_t started) {
    int64_t last_output = started;
    std::optional<std::vector<ProcSample>> sample;
    int64_t sampled_at = 0, next_tick = started + options_.tick_ms;
    while (!ReapNoHang()) {
      if (options_.on_tick && options_.tick_ms > 0 && NowMs() >= next_tick) {
        options_.on_tick();
        next_tick = NowMs() + options_.tick_ms;
      }
      if (options_.stop && *options_.stop) {
        why_ = "stopped";
        killed_ = GateOutcome::kFail;
        stopped_ = true;
        return;
      }
      const int64_t now = NowMs();
      if (now - started >= gate_.timeout_ms) {
        why_ = "ran past its " + Seconds(gate_.timeout_ms) + " s timeout";
        killed_ = GateOutcome::kTimeout;
        return;
      }
      if (now - last_output >= gate_.quiet_ms && (!sample || now - sampled_at >= kSampleMs)) {
        std::vector<ProcSample> procs = GateProcesses(pid_);
        if (sample && Idle(*sample, procs)) {
          why_ = "no output for " + Seconds(gate_.quiet_ms) + " s and " + DescribeWait(procs);
          killed_ = GateOutcome::kBlocked;
          return;
        }
        sample = std::move(procs);
        sampled_at = now;
      }
      if (Pump(kPollMs)) {
        last_output = NowMs();
        sample.reset();
      }
    }
  }

  // Reads what the pipe has within `wait_ms`, waking early when the shell
  // exits (sleeps the whole wait once the pipe is closed and the shell
  // reaped); true when output came.
  bool Pump(int64_t wait_ms) {
    pollfd p[2] = {{eof_ ? -1 : out_fd_, POLLIN, 0}, {reaped_ ? -1 : exit_fd_, POLLIN, 0}};
    if (::poll(p, 2, static_cast<int>(wait_ms)) <= 0 || eof_ || !(p[0].revents & (POLLIN | POLLHUP)))
      return false;
    char buf[65536];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0) return false;  // EINTR: the loop comes back
    if (n == 0) {
      eof_ = true;
      return false;
    }
    sink_.Add(buf, static_cast<size_t>(n));
    return true;
  }

  // True once the shell is reaped (now or before).
  bool ReapNoHang() {
    if (reaped_) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = status;
      reaped_ = true;
    } else if (r < 0 && errno == ECHILD) {  // reaped elsewhere (SIGCHLD ignored): its status is lost
      reaped_ = true;
    }
    return reaped_;
  }

  // The gate's processes, and while its pipe is open whoever else holds it.
  std::vector<pid_t> Remaining() {
    std::vector<pid_t> pids;
    for (const ProcSample& p : GateProcesses(pid_)) pids.push_back(p.pid);
    if (!eof_ && reaped_) {
      for (pid_t holder : PipeHolders(pipe_inode_)) {
        if (std::find(pids.begin(), pids.end(), holder) == pids.end()) pids.push_back(holder);
      }
    }
    return pids;
  }

  void Signal(const std::vector<pid_t>& pids, int sig) {
    ::kill(-pid_, sig);  // the group: ESRCH once it is empty
    for (pid_t p : pids) ::kill(p, sig);
  }

  // SIGTERM to every process of the gate, SIGKILL to those left after the
  // grace; the output keeps being read and the shell reaped meanwhile.
  void KillAll() {
    std::vector<pid_t> left = Remaining();
    if (left.empty()) return;
    Signal(left, SIGTERM);
    const int64_t grace_end = NowMs() + options_.kill_grace_ms;
    while (!(left = Remaining()).empty() && NowMs() < grace_end) {
      Pump(std::min<int64_t>(50, std::max<int64_t>(1, grace_end - NowMs())));
      ReapNoHang();
    }
    const int64_t give_up = NowMs() + kUnkillableMs;
    while (!left.empty() && NowMs() < give_up) {
      Signal(left, SIGKILL);
      Pump(20);
      ReapNoHang();
      left = Remaining();
    }
    ReapNoHang();
  }

  // The rest of the output, up to the pipe's end (or a long silence from a
  // holder that could not be killed).
  void Drain() {
    int64_t last = NowMs();
    while (!eof_ && NowMs() - last < kDrainQuietMs) {
      if (Pump(kPollMs)) last = NowMs();
    }
    if (!reaped_) {  // only a process that ignored SIGKILL (D state) gets here
      int status = 0;
      pid_t r;
      while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
      }
      if (r == pid_) status_ = status;
      reaped_ = true;
    }
  }

  void Judge(GateResult* r) const {
    if (killed_) {
      r->outcome = *killed_;
      r->why = why_;
    } else if (status_ && WIFEXITED(*status_)) {
      r->exit_code = WEXITSTATUS(*status_);
      r->outcome = r->exit_code == 0 ? GateOutcome::kPass : GateOutcome::kFail;
      r->why = "exit " + std::to_string(r->exit_code);
    } else if (status_ && WIFSIGNALED(*status_)) {
      r->why = "killed by signal " + std::to_string(WTERMSIG(*status_));
    } else {
      r->why = "its exit status was lost (reaped elsewhere)";
    }
  }

  const GateCommand& gate_;
  const GateRunOptions& options_;
  pid_t pid_;
  int out_fd_;
  int exit_fd_ = -1;  // a pidfd of the shell
  ino_t pipe_inode_ = 0;
  OutputSink sink_;
  bool eof_ = false, reaped_ = false;
  std::optional<int> status_;
  std::optional<GateOutcome> killed_;
  bool stopped_ = false;  // options_.stop was set: the gate was killed for it
  std::string why_;
};

}  // namespace

Result<GateResult> RunGate(const GateCommand& gate, const GateRunOptions& options) {
  Result<int> log = OpenLog(options.log_path);
  if (!log.ok()) return log.error();
  const int64_t started = NowMs();
  Result<Spawned> spawned = Spawn(gate, options);
  if (!spawned.ok()) {
    ::close(*log);
    return spawned.error();
  }
  GateRun run(gate, options, *spawned, *log);
  GateResult result = run.Run(started);
  ::close(*log);
  if (run.stopped()) {
    return Error{"gate " + gate.name + " was stopped (its processes killed): specd was asked to stop",
                 ErrorCode::kBusy};
  }
  return result;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace specd::pipeline
