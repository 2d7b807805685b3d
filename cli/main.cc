// specd: the referee and the clerk of a repository's spec files.
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>

#include "cli/commands.h"
#include "cli/hand_over.h"

int main(int argc, char** argv) {
  using namespace specd::cli;
  // Past `ulimit -f`, write() then fails with EFBIG and the error is
  // reported ("File too large") instead of the process dying of SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  RememberArgs(argv);
  const CommandLine line = ReadCommandLine(argc, argv);
  if (RunsInSpecdGit(line)) {  // a command that needs git: specd-git runs it
    HandOver();
    return kExitUsage;
  }
  CLI::App app{"specd keeps a repository's spec files honest."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "specd 0.1.0");
  std::map<CLI::App*, Run> runs;
  // Only the named command is set up (CLI11's options cost every start), none
  // for --version; all of them for a verb, an unknown word or the help.
  const bool all = line.command == nullptr && !line.version;
  for (const Command& c : Commands()) {
    if (!all && &c != line.command) continue;
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    if (c.setup) runs[sub] = c.setup(sub);
  }
  if (all) {
    SetupTransitionVerbs(&app, &runs);
    SetupTaskVerbs(&app, &runs);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    for (auto& [sub, run] : runs) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "specd: internal error: %s\n", e.what());
    return kExitUsage;
  }
  // specd-hook has only what the hooks run.
  std::fprintf(stderr, "specd: this executable does not run that command: run specd\n");
  return kExitUsage;
}
