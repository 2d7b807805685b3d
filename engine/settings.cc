#include "engine/settings.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "engine/spec_files.h"
#include "schema/source_text.h"
#include "schema/spec_schema.h"
#include "schema/validate.h"
#include "schema/yaml_tree.h"

namespace specd {

namespace {

// The schema's bounds: the rule below is only judged on values it accepts.
constexpr int64_t kMaxLeaseSeconds = 604800;
constexpr int64_t kDefaultTtl = 60;

const Node* IntField(const Document& doc, const Node* map, const char* key) {
  const Node* n = map ? doc.Field(*map, key) : nullptr;
  return n && n->kind == NodeKind::kInt ? n : nullptr;
}

bool InRange(const Node* n, int64_t lo) {
  return n && n->integer >= lo && n->integer <= kMaxLeaseSeconds;
}

// A lease must outlive three heartbeats: one late heartbeat never loses it.
void CheckLeaseRule(const Document& doc, std::vector<Finding>* out) {
  const Node* lease = doc.Field(doc.root(), "lease");
  if (!lease || lease->kind != NodeKind::kMap) return;
  const Node* ttl = IntField(doc, lease, "ttlSeconds");
  const Node* beat = IntField(doc, lease, "heartbeatSeconds");
  if (!InRange(beat, 1)) return;                                    // absent: the default always fits
  if (doc.Field(*lease, "ttlSeconds") && !InRange(ttl, 3)) return;  // the schema said why
  const int64_t t = ttl ? ttl->integer : kDefaultTtl;
  const int64_t need = 3 * beat->integer;
  if (t >= need) return;
  const std::string times =
      "3 x lease.heartbeatSeconds " + std::to_string(beat->integer) + " = " + std::to_string(need);
  if (ttl) {
    out->push_back(Finding{ttl->offset, "/lease/ttlSeconds", "lease-heartbeats",
                           std::to_string(t) + " is less than 3 heartbeats (" + times + ")"});
  } else {
    out->push_back(Finding{beat->offset, "/lease/heartbeatSeconds", "lease-heartbeats",
                           "lease.ttlSeconds " + std::to_string(t) +
                               " (the default) is less than 3 heartbeats (" + times + ")"});
  }
}

// Each gate is named once: a later issue runs them by name.
void CheckGateNames(const Document& doc, std::vector<Finding>* out) {
  const Node* gates = doc.Field(doc.root(), "gates");
  if (!gates || gates->kind != NodeKind::kSeq) return;
  std::vector<std::string> seen;
  for (size_t i = 0; i < gates->items.size(); ++i) {
    const Node* name = doc.Field(doc.node(gates->items[i]), "name");
    if (!name || name->kind != NodeKind::kString) continue;
    auto at = std::find(seen.begin(), seen.end(), name->text);
    if (at != seen.end()) {
      out->push_back(Finding{name->offset, "/gates/" + std::to_string(i) + "/name", "unique-gate-name",
                             "gate '" + name->text + "' is also /gates/" + std::to_string(at - seen.begin()) +
                                 ": one name, one gate"});
    }
    seen.push_back(name->text);
  }
}

Diagnostic FileDiagnostic(const std::string& file, const std::string& keyword, std::string message) {
  Diagnostic d;
  d.file = file;
  d.keyword = keyword;
  d.message = std::move(message);
  return d;
}

// `roles`, `allowSelfApproval` and what audit asks of signatures, of a
// valid document.
template <typename Where>
void ReadRoles(const Document& doc, const Where& where, RepoSettings* s) {
  if (const Node* signed_only = doc.Field(doc.root(), "requireSignedApprovals");
      signed_only && signed_only->kind == NodeKind::kBool) {
    s->require_signed_approvals = signed_only->boolean;
    s->origin["requireSignedApprovals"] = where(*signed_only);
  }
  if (const Node* signers = doc.Field(doc.root(), "allowedSignersFile");
      signers && signers->kind == NodeKind::kString) {
    s->allowed_signers_file = signers->text;
    s->origin["allowedSignersFile"] = where(*signers);
  }
  if (const Node* allow = doc.Field(doc.root(), "allowSelfApproval");
      allow && allow->kind == NodeKind::kBool) {
    s->allow_self_approval = allow->boolean;
    s->origin["allowSelfApproval"] = where(*allow);
  }
  const Node* roles = doc.Field(doc.root(), "roles");
  if (!roles || roles->kind != NodeKind::kMap) return;
  s->origin["roles"] = where(*roles);
  RoleRules rules;
  rules.allow_self_approval = s->allow_self_approval;
  for (auto [key, list] : {std::pair{"reviewers", &rules.reviewers}, {"maintainers", &rules.maintainers}}) {
    const Node* people = doc.Field(*roles, key);
    if (!people || people->kind != NodeKind::kSeq) continue;
    s->origin[std::string("roles.") + key] = where(*people);
    for (NodeId id : people->items) list->push_back(doc.node(id).text);
  }
  s->roles = std::move(rules);
}

// The values of a valid document, each with the place it was written.
void ReadValues(const Document& doc, const SourceText& source, const std::string& file, RepoSettings* s) {
  auto where = [&](const Node& n) {
    int line = 1, column = 1;
    source.Position(n.offset, &line, &column);
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  };
  const Node& root = doc.root();
  if (const Node* b = doc.Field(root, "targetBranch")) {
    s->target_branch = b->text;
    s->origin["targetBranch"] = where(*b);
  }
  const Node* lease = doc.Field(root, "lease");
  if (const Node* ttl = IntField(doc, lease, "ttlSeconds")) {
    s->lease_ttl_seconds = ttl->integer;
    s->origin["lease.ttlSeconds"] = where(*ttl);
  }
  if (const Node* beat = IntField(doc, lease, "heartbeatSeconds")) {
    s->heartbeat_seconds = beat->integer;
    s->origin["lease.heartbeatSeconds"] = where(*beat);
  } else {
    s->heartbeat_seconds = std::max<int64_t>(1, s->lease_ttl_seconds / 3);
  }
  if (const Node* tries = IntField(doc, lease, "maxAttempts")) {
    s->max_attempts = static_cast<int>(tries->integer);
    s->origin["lease.maxAttempts"] = where(*tries);
  }
  ReadRoles(doc, where, s);
  if (const Node* id = doc.Field(root, "repoId"); id && id->kind == NodeKind::kString) {
    s->repo_id = id->text;
    s->origin["repoId"] = where(*id);
  }
  if (const Node* nats = doc.Field(root, "nats"); nats && nats->kind == NodeKind::kMap) {
    RepoSettings::Nats n;
    for (auto [key, value] : {std::pair{"url", &n.url},
                              {"subjectPrefix", &n.subject_prefix},
                              {"credentialsFile", &n.credentials_file}}) {
      const Node* v = doc.Field(*nats, key);
      if (!v || v->kind != NodeKind::kString) continue;
      *value = v->text;
      s->origin[std::string("nats.") + key] = where(*v);
    }
    s->nats = std::move(n);
  }
  if (const Node* gates = doc.Field(root, "gates"); gates && gates->kind == NodeKind::kSeq) {
    s->origin["gates"] = where(*gates);
    for (NodeId id : gates->items) {
      const Node& g = doc.node(id);
      RepoSettings::Gate gate{doc.FieldText(g, "name"), doc.FieldText(g, "run"), std::nullopt};
      if (const Node* t = IntField(doc, &g, "timeoutSeconds")) gate.timeout_seconds = t->integer;
      if (const Node* q = IntField(doc, &g, "quietSeconds")) gate.quiet_seconds = q->integer;
      s->gates.push_back(std::move(gate));
    }
  }
}

RepoSettings Defaults() {
  RepoSettings s;
  for (const char* key :
       {"targetBranch", "lease.ttlSeconds", "lease.heartbeatSeconds", "lease.maxAttempts", "gates"})
    s.origin[key] = "default";
  return s;
}

}  // namespace

SettingsCheck CheckRepoSettings(const std::string& repo_root, const std::string& display_path) {
  SettingsCheck c;
  c.settings = Defaults();
  c.settings.repo_id = RepoIdOf(repo_root);  // the file's repoId, when it has one, replaces it
  const std::string path = repo_root + "/" + kSettingsPath;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return c;
    c.present = c.io_error = true;
    c.io_code = errno == EACCES ? ErrorCode::kPermission : ErrorCode::kOther;
    c.diagnostics.push_back(
        FileDiagnostic(display_path, "io", std::string("cannot open: ") + std::strerror(errno)));
    return c;
  }
  c.present = true;
  const LoadLimits limits;
  Result<FileBytes> bytes = ReadRepoSpecFile(path, repo_root, limits.max_bytes);
  if (!bytes.ok()) {
    std::string why = bytes.error().message;
    if (size_t cut = why.rfind("; skipped"); cut != std::string::npos) why.erase(cut);
    c.io_error = bytes.error().code != ErrorCode::kInvalid;
    if (c.io_error) c.io_code = bytes.error().code;
    c.diagnostics.push_back(FileDiagnostic(display_path, c.io_error ? "io" : "file", why));
    return c;
  }
  if (bytes->too_large) {
    c.diagnostics.push_back(FileDiagnostic(display_path, "limit",
                                           "the file is " + std::to_string(bytes->size) +
                                               " bytes; the limit is " + std::to_string(limits.max_bytes)));
    return c;
  }
  SettingsCheck checked = CheckSettingsText(bytes->data, display_path);
  checked.present = true;
  if (checked.settings.repo_id.empty()) checked.settings.repo_id = c.settings.repo_id;
  return checked;
}

