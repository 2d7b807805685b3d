// specd and specd-git. The `specd` a user runs does not link libgit2 (whose
// dependencies cost every start several milliseconds in the dynamic loader)
// nor the watcher's libraries: a command that needs git runs in specd-git,
// the whole CLI, built next to it. specd hands over by exec (same process,
// same arguments): at once for the commands it lacks (commands.cc), and on
// reaching OpenTaskContext, AddGit or LoadSettings' git part for the others.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/commands.h"

namespace specd::cli {

// Called first in main(): keeps argv for HandOver; in specd-git, takes the
// front's path from the environment (and removes it, so a child does not
// inherit it).
void RememberArgs(char** argv);

// What a command line names, read before CLI11 parses it: main sets up only
// that command, and specd hands the ones it lacks over.
struct CommandLine {
  std::string_view word;             // the first word not an option; "" when none
  const Command* command = nullptr;  // its entry in Commands(); null for a verb or an unknown word
  bool help = false;                 // -h or --help before the word
  bool version = false;              // `specd --version` and nothing else
};
CommandLine ReadCommandLine(int argc, char** argv);

// In specd, true when the command named is one specd-git runs (its table entry
// has no setup), or when no command is named and the help is asked for (its
// list shows the help the setups give). A task verb hands over later, when
// no watcher answers it (cmd_tasks.cc).
bool RunsInSpecdGit(const CommandLine& line);

// Runs specd-git (beside this executable) with this process's arguments.
// Returns only if it cannot be run, after saying why on stderr; the caller
// then exits with kExitUsage.
void HandOver();

// The absolute path of the `specd` the user ran (in specd-git: the one that
// handed over), for what calls specd back: the git hooks, the service unit.
// nullopt when /proc/self/exe cannot be read.
std::optional<std::string> SpecdPath();

}  // namespace specd::cli
