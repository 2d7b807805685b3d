#include "pipeline/proc_watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

namespace specd::pipeline {

namespace {

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid > 0 && end != e->d_name && *end == '\0') pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

// /proc/PID/syscall: "NR arg0 arg1 ..." while blocked in a call; "running"
// or "-1 ..." otherwise. The number and its arguments, or nr -1.
struct Syscall {
  long nr = -1;
  std::vector<unsigned long long> args;
};

Syscall ReadSyscall(pid_t pid) {
  const std::string text = ReadProcFile("/proc/" + std::to_string(pid) + "/syscall");
  Syscall s;
  const char* p = text.c_str();
  char* end = nullptr;
  long nr = std::strtol(p, &end, 10);
  if (end == p) return s;
  s.nr = nr;
  for (p = end; s.args.size() < 6; p = end) {
    unsigned long long v = std::strtoull(p, &end, 16);
    if (end == p) break;
    s.args.push_back(v);
  }
  return s;
}

bool IsReadCall(long nr) {
  return nr == SYS_read || nr == SYS_readv || nr == SYS_pread64 || nr == SYS_preadv || nr == SYS_preadv2;
}

bool IsWaitCall(long nr) {
  return nr == SYS_wait4 || nr == SYS_waitid;
}

// An open(2) of a fifo waits for the other end ("wait_for_partner"); it is
// a read when the file is opened read-only.
bool OpensForReading(const Syscall& s) {
  size_t flags_arg = 2;  // openat(dirfd, path, flags)
#ifdef SYS_open
  if (s.nr == SYS_open)
    flags_arg = 1;
  else
#endif
      if (s.nr != SYS_openat) {
    return false;
  }
  return s.args.size() > flags_arg && (s.args[flags_arg] & O_ACCMODE) == O_RDONLY;
}

enum class WaitKind { kRead, kOther, kChildren };

WaitKind Classify(const std::string& wchan, const Syscall& call) {
  if (IsReadCall(call.nr) || wchan.find("_read") != std::string::npos) return WaitKind::kRead;
  if (wchan == "wait_for_partner" && (call.nr < 0 || OpensForReading(call))) return WaitKind::kRead;
  if (IsWaitCall(call.nr) || wchan == "do_wait") return WaitKind::kChildren;
  return WaitKind::kOther;
}

std::string Name(const ProcSample& p, const std::string& wchan) {
  const std::string what = wchan.empty() || wchan == "0" ? std::string("state ") + p.state : wchan;
  return "pid " + std::to_string(p.pid) + " " + p.comm + ": " + what;
}

std::string JoinFirst(const std::vector<std::string>& names, size_t most) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > most) out += ", ...";
  return out;
}

}  // namespace

std::vector<ProcSample> GateProcesses(pid_t leader) {
  std::vector<ProcSample> all;
  for (pid_t pid : AllPids()) {
    ProcSample s;
    if (ReadProcStat(pid, &s)) all.push_back(std::move(s));
  }
  std::set<pid_t> in;  // the leader's session (its number is not reused while the session has members)
  for (const ProcSample& s : all) {
    if (s.sid == leader) in.insert(s.pid);
  }
  for (bool grew = true; grew;) {  // descendants, also those that left the session
    grew = false;
    for (const ProcSample& s : all) {
      if (!in.count(s.pid) && in.count(s.ppid)) grew = in.insert(s.pid).second;
    }
  }
  std::vector<ProcSample> out;
  for (ProcSample& s : all) {
    if (in.count(s.pid) && s.state != 'Z') out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const ProcSample& a, const ProcSample& b) { return a.pid < b.pid; });
  return out;
}

bool Idle(const std::vector<ProcSample>& earlier, const std::vector<ProcSample>& later) {
  if (earlier.size() != later.size()) return false;
  for (size_t i = 0; i < later.size(); ++i) {
    const ProcSample &a = earlier[i], &b = later[i];
    if (a.pid != b.pid || a.cpu_ticks != b.cpu_ticks || a.state == 'R' || b.state == 'R') return false;
  }
  return true;
}

std::string DescribeWait(const std::vector<ProcSample>& procs) {
  std::vector<std::string> readers, others, parents;
  for (const ProcSample& p : procs) {
    std::string wchan = ReadProcFile("/proc/" + std::to_string(p.pid) + "/wchan");
    while (!wchan.empty() && (wchan.back() == '\n' || wchan.back() == '\0')) wchan.pop_back();
    switch (Classify(wchan, ReadSyscall(p.pid))) {
      case WaitKind::kRead:
        readers.push_back(Name(p, wchan));
        break;
      case WaitKind::kOther:
        others.push_back(Name(p, wchan));
        break;
      case WaitKind::kChildren:
        parents.push_back(Name(p, wchan));
        break;
    }
  }
  if (!readers.empty()) return "waiting on a read (" + JoinFirst(readers, 3) + ")";
  const std::vector<std::string>& named = others.empty() ? parents : others;
  if (named.empty()) return "using no CPU";
  return "using no CPU (" + JoinFirst(named, 3) + ")";
}

std::vector<pid_t> ProcessesWorkingIn(const std::string& path) {
  std::error_code ec;
  const std::string dir = std::filesystem::weakly_canonical(path, ec).string();  // as /proc shows it
  if (ec || dir.empty()) return {};
  const pid_t self = ::getpid();
  std::vector<pid_t> out;
  char buf[4096];
  for (pid_t pid : AllPids()) {
    if (pid == self) continue;
    const std::string link = "/proc/" + std::to_string(pid) + "/cwd";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0) continue;
    const std::string_view cwd(buf, static_cast<size_t>(n));
    if (cwd == dir ||
        (cwd.size() > dir.size() && cwd.substr(0, dir.size()) == dir && cwd[dir.size()] == '/')) {
      out.push_back(pid);
    }
  }
  return out;
}

std::vector<pid_t> PipeHolders(ino_t pipe_inode) {
  const std::string want = "pipe:[" + std::to_string(pipe_inode) + "]";
  const pid_t self = ::getpid();
  std::vector<pid_t> out;
  for (pid_t pid : AllPids()) {
    if (pid == self) continue;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      char target[64];
      ssize_t n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target);
      if (n > 0 && std::string(target, static_cast<size_t>(n)) == want) {
        out.push_back(pid);
        break;
      }
    }
    ::closedir(d);
  }
  return out;
}

}  // namespace specd::pipeline
