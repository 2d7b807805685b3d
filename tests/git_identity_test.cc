// Who acts, as git would say it (engine/git_identity.h): real config files in
// temporary directories, read in git's order, and the same answer real git
// gives for the same files.
#include "engine/git_identity.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/process_util.h"

namespace specd::testing {
namespace {

class GitIdentityTest : public GitFixture {
 protected:
  // The identity at the repository with `env` as the whole environment.
  GitIdentity Read(const std::string& root = "") {
    GitConfigPlaces places{[this](const char* var) -> const char* {
      auto at = env_.find(var);
      return at == env_.end() ? nullptr : at->second.c_str();
    }};
    places.system_file = system_.path() + "/gitconfig";
    return ReadGitIdentity(root.empty() ? repo_.path() : root, places);
  }
  // What real git says, under the same environment (HOME and the rest).
  std::string GitSays(const std::string& key) {
    RunOptions o = GitEnv(home_.path());
    o.env.push_back({"GIT_CONFIG_NOSYSTEM", std::nullopt});
    o.env.push_back({"GIT_CONFIG_SYSTEM", system_.path() + "/gitconfig"});
    for (const char* var : {"XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL"}) {
      auto at = env_.find(var);
      o.env.push_back({var, at == env_.end() ? std::nullopt : std::optional<std::string>(at->second)});
    }
    Output out = *RunProcess(repo_.path(), "git", {"config", "--get", key}, o);
    if (!out.out.empty() && out.out.back() == '\n') out.out.pop_back();
    return out.out;
  }

  std::map<std::string, std::string> env_{{"HOME", home_.path()}};
  TempDir system_{"specd-etc"};
};

TEST_F(GitIdentityTest, TheRepositoryWinsOverTheGlobalFilesWhichWinOverTheSystemFile) {
  Write(system_ / "gitconfig", "[user]\n\temail = sys@example.com\n\tname = Sys Admin\n");
  EXPECT_EQ(Read().email, "sys@example.com");
  EXPECT_EQ(Read().name, "Sys Admin");
  Write(home_ / ".gitconfig", "[user]\n\temail = home@example.com\n");
  EXPECT_EQ(Read().email, "home@example.com");
  EXPECT_EQ(Read().name, "Sys Admin");  // each key on its own
  GitOut({"config", "user.email", "repo@example.com"});
  EXPECT_EQ(Read().email, "repo@example.com");
  EXPECT_EQ(Read().email, GitSays("user.email"));
  env_["GIT_CONFIG_NOSYSTEM"] = "1";
  EXPECT_EQ(Read().name, "");
  env_["GIT_CONFIG_NOSYSTEM"] = "false";
  EXPECT_EQ(Read().name, "Sys Admin");
}

TEST_F(GitIdentityTest, TheGlobalFilesAreXdgThenHomeOrGitConfigGlobalAlone) {
  Write(home_ / ".config/git/config", "[user]\n  name = From Xdg Default\n  email = xdg@example.com\n");
  EXPECT_EQ(Read().email, "xdg@example.com");
  Write(home_ / ".gitconfig", "[user]\n  email = home@example.com\n");
  EXPECT_EQ(Read().email, "home@example.com");  // ~/.gitconfig is read after the XDG file
  EXPECT_EQ(Read().name, "From Xdg Default");
  TempDir xdg("specd-xdg");
  Write(xdg / "git/config", "[user]\n  name = From Xdg Home\n");
  env_["XDG_CONFIG_HOME"] = xdg.path();
  EXPECT_EQ(Read().name, "From Xdg Home");
  EXPECT_EQ(Read().name, GitSays("user.name"));
  Write(xdg / "only", "[user]\n  email = only@example.com\n");
  env_["GIT_CONFIG_GLOBAL"] = xdg / "only";
  EXPECT_EQ(Read().email, "only@example.com");
  EXPECT_EQ(Read().name, "");  // neither ~/.gitconfig nor the XDG file is read
  EXPECT_EQ(Read().email, GitSays("user.email"));
}

TEST_F(GitIdentityTest, ValuesAreReadAsGitReadsThem) {
  // Section and key names in any case, quotes, escapes, comments, a line
  // continued, a header with a value on its line, sections that only look
  // like [user], and the last value winning.
  const char* cases[][2] = {
      {"[User]\n\tEMAIL = first@example.com\n\temail = \" Quoted@Example.com \" # note\n",
       " Quoted@Example.com "},
      {"[user] email = inline@example.com ; a comment\n", "inline@example.com"},
      {"[user]\n email = a\\\n b@example.com\n", "a b@example.com"},
      {"[user]\n email = \"semi;colon#hash\"@example.com\n", "semi;colon#hash@example.com"},
      {"[user]\n email = esc\\\"aped\\\\@example.com\n", "esc\"aped\\@example.com"},
      {"[user]\n email = kept@example.com\n[user \"work\"]\n email = sub@example.com\n"
       "[user.old]\n email = old@example.com\n[users]\n email = no@example.com\n",
       "kept@example.com"},
      {"# [user]\n; email = no@example.com\n[user]\n\n  email=tight@example.com\n", "tight@example.com"},
      {"[user]\r\n\temail = crlf@example.com\r\n", "crlf@example.com"},
  };
  for (const auto& [text, expected] : cases) {
    Write(repo_ / ".git/config", std::string("[core]\n\tbare = false\n") + text);
    EXPECT_EQ(Read().email, expected) << text;
    EXPECT_EQ(GitSays("user.email"), expected) << text;
  }
}

TEST_F(GitIdentityTest, IncludePathIsFollowedAndIncludeIfIgnored) {
  Write(home_ / "identity/work.inc", "[user]\n  email = included@example.com\n");
  Write(home_ / ".gitconfig",
        "[user]\n  email = before@example.com\n[include]\n  path = identity/work.inc\n"
        "[includeIf \"gitdir:/\"]\n  path = ~/never.inc\n");
  Write(home_ / "never.inc", "[user]\n  email = never@example.com\n");
  EXPECT_EQ(Read().email, "included@example.com");
  Write(home_ / ".gitconfig",
        "[include]\n  path = ~/identity/work.inc\n[user]\n  email = after@example.com\n");
  EXPECT_EQ(Read().email, "after@example.com");  // a later value wins over the included one
  Write(home_ / "loop.inc", "[include]\n  path = loop.inc\n[user]\n  name = Loop\n");
  Write(home_ / ".gitconfig", "[include]\n  path = loop.inc\n");
  EXPECT_EQ(Read().name, "Loop");  // an include of itself ends
}

TEST_F(GitIdentityTest, ALinkedWorktreeReadsTheMainRepositorysConfigAndItsOwn) {
  Commit({{"a.txt", "a\n"}}, "first");
  GitOut({"config", "user.email", "main@example.com"});
  TempDir wt_parent("specd-wt");
  const std::string wt = wt_parent / "linked";
  GitOut({"worktree", "add", "-q", wt});
  EXPECT_EQ(Read(wt).email, "main@example.com");
  GitOut({"config", "extensions.worktreeConfig", "true"});
  GitOut({"config", "--worktree", "user.email", "linked@example.com"}, wt);
  EXPECT_EQ(Read(wt).email, "linked@example.com");
  EXPECT_EQ(Read().email, "main@example.com");
}

TEST_F(GitIdentityTest, NoRepositoryAndNoFilesIsNoIdentity) {
  TempDir plain("specd-plain");
  GitIdentity id = Read(plain.path());
  EXPECT_EQ(id.email, "");
  EXPECT_EQ(id.name, "");
}

}  // namespace
}  // namespace specd::testing
