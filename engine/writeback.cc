// ApplyEdits: load, check the new values, let the Editor splice
// (writeback_layout.cc, writeback_edits.cc), then verify the result
// (writeback_verify.cc) before anyone writes it.
#include "engine/writeback.h"

#include <string>
#include <utility>
#include <vector>

#include "engine/writeback_editor.h"
#include "schema/diagnostic.h"
#include "schema/source_text.h"
#include "schema/yaml_tree.h"

namespace specd {

using writeback_internal::Editor;
using writeback_internal::Verify;

bool SpecEdits::empty() const {
  return !status && tasks.empty() && !progress && append_changelog.empty() && !updated_at;
}

namespace {

Status CheckNewValues(const SpecEdits& edits) {
  std::vector<std::pair<std::string, const std::string*>> values;
  if (edits.status) values.push_back({"/status", &*edits.status});
  if (edits.updated_at) values.push_back({"/metadata/updatedAt", &*edits.updated_at});
  for (const TaskEdit& t : edits.tasks) {
    if (t.status) values.push_back({"the status of task " + t.task_id, &*t.status});
    if (t.assigned_to && t.assigned_to->has_value()) {
      values.push_back({"the assignedTo of task " + t.task_id, &**t.assigned_to});
    }
    if (t.diff_path) values.push_back({"the diffPath of task " + t.task_id, &*t.diff_path});
  }
  for (const ChangeLogEntry& c : edits.append_changelog) {
    for (const std::string* s : {&c.at, &c.actor, &c.from, &c.to, &c.reason, &c.trace}) {
      values.push_back({"a changeLog entry", s});
    }
  }
  for (const auto& [what, value] : values) {
    if (!IsValidUtf8(*value)) return Error{"the new value for " + what + " is not valid UTF-8"};
  }
  return Status::Ok();
}

Status Load(const SourceText& source, size_t bom, Document* doc) {
  int line = 0, column = 0;
  if (auto bad = source.CheckEncoding()) {
    source.Position(bad->offset > bom ? bad->offset - bom : 0, &line, &column);
    return Error{"the file does not load (line " + std::to_string(line) + ", column " +
                 std::to_string(column) + "): " + bad->message};
  }
  Finding problem;
  if (!LoadYaml(source.body(), LoadLimits{}, doc, &problem)) {
    source.Position(problem.offset, &line, &column);
    return Error{"the file does not load (line " + std::to_string(line) + ", column " +
                 std::to_string(column) + "): " + problem.message};
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ApplyEdits(std::string_view original, const SpecEdits& edits) {
  SourceText source(original);
  const size_t bom = original.size() - source.body().size();
  Document doc;
  if (Status st = Load(source, bom, &doc); !st.ok()) return st.error();
  if (Status st = CheckNewValues(edits); !st.ok()) return st.error();
  Editor editor(source.body(), doc, source);
  if (Status st = editor.Apply(edits); !st.ok()) return st.error();
  Result<std::string> body = editor.Text();
  if (!body.ok()) return body.error();
  if (*body == source.body()) return std::string(original);
  if (Status st = Verify(doc, *body, editor.expectations()); !st.ok()) return st.error();
  return std::string(original.substr(0, bom)) + *body;
}

}  // namespace specd