SettingsCheck CheckSettingsText(const std::string& text, const std::string& display_path) {
  SettingsCheck c;
  c.present = true;
  c.settings = Defaults();
  DocumentKind kind;
  kind.schema = &SpecSchema::Settings();
  kind.fields = "settings";
  kind.empty_ok = true;
  kind.rules = [](const Document& doc, std::vector<Finding>* out) {
    CheckLeaseRule(doc, out);
    CheckGateNames(doc, out);
  };
  Document doc;
  bool loaded = false;
  ValidateOptions options;
  c.diagnostics = ValidateDocumentText(text, display_path, options, kind, &doc, &loaded);
  bool error = std::any_of(c.diagnostics.begin(), c.diagnostics.end(),
                           [](const Diagnostic& d) { return d.severity == Severity::kError; });
  if (!error && loaded) ReadValues(doc, SourceText(text), display_path, &c.settings);
  return c;
}

Result<RepoSettings> LoadRepoSettings(const std::string& repo_root) {
  SettingsCheck c = CheckRepoSettings(repo_root);
  std::string message;
  for (const Diagnostic& d : c.diagnostics) {
    if (d.severity != Severity::kError) continue;
    if (!message.empty()) message += '\n';
    message += FormatText(d);
  }
  if (message.empty()) return std::move(c.settings);
  return Error{message, c.io_error ? c.io_code : ErrorCode::kInvalid};
}

std::string RepoIdOf(const std::string& repo_root) {
  std::string_view root = repo_root;
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  std::string id(root.substr(root.find_last_of('/') + 1));
  if (id.size() > 100) id.resize(100);
  for (char& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  }
  return id.empty() ? "repo" : id;
}

}  // namespace specd
