// What the task verbs need from git, without the engine depending on it
// (the way a FactSource adds facts): the commit a claim's work starts from,
// and the check of a submitted diff. pipeline/ implements it with libgit2
// (pipeline/task_workspace.cc); the engine calls it holding the journal's
// write lock, so two claims never build a base at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/settings.h"
#include "schema/result.h"

namespace specd {

// One submitted diff of a spec's stack, in submission order.
struct StackedPatch {
  std::string task_id, patch;
};

// What the gates run on: the target branch's tip with a spec's stack
// applied, and the gates configured there (never a spec's or a candidate's).
struct Candidate {
  std::string branch;  // "main"
  std::string tip;     // 40 hex
  std::string tree;    // 40 hex: the tip's tree with the stack applied
  std::vector<RepoSettings::Gate> gates;
  std::string Where() const { return branch + " " + tip.substr(0, 7); }  // "main 1a2b3c4"
};

class TaskWorkspace {
 public:
  virtual ~TaskWorkspace() = default;
  // The target branch's tip with `stack` applied, as a commit kept under
  // refs/specd/<spec>/<task>/<epoch>: its 40-hex id.
  virtual Result<std::string> MakeBase(const std::string& spec, const std::string& task, int64_t epoch,
                                       const std::vector<StackedPatch>& stack) = 0;
  // Whether `patch` may be submitted for the task: git-format, inside
  // `files`, applying to `base` and to the tip with the other tasks' `stack`.
  // A refusal is kInvalid or kConflict with one message a worker can act on;
  // anything else is an error.
  virtual Status CheckSubmission(const std::string& spec, const std::string& task, const std::string& base,
                                 const std::string& patch, const std::vector<std::string>& files,
                                 const std::vector<StackedPatch>& stack) = 0;
  // The candidate of `stack` on the target's tip as it is now. kConflict
  // when a diff no longer applies there (the message names it); the
  // settings at the tip not usable: kInvalid with their diagnostics.
  virtual Result<Candidate> MakeCandidate(const std::vector<StackedPatch>& stack) = 0;
};

}  // namespace specd
