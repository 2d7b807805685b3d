#include "cli/hand_over.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "cli/commands.h"
#include "cli/printable.h"

namespace specd::cli {

namespace {

constexpr const char* kFrontEnv = "SPECD_FRONT";  // set by specd for specd-git only

char** g_argv = nullptr;
std::optional<std::string> g_front;  // specd-git: the specd that handed over

std::optional<std::string> ThisExecutable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
  if (n <= 0 || n == static_cast<ssize_t>(sizeof buf)) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

void RememberArgs(char** argv) {
  g_argv = argv;
  if (const char* front = std::getenv(kFrontEnv); front && *front == '/') g_front = front;
  ::unsetenv(kFrontEnv);
}

CommandLine ReadCommandLine(int argc, char** argv) {
  CommandLine line;
  line.version = argc == 2 && std::string_view(argv[1]) == "--version";
  for (int i = 1; i < argc && line.word.empty(); ++i) {
    std::string_view arg = argv[i];
    if (arg.empty() || arg[0] == '-') {
      line.help = line.help || arg == "-h" || arg == "--help";
      continue;
    }
    line.word = arg;
    for (const Command& c : Commands()) {
      if (arg == c.name) line.command = &c;
    }
  }
  return line;
}

bool RunsInSpecdGit(const CommandLine& line) {
  if (!IsFront()) return false;
  if (line.command) return line.command->setup == nullptr;
  // A task verb runs here up to its first step: asking a running watcher
  // (verb_socket.h); with none, it hands over then (cmd_tasks.cc).
  return line.word.empty() && line.help;
}

void HandOver() {
  std::optional<std::string> self = ThisExecutable();
  if (!self) {
    std::fprintf(stderr, "specd: cannot read /proc/self/exe: %s\n", std::strerror(errno));
    return;
  }
  const std::string git = self->substr(0, self->rfind('/') + 1) + "specd-git";
  std::fflush(nullptr);
  ::setenv(kFrontEnv, self->c_str(), 1);
  ::execv(git.c_str(), g_argv);
  const int err = errno;
  ::unsetenv(kFrontEnv);
  PrintLine(stderr, "specd: cannot run " + git + " (the part of specd that uses git): " + std::strerror(err));
}

std::optional<std::string> SpecdPath() {
  return g_front ? g_front : ThisExecutable();
}

}  // namespace specd::cli
