// Who the person at a repository is, as git would say it: `user.email`, else
// `user.name`, read from git's config files without libgit2 and without
// running git (the `specd` front links neither: cli/hand_over.h). A small
// reader of the `[user]` section, in git's order: the system file, the global
// ones, the repository's, its worktree's; the last value read wins.
//
// What it does not do: `includeIf` (ignored), GIT_CONFIG_PARAMETERS and
// GIT_CONFIG_COUNT (`git -c`), GIT_AUTHOR_EMAIL / EMAIL, a GIT_DIR other than
// the root's `.git`. `include.path` is followed (relative to the including
// file, `~/` expanded), at most 10 deep.
#pragma once

#include <functional>
#include <string>

namespace specd {

struct GitIdentity {
  std::string email;  // user.email, "" when no file sets it
  std::string name;   // user.name
};

// Where the files are: the environment as git reads it. `getenv` answers
// for a variable, nullptr when unset (tests hand in their own).
struct GitConfigPlaces {
  std::function<const char*(const char*)> getenv;
  std::string system_file = "/etc/gitconfig";  // GIT_CONFIG_SYSTEM overrides; GIT_CONFIG_NOSYSTEM skips
};

// The identity at `repo_root` (its `.git` directory, or the `.git` file of a
// linked worktree). Unreadable or absent files are skipped: git says nothing
// about them either.
GitIdentity ReadGitIdentity(const std::string& repo_root, const GitConfigPlaces& places);

// Each `section.key = value` of one config file's text, in order, as git
// reads it: section and key lowercased (a subsection kept as `section "sub"`
// is passed as "section.sub"), the value unquoted and unescaped, comments
// and line continuations handled; a key without `=` is "true".
void ForEachGitConfigValue(const std::string& text,
                           const std::function<void(const std::string& section, const std::string& key,
                                                    const std::string& value)>& fn);

}  // namespace specd
