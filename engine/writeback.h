// Byte-preserving write-back (SPEC_FORMAT.md "Write-back"): the engine
// changes only the fields it owns (`status`, a task's `status`, `assignedTo`
// and `diffPath`, `progress`, `changeLog`, `metadata.updatedAt`); every other
// byte of the file stays as the author wrote it: comments, blank lines, key
// order, quoting style, CRLF line endings, a BOM.
//
// How values are written:
// - A replaced scalar keeps its style: a double-quoted value stays
//   double-quoted, a single-quoted one single-quoted (double-quoted if the
//   new text cannot be single-quoted), a plain one plain when the new text is
//   a plain scalar that types as a string under YAML 1.2's core schema and is
//   safe where it stands (block or flow context), otherwise double-quoted.
//   A comment after the value stays. A value that already holds the new
//   value is not touched, so re-applying the same edits changes nothing but
//   `changeLog`.
// - Nulls are written `null`; counts and `percent` as plain integers.
// - A new timestamp (`updatedAt`, a change-log entry's `at`) copies the
//   quoting of its sibling (`createdAt`, the last entry's `at`) and is
//   double-quoted otherwise, as the templates write them.
//
// Where new lines go (always block style, the file's line ending, the
// indentation of their siblings; a new nested block indents by the file's
// own step, found from its other blocks, default 2):
// - a missing key of a mapping (a task's field, `metadata.updatedAt`, a
//   count of `progress`): after the mapping's last entry;
// - `status`, when missing: after `version`, else after `id`, else last;
// - `progress`, when missing: after `tasks`; without tasks, before
//   `changeLog` (after the entry preceding it); otherwise last;
// - `changeLog`, when missing: last; new entries go after its last item, in
//   the style of that item (block `- at: ...` with the following keys
//   aligned, or a one-line `- {at: ..., to: ...}`). `changeLog: []`,
//   `changeLog:` and `progress: {}` become block collections.
// "After an entry" means after the last content line of its value, before
// any blank lines and comment lines that follow it: those introduce what
// comes next. A block scalar keeping its trailing newlines (`|+`) keeps them.
//
// What is refused (an Error; nothing is written):
// - a file that does not load (LoadYaml, or bytes that are not UTF-8);
// - an owned value that is an alias, carries an anchor or a tag, is a block
//   scalar, spans several lines, or is a mapping or list where a single value
//   is expected; an owned field inside a node shared through an alias;
// - an insertion into a flow mapping (`{...}`), an append to a non-empty
//   flow list (`[...]`); a key written as an explicit `? key`;
// - a TaskEdit naming a task that is not there, or a task id that is there
//   twice;
// - new text that would not load back to the same spec with only the owned
//   fields changed (a self-check after every edit).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/spec_model.h"
#include "schema/result.h"

namespace specd {

// One appended `changeLog` item. `from` "" is written as null; `reason` and
// `trace` "" are left out.
// ChangeLogEntry: engine/spec_model.h.

// The derived `progress` block: counts of tasks by state and a percentage.
struct Progress {
  int total = 0, pending = 0, in_progress = 0, diff_submitted = 0, reviewed = 0, done = 0, failed = 0,
      blocked = 0;
  int percent = 0;
};

struct TaskEdit {
  std::string task_id;  // matches tasks[].id
  std::optional<std::string> status;
  std::optional<std::optional<std::string>> assigned_to;  // nullopt: leave; optional(nullopt): set null
  std::optional<std::string> diff_path;
};

struct SpecEdits {
  std::optional<std::string> status;
  std::vector<TaskEdit> tasks;  // several edits of one task merge, later fields winning
  // Sets the nine counts (`total` ... `percent`) in place, adding the missing
  // ones; other keys of the block (`x-...`) and its comments stay. Inserted
  // if absent.
  std::optional<Progress> progress;
  std::vector<ChangeLogEntry> append_changelog;  // appended at the end of changeLog, created if absent
  std::optional<std::string> updated_at;         // metadata.updatedAt, inserted if absent
  bool empty() const;
};

// Returns the new bytes of the file. `original` is the whole file as read
// (BOM and all). Fails (Error with a clear message, file left alone by the
// caller) when the original does not load, an owned field is written in a
// form that cannot be edited safely, or a TaskEdit names a task that is not
// there. Edits that change nothing return `original` unchanged.
Result<std::string> ApplyEdits(std::string_view original, const SpecEdits& edits);

}  // namespace specd
