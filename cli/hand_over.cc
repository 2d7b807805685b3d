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

bool RunsInSpecdGit(int argc, char** argv) {
  if (!IsFront()) return false;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    help = help || word == "-h" || word == "--help";
    if (word.empty() || word[0] == '-') continue;  // --help, --version
    for (const Command& c : Commands()) {
      if (word == c.name) return c.setup == nullptr;
    }
    return IsTaskVerb(word);  // each opens the git workspace (OpenTaskContext)
  }
  return help;  // the list of commands, with the help their setups give
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
