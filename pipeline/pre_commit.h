// `specd hook pre-commit` without the printing: the staged specs of the
// commit being made, read from the index git is committing, checked by
// CheckStagedSpecs. Never writes to the work tree or the index; opens the
// journal only when a status change arrives with a changeLog chain.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/git_repo.h"
#include "pipeline/staged_check.h"

namespace specd::pipeline {

inline constexpr char kSpecsPrefix[] = ".agents/specs/";

// A spec file's repository-relative path: under .agents/specs/ but not
// templates/, named *.yaml or *.yml, not a dotfile.
bool IsSpecPath(std::string_view rel);

// The staged specs that differ from HEAD (`paths` empty), or the named ones
// (repository-relative; names that are not spec paths are passed over). A
// spec deleted at one path and added at another with the same file name
// (archived) is one spec moved: HEAD's version is the deleted one. A staged
// symlink pointing outside the repository or at a non-file is left out and,
// with `refused`, said there as an error (without it: passed over with a
// warning like any symlink).
Result<std::vector<StagedSpec>> CollectStagedSpecs(GitRepo* repo, const std::vector<std::string>& paths,
                                                   size_t max_bytes,
                                                   std::vector<Diagnostic>* refused = nullptr);

// Collect + check, with this clone's journal (if there is one) as the
// JournalView.
Result<StagedReport> CheckPreCommit(GitRepo* repo, const std::vector<std::string>& paths,
                                    const ValidateOptions& options);

}  // namespace specd::pipeline
