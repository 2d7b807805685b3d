// What a commit may carry, decided without git: each staged spec's bytes and
// HEAD's version of it in, diagnostics out. A staged spec must validate
// exactly as `specd validate` says, and a change of its `status` must be one
// the life cycle allows:
//   - specd's own transitions (verbs, engine steps) come with changeLog
//     entries; entries beyond HEAD's that chain from HEAD's status to the
//     staged one along life-cycle edges make the change legal, when each is
//     evidence: made here (this clone's trace, and in this clone's journal)
//     or carried by a commit being merged or picked. An entry typed into
//     the file is not evidence of a transition, whoever it names;
//   - anything else is a hand edit, decided by the state machine as one
//     (Via::kFileEdit, the author's role): draft -> review passes,
//     draft -> completed stops the commit with the reason.
// A new spec is judged as if HEAD had it at draft (what `specd new` writes);
// a deleted one needs nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/spec_model.h"
#include "schema/diagnostic.h"
#include "schema/result.h"
#include "schema/validate.h"
#include "schema/yaml_tree.h"

namespace specd::pipeline {

// One version of a spec file as git holds it.
struct SpecBlob {
  std::string path;  // repository-relative
  std::string bytes;
  uint64_t size = 0;
  bool too_large = false;  // over the size limit: bytes not read
  std::string not_a_file;  // non-empty: a symlink or submodule, said why it is not checked
};

// What a version says, without a schema check: its model (status,
// changeLog...) and, when `doc` is given, the tree (for offsets). false when
// it is not read (too large, not a file) or not YAML at all.
bool ReadSpecBlob(const SpecBlob& blob, const ValidateOptions& options, SpecModel* model, Document* doc);

// Where changeLog item `index` starts in `doc` (0 when there is none).
size_t ChangeLogOffset(const Document& doc, size_t index);

// A status change from `before` (the last legal version; a new spec's is
// draft) to `after`: carried by changeLog entries along life-cycle edges
// (`chain`, their indexes in `after`), allowed as a hand edit (neither set),
// or refused (`refusal`: "review -> approved cannot be made by editing the
// file: ..."). The pre-commit hook and `specd audit` ask the same planner.
struct StatusChange {
  std::string id;
  std::vector<size_t> chain;
  std::string refusal;
};
StatusChange JudgeStatusChange(const std::string& rel, const SpecModel& before, const SpecModel& after);

// Where `status` is written in `doc` (0 when it is not).
size_t StatusOffset(const Document& doc);

struct StagedSpec {
  std::optional<SpecBlob> staged;  // nullopt: deleted
  std::optional<SpecBlob> head;    // nullopt: new (HEAD has no spec of that id)
  // Its versions in the commits this one brings in (a merge's other parents,
  // a cherry-pick's commit): where a teammate's transitions come from.
  std::vector<SpecBlob> incoming;
};

// What this clone's journal knows of a spec, for the one check that needs
// it: a new changeLog entry must be one specd made here, under this clone's
// trace and journaled (so a copied or hand-written entry is caught). Opened
// only when a status change comes with such a chain.
struct JournaledSpec {
  std::string trace;
  std::set<std::tuple<std::string, std::string, std::string>> transitions;  // (at, from, to)
};
class JournalView {
 public:
  virtual ~JournalView() = default;
  // nullopt: the journal does not know the spec (or there is none yet).
  virtual Result<std::optional<JournaledSpec>> Find(const std::string& spec_id) = 0;
};

struct StagedReport {
  std::vector<Diagnostic> diagnostics;  // errors and warnings, file by file
  size_t files = 0;                     // staged specs checked
  size_t files_with_errors = 0;
  bool ok() const { return files_with_errors == 0; }
};

// journal may be null (no journal in this clone).
StagedReport CheckStagedSpecs(const std::vector<StagedSpec>& specs, const ValidateOptions& options,
                              JournalView* journal);

}  // namespace specd::pipeline
