// What /proc says about one process: its state, parent, session and CPU
// time (pipeline/proc_watch.h watches a gate's processes with it; a task
// verb asks whether the watcher is stopped, cli/verb_socket.cc). Linux only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace specd {

struct ProcSample {
  pid_t pid = 0, ppid = 0, sid = 0;
  char state = '?';        // /proc/PID/stat's: R running, S sleeping, D disk, T stopped, Z zombie...
  uint64_t cpu_ticks = 0;  // utime + stime, in clock ticks
  std::string comm;
};

// A small file's first 4 KiB, read at once ("" when it is not there): made
// for /proc, where a process that is gone or hides it reads as "".
std::string ReadProcFile(const std::string& path);

// /proc/PID/stat read into `out`; false when the process is gone.
bool ReadProcStat(pid_t pid, ProcSample* out);

}  // namespace specd
