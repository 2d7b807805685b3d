// The repository's settings, .agents/specd.yaml (optional): read as specs are
// read (lstat, inside the repository, size limit), loaded by the same YAML
// rules, checked by schema/settings.schema.json and one rule of its own, and
// every value kept with where it came from (`specd config` prints both).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/state_machine.h"
#include "schema/diagnostic.h"
#include "schema/result.h"

namespace specd {

inline constexpr char kSettingsPath[] = ".agents/specd.yaml";  // repository-relative

// Where a value came from: "default", ".agents/specd.yaml:4:3", "HEAD".
struct SettingOrigin {
  std::string where;
};

struct RepoSettings {
  std::optional<std::string> target_branch;  // nullopt: the branch HEAD names (resolved above)
  int64_t lease_ttl_seconds = 60;
  int64_t heartbeat_seconds = 20;  // default: lease_ttl_seconds / 3, at least 1
  int max_attempts = 3;
  struct Gate {
    std::string name, run;
    std::optional<int64_t> timeout_seconds;  // nullopt: 1800 s of wall clock
    std::optional<int64_t> quiet_seconds;    // nullopt: 600 s without output, then "blocked" if idle
  };
  std::vector<Gate> gates;
  // `roles` (nullopt: anyone may do anything, as without the file); a list
  // it does not give is empty: no one holds that role. Its
  // allow_self_approval is `allowSelfApproval` (also kept below on its own).
  std::optional<RoleRules> roles;
  bool allow_self_approval = false;
  // `requireSignedApprovals` and `allowedSignersFile` (repository-relative;
  // "" when not given): what `specd audit` asks of the commits that bring
  // approvals (pipeline/audit.h).
  bool require_signed_approvals = false;
  std::string allowed_signers_file;
  // `repoId`: the repository's name on the message bus, the same in every
  // clone (default: RepoIdOf(the repository's folder)).
  std::string repo_id;
  // `nats` (nullopt: no message bus). The url as written (several servers:
  // comma-separated); the prefix without its dot ("" none); the credentials
  // file as written (relative to the repository unless absolute; "" none).
  struct Nats {
    std::string url, subject_prefix, credentials_file;
  };
  std::optional<Nats> nats;
  // "targetBranch", "lease.ttlSeconds", "lease.heartbeatSeconds",
  // "lease.maxAttempts", "gates" -> "default" or "<file>:<line>:<col>" of the value;
  // "roles", "roles.reviewers", "roles.maintainers", "allowSelfApproval",
  // "requireSignedApprovals", "allowedSignersFile", "repoId", "nats.url",
  // "nats.subjectPrefix", "nats.credentialsFile" only when the file sets
  // them (absent: the default).
  std::map<std::string, std::string> origin;
};

// The settings file checked, whatever the outcome: what `specd validate`
// reports and LoadRepoSettings builds on.
struct SettingsCheck {
  bool present = false;                   // the file (or a symlink by that name) exists
  bool io_error = false;                  // it could not be read: diagnostics say why
  ErrorCode io_code = ErrorCode::kOther;  // when io_error: kPermission or kOther
  std::vector<Diagnostic> diagnostics;
  RepoSettings settings;  // meaningful when no diagnostic is an error
};

// `display_path` names the file in diagnostics and origins.
SettingsCheck CheckRepoSettings(const std::string& repo_root,
                                const std::string& display_path = kSettingsPath);

// The settings file's bytes as found elsewhere (the target branch's tip:
// gates are read from there, never from a spec or a candidate).
SettingsCheck CheckSettingsText(const std::string& text, const std::string& display_path);

// Absent file: the defaults. Invalid: kInvalid with every diagnostic, one
// "file:line:col: error: /pointer: message" per line; unreadable: kPermission
// or kOther naming the file.
Result<RepoSettings> LoadRepoSettings(const std::string& repo_root);

// The default repoId of the repository at `repo_root`: its folder's name,
// each character a subject token cannot hold made '-' ("repo" when empty).
std::string RepoIdOf(const std::string& repo_root);

}  // namespace specd
