// specd and specd-git (cli/hand_over.h): the specd a user runs loads no git
// library, and hands the commands that need git over to specd-git beside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "process_util.h"
#include "test_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

// The shared libraries `binary` loads, as the dynamic loader lists them
// (LD_TRACE_LOADED_OBJECTS: the loader prints them and runs nothing).
std::string LoadedLibraries(const std::string& binary) {
  TempDir t;
  RunOptions o;
  o.env = {{"LD_TRACE_LOADED_OBJECTS", "1"}};
  Output out = *RunProcess(t.path(), binary, {}, o);
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("libc.so"), std::string::npos) << out.out;  // the list was printed
  return out.out;
}

TEST(HandOver, SpecdLoadsNeitherLibgit2NorTheWatchersLibraries) {
  const std::string specd = LoadedLibraries(SPECD_BINARY);
  for (const char* lib : {"libgit2", "libssh2", "libmbed", "libkrb5", "libcrypto", "libspdlog"}) {
    EXPECT_EQ(specd.find(lib), std::string::npos) << lib << " in:\n" << specd;
  }
  EXPECT_NE(LoadedLibraries(SPECD_GIT_BINARY).find("libgit2"), std::string::npos);
}

// specd-hook, what the installed hooks run, loads none of the watcher's or
// NATS' libraries (libgit2 is linked in from its archive where Debian ships
// it); it runs the hooks and says so for the rest.
TEST(HandOver, SpecdHookLoadsOnlyWhatTheHooksUse) {
  const std::string hook = LoadedLibraries(SPECD_HOOK_BINARY);
  for (const char* lib : {"libnats", "libssl", "libprotobuf", "libspdlog", "libfmt"}) {
    EXPECT_EQ(hook.find(lib), std::string::npos) << lib << " in:\n" << hook;
  }
  TempDir t;
  Output watch = *RunProcess(t.path(), SPECD_HOOK_BINARY, {"watch"});
  EXPECT_EQ(watch.exit_code, 2);
  EXPECT_EQ(watch.out, "");
  EXPECT_EQ(watch.err, "specd: this executable does not run that command: run specd\n");
}

// A specd copied alone: what needs no git runs, what needs git says where
// specd-git was looked for.
TEST(HandOver, WithoutSpecdGitBesideItAGitCommandSaysWhatIsMissing) {
  TempDir t;
  const std::string specd = t / "bin/specd";
  fs::create_directories(t / "bin");
  fs::copy_file(SPECD_BINARY, specd);
  Write(t / "repo/.agents/specs/active/spec-2026-01-01-001.yaml", kValidSpec);

  Output version = *RunProcess(t.path(), specd, {"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "specd 0.1.0\n");
  Output valid = *RunProcess(t / "repo", specd, {"validate"});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_EQ(valid.out, "1 file: 1 valid, 0 invalid\n");

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"hook", "pre-commit"}, {"next", "--worker", "w"}, {"--help"}}) {
    Output o = *RunProcess(t / "repo", specd, args);
    EXPECT_EQ(o.exit_code, 2) << args[0];
    EXPECT_EQ(o.out, "") << args[0];
    EXPECT_EQ(o.err, "specd: cannot run " + (t / "bin/specd-git") +
                         " (the part of specd that uses git): No such file or directory\n")
        << args[0];
  }
}

// specd-git writes the path of the specd that handed over (SPECD_FRONT) into
// the hooks, not its own.
TEST(HandOver, SpecdGitWritesTheFrontsPathIntoTheHooks) {
  TempDir t;
  ASSERT_EQ(RunProcess(t.path(), "git", {"init", "-q", "repo"}, GitEnv(t.path()))->exit_code, 0);
  RunOptions o = GitEnv(t.path());
  o.env.push_back({"SPECD_FRONT", "/opt/specd/bin/specd"});
  Output installed = *RunProcess(t / "repo", SPECD_GIT_BINARY, {"hooks", "install"}, o);
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  EXPECT_NE(ReadAll(t / "repo/.git/hooks/pre-commit").find("/opt/specd/bin/specd"), std::string::npos);
  EXPECT_EQ(ReadAll(t / "repo/.git/hooks/pre-commit").find(SPECD_GIT_BINARY), std::string::npos);
}

}  // namespace
}  // namespace specd::testing
