// The facts step of a spec's pass: everything the pure planner is given,
// from the file as read, the journal, and the registered FactSources.
#include <string_view>

#include "engine/engine.h"
#include "engine/hash.h"
#include "engine/loaded.h"
#include "engine/validate_run.h"
#include "engine/writeback.h"
#include "schema/source_text.h"

namespace specd {

namespace {

// How DuplicateIdMessage names the other file in the spec's errors, so the
// next pass over either file can find it again.
constexpr std::string_view kAlsoIn = "' is also in ";
constexpr std::string_view kAlsoInEnd = ": one id, one file";

std::string DuplicatePathIn(const std::string& errors) {
  size_t at = errors.find(kAlsoIn);
  if (at == std::string::npos) return "";
  at += kAlsoIn.size();
  size_t end = errors.find(kAlsoInEnd, at);
  return end == std::string::npos ? "" : errors.substr(at, end - at);
}

}  // namespace

// Another live file holding the same spec id, if there is one: the record
// points at another file that still exists, or the record's error names
// one. Two copies of a spec (one in a subfolder, a stray in archive/) are
// an error on both, and neither is acted on until one is gone.
std::optional<std::string> SpecEngine::DuplicateOf(const std::string& rel, const SpecRecord& record) {
  std::string other = record.path != rel && !record.removed ? record.path : DuplicatePathIn(record.errors);
  if (other.empty() || other == rel || !env_->Exists(Absolute(other))) return std::nullopt;
  return other;
}

Result<PlanInput> SpecEngine::Gather(const std::string& rel, const Loaded& file,
                                     std::optional<SpecRecord> record, Source source) {
  PlanInput in;
  in.source = source;
  in.rel = rel;
  in.id = file.valid ? file.model.id : ExpectedSpecId(rel);
  in.valid = file.valid;
  in.model = file.model;
  in.hash = file.hash;
  in.now_ms = env_->NowMillis() / 1000 * 1000;  // changeLog has seconds; keep both equal
  in.max_attempts = options_.max_attempts;
  if (!record) in.new_trace_id = NewTraceId();
  if (record) {
    // Changed since specd last saw it, and not by specd's own write.
    in.author_edit = file.hash != record->content_hash && file.hash != record->written_hash;
    if (in.author_edit) ++record->generation;
    if (!record->errors.empty()) {
      Result<std::vector<FailureRecord>> failures = journal_->Failures(record->id);
      if (!failures.ok()) return failures.error();
      if (!failures->empty() && failures->back().resolution.empty()) in.open_failure = failures->back();
    }
    if (file.valid && !record->status.empty() && record->status != file.model.status) {
      Result<std::vector<TransitionRecord>> journaled = journal_->Transitions(record->id);
      if (!journaled.ok()) return journaled.error();
      in.journaled = std::move(*journaled);
    }
    if (std::optional<std::string> other = DuplicateOf(rel, *record)) {
      const Node* id = file.yaml ? file.doc.Field(file.doc.root(), "id") : nullptr;
      Diagnostic d;
      d.file = rel;
      if (id) SourceText(file.bytes).Position(id->offset, &d.line, &d.column);
      d.pointer = "/id";
      d.keyword = "unique-spec-id";
      d.message = DuplicateIdMessage(in.id, *other);
      in.valid = false;
      in.duplicate = true;
      in.errors = FormatText(d) + "\n";
      in.first_error = FormatText(d);
      in.first_error_pointer = d.pointer + ": " + d.message;
    }
    in.record = std::move(record);
  }
  if (!file.valid) {
    for (const Diagnostic& d : file.diags) {
      if (d.severity != Severity::kError) continue;
      in.errors += FormatText(d) + "\n";
      if (in.first_error.empty()) {
        in.first_error = FormatText(d);
        in.first_error_pointer = d.pointer + ": " + d.message;
      }
    }
    if (in.first_error.empty()) in.first_error = in.first_error_pointer = "invalid";
  }
  if (in.valid) {
    for (FactSource* s : fact_sources_) {
      if (Status st = s->Gather(in.model, in.record ? &*in.record : nullptr, &in.facts); !st.ok())
        return st.error();
    }
  }
  return in;
}

// Whether putting back the last legal status alone makes the file valid: an
// illegal status edit can break a status-dependent rule (tasks required from
// in-progress on); it is still a status edit to refuse, not a broken file.
bool SpecEngine::StatusEditIsTheOnlyProblem(const Loaded& file, const std::string& legal,
                                            const std::string& rel) const {
  if (legal.empty() || file.model.status == legal) return false;
  SpecEdits revert;
  revert.status = legal;
  Result<std::string> reverted = ApplyEdits(file.bytes, revert);
  if (!reverted.ok()) return false;
  Document doc;
  bool loaded = false;
  std::vector<Diagnostic> diags = ValidateSpecText(*reverted, rel, options_.validate, &doc, &loaded);
  return loaded && !HasError(diags);
}

}  // namespace specd
