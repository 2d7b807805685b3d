#include "engine/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace specd {

// A /proc file's first 4 KiB ("" when the process is gone or hides it).
std::string ReadProcFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
// cmajflt utime stime ...": comm may hold spaces and parentheses, so the
// fields are counted from its last ')'.
bool ReadProcStat(pid_t pid, ProcSample* out) {
  const std::string text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  out->pid = pid;
  out->comm = text.substr(open + 1, close - open - 1);
  std::vector<std::string> fields;
  size_t at = close + 1;
  while (fields.size() < 13) {
    at = text.find_first_not_of(' ', at);
    if (at == std::string::npos) return false;
    size_t end = text.find(' ', at);
    fields.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
    at = end;
  }
  out->state = fields[0].empty() ? '?' : fields[0][0];
  out->ppid = static_cast<pid_t>(std::strtol(fields[1].c_str(), nullptr, 10));
  out->sid = static_cast<pid_t>(std::strtol(fields[3].c_str(), nullptr, 10));
  out->cpu_ticks =
      std::strtoull(fields[11].c_str(), nullptr, 10) + std::strtoull(fields[12].c_str(), nullptr, 10);
  return true;
}

}  // namespace specd
