// A worker's submitted patch, read: which files it touches and how, and
// which of those paths its task may not change. Git-format patches only
// (`git diff`, `git diff --binary`, `git format-patch`), parsed by libgit2.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schema/result.h"

namespace specd::pipeline {

struct PatchDelta {
  std::string old_path, new_path;  // "" for /dev/null
  char status = 'M';  // 'A' added, 'D' deleted, 'M' modified, 'R' renamed, 'C' copied, 'T' type change
  bool mode_change = false, binary = false;
};

// The files the patch changes, in patch order. kInvalid, with what to do
// about it: an empty patch ("the diff is empty"); a patch with no
// "diff --git" header (`diff -u` output, or no patch at all); one libgit2
// cannot parse; a binary change without its data ("Binary files ... differ"
// from a `git diff` without --binary). A `git format-patch` mail's header
// and signature are skipped.
Result<std::vector<PatchDelta>> ReadPatch(std::string_view patch);

// Every path the patch touches (old and new: a rename out of scope counts, a
// delete, a mode change) that is not in `files` (the task's declared files:
// exact repository-relative paths; one ending in '/' allows everything under
// that directory), or that is under `.agents/` or has a `.git` component
// whatever `files` says. Each path once, in patch order.
std::vector<std::string> PathsOutOfScope(const std::vector<PatchDelta>& deltas,
                                         const std::vector<std::string>& files);

// A path no diff may change, declared or not: the specs, settings and gates
// under `.agents/`, and anything in a `.git` directory.
bool NeverInDiff(std::string_view path);

}  // namespace specd::pipeline
