#include "pipeline/audit.h"

#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "engine/settings.h"
#include "engine/spec_files.h"
#include "engine/state_machine.h"
#include "pipeline/git_apply.h"
#include "pipeline/signature.h"
#include "pipeline/staged_check.h"
#include "schema/source_text.h"

namespace specd::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr char kSpecsDir[] = ".agents/specs";

std::string Hex(const git_oid& oid) {
  return git_oid_tostr_s(&oid);
}

// A commit's author as git shows it, and whether `who` (an email or a name)
// is that author.
struct Author {
  std::string name, email;
  std::string Shown() const { return name + " <" + email + ">"; }
  bool Is(const std::string& who) const { return SamePerson(who, email) || SamePerson(who, name); }
  // The identity (email, else name) that `patterns` match; "" when neither.
  std::string MatchedBy(const std::vector<std::string>& patterns) const {
    if (MatchesAnyone(patterns, email)) return email;
    return MatchesAnyone(patterns, name) ? name : "";
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

// What identifies a Trust, to find the commit that first had it.
std::string Fingerprint(const Trust& t) {
  std::string out = t.readable ? "r" : "u";
  if (t.settings.roles) {
    for (const auto* list : {&t.settings.roles->reviewers, &t.settings.roles->maintainers}) {
      out += "|";
      for (const std::string& p : *list) out += p + "\n";
    }
  }
  out += "|" + std::to_string(t.settings.allow_self_approval) +
         std::to_string(t.settings.require_signed_approvals) + "|" + t.settings.allowed_signers_file + "|" +
         t.signers;
  return out;
}

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
    std::unique_ptr<git_revwalk, GitFree> walk(w);
    git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
    const std::vector<std::string> tips = range.tips.empty() ? std::vector<std::string>{"HEAD"} : range.tips;
    for (const std::string& rev : tips) {
      Result<git_oid> oid = CommitOf(rev);
      if (!oid.ok() && range.commits_only) continue;
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

  // Branches and tags: what the hook saw arrive. Other refs (a forge's
  // refs/pull/*, mirrored refs/remotes/*) may hold what it never saw.
  Status HideRefs(git_revwalk* w) {
    git_reference_iterator* it = nullptr;
    if (git_reference_iterator_new(&it, repo_) != 0) return GitError("cannot list the refs");
    git_reference* ref = nullptr;
    int rc;
    while ((rc = git_reference_next(&ref, it)) == 0) {
      const std::string name = git_reference_name(ref);
      if (name.rfind("refs/heads/", 0) != 0 && name.rfind("refs/tags/", 0) != 0) {
        git_reference_free(ref);
        continue;
      }
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
    std::unique_ptr<git_tree_entry, GitFree> entry(e);
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) return std::nullopt;
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, repo_, git_tree_entry_id(e)) != 0) return std::nullopt;
    std::unique_ptr<git_blob, GitFree> blob(b);
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

  // Every spec file under .agents/specs in `tree`, by file name.
  const std::map<std::string, std::vector<std::string>>& SpecPaths(const git_tree* tree) {
    const std::string key = tree ? Hex(*git_tree_id(tree)) : "";
    if (auto it = spec_paths_.find(key); it != spec_paths_.end()) return it->second;
    std::map<std::string, std::vector<std::string>>& out = spec_paths_[key];
    git_tree_entry* e = nullptr;
    if (!tree || git_tree_entry_bypath(&e, tree, kSpecsDir) != 0) return out;
    std::unique_ptr<git_tree_entry, GitFree> entry(e);
    git_tree* specs = nullptr;
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
        git_tree_lookup(&specs, repo_, git_tree_entry_id(e)) != 0)
      return out;
    TreePtr owned(specs);
    git_tree_walk(
        specs, GIT_TREEWALK_PRE,
        [](const char* root, const git_tree_entry* te, void* payload) {
          if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) return 0;
          const std::string name = git_tree_entry_name(te);
          (*static_cast<std::map<std::string, std::vector<std::string>>*>(payload))[name].push_back(
              std::string(kSpecsDir) + "/" + root + name);
          return 0;
        },
        &out);
    return out;
  }

  // The spec's version in `tree`: at `path`, else (moved: archived,
  // restored, into a folder) under its file name anywhere in .agents/specs.
  std::optional<Version> VersionAt(const git_tree* tree, const std::string& path) {
    auto load = [&](const std::string& at) -> std::optional<Version> {
      std::optional<std::string> bytes = BytesAt(tree, at);
      if (!bytes) return std::nullopt;
      Version v;
      v.blob.path = at;
      v.blob.size = bytes->size();
      v.blob.bytes = std::move(*bytes);
      if (!ReadSpecBlob(v.blob, options_, &v.model, &v.doc)) return std::nullopt;
      return v;
    };
    if (std::optional<Version> v = load(path)) return v;  // the usual case: no walk of the tree
    const auto& by_name = SpecPaths(tree);
    auto it = by_name.find(fs::path(path).filename().string());
    if (it == by_name.end()) return std::nullopt;
    for (const std::string& at : it->second) {
      if (at == path) continue;
      if (std::optional<Version> v = load(at)) return v;
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
    here_ = Bringer{oid, Author{sig->name ? sig->name : "", sig->email ? sig->email : ""}, false};
    // The settings the commit was made on, its first parent's: what it
    // changes relative to that parent is judged by them, whichever parent
    // brought it (a merge takes what it merges under the rules it merges
    // into). A first commit's are none: the roles it sets bind the commits
    // after it.
    const Trust& before = TrustAt(parents.empty() ? nullptr : parents[0].get());
    CheckTrustChange(before, t, parents);
    return CheckSpecs(before, t, parents);
  }

  // Who first had something the walk met (a changeLog entry, a settings
  // version): the commit that brought it and its author. Something older
  // than the walk (before --since, or on a ref the pre-receive hook trusts)
  // was audited when it came, and has none.
  struct Bringer {
    git_oid commit;
    Author author;
    bool reported = false;  // a violation was said where it came: not said again at each merge
  };

  // Said of something brought by `b`, judged in this commit.
  std::string By(const Bringer& b) const {
    return git_oid_equal(&b.commit, &here_.commit) ? "" : " (brought by commit " + Hex(b.commit) + ")";
  }

  // A change to who may do what, relative to the first parent: by a
  // maintainer of the first parent's settings, signed when they ask.
  void CheckTrustChange(const Trust& before, const git_tree* tree, const std::vector<TreePtr>& parents) {
    const Trust& now = TrustAt(tree);
    bool new_here = true;
    for (const TreePtr& p : parents) new_here = new_here && !TrustAt(p.get()).Same(now);
    const std::string print = Fingerprint(now);
    if (new_here) settings_[print] = here_;  // the last to bring it: a revert is its own change
    if (parents.empty() || !before.readable || !before.settings.roles) return;
    if (TrustAt(parents[0].get()).Same(now)) return;
    auto known = settings_.find(print);
    if (known == settings_.end() || known->second.reported) return;  // older than the walk
    Bringer& b = known->second;
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
    const std::string who = b.author.MatchedBy(maintainers);
    if (who.empty()) {
      v.rule = "roles.maintainers";
      v.message =
          "this commit changes who may do what (roles, allowSelfApproval, requireSignedApprovals, "
          "allowedSignersFile or that file)" +
          By(b) + ", and its author " + b.author.Shown() +
          " is not a maintainer (roles.maintainers: " + Joined(maintainers) + ")";
    } else if (before.settings.require_signed_approvals) {
      if (std::string why = SignatureProblem(b.commit, who, before); !why.empty()) {
        v.rule = "signature";
        v.message = "this commit changes who may do what" + By(b) +
                    ", and requireSignedApprovals asks for the signature of its author " + who + ": " + why;
      }
    }
    if (v.rule.empty()) return;
    b.reported = true;
    report_->violations.push_back(std::move(v));
  }

  Status CheckSpecs(const Trust& before, const git_tree* tree, const std::vector<TreePtr>& parents) {
    // Roles, or settings that cannot be read (then every step needing a
    // role is said to be unproven): what is checked. Without, only who
    // brought each entry is noted, for the merges to come.
    const bool enforce = !before.readable || before.settings.roles;
    git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
    char* spec_dir = const_cast<char*>(kSpecsDir);
    opts.pathspec.strings = &spec_dir;
    opts.pathspec.count = 1;
    git_diff* d = nullptr;
    if (git_diff_tree_to_tree(&d, repo_, parents.empty() ? nullptr : parents[0].get(),
                              const_cast<git_tree*>(tree), &opts) != 0)
      return GitError("cannot compare commit " + commit_ + " with its parent");
    DiffPtr diff(d);
    for (size_t i = 0; i < git_diff_num_deltas(d); ++i) {
      const git_diff_delta* delta = git_diff_get_delta(d, i);
      if (delta->status == GIT_DELTA_DELETED) continue;
      const std::string path = delta->new_file.path;
      if (!IsSpecFileName(fs::path(path).filename().string())) continue;
      if (delta->new_file.mode == GIT_FILEMODE_LINK || delta->new_file.mode == GIT_FILEMODE_COMMIT) {
        if (!enforce) continue;
        ++report_->checked;
        AuditViolation v = Violation(path, "", ChangeLogEntry{});
        v.rule = "file";
        v.message = std::string("a ") +
                    (delta->new_file.mode == GIT_FILEMODE_LINK ? "symlink" : "submodule") +
                    " where a spec file is: its changeLog cannot be audited (a spec is a regular file)";
        report_->violations.push_back(std::move(v));
        continue;
      }
      std::optional<Version> now = VersionAt(tree, path);
      if (!now || now->blob.path != path) continue;  // not YAML: the validator's
      CheckSpec(before, enforce, *now, parents);
    }
    return Status::Ok();
  }

  void CheckSpec(const Trust& before, bool enforce, const Version& now, const std::vector<TreePtr>& parents) {
    const std::string id = now.model.id.empty() ? ExpectedSpecId(now.blob.path) : now.model.id;
    std::set<EntryKey> first, any;  // the first parent's entries; every parent's
    std::optional<Version> earlier;
    std::set<std::string> authors;  // metadata.author in the parents
    for (size_t p = 0; p < parents.size(); ++p) {
      std::optional<Version> theirs = VersionAt(parents[p].get(), now.blob.path);
      if (!theirs) continue;
      for (const ChangeLogEntry& e : theirs->model.change_log) {
        any.insert(KeyOf(e));
        if (p == 0) first.insert(KeyOf(e));
      }
      authors.insert(theirs->model.author);
      if (p == 0) earlier = std::move(theirs);
    }
    for (const ChangeLogEntry& e : now.model.change_log) {
      if (!any.count(KeyOf(e))) entries_[std::make_pair(id, KeyOf(e))] = here_;
    }
    if (!enforce) return;
    // Whose spec it is: as the first parent has it (a commit that renames
    // the author is judged below, and cannot make its own approval "not
    // self").
    const std::string spec_author =
        earlier && !earlier->model.author.empty() ? earlier->model.author : now.model.author;
    if (earlier && !earlier->model.author.empty() && !authors.count(now.model.author))
      CheckAuthorChange(before, now);
    JudgeStatus(earlier ? earlier->model : SpecModel{}, now, !earlier);
    for (size_t k = 0; k < now.model.change_log.size(); ++k) {
      const ChangeLogEntry& e = now.model.change_log[k];
      if (first.count(KeyOf(e))) continue;
      auto known = entries_.find(std::make_pair(id, KeyOf(e)));
      Bringer* b = known == entries_.end() ? nullptr : &known->second;
      if (b && b->reported) continue;  // said where it came
      if (JudgeEntry(before, now, k, spec_author, b) && b) b->reported = true;
    }
  }

  // metadata.author changed (to a value no parent has): only a maintainer
  // may say a spec is someone else's, since self-approval hangs on it.
  void CheckAuthorChange(const Trust& before, const Version& now) {
    if (!before.readable) return;  // every step needing a role is reported then
    const std::vector<std::string>& maintainers = before.settings.roles->maintainers;
    ++report_->checked;
    if (!here_.author.MatchedBy(maintainers).empty()) return;
    AuditViolation v = Violation(now.blob.path, "/metadata/author", ChangeLogEntry{});
    const Node* meta = now.doc.Field(now.doc.root(), "metadata");
    const Node* author = meta ? now.doc.Field(*meta, "author") : nullptr;
    SourceText(now.blob.bytes).Position(author ? author->offset : 0, &v.line, &v.column);
    v.rule = "roles.maintainers";
    v.message = "metadata.author changed to '" + now.model.author + "' by " + here_.author.Shown() +
                ", who is not a maintainer (roles.maintainers: " + Joined(maintainers) +
                "): whose spec it is decides self-approval";
    report_->violations.push_back(std::move(v));
  }

  // A status set by hand past what a hand edit may do, with no changeLog
  // entries that make it a step (--no-verify past the hook): the same
  // refusal the pre-commit hook gives. A status that is no state at all is
  // refused too, or the next commit could set any state "from" it.
  void JudgeStatus(SpecModel before, const Version& now, bool is_new) {
    if (is_new) before.status = StateName(SpecState::kDraft);  // where `specd new` puts a spec
    std::string refusal;
    if (!ParseState(now.model.status)) {
      refusal = "status '" + now.model.status + "' is not a spec state";
    } else if (!ParseState(before.status)) {
      return;  // said where it was set
    } else {
      refusal = JudgeStatusChange(now.blob.path, before, now.model).refusal;
    }
    if (refusal.empty()) return;
    ++report_->checked;
    AuditViolation v = Violation(now.blob.path, "/status", ChangeLogEntry{});
    SourceText(now.blob.bytes).Position(StatusOffset(now.doc), &v.line, &v.column);
    v.rule = "life-cycle";
    v.message = refusal +
                (is_new ? " (a new spec starts as draft)" : " (its first parent has " + before.status + ")");
    report_->violations.push_back(std::move(v));
  }

  AuditViolation Violation(const std::string& file, std::string pointer, const ChangeLogEntry& e) {
    AuditViolation v;
    v.commit = commit_;
    v.author = here_.author.Shown();
    v.file = file;
    v.pointer = std::move(pointer);
    v.entry = e;
    return v;
  }

  // Where the life cycle's graph allows a step that only follows another:
  // blocked -> reviewed clears a merge block (reviewed -> blocked), and
  // specd fails a spec once work has begun. "" when it holds.
  static std::string OutOfOrder(const SpecModel& spec, size_t index, SpecState from, SpecState to) {
    if (to == SpecState::kFailed &&
        (from == SpecState::kDraft || from == SpecState::kReview || from == SpecState::kApproved))
      return "specd marks a spec failed only once work has begun (from planning on)";
    if (from == SpecState::kBlocked && to == SpecState::kReviewed) {
      const bool after_block = index > 0 && spec.change_log[index - 1].from == "reviewed" &&
                               spec.change_log[index - 1].to == "blocked";
      if (!after_block)
        return "blocked -> reviewed only clears a merge block, right after reviewed -> blocked";
    }
    return "";
  }

  // One entry new relative to the first parent, judged by its settings;
  // `b` brought it (null: older than the walk). true when a violation was said.
  bool JudgeEntry(const Trust& before, const Version& spec, size_t index, const std::string& spec_author,
                  const Bringer* b) {
    const ChangeLogEntry& e = spec.model.change_log[index];
    std::optional<SpecState> from = ParseState(e.from), to = ParseState(e.to);
    if (!from || !to) return false;  // a registration (no `from`), or not a state: the validator's
    const std::vector<Role> makers = MakersOf(*from, *to);
    if (makers.empty()) return false;  // no step at all: the validator and the hook refuse it
    auto may = [&](Role r) { return std::find(makers.begin(), makers.end(), r) != makers.end(); };
    std::vector<Role> person;
    for (Role r : {Role::kReviewer, Role::kPerson})
      if (may(r)) person.push_back(r);
    AuditViolation v = Violation(spec.blob.path, "/changeLog/" + std::to_string(index), e);
    SourceText(spec.blob.bytes).Position(ChangeLogOffset(spec.doc, index), &v.line, &v.column);
    const std::string what = Described(e) + (b ? By(*b) : "");
    auto say = [&](const char* rule, const std::string& message) {
      v.rule = rule;
      v.message = what + ": " + message;
      report_->violations.push_back(std::move(v));
      return true;
    };
    if (std::string bad = OutOfOrder(spec.model, index, *from, *to); !bad.empty()) {
      ++report_->checked;
      return say("life-cycle", bad + ": the entry was typed into the file");
    }
    const bool engine = e.actor == "specd", worker = e.actor.rfind("worker:", 0) == 0;
    if (engine || worker) {
      if (may(engine ? Role::kEngine : Role::kWorker) || person.empty()) return false;
      ++report_->checked;
      return say("life-cycle", ViaVerb(*from, *to, person[0]) +
                                   " is a person's step, and specd writes it under that person's name, never "
                                   "under " +
                                   (engine ? "its own" : "a worker's") +
                                   ": the entry was typed into the file");
    }
    if (person.empty()) {
      if (may(Role::kAuthor)) return false;  // the author's edit (draft -> review): no role
      ++report_->checked;
      return say("life-cycle",
                 "specd makes this step itself, and writes it under its own name (specd): an entry naming a "
                 "person was typed into the file");
    }
    ++report_->checked;
    if (!before.readable)
      return say("settings",
                 "the roles of the commit it was made on cannot be read (" + before.problem + ")");
    if (b && !b->author.Is(e.actor)) {
      return say("author", "committed by " + b->author.Shown() + ", not by " + e.actor +
                               ": an entry that needs a role is committed by the person it names (" +
                               e.actor + " runs `specd " + ViaVerb(*from, *to, person[0]) + " " +
                               spec.model.id + "` and commits it)");
    }
    SpecFacts facts;
    facts.roles = before.settings.roles;
    facts.author = spec_author;
    std::optional<Decision> refusal;
    for (Role r : person) {
      refusal = RoleRuleRefusal(*from, *to, facts, Actor{e.actor, r});
      if (!refusal) break;
    }
    if (refusal) return say(refusal->rule.c_str(), refusal->reason);
    // The author named one way (a name) and the approver the other (an
    // email): the commit's author is both.
    const bool approving = *to == SpecState::kApproved || *to == SpecState::kReviewed;
    if (approving && b && !before.settings.allow_self_approval && b->author.Is(spec_author)) {
      return say("allowSelfApproval",
                 e.actor + " may not approve this spec: it is their own (metadata.author: " + spec_author +
                     ") and allowSelfApproval is false; another reviewer approves it");
    }
    if (!before.settings.require_signed_approvals || !b) return false;
    if (std::string why = SignatureProblem(b->commit, e.actor, before); !why.empty())
      return say("signature",
                 "requireSignedApprovals asks for " + e.actor + "'s signature on the commit: " + why);
    return false;
  }

  // "" when the commit carries a signature of `principal` that the tools
  // git uses accept (ssh-keygen with the allowed signers of `trust`, gpg
  // with the keyring); else why not, in one line.
  std::string SignatureProblem(const git_oid& oid, const std::string& principal, const Trust& trust) {
    const auto key = std::make_tuple(Hex(oid), principal, trust.signers);
    if (auto it = verified_.find(key); it != verified_.end()) return it->second;
    std::string why =
        CommitSignatureProblem(repo_, oid, principal, trust.settings.allowed_signers_file, trust.signers);
    verified_.emplace(key, why);
    return why;
  }

  git_repository* repo_;
  ValidateOptions options_;
  AuditReport* report_ = nullptr;
  std::string commit_;                  // the commit being judged
  Bringer here_;                        // it, as the bringer of what is new in it
  std::map<std::string, Trust> trust_;  // by tree id
  std::map<std::string, std::map<std::string, std::vector<std::string>>> spec_paths_;  // by tree id
  std::map<std::pair<std::string, EntryKey>, Bringer> entries_;  // (spec id, entry) -> who brought it
  std::map<std::string, Bringer> settings_;                      // Fingerprint -> who brought it
  std::map<std::tuple<std::string, std::string, std::string>, std::string> verified_;
};

}  // namespace

Result<AuditReport> Audit(GitRepo& repo, const AuditRange& range) {
  AuditReport report;
  Auditor auditor(repo.handle());
  if (Status s = auditor.Run(range, &report); !s.ok()) return s.error();
  return report;
}

}  // namespace specd::pipeline
