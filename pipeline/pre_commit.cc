#include "pipeline/pre_commit.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/events.h"
#include "engine/journal.h"

namespace specd::pipeline {

namespace {

bool EndsWith(std::string_view s, std::string_view end) {
  return s.size() > end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Where a staged symlink at `link` pointing at `target` leads, relative to
// the repository; nullopt when it leaves it (absolute, or above the root).
std::optional<std::string> LinkTarget(const std::string& link, const std::string& target) {
  if (target.empty() || target[0] == '/') return std::nullopt;
  std::vector<std::string> parts;
  std::string dir = link.substr(0, link.find_last_of('/') == std::string::npos ? 0 : link.find_last_of('/'));
  std::string whole = dir.empty() ? target : dir + "/" + target;
  size_t start = 0;
  while (start <= whole.size()) {
    size_t slash = whole.find('/', start);
    if (slash == std::string::npos) slash = whole.size();
    std::string part = whole.substr(start, slash - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// A staged symlink spec: refused (an error) when it points outside the
// repository or at anything but a regular file in the index, where git
// would carry it to every clone; otherwise passed over with a warning.
Result<SpecBlob> LoadSymlink(GitRepo* repo, const GitEntry& entry, std::vector<Diagnostic>* refused) {
  SpecBlob blob;
  blob.path = entry.path;
  Result<BlobBytes> link = repo->ReadBlob(entry, 4096);
  if (!link.ok()) return link.error();
  const std::string target = link->too_large ? std::string("/") : link->data;
  std::optional<std::string> rel = LinkTarget(entry.path, target);
  std::string why;
  if (!rel || rel->empty()) {
    why = "a symlink to " + target + ", outside the repository: refused (commit the file, not a link out)";
  } else {
    Result<std::optional<GitEntry>> staged = repo->StagedEntry(*rel);
    if (!staged.ok()) return staged.error();
    if (!*staged || (*staged)->kind != EntryKind::kFile)
      why = "a symlink to " + target + ", which is not a regular file in the index: refused";
  }
  if (!why.empty() && refused) {
    Diagnostic d;
    d.file = entry.path;
    d.keyword = "symlink";
    d.message = why;
    refused->push_back(std::move(d));
    return Error{why, ErrorCode::kInvalid};
  }
  blob.not_a_file = "a symlink in the index: not checked (the file it points to is checked on its own path)";
  return blob;
}

Result<SpecBlob> Load(GitRepo* repo, const GitEntry& entry, size_t max_bytes,
                      std::vector<Diagnostic>* refused = nullptr) {
  SpecBlob blob;
  blob.path = entry.path;
  switch (entry.kind) {
    case EntryKind::kFile:
      break;
    case EntryKind::kSymlink:
      return LoadSymlink(repo, entry, refused);
    case EntryKind::kSubmodule:
      blob.not_a_file = "a submodule in the index: not checked";
      return blob;
    case EntryKind::kOther:
      blob.not_a_file = "not a regular file in the index: not checked";
      return blob;
  }
  Result<BlobBytes> bytes = repo->ReadBlob(entry, max_bytes);
  if (!bytes.ok()) return bytes.error();
  blob.bytes = std::move(bytes->data);
  blob.size = bytes->size;
  blob.too_large = bytes->too_large;
  return blob;
}

// This clone's journal, opened on first use, and only if it exists.
class JournalFile : public JournalView {
 public:
  explicit JournalFile(std::string work_dir) : work_dir_(std::move(work_dir)) {}

  // No journal yet is "not known"; a journal that exists but cannot be read
  // is an error: without it the hook cannot tell specd's entries from
  // hand-written ones.
  Result<std::optional<JournaledSpec>> Find(const std::string& spec_id) override {
    if (!opened_) {
      opened_ = true;
      const std::string path = JournalPathFor(work_dir_);
      if (::access(path.c_str(), F_OK) == 0) {
        Result<std::unique_ptr<Journal>> j = Journal::Open(path);
        if (!j.ok()) open_error_ = j.error();
        if (j.ok()) journal_ = std::move(*j);
      }
    }
    if (open_error_) return *open_error_;
    if (!journal_) return std::optional<JournaledSpec>();
    Result<std::optional<SpecRecord>> rec = journal_->GetSpec(spec_id);
    if (!rec.ok()) return rec.error();
    if (!*rec) return std::optional<JournaledSpec>();
    Result<std::vector<TransitionRecord>> transitions = journal_->Transitions(spec_id);
    if (!transitions.ok()) return transitions.error();
    JournaledSpec known;
    known.trace = (*rec)->trace_id;
    for (const TransitionRecord& t : *transitions)
      known.transitions.insert({FormatTimestamp(t.at_ms), t.from, t.to});
    return std::optional<JournaledSpec>(std::move(known));
  }

 private:
  std::string work_dir_;
  bool opened_ = false;
  std::optional<Error> open_error_;
  std::unique_ptr<Journal> journal_;
};

// The commits this one brings in: a merge's other parents and a
// cherry-pick's commit. `git merge` names them to its hooks as variables
// GITHEAD_<commit> (pre-merge-commit runs before MERGE_HEAD is written); a
// merge or pick finished by `git commit` after a conflict left MERGE_HEAD
// (one a line) or CHERRY_PICK_HEAD in this worktree's git dir.
std::vector<std::string> IncomingCommits(const GitRepo& repo) {
  std::vector<std::string> out;
  constexpr std::string_view kVar = "GITHEAD_";
  for (char** e = environ; e && *e; ++e) {
    const std::string_view var(*e);
    if (var.substr(0, kVar.size()) == kVar && var.size() > kVar.size() + 40 && var[kVar.size() + 40] == '=') {
      out.emplace_back(var.substr(kVar.size(), 40));
    }
  }
  for (const char* name : {"MERGE_HEAD", "CHERRY_PICK_HEAD"}) {
    std::ifstream in(repo.git_dir() + "/" + name);
    for (std::string line; std::getline(in, line);) {
      if (line.size() >= 40) out.push_back(line.substr(0, 40));
    }
  }
  return out;
}

}  // namespace

bool IsSpecPath(std::string_view rel) {
  if (rel.rfind(kSpecsPrefix, 0) != 0) return false;
  if (rel.rfind(std::string(kSpecsPrefix) + "templates/", 0) == 0) return false;
  std::string_view name = BaseName(rel);
  if (name.empty() || name[0] == '.') return false;
  return EndsWith(name, ".yaml") || EndsWith(name, ".yml");
}

Result<std::vector<StagedSpec>> CollectStagedSpecs(GitRepo* repo, const std::vector<std::string>& paths,
                                                   size_t max_bytes, std::vector<Diagnostic>* refused) {
  Result<std::vector<StagedDelta>> deltas = repo->StagedChanges(kSpecsPrefix);
  if (!deltas.ok()) return deltas.error();
  std::map<std::string, StagedDelta> changed;  // by the path checked: staged, else HEAD's
  std::map<std::string, GitEntry> deleted;     // by file name, for moves
  for (StagedDelta& d : *deltas) {
    const GitEntry& e = d.staged ? *d.staged : *d.head;
    if (!IsSpecPath(e.path)) continue;
    if (!d.staged) deleted.emplace(std::string(BaseName(e.path)), *d.head);
    changed.emplace(e.path, std::move(d));
  }
  std::vector<std::pair<std::string, StagedDelta>> chosen;
  if (paths.empty()) {
    for (auto& [path, d] : changed) chosen.emplace_back(path, std::move(d));
  } else {
    std::set<std::string> seen;
    for (const std::string& path : paths) {
      if (!IsSpecPath(path) || !seen.insert(path).second) continue;
      if (auto it = changed.find(path); it != changed.end()) {
        chosen.emplace_back(path, it->second);
        continue;
      }
      StagedDelta same;  // named but unchanged: checked all the same
      Result<std::optional<GitEntry>> staged = repo->StagedEntry(path);
      if (!staged.ok()) return staged.error();
      if (!*staged) continue;  // not in the index: nothing will be committed there
      same.staged = **staged;
      same.head = **staged;
      chosen.emplace_back(path, std::move(same));
    }
  }
  const std::vector<std::string> incoming = IncomingCommits(*repo);
  std::vector<StagedSpec> out;
  for (auto& [path, d] : chosen) {
    StagedSpec spec;
    std::optional<GitEntry> head = d.head;
    if (!head && d.staged) {
      if (auto moved = deleted.find(std::string(BaseName(path))); moved != deleted.end())
        head = moved->second;
    }
    if (d.staged) {
      Result<SpecBlob> blob = Load(repo, *d.staged, max_bytes, refused);
      if (!blob.ok() && blob.error().code == ErrorCode::kInvalid && refused) continue;  // said in `refused`
      if (!blob.ok()) return blob.error();
      spec.staged = std::move(*blob);
    }
    if (head && spec.staged) {
      Result<SpecBlob> blob = Load(repo, *head, max_bytes);
      if (!blob.ok()) return blob.error();
      spec.head = std::move(*blob);
    }
    if (spec.staged) {
      for (const std::string& commit : incoming) {
        Result<std::optional<GitEntry>> theirs = repo->CommitEntry(commit, path);
        if (!theirs.ok()) return theirs.error();
        if (!*theirs && head && head->path != path)
          theirs = repo->CommitEntry(commit, head->path);  // moved here
        if (!theirs.ok()) return theirs.error();
        if (!*theirs) continue;
        Result<SpecBlob> blob = Load(repo, **theirs, max_bytes);
        if (!blob.ok()) return blob.error();
        spec.incoming.push_back(std::move(*blob));
      }
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<StagedReport> CheckPreCommit(GitRepo* repo, const std::vector<std::string>& paths,
                                    const ValidateOptions& options) {
  std::vector<Diagnostic> refused;
  Result<std::vector<StagedSpec>> specs = CollectStagedSpecs(repo, paths, options.limits.max_bytes, &refused);
  if (!specs.ok()) return specs.error();
  JournalFile journal(repo->work_dir());
  StagedReport report = CheckStagedSpecs(*specs, options, &journal);
  report.files += refused.size();
  report.files_with_errors += refused.size();
  report.diagnostics.insert(report.diagnostics.end(), refused.begin(), refused.end());
  return report;
}

}  // namespace specd::pipeline
