#include "pipeline/audit.h"

#include <git2.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/settings.h"
#include "engine/state_machine.h"
#include "pipeline/gate_runner.h"
#include "pipeline/git_apply.h"
#include "pipeline/staged_check.h"
#include "schema/source_text.h"

namespace specd::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr char kSpecsDir[] = ".agents/specs";
constexpr int64_t kVerifyTimeoutMs = 60'000;

struct WalkFree {
  void operator()(git_revwalk* w) const { git_revwalk_free(w); }
};
struct BlobFree {
  void operator()(git_blob* b) const { git_blob_free(b); }
};
struct TreeEntryFree {
  void operator()(git_tree_entry* e) const { git_tree_entry_free(e); }
};

std::string Hex(const git_oid& oid) {
  return git_oid_tostr_s(&oid);
}

bool EqualsFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// A commit's author as git shows it, and whether `who` (an email or a name)
// is that author.
struct Author {
  std::string name, email;
  std::string Shown() const { return name + " <" + email + ">"; }
  bool Is(const std::string& who) const { return EqualsFolded(who, email) || EqualsFolded(who, name); }
  bool MatchedBy(const std::vector<std::string>& patterns) const {
    return MatchesAnyone(patterns, email) || MatchesAnyone(patterns, name);
  }
};

// Who may do what at one commit: its settings (the trust fields) and the
// allowed signers file's bytes. Two commits trust alike when these are equal.
struct Trust {
  bool readable = true;
  std::string problem;  // !readable: why (the settings file's first error)
  RepoSettings settings;
  std::string signers;  // allowedSignersFile's bytes ("" when unset or missing)
  bool Same(const Trust& o) const {
    return readable == o.readable && settings.roles == o.settings.roles &&
           settings.allow_self_approval == o.settings.allow_self_approval &&
           settings.require_signed_approvals == o.settings.require_signed_approvals &&
           settings.allowed_signers_file == o.settings.allowed_signers_file && signers == o.signers;
  }
};

// One spec file's version in a tree.
struct Version {
  SpecBlob blob;
  SpecModel model;
  Document doc;
};

using EntryKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
EntryKey KeyOf(const ChangeLogEntry& e) {
  return {e.at, e.actor, e.from, e.to, e.trace};
}

std::string Joined(const std::vector<std::string>& people) {
  std::string out;
  for (const std::string& p : people) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "none: no one may" : out;
}

std::string Described(const ChangeLogEntry& e) {
  return e.from + " -> " + e.to + " at " + e.at + (e.actor.empty() ? "" : " by " + e.actor);
}

std::string ViaVerb(SpecState from, SpecState to, Role role) {
  if (role == Role::kReviewer)
    return to == SpecState::kApproved || to == SpecState::kReviewed ? "approve" : "reject";
  if (to == SpecState::kCancelled) return "cancel";
  return from == SpecState::kFailed ? "reopen" : "unblock";
}

class Auditor {
 public:
  explicit Auditor(git_repository* repo) : repo_(repo) {}

  Status Run(const AuditRange& range, AuditReport* report) {
    report_ = report;
    git_revwalk* w = nullptr;
    if (git_revwalk_new(&w, repo_) != 0) return GitError("cannot walk the history");
    std::unique_ptr<git_revwalk, WalkFree> walk(w);
    git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
    const std::vector<std::string> tips = range.tips.empty() ? std::vector<std::string>{"HEAD"} : range.tips;
    for (const std::string& rev : tips) {
      Result<git_oid> oid = CommitOf(rev);
      if (!oid.ok()) return oid.error();
      if (git_revwalk_push(w, &*oid) != 0) return GitError("cannot walk from " + rev);
    }
    for (const std::string& rev : range.hide) {
      Result<git_oid> oid = CommitOf(rev);
      if (!oid.ok()) return oid.error();
      if (git_revwalk_hide(w, &*oid) != 0) return GitError("cannot leave out " + rev);
    }
    if (range.hide_refs) {
      if (Status s = HideRefs(w); !s.ok()) return s;
    }
    git_oid oid;
    int rc;
    while ((rc = git_revwalk_next(&oid, w)) == 0) {
      ++report_->commits;
      if (Status s = AuditCommit(oid); !s.ok()) return s;
    }
    if (rc != GIT_ITEROVER) return GitError("cannot walk the history");
    return Status::Ok();
  }

