// specd audit: approvals proven from git history. For every changeLog entry
// that needs a role, the commit that brought it (the one whose version of
// the spec has it and none of whose parents' versions do) must be authored
// by the person the entry names, that person must hold the role in the
// settings the commit was made on (its first parent's .agents/specd.yaml),
// and, with requireSignedApprovals, the commit must be signed by them
// (SSH: `ssh-keygen -Y verify` with the allowedSignersFile of that same
// parent; GPG: `gpg --verify` with the keyring in GNUPGHOME).
//
// What is checked:
//   - a person's step (approve, reject: a reviewer; cancel, reopen, unblock:
//     the spec's author or a maintainer; no self-approval unless allowed),
//     judged by the state machine's own role rule (RoleRuleRefusal);
//   - a step only specd or a worker makes, under a person's name, and a
//     person's step under specd's or a worker's name: specd never writes
//     those, so they were typed;
//   - a change to who may do what (roles, allowSelfApproval,
//     requireSignedApprovals, allowedSignersFile, or that file's bytes): by a
//     maintainer of the parent's settings, signed when they ask for it.
// Where the parent has no roles (a first commit has none), nothing is
// checked: without roles anyone may do anything (the roles are first set by
// whoever sets them, and bind the commits after).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/spec_model.h"
#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

struct AuditRange {
  std::vector<std::string> tips;  // revisions audited ("HEAD" when empty)
  std::vector<std::string> hide;  // revisions whose history is left out (--since; a push's old tips)
  bool hide_refs = false;     // leave out what a branch or tag has (a pre-receive hook: audited on arrival)
  bool commits_only = false;  // a tip that names no commit (a tag of a tree) is passed over, not an error
};

struct AuditViolation {
  std::string commit;  // 40 hex
  std::string author;  // "Name <email>"
  std::string file;    // repository-relative, in that commit
  int line = 1, column = 1;
  std::string pointer;   // "/changeLog/3", or "/roles" for a settings change
  ChangeLogEntry entry;  // empty for a settings change
  // "author", "roles.reviewers", "roles.maintainers", "allowSelfApproval",
  // "life-cycle", "signature", "settings"
  std::string rule;
  std::string message;
};

struct AuditReport {
  size_t commits = 0;  // walked
  size_t checked = 0;  // changeLog entries that needed a role, and settings changes, checked
  std::vector<AuditViolation> violations;  // oldest commit first
};

Result<AuditReport> Audit(GitRepo& repo, const AuditRange& range);

}  // namespace specd::pipeline
