#include "pipeline/patch.h"

#include <strings.h>

#include <algorithm>

#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace {

bool HasLineStarting(std::string_view text, std::string_view prefix) {
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(at, end - at).starts_with(prefix)) return true;
    at = end + 1;
  }
  return false;
}

bool Blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// Before libgit2 sees it: a patch git would not make is refused with what to
// run instead.
Status CheckIsGitFormat(std::string_view patch) {
  if (Blank(patch)) return Error{"the diff is empty", ErrorCode::kInvalid};
  if (HasLineStarting(patch, "diff --git ")) return Status::Ok();
  const char* kUseGit = "not a git-format patch: make it with `git diff` or `git format-patch`";
  if (HasLineStarting(patch, "--- ") || HasLineStarting(patch, "@@ ")) {
    return Error{std::string(kUseGit) + " (this looks like `diff -u` output)", ErrorCode::kInvalid};
  }
  return Error{kUseGit, ErrorCode::kInvalid};
}

char StatusLetter(git_delta_t status) {
  switch (status) {
    case GIT_DELTA_ADDED:
      return 'A';
    case GIT_DELTA_DELETED:
      return 'D';
    case GIT_DELTA_RENAMED:
      return 'R';
    case GIT_DELTA_COPIED:
      return 'C';
    case GIT_DELTA_TYPECHANGE:
      return 'T';
    default:
      return 'M';
  }
}

PatchDelta DeltaOf(const git_diff_delta& d) {
  PatchDelta out;
  out.status = StatusLetter(d.status);
  if (d.status != GIT_DELTA_ADDED) out.old_path = d.old_file.path;
  if (d.status != GIT_DELTA_DELETED) out.new_path = d.new_file.path;
  out.mode_change = d.old_file.mode != 0 && d.new_file.mode != 0 && d.old_file.mode != d.new_file.mode;
  out.binary = (d.flags & GIT_DIFF_FLAG_BINARY) != 0;
  return out;
}

// The first binary change that came without its data, by path; "" if none.
int NoteBinaryWithoutData(const git_diff_delta* delta, const git_diff_binary* binary, void* payload) {
  auto* path = static_cast<std::string*>(payload);
  if (!binary->contains_data && path->empty()) {
    *path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
  }
  return 0;
}

}  // namespace

Result<ParsedPatch> ParsePatch(std::string_view patch) {
  if (Status s = CheckIsGitFormat(patch); !s.ok()) return s.error();
  ParsedPatch out;
  Result<DiffPtr> diff = ParseDiff(patch);
  if (!diff.ok()) return diff.error();
  for (size_t i = 0, n = git_diff_num_deltas(diff->get()); i < n; ++i) {
    out.deltas.push_back(DeltaOf(*git_diff_get_delta(diff->get(), i)));
  }
  if (out.deltas.empty()) return Error{"the diff is empty", ErrorCode::kInvalid};
  std::string no_data;
  if (git_diff_foreach(diff->get(), nullptr, NoteBinaryWithoutData, nullptr, nullptr, &no_data) != 0) {
    return GitError("the diff cannot be read", ErrorCode::kInvalid);
  }
  if (!no_data.empty()) {
    return Error{"binary change to " + no_data + " without its data: make the diff with `git diff --binary`",
                 ErrorCode::kInvalid};
  }
  out.diff = std::move(*diff);
  return out;
}

Result<std::vector<PatchDelta>> ReadPatch(std::string_view patch) {
  Result<ParsedPatch> parsed = ParsePatch(patch);
  if (!parsed.ok()) return parsed.error();
  return std::move(parsed->deltas);
}

bool NeverInDiff(std::string_view path) {
  if (path == ".agents" || path.starts_with(".agents/")) return true;
  for (size_t at = 0; at <= path.size();) {
    size_t end = std::min(path.find('/', at), path.size());
    std::string_view part = path.substr(at, end - at);
    if (part.size() == 4 && ::strncasecmp(part.data(), ".git", 4) == 0)
      return true;  // .GIT on a case-folding fs
    at = end + 1;
  }
  return false;
}

namespace {

bool Declared(const std::string& path, const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    if (f == path) return true;
    if (!f.empty() && f.back() == '/' && path.size() > f.size() && path.starts_with(f)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> PathsOutOfScope(const std::vector<PatchDelta>& deltas,
                                         const std::vector<std::string>& files) {
  std::vector<std::string> out;
  auto note = [&](const std::string& path) {
    if (path.empty() || std::find(out.begin(), out.end(), path) != out.end()) return;
    if (NeverInDiff(path) || !Declared(path, files)) out.push_back(path);
  };
  for (const PatchDelta& d : deltas) {
    note(d.old_path);
    note(d.new_path);
  }
  return out;
}

}  // namespace specd::pipeline
