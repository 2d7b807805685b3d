// Where a repository's specs live (SPEC_FORMAT.md): <root>/.agents/specs/.
#pragma once

#include <optional>
#include <string>

namespace specd {

// Walks up from `start` (as git looks for .git) to the first directory that
// holds .agents/specs/ or .git. nullopt when there is none.
std::optional<std::string> FindRepoRoot(const std::string& start);

std::string SpecsDir(const std::string& repo_root);  // <root>/.agents/specs

}  // namespace specd
