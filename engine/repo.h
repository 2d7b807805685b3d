// Where a repository's specs live (SPEC_FORMAT.md): <root>/.agents/specs/.
#pragma once

#include <optional>
#include <string>

#include "schema/result.h"

namespace specd {

// Walks up from `start` (as git looks for .git) to the first directory that
// holds .agents/specs/ or .git. nullopt when there is none, or when that is
// the file system's root (`/` is nobody's repository).
std::optional<std::string> FindRepoRoot(const std::string& start);

std::string SpecsDir(const std::string& repo_root);  // <root>/.agents/specs

// The git directories of the work tree `root`: its own (`.git`, or where a
// `.git` file's "gitdir:" line points, relative to `root`: a linked worktree
// or a submodule) and the common one (where its `commondir` points, relative
// to it; else the same). Read as git reads them, without git. nullopt when
// `root` has no `.git`, or a `.git` file without a "gitdir:" line.
struct GitDirs {
  std::string git_dir, common_dir;
};
std::optional<GitDirs> FindGitDirs(const std::string& root);

// The spec tree stays inside the repository `root` (canonical): .agents,
// .agents/specs, its active/, archive/ and templates/, .agents/.specd, and
// each folder directly in active/ and archive/ must, where present, be a
// directory that resolves inside `root`. Otherwise an Error (kInvalid)
// naming the path and where it leads: no command reads or writes there.
Status CheckSpecTree(const std::string& root);

// `rel` (a folder under `root`, canonical) is, where present, a directory
// that resolves inside `root` and can be listed: what CheckSpecTree checks
// of each of its folders, for another folder specd writes to (.agents/diffs).
Status CheckRepoDir(const std::string& root, const std::string& rel);

}  // namespace specd
