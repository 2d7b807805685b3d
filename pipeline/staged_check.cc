#include "pipeline/staged_check.h"

#include <algorithm>

#include "engine/plan.h"
#include "engine/spec_model.h"
#include "engine/state_machine.h"
#include "schema/source_text.h"
#include "schema/yaml_tree.h"

namespace specd::pipeline {

namespace {

bool HasError(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

Diagnostic At(const SpecBlob& blob, size_t offset, std::string pointer, std::string keyword,
              std::string message, Severity severity = Severity::kError) {
  Diagnostic d;
  d.file = blob.path;
  SourceText(blob.bytes).Position(offset, &d.line, &d.column);
  d.pointer = std::move(pointer);
  d.keyword = std::move(keyword);
  d.message = std::move(message);
  d.severity = severity;
  return d;
}

bool ReadHead(const SpecBlob& blob, const ValidateOptions& options, SpecModel* model) {
  return ReadSpecBlob(blob, options, model, nullptr);
}

size_t FieldOffset(const Document& doc, const char* key) {
  const Node* n = doc.Field(doc.root(), key);
  return n ? n->offset : 0;
}

// "specd approve ID" in the state machine's advice, with the spec's id.
std::string WithId(std::string text, const std::string& id) {
  for (size_t at = 0; (at = text.find(" ID", at)) != std::string::npos;) {
    const size_t end = at + 3;
    if (end < text.size() && text[end] != '`' && text[end] != ' ') {
      at = end;
      continue;
    }
    text.replace(at + 1, 2, id);
    at += 1 + id.size();
  }
  return text;
}

std::string Refusal(SpecState from, SpecState to, const std::string& reason, const std::string& id) {
  const std::string arrow = std::string(StateName(from)) + " -> " + StateName(to);
  return WithId(reason.rfind(arrow, 0) == 0 ? reason : arrow + ": " + reason, id);
}

class Checker {
 public:
  Checker(const ValidateOptions& options, JournalView* journal) : options_(options), journal_(journal) {}

  // Appends the staged spec's diagnostics to `out`; true when it has errors.
  bool Check(const StagedSpec& spec, std::vector<Diagnostic>* out) {
    const SpecBlob& blob = *spec.staged;
    if (!blob.not_a_file.empty()) {
      out->push_back(At(blob, 0, "", "skipped", blob.not_a_file, Severity::kWarning));
      return false;
    }
    if (blob.too_large) {
      out->push_back(FileTooLarge(blob.path, blob.size, options_.limits.max_bytes));
      return true;
    }
    Document doc;
    bool loaded = false;
    std::vector<Diagnostic> diags = ValidateSpecText(blob.bytes, blob.path, options_, &doc, &loaded);
    if (loaded && !doc.empty() && doc.root().kind == NodeKind::kMap) CheckStatus(spec, doc, &diags);
    std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    const bool errors = HasError(diags);
    out->insert(out->end(), diags.begin(), diags.end());
    return errors;
  }

 private:
  void CheckStatus(const StagedSpec& spec, const Document& doc, std::vector<Diagnostic>* out) {
    const SpecBlob& blob = *spec.staged;
    const SpecModel model = ReadSpecModel(doc);
    const std::optional<SpecState> to = ParseState(model.status);
    if (!to) return;  // the schema has said what is wrong with it
    SpecModel head;
    head.status = StateName(SpecState::kDraft);  // a new spec starts where `specd new` puts it
    if (spec.head && !ReadHead(*spec.head, options_, &head)) return;  // nothing to compare with
    StatusChange change = JudgeStatusChange(blob.path, head, model);
    if (!change.chain.empty()) {
      CheckJournaled(spec, doc, model, change.chain, change.id, out);
      return;
    }
    if (change.refusal.empty()) return;
    const std::string message =
        change.refusal + (spec.head ? " (HEAD has " + head.status + ")" : " (a new spec starts as draft)");
    out->push_back(At(blob, FieldOffset(doc, "status"), "/status", "transition", message));
  }

  // Each entry new since HEAD must be evidence of a transition: one specd
  // made here (this clone's trace, and this clone's journal has it; a copy
  // of such an entry is caught by the journal), or one a commit being merged
  // or picked already carries (a teammate's, judged where it was made).
  // Anything else was typed into the file, whoever it names.
  void CheckJournaled(const StagedSpec& spec, const Document& doc, const SpecModel& model,
                      const std::vector<size_t>& chain, const std::string& id, std::vector<Diagnostic>* out) {
    const SpecBlob& blob = *spec.staged;
    std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> incoming;
    for (const SpecBlob& theirs : spec.incoming) {
      SpecModel m;
      if (!ReadHead(theirs, options_, &m)) continue;
      for (const ChangeLogEntry& e : m.change_log) incoming.insert({e.at, e.actor, e.from, e.to, e.trace});
    }
    std::optional<JournaledSpec> known;
    bool asked = false;
    for (size_t i : chain) {
      const ChangeLogEntry& e = model.change_log[i];
      if (incoming.count({e.at, e.actor, e.from, e.to, e.trace})) continue;
      if (!asked && journal_) {
        asked = true;
        Result<std::optional<JournaledSpec>> found = journal_->Find(id);
        if (!found.ok()) {
          out->push_back(At(blob, FieldOffset(doc, "changeLog"), "/changeLog", "journal",
                            "cannot read this clone's journal to check the new changeLog entries: " +
                                found.error().message));
          return;
        }
        known = *found;
      }
      const bool ours = known && !known->trace.empty() && e.trace == known->trace;
      if (ours && known->transitions.count({e.at, e.from, e.to})) continue;
      const std::string what =
          e.from + " -> " + e.to + " at " + e.at + (e.actor.empty() ? "" : " by " + e.actor);
      out->push_back(
          At(blob, ChangeLogOffset(doc, i), "/changeLog/" + std::to_string(i), "transition",
             ours ? what + " has this clone's trace " + e.trace +
                        " but this clone's journal never recorded it: specd writes both, so the "
                        "entry was written by hand (use the specd verb; if specd was interrupted, run "
                        "`specd reconcile`)"
                  : what + " is new in this commit, but specd did not make it here and no commit "
                           "being merged carries it: a changeLog entry typed into the file is not "
                           "evidence of a transition (make it with the specd verb, or merge the "
                           "commit that has it)"));
    }
  }

  const ValidateOptions& options_;
  JournalView* journal_;
};

}  // namespace

bool ReadSpecBlob(const SpecBlob& blob, const ValidateOptions& options, SpecModel* model, Document* doc) {
  if (blob.too_large || !blob.not_a_file.empty()) return false;
  SourceText text(blob.bytes);
  if (text.CheckEncoding()) return false;
  Document loaded;
  Finding problem;
  if (!LoadYaml(text.body(), options.limits, &loaded, &problem)) return false;
  *model = ReadSpecModel(loaded);
  if (doc) *doc = std::move(loaded);
  return true;
}

size_t ChangeLogOffset(const Document& doc, size_t index) {
  const Node* log = doc.Field(doc.root(), "changeLog");
  if (!log || log->kind != NodeKind::kSeq || index >= log->items.size()) return 0;
  return doc.node(log->items[index]).offset;
}

StatusChange JudgeStatusChange(const std::string& rel, const SpecModel& before, const SpecModel& after) {
  StatusChange change;
  change.id = after.id.empty() ? ExpectedSpecId(rel) : after.id;
  const std::optional<SpecState> from = ParseState(before.status), to = ParseState(after.status);
  if (!from || !to || *from == *to) return change;
  // What the engine would do with this file if `before` were the last
  // legal version: the one planner decides, the hook and the audit report.
  PlanInput in;
  in.rel = rel;
  in.id = change.id;
  in.model = after;
  in.record = SpecRecord{};
  in.record->id = in.id;
  in.record->status = before.status;
  in.known_log = before.change_log;
  SpecPlan plan = PlanSpec(in);
  change.chain = plan.caught_up;
  if (change.chain.empty() && !plan.batch.refusals.empty())
    change.refusal = Refusal(*from, *to, plan.batch.refusals.front().reason, in.id);
  return change;
}

size_t StatusOffset(const Document& doc) {
  return FieldOffset(doc, "status");
}

StagedReport CheckStagedSpecs(const std::vector<StagedSpec>& specs, const ValidateOptions& options,
                              JournalView* journal) {
  StagedReport report;
  Checker checker(options, journal);
  for (const StagedSpec& spec : specs) {
    if (!spec.staged) continue;  // deleted: nothing to check
    ++report.files;
    if (checker.Check(spec, &report.diagnostics)) ++report.files_with_errors;
  }
  return report;
}

}  // namespace specd::pipeline
