#include "engine/validate_run.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "schema/source_text.h"
#include "schema/yaml_tree.h"

namespace specd {

namespace {

Diagnostic PathDiagnostic(const std::string& path, const std::string& keyword, std::string message,
                          Severity severity) {
  Diagnostic d;
  d.file = path;
  d.keyword = keyword;
  d.message = std::move(message);
  d.severity = severity;
  return d;
}

FileResult CheckOne(const SpecFile& f, const ValidateOptions& options) {
  FileResult r;
  r.path = f.display_path;
  if (!f.skip_reason.empty()) {
    if (f.io_error) {
      r.outcome = Outcome::kUnreadable;
      r.diagnostics.push_back(PathDiagnostic(f.display_path, "io", f.skip_reason, Severity::kError));
    } else if (f.refused) {
      r.outcome = Outcome::kInvalid;
      r.diagnostics.push_back(PathDiagnostic(f.display_path, "symlink", f.skip_reason, Severity::kError));
    } else {
      r.outcome = Outcome::kSkipped;
      r.diagnostics.push_back(PathDiagnostic(f.display_path, "skipped", f.skip_reason, Severity::kWarning));
    }
    return r;
  }
  Result<FileBytes> bytes = ReadSpecFile(f.open_path, options.limits.max_bytes);
  if (!bytes.ok()) {
    r.outcome = Outcome::kUnreadable;
    r.diagnostics.push_back(PathDiagnostic(f.display_path, "io", bytes.error().message, Severity::kError));
    return r;
  }
  if (bytes->too_large) {
    r.diagnostics.push_back(FileTooLarge(f.display_path, bytes->size, options.limits.max_bytes));
  } else {
    Document doc;
    bool loaded = false;
    r.diagnostics = ValidateSpecText(bytes->data, f.display_path, options, &doc, &loaded);
    const Node* id =
        loaded && !doc.empty() && doc.root().kind == NodeKind::kMap ? doc.Field(doc.root(), "id") : nullptr;
    if (id && id->kind == NodeKind::kString) {
      r.spec_id = id->text;
      SourceText(bytes->data).Position(id->offset, &r.id_line, &r.id_column);
    }
  }
  bool error = std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                           [](const Diagnostic& d) { return d.severity == Severity::kError; });
  r.outcome = error ? Outcome::kInvalid : Outcome::kValid;
  return r;
}

// Two files of one repository's spec tree with the same id: an error on each.
void CheckUniqueIds(std::vector<FileResult>* files) {
  std::map<std::string, std::vector<FileResult*>> by_id;
  for (FileResult& r : *files) {
    if (!r.spec_id.empty() && r.path.find(".agents/specs/") != std::string::npos)
      by_id[r.spec_id].push_back(&r);
  }
  for (auto& [id, same] : by_id) {
    if (same.size() < 2) continue;
    for (FileResult* r : same) {
      FileResult* other = same[0] == r ? same[1] : same[0];
      Diagnostic d =
          PathDiagnostic(r->path, "unique-spec-id", DuplicateIdMessage(id, other->path), Severity::kError);
      d.pointer = "/id";
      d.line = r->id_line;
      d.column = r->id_column;
      r->diagnostics.push_back(std::move(d));
      r->outcome = Outcome::kInvalid;
    }
  }
}

}  // namespace

std::string DuplicateIdMessage(const std::string& id, const std::string& other_path) {
  return "spec id '" + id + "' is also in " + other_path +
         ": one id, one file (rename or remove one; specd acts on neither until then)";
}

ValidateReport ValidateSpecFiles(const std::vector<SpecFile>& files, const ValidateOptions& options,
                                 int threads) {
  ValidateReport report;
  report.files.resize(files.size());
  size_t n = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  n = std::min(n, files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) report.files[i] = CheckOne(files[i], options);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n; ++t) pool.emplace_back(work);
  work();  // the calling thread works too
  for (std::thread& t : pool) t.join();
  CheckUniqueIds(&report.files);
  for (const FileResult& r : report.files) {
    switch (r.outcome) {
      case Outcome::kValid:
        ++report.valid;
        break;
      case Outcome::kInvalid:
        ++report.invalid;
        break;
      case Outcome::kSkipped:
        ++report.skipped;
        break;
      case Outcome::kUnreadable:
        ++report.unreadable;
        break;
    }
  }
  return report;
}

std::string SummaryLine(const ValidateReport& report) {
  size_t n = report.checked();
  std::string line = std::to_string(n) + (n == 1 ? " file: " : " files: ") + std::to_string(report.valid) +
                     " valid, " + std::to_string(report.invalid) + " invalid";
  if (report.unreadable) line += ", " + std::to_string(report.unreadable) + " unreadable";
  if (report.skipped) line += ", " + std::to_string(report.skipped) + " skipped";
  return line;
}

}  // namespace specd
