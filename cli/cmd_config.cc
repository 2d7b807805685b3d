// specd config [--json]: every effective setting of the repository, its value
// and where it came from (.agents/specd.yaml:LINE:COL, the default, HEAD).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"

namespace specd::cli {

namespace {

struct Row {
  std::string name, value, from;
};

// Where a value came from; a key the file does not set is the default.
std::string Origin(const RepoSettings& s, const std::string& key) {
  auto at = s.origin.find(key);
  return at == s.origin.end() ? "default" : at->second;
}

std::string Joined(const std::vector<std::string>& people) {
  std::string out;
  for (const std::string& p : people) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "(none: no one)" : out;
}

// What `specd audit` asks of signatures, shown once the file sets it.
bool SignaturesSet(const RepoSettings& s) {
  return s.origin.count("requireSignedApprovals") || s.origin.count("allowedSignersFile");
}

// The message bus is shown once the file names it or the repository's id.
bool BusSet(const RepoSettings& s) {
  return s.nats || s.origin.count("repoId");
}

// Who may do what is shown once the file says anything about it; without
// it, anyone may, and the listing stays as it was before roles existed.
bool RolesSet(const RepoSettings& s) {
  return s.roles || s.origin.count("allowSelfApproval") || SignaturesSet(s);
}

std::vector<Row> Rows(const RepoSettings& s) {
  auto from = [&](const char* key) { return "(" + Origin(s, key) + ")"; };
  std::vector<Row> rows = {
      {"targetBranch", s.target_branch.value_or("(none)"), from("targetBranch")},
      {"lease.ttlSeconds", std::to_string(s.lease_ttl_seconds), from("lease.ttlSeconds")},
      {"lease.heartbeatSeconds", std::to_string(s.heartbeat_seconds), from("lease.heartbeatSeconds")},
      {"lease.maxAttempts", std::to_string(s.max_attempts), from("lease.maxAttempts")},
  };
  if (s.gates.empty()) rows.push_back({"gates", "(none)", from("gates")});
  for (size_t i = 0; i < s.gates.size(); ++i) {
    const RepoSettings::Gate& g = s.gates[i];
    std::string value = g.name + ": " + g.run;
    if (g.timeout_seconds) value += " (timeout " + std::to_string(*g.timeout_seconds) + "s)";
    if (g.quiet_seconds) value += " (quiet " + std::to_string(*g.quiet_seconds) + "s)";
    rows.push_back({i == 0 ? "gates" : "", value, i == 0 ? from("gates") : ""});
  }
  if (BusSet(s)) {
    rows.push_back({"repoId", s.repo_id, s.origin.count("repoId") ? from("repoId") : "(the folder's name)"});
    rows.push_back({"nats.url", s.nats ? s.nats->url : "(none)", from("nats.url")});
    if (s.nats && !s.nats->subject_prefix.empty())
      rows.push_back({"nats.subjectPrefix", s.nats->subject_prefix, from("nats.subjectPrefix")});
    if (s.nats && !s.nats->credentials_file.empty())
      rows.push_back({"nats.credentialsFile", s.nats->credentials_file, from("nats.credentialsFile")});
  }
  if (!RolesSet(s)) return rows;
  if (!s.roles) {
    rows.push_back({"roles", "(none: anyone may)", from("roles")});
  } else {
    rows.push_back({"roles.reviewers", Joined(s.roles->reviewers), from("roles.reviewers")});
    rows.push_back({"roles.maintainers", Joined(s.roles->maintainers), from("roles.maintainers")});
  }
  rows.push_back({"allowSelfApproval", s.allow_self_approval ? "true" : "false", from("allowSelfApproval")});
  if (!SignaturesSet(s)) return rows;
  rows.push_back({"requireSignedApprovals", s.require_signed_approvals ? "true" : "false",
                  from("requireSignedApprovals")});
  rows.push_back({"allowedSignersFile", s.allowed_signers_file.empty() ? "(none)" : s.allowed_signers_file,
                  from("allowedSignersFile")});
  return rows;
}

void PrintText(const RepoSettings& s) {
  std::vector<Row> rows = Rows(s);
  size_t name_w = 0, value_w = 0;
  for (const Row& r : rows) {
    name_w = std::max(name_w, r.name.size());
    value_w = std::max(value_w, r.value.size());
  }
  for (const Row& r : rows) {
    std::string line = r.name + std::string(name_w + 2 - r.name.size(), ' ') + r.value;
    if (!r.from.empty()) line += std::string(value_w + 2 - r.value.size(), ' ') + r.from;
    PrintLine(stdout, line);
  }
}

void PrintJson(const RepoSettings& s) {
  using Json = nlohmann::ordered_json;
  auto entry = [&](const char* key, Json value) { return Json{{"value", value}, {"from", Origin(s, key)}}; };
  auto people = [&](const std::vector<std::string>* list) { return list ? Json(*list) : Json(nullptr); };
  Json gates = Json::array();
  for (const RepoSettings::Gate& g : s.gates) {
    Json j = {{"name", g.name}, {"run", g.run}};
    if (g.timeout_seconds) j["timeoutSeconds"] = *g.timeout_seconds;
    if (g.quiet_seconds) j["quietSeconds"] = *g.quiet_seconds;
    gates.push_back(j);
  }
  Json out = {
      {"targetBranch", entry("targetBranch", s.target_branch ? Json(*s.target_branch) : Json(nullptr))},
      {"lease.ttlSeconds", entry("lease.ttlSeconds", s.lease_ttl_seconds)},
      {"lease.heartbeatSeconds", entry("lease.heartbeatSeconds", s.heartbeat_seconds)},
      {"lease.maxAttempts", entry("lease.maxAttempts", s.max_attempts)},
      {"gates", entry("gates", gates)},
  };
  if (BusSet(s)) {
    out["repoId"] =
        Json{{"value", s.repo_id}, {"from", s.origin.count("repoId") ? Origin(s, "repoId") : "folder"}};
    out["nats.url"] = entry("nats.url", s.nats ? Json(s.nats->url) : Json(nullptr));
    out["nats.subjectPrefix"] =
        entry("nats.subjectPrefix",
              s.nats && !s.nats->subject_prefix.empty() ? Json(s.nats->subject_prefix) : Json(nullptr));
    out["nats.credentialsFile"] =
        entry("nats.credentialsFile",
              s.nats && !s.nats->credentials_file.empty() ? Json(s.nats->credentials_file) : Json(nullptr));
  }
  if (RolesSet(s)) {
    out["roles.reviewers"] = entry("roles.reviewers", people(s.roles ? &s.roles->reviewers : nullptr));
    out["roles.maintainers"] = entry("roles.maintainers", people(s.roles ? &s.roles->maintainers : nullptr));
    out["allowSelfApproval"] = entry("allowSelfApproval", s.allow_self_approval);
  }
  if (SignaturesSet(s)) {
    out["requireSignedApprovals"] = entry("requireSignedApprovals", s.require_signed_approvals);
    out["allowedSignersFile"] = entry(
        "allowedSignersFile", s.allowed_signers_file.empty() ? Json(nullptr) : Json(s.allowed_signers_file));
  }
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace

Run SetupConfig(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  AddRepoOptions(sub, repo.get(), true);
  sub->description(
      "Print every effective setting (.agents/specd.yaml, else the default), its value and where it came\n"
      "from. Exit status: 0 valid, 1 the settings file is invalid, 2 usage or I/O error.");
  return [repo] {
    std::optional<std::string> root = FindRoot(*repo);
    if (!root) return kExitUsage;
    Result<RepoSettings> settings = LoadSettings(*root);
    if (!settings.ok()) {
      PrintLine(stderr, settings.error().message);
      return settings.error().code == ErrorCode::kInvalid ? kExitInvalid : kExitUsage;
    }
    if (repo->json) {
      PrintJson(*settings);
    } else {
      PrintText(*settings);
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