 private:
  Result<git_oid> CommitOf(const std::string& rev) {
    git_object* obj = nullptr;
    if (git_revparse_single(&obj, repo_, rev.c_str()) != 0)
      return GitError("'" + rev + "' names no commit", ErrorCode::kInvalid);
    git_object* peeled = nullptr;
    const int rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (rc != 0) return GitError("'" + rev + "' names no commit", ErrorCode::kInvalid);
    git_oid oid = *git_object_id(peeled);
    git_object_free(peeled);
    return oid;
  }

  Status HideRefs(git_revwalk* w) {
    git_reference_iterator* it = nullptr;
    if (git_reference_iterator_new(&it, repo_) != 0) return GitError("cannot list the refs");
    git_reference* ref = nullptr;
    int rc;
    while ((rc = git_reference_next(&ref, it)) == 0) {
      git_object* commit = nullptr;
      if (git_reference_peel(&commit, ref, GIT_OBJECT_COMMIT) == 0) {
        git_revwalk_hide(w, git_object_id(commit));
        git_object_free(commit);
      }
      git_reference_free(ref);
    }
    git_reference_iterator_free(it);
    if (rc != GIT_ITEROVER) return GitError("cannot list the refs");
    return Status::Ok();
  }

  // A file's bytes in `tree`; nullopt when absent or not a blob, too large
  // counts as absent (the validator names it).
  std::optional<std::string> BytesAt(const git_tree* tree, const std::string& path) {
    if (!tree) return std::nullopt;
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, tree, path.c_str()) != 0) return std::nullopt;
    std::unique_ptr<git_tree_entry, TreeEntryFree> entry(e);
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) return std::nullopt;
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, repo_, git_tree_entry_id(e)) != 0) return std::nullopt;
    std::unique_ptr<git_blob, BlobFree> blob(b);
    const size_t size = static_cast<size_t>(git_blob_rawsize(b));
    if (size > options_.limits.max_bytes) return std::nullopt;
    return std::string(static_cast<const char*>(git_blob_rawcontent(b)), size);
  }

  const Trust& TrustAt(const git_tree* tree) {
    const std::string key = tree ? Hex(*git_tree_id(tree)) : "";
    if (auto it = trust_.find(key); it != trust_.end()) return it->second;
    Trust t;
    if (std::optional<std::string> text = BytesAt(tree, kSettingsPath)) {
      SettingsCheck check = CheckSettingsText(*text, kSettingsPath);
      auto bad = std::find_if(check.diagnostics.begin(), check.diagnostics.end(),
                              [](const Diagnostic& d) { return d.severity == Severity::kError; });
      if (bad != check.diagnostics.end()) {
        t.readable = false;
        t.problem = FormatText(*bad);
      } else {
        t.settings = std::move(check.settings);
        if (!t.settings.allowed_signers_file.empty())
          t.signers = BytesAt(tree, t.settings.allowed_signers_file).value_or("");
      }
    }
    return trust_.emplace(key, std::move(t)).first->second;
  }

  // The spec's version in `tree`: at `path`, else (moved: archived,
  // restored) under its file name in active/ or an archive/ month.
  std::optional<Version> VersionAt(const git_tree* tree, const std::string& path) {
    std::vector<std::string> candidates = {path};
    const std::string name = fs::path(path).filename().string();
    candidates.push_back(std::string(kSpecsDir) + "/active/" + name);
    git_tree_entry* e = nullptr;
    if (tree && git_tree_entry_bypath(&e, tree, (std::string(kSpecsDir) + "/archive").c_str()) == 0) {
      std::unique_ptr<git_tree_entry, TreeEntryFree> archive(e);
      git_tree* months = nullptr;
      if (git_tree_entry_type(e) == GIT_OBJECT_TREE &&
          git_tree_lookup(&months, repo_, git_tree_entry_id(e)) == 0) {
        for (size_t i = 0; i < git_tree_entrycount(months); ++i) {
          candidates.push_back(std::string(kSpecsDir) + "/archive/" +
                               git_tree_entry_name(git_tree_entry_byindex(months, i)) + "/" + name);
        }
        git_tree_free(months);
      }
    }
    for (const std::string& c : candidates) {
      std::optional<std::string> bytes = BytesAt(tree, c);
      if (!bytes) continue;
      Version v;
      v.blob.path = c;
      v.blob.size = bytes->size();
      v.blob.bytes = std::move(*bytes);
      if (ReadSpecBlob(v.blob, options_, &v.model, &v.doc)) return v;
    }
    return std::nullopt;
  }

  Status AuditCommit(const git_oid& oid) {
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo_, &oid) != 0) return GitError("cannot read commit " + Hex(oid));
    CommitPtr commit(c);
    git_tree* t = nullptr;
    if (git_commit_tree(&t, c) != 0) return GitError("cannot read the tree of " + Hex(oid));
    TreePtr tree(t);
    std::vector<TreePtr> parents;
    for (unsigned i = 0; i < git_commit_parentcount(c); ++i) {
      git_commit* p = nullptr;
      git_tree* pt = nullptr;
      if (git_commit_parent(&p, c, i) != 0 || git_commit_tree(&pt, p) != 0) {
        git_commit_free(p);
        return GitError("cannot read a parent of " + Hex(oid));
      }
      git_commit_free(p);
      parents.emplace_back(pt);
    }
    const git_signature* sig = git_commit_author(c);
    commit_ = Hex(oid);
    author_ = Author{sig->name ? sig->name : "", sig->email ? sig->email : ""};
    // The settings the commit was made on: a first commit's are none (no
    // roles), so the roles it sets bind the commits after it.
    const Trust& before = TrustAt(parents.empty() ? nullptr : parents[0].get());
    if (!parents.empty()) CheckTrustChange(oid, before, t, parents);
    return CheckSpecs(oid, before, t, parents);
  }

  // A change to who may do what, new in this commit (no parent has it).
  void CheckTrustChange(const git_oid& oid, const Trust& before, const git_tree* tree,
                        const std::vector<TreePtr>& parents) {
    if (!before.readable || !before.settings.roles) return;
    const Trust& now = TrustAt(tree);
    for (const TreePtr& p : parents) {
      if (TrustAt(p.get()).Same(now)) return;
    }
    ++report_->checked;
    AuditViolation v = Violation(kSettingsPath, "/roles", ChangeLogEntry{});
    if (std::optional<std::string> text = BytesAt(tree, kSettingsPath)) {
      Document doc;
      SpecBlob blob{kSettingsPath, *text, text->size(), false, ""};
      SpecModel unused;
      if (ReadSpecBlob(blob, options_, &unused, &doc)) {
        const Node* roles = doc.Field(doc.root(), "roles");
        SourceText(*text).Position(roles ? roles->offset : 0, &v.line, &v.column);
      }
    }
    const std::vector<std::string>& maintainers = before.settings.roles->maintainers;
    if (!author_.MatchedBy(maintainers)) {
      v.rule = "roles.maintainers";
      v.message =
          "this commit changes who may do what (roles, allowSelfApproval, requireSignedApprovals, "
          "allowedSignersFile or that file), and its author " +
          author_.Shown() + " is not a maintainer (roles.maintainers: " + Joined(maintainers) + ")";
      report_->violations.push_back(std::move(v));
      return;
    }
    if (!before.settings.require_signed_approvals) return;
    if (std::string why = SignatureProblem(oid, author_.email, before); !why.empty()) {
      v.rule = "signature";
      v.message =
          "this commit changes who may do what, and requireSignedApprovals asks for its author's "
          "signature: " +
          why;
      report_->violations.push_back(std::move(v));
    }
  }

  Status CheckSpecs(const git_oid& oid, const Trust& before, const git_tree* tree,
                    const std::vector<TreePtr>& parents) {
    if (before.readable && !before.settings.roles) return Status::Ok();  // no roles: anyone may
    git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
    char* spec_dir = const_cast<char*>(kSpecsDir);
    opts.pathspec.strings = &spec_dir;
    opts.pathspec.count = 1;
    git_diff* d = nullptr;
    if (git_diff_tree_to_tree(&d, repo_, parents.empty() ? nullptr : parents[0].get(),
                              const_cast<git_tree*>(tree), &opts) != 0)
      return GitError("cannot compare commit " + Hex(oid) + " with its parent");
    DiffPtr diff(d);
    for (size_t i = 0; i < git_diff_num_deltas(d); ++i) {
      const git_diff_delta* delta = git_diff_get_delta(d, i);
      if (delta->status == GIT_DELTA_DELETED) continue;
      const std::string path = delta->new_file.path;
      if (path.size() < 5 || path.compare(path.size() - 5, 5, ".yaml") != 0) continue;
      std::optional<Version> now = VersionAt(tree, path);
      if (!now || now->blob.path != path) continue;  // not YAML: the validator's
      std::set<EntryKey> known;
      std::string spec_author = now->model.author;
      SpecModel earlier;
      earlier.status = StateName(SpecState::kDraft);  // a new spec starts where `specd new` puts it
      bool status_carried = false, is_new = true;
      for (size_t p = 0; p < parents.size(); ++p) {
        std::optional<Version> theirs = VersionAt(parents[p].get(), path);
        if (!theirs) continue;
        if (p == 0) {
          earlier = theirs->model;
          is_new = false;
        }
        if (p == 0 && !theirs->model.author.empty()) spec_author = theirs->model.author;
        status_carried = status_carried || (p > 0 && theirs->model.status == now->model.status);
        for (const ChangeLogEntry& e : theirs->model.change_log) known.insert(KeyOf(e));
      }
      if (!status_carried) JudgeStatus(earlier, *now, is_new);
      for (size_t k = 0; k < now->model.change_log.size(); ++k) {
        const ChangeLogEntry& e = now->model.change_log[k];
        if (known.count(KeyOf(e))) continue;
        JudgeEntry(oid, before, *now, k, spec_author);
      }
    }
    return Status::Ok();
  }

  // A status set by hand past what a hand edit may do, with no changeLog
  // entries that make it a step (--no-verify past the hook): the same
  // refusal the pre-commit hook gives.
  void JudgeStatus(const SpecModel& before, const Version& now, bool is_new) {
    StatusChange change = JudgeStatusChange(now.blob.path, before, now.model);
    if (change.refusal.empty()) return;
    ++report_->checked;
    AuditViolation v = Violation(now.blob.path, "/status", ChangeLogEntry{});
    SourceText(now.blob.bytes).Position(StatusOffset(now.doc), &v.line, &v.column);
    v.rule = "life-cycle";
    v.message = change.refusal +
                (is_new ? " (a new spec starts as draft)" : " (its parent has " + before.status + ")");
    report_->violations.push_back(std::move(v));
  }

  AuditViolation Violation(const std::string& file, std::string pointer, const ChangeLogEntry& e) {
    AuditViolation v;
    v.commit = commit_;
    v.author = author_.Shown();
    v.file = file;
    v.pointer = std::move(pointer);
    v.entry = e;
    return v;
  }

  void JudgeEntry(const git_oid& oid, const Trust& before, const Version& spec, size_t index,
                  const std::string& spec_author) {
    const ChangeLogEntry& e = spec.model.change_log[index];
    std::optional<SpecState> from = ParseState(e.from), to = ParseState(e.to);
    if (!from || !to) return;  // a registration (no `from`), or not a state: the validator's
    const std::vector<Role> makers = MakersOf(*from, *to);
    if (makers.empty()) return;  // no step at all: the validator and the hook refuse it
    auto may = [&](Role r) { return std::find(makers.begin(), makers.end(), r) != makers.end(); };
    std::vector<Role> person;
    for (Role r : {Role::kReviewer, Role::kPerson})
      if (may(r)) person.push_back(r);
    AuditViolation v = Violation(spec.blob.path, "/changeLog/" + std::to_string(index), e);
    SourceText(spec.blob.bytes).Position(ChangeLogOffset(spec.doc, index), &v.line, &v.column);
    const std::string what = Described(e);
    const bool engine = e.actor == "specd", worker = e.actor.rfind("worker:", 0) == 0;
    if (engine || worker) {
      if (may(engine ? Role::kEngine : Role::kWorker) || person.empty()) return;
      ++report_->checked;
      v.rule = "life-cycle";
      v.message = what + ": " + ViaVerb(*from, *to, person[0]) + " is a person's step, and specd writes it " +
                  "under that person's name, never under " + (engine ? "its own" : "a worker's") +
                  ": the entry was typed into the file";
      report_->violations.push_back(std::move(v));
      return;
    }
    if (person.empty()) {
      if (may(Role::kAuthor)) return;  // the author's edit (draft -> review): no role
      ++report_->checked;
      v.rule = "life-cycle";
      v.message = what +
                  ": specd makes this step itself, and writes it under its own name (specd): an entry " +
                  "naming a person was typed into the file";
      report_->violations.push_back(std::move(v));
      return;
    }
    ++report_->checked;
    if (!before.readable) {
      v.rule = "settings";
      v.message = what + ": the roles of the commit it was made on cannot be read (" + before.problem + ")";
      report_->violations.push_back(std::move(v));
      return;
    }
    if (!author_.Is(e.actor)) {
      v.rule = "author";
      v.message = what + ": committed by " + author_.Shown() + ", not by " + e.actor +
                  ": an entry that needs a role is committed by the person it names (" + e.actor +
                  " runs `specd " + ViaVerb(*from, *to, person[0]) + " " + spec.model.id +
                  "` and commits it)";
      report_->violations.push_back(std::move(v));
      return;
    }
    SpecFacts facts;
    facts.roles = before.settings.roles;
    facts.author = spec_author;
    std::optional<Decision> refusal;
    for (Role r : person) {
      refusal = RoleRuleRefusal(*from, *to, facts, Actor{e.actor, r});
      if (!refusal) break;
    }
    if (refusal) {
      v.rule = refusal->rule;
      v.message = what + ": " + refusal->reason;
      report_->violations.push_back(std::move(v));
      return;
    }
    if (!before.settings.require_signed_approvals) return;
    if (std::string why = SignatureProblem(oid, e.actor, before); !why.empty()) {
      v.rule = "signature";
      v.message =
          what + ": requireSignedApprovals asks for " + e.actor + "'s signature on the commit: " + why;
      report_->violations.push_back(std::move(v));
    }
  }

  // "" when the commit carries a signature of `principal` that the tools
  // git uses accept (ssh-keygen with the allowed signers of `trust`, gpg
  // with the keyring); else why not, in one line.
  std::string SignatureProblem(const git_oid& oid, const std::string& principal, const Trust& trust) {
    const auto key = std::make_pair(Hex(oid), principal);
    if (auto it = verified_.find(key); it != verified_.end()) return it->second;
    std::string why = Verify(oid, principal, trust);
    verified_.emplace(key, why);
    return why;
  }

  std::string Verify(const git_oid& oid, const std::string& principal, const Trust& trust) {
    git_buf signature = {nullptr, 0, 0}, signed_data = {nullptr, 0, 0};
    const int rc =
        git_commit_extract_signature(&signature, &signed_data, repo_, const_cast<git_oid*>(&oid), nullptr);
    if (rc == GIT_ENOTFOUND) return "the commit is not signed";
    if (rc != 0) return GitError("cannot read the commit's signature").message;
    const std::string sig(signature.ptr, signature.size), data(signed_data.ptr, signed_data.size);
    git_buf_dispose(&signature);
    git_buf_dispose(&signed_data);
    const bool ssh = sig.rfind("-----BEGIN SSH SIGNATURE-----", 0) == 0;
    const bool gpg = sig.rfind("-----BEGIN PGP SIGNATURE-----", 0) == 0;
    if (!ssh && !gpg) return "the commit's signature is neither SSH nor GPG";
    if (ssh && trust.settings.allowed_signers_file.empty())
      return "an SSH signature is checked against allowedSignersFile, and the settings name none";
    if (ssh && trust.signers.empty())
      return "the allowed signers file " + trust.settings.allowed_signers_file + " is missing or empty";
    const char* tmp = getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/specd-verify-XXXXXX";
    if (!mkdtemp(dir.data())) return "cannot make a temporary directory to check the signature";
    struct Cleanup {
      std::string dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    for (const auto& [name, bytes] :
         {std::pair{"signature", &sig}, {"signed", &data}, {"allowed_signers", &trust.signers}}) {
      std::ofstream out(dir + "/" + name, std::ios::binary);
      out << *bytes;
      if (!out.flush()) return "cannot write " + dir + "/" + name;
    }
    GateCommand cmd;
    cmd.name = "signature";
    cmd.timeout_ms = cmd.quiet_ms = kVerifyTimeoutMs;
    cmd.run = ssh ? "ssh-keygen -Y verify -f allowed_signers -I " + ShellQuote(principal) +
                        " -n git -s signature < signed"
                  : "gpg --batch --no-tty --status-fd 1 --verify signature signed";
    GateRunOptions run;
    run.workdir = dir;
    run.log_path = dir + "/log";
    Result<GateResult> result = RunGate(cmd, run);
    if (!result.ok())
      return "cannot run " + std::string(ssh ? "ssh-keygen" : "gpg") + ": " + result.error().message;
    std::string out;
    {
      std::ifstream in(run.log_path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out = ss.str();
    }
    if (result->outcome != GateOutcome::kPass)
      return std::string(ssh ? "ssh-keygen" : "gpg") + " does not accept it (" + LastLine(out) + ")";
    if (ssh) return "";
    // gpg says whose key it is; the key must be the principal's.
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      constexpr std::string_view kGood = "[GNUPG:] GOODSIG ";
      if (line.rfind(kGood, 0) != 0) continue;
      const size_t space = line.find(' ', kGood.size());
      const std::string uid = space == std::string::npos ? "" : line.substr(space + 1);
      const size_t lt = uid.rfind('<'), gt = uid.rfind('>');
      const std::string email = lt != std::string::npos && gt > lt ? uid.substr(lt + 1, gt - lt - 1) : "";
      const std::string name =
          lt != std::string::npos && lt > 0 ? uid.substr(0, uid.find_last_not_of(' ', lt - 1) + 1) : uid;
      if (EqualsFolded(principal, email) || EqualsFolded(principal, name)) return "";
      return "it is signed by " + uid + ", not by " + principal;
    }
    return "gpg reports no good signature (" + LastLine(out) + ")";
  }

  static std::string LastLine(const std::string& text) {
    std::string last;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) last = line;
    return last.empty() ? "no output" : last;
  }

  git_repository* repo_;
  ValidateOptions options_;
  AuditReport* report_ = nullptr;
  std::string commit_;
  Author author_;
  std::map<std::string, Trust> trust_;  // by tree id
  std::map<std::pair<std::string, std::string>, std::string> verified_;
};

}  // namespace

Result<AuditReport> Audit(GitRepo& repo, const AuditRange& range) {
  AuditReport report;
  Auditor auditor(repo.handle());
  if (Status s = auditor.Run(range, &report); !s.ok()) return s.error();
  return report;
}

}  // namespace specd::pipeline
