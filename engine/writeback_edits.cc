// The Editor's edits: what is refused, and the splices that set status,
// updatedAt, task fields, progress and new changeLog entries.
#include "engine/writeback_editor.h"

namespace specd::writeback_internal {

// ---- Refusals ----

Error Editor::CannotEdit(const std::string& path, size_t p, const std::string& why) const {
  return Error{"cannot edit " + path + " (" + Where(p) + "): " + why};
}

Status Editor::ScalarProblem(const std::string& path, const Site& s, const Node& v) const {
  std::string token(t_.substr(s.begin, s.end == kNone ? 0 : s.end - s.begin));
  switch (s.kind) {
    case Site::kKeyForm:
      return CannotEdit(path, s.begin, "its key is not written as 'key: value' on one line; write it so");
    case Site::kAlias:
      return CannotEdit(path, s.begin,
                        "it is an alias (" + token + "); write the value itself so the engine can change it");
    case Site::kProperties:
      return CannotEdit(
          path, s.begin,
          "it carries an anchor or a tag (" + token + "); write the bare value so the engine can change it");
    case Site::kBlockScalar:
      return CannotEdit(path, s.begin, "it is a block scalar ('|' or '>'); write it on one line");
    case Site::kFlowEmpty:
    case Site::kFlow:
    case Site::kBlock:
      return CannotEdit(path, s.begin, "it is " + WithArticle(v.kind) + ", not a single value");
    default:
      if (s.multiline) return CannotEdit(path, s.begin, "it spans several lines; write it on one line");
      return Status::Ok();
  }
}

// A mapping or list the edits reach into: it must be written where it is
// used, and used only there.
Status Editor::ContainerProblem(const MapEntry& e, const std::string& path, bool flow) const {
  Site s = ValueSite(e, flow);
  if (s.kind == Site::kKeyForm || s.kind == Site::kAlias) return ScalarProblem(path, s, N(e.value));
  if (refs_[e.value] > 1) {
    return CannotEdit(path, s.begin, "an alias elsewhere refers to it; the engine will not change both");
  }
  return Status::Ok();
}

Error Editor::FlowInsert(const std::string& path, NodeId map, const std::string& map_path) const {
  std::string where = map_path.empty() ? "the top-level mapping" : map_path;
  return Error{"cannot add " + path + ": " + where + " (" + Where(N(map).offset) +
               ") is a flow mapping ({...}); write it in block style so the engine can add a line"};
}

// ---- Edits ----

void Editor::AddLines(size_t at, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += eol_ + line;
  Add(at, at, std::move(text), lines.empty() ? 0 : static_cast<int>(lines[0].find_first_not_of(' ')));
}

Status Editor::Replace(const MapEntry& e, const std::string& path, const Scalar& v, bool flow) {
  expect_.owned.insert(path);
  expect_.values[path] = v;
  Site s = ValueSite(e, flow);
  const Node& n = N(e.value);
  if (Status problem = ScalarProblem(path, s, n); !problem.ok()) return problem;
  if (Holds(n, v)) return Status::Ok();
  std::string text = Render(v, QuoteOf(s.kind), flow);
  Add(s.begin, s.end, s.kind == Site::kEmpty ? " " + text : text);
  return Status::Ok();
}

Status Editor::InsertEntry(NodeId map, const std::string& map_path, size_t after, const std::string& key,
                           const Scalar& v, Quote quote) {
  const std::string path = map_path + "/" + key;
  if (IsFlow(map) || N(map).entries.empty()) return FlowInsert(path, map, map_path);
  expect_.owned.insert(path);
  expect_.values[path] = v;
  const int col = Column(N(map).entries[0].key_offset);
  AddLines(EntryEnd(map, after), {Spaces(col) + key + ": " + Render(v, quote, false)});
  return Status::Ok();
}

// Replaces the field, or adds it after the mapping's last entry.
Status Editor::SetField(NodeId map, const std::string& map_path, const std::string& key, const Scalar& v,
                        bool flow) {
  const Node& m = N(map);
  if (const MapEntry* e = m.Find(key)) return Replace(*e, map_path + "/" + key, v, flow);
  return InsertEntry(map, map_path, m.entries.size() - 1, key, v, Quote::kPlain);
}

// "key:", "key: ~", "key: []" or "key: {}" becomes "key:" with a block
// below it; a comment after the value stays on the key's line.
Status Editor::ReplaceWithBlock(const MapEntry& e, const std::string& path,
                                const std::vector<std::string>& lines) {
  if (root_flow_) return FlowInsert(path, RootId(), "");
  Site s = ValueSite(e, false);
  if (s.kind != Site::kEmpty && s.kind != Site::kPlain && s.kind != Site::kFlowEmpty) {
    return ScalarProblem(path, s, N(e.value));
  }
  if (LineStart(s.begin) != LineStart(s.colon_end)) {
    return CannotEdit(path, s.begin, "its value is on the line below its key; write it on the key's line");
  }
  Add(s.colon_end, s.end, "");
  AddLines(LineEnd(s.colon_end), lines);
  return Status::Ok();
}

Status Editor::SetStatus(const std::string& status) {
  const Node& root = Root();
  if (const MapEntry* e = root.Find("status")) return Replace(*e, "/status", Str(status), root_flow_);
  size_t after = root.entries.size() - 1;
  for (const char* key : {"id", "version"}) {
    for (size_t i = 0; i < root.entries.size(); ++i) {
      if (root.entries[i].key == key) after = i;
    }
  }
  return InsertEntry(RootId(), "", after, "status", Str(status), Quote::kPlain);
}

Status Editor::SetUpdatedAt(const std::string& at) {
  const MapEntry* m = Root().Find("metadata");
  if (m == nullptr) return Error{"cannot add /metadata/updatedAt: the spec has no metadata"};
  if (Status problem = ContainerProblem(*m, "/metadata", root_flow_); !problem.ok()) return problem;
  const Node& meta = N(m->value);
  if (meta.kind != NodeKind::kMap) {
    return CannotEdit("/metadata", ValueSite(*m, root_flow_).begin,
                      "it is " + WithArticle(meta.kind) + ", not a mapping");
  }
  if (const MapEntry* u = meta.Find("updatedAt")) {
    return Replace(*u, "/metadata/updatedAt", Str(at), IsFlow(m->value));
  }
  // A new timestamp is quoted like createdAt, its sibling.
  Quote quote = Quote::kDouble;
  if (const MapEntry* c = meta.Find("createdAt")) quote = QuoteOf(ValueSite(*c, IsFlow(m->value)).kind);
  return InsertEntry(m->value, "/metadata", meta.entries.size() - 1, "updatedAt", Str(at), quote);
}

namespace {

std::vector<TaskEdit> MergeTaskEdits(const std::vector<TaskEdit>& edits) {
  std::vector<TaskEdit> merged;
  for (const TaskEdit& e : edits) {
    auto same =
        std::find_if(merged.begin(), merged.end(), [&](const TaskEdit& m) { return m.task_id == e.task_id; });
    if (same == merged.end()) {
      merged.push_back(e);
      continue;
    }
    if (e.status) same->status = e.status;
    if (e.assigned_to) same->assigned_to = e.assigned_to;
    if (e.diff_path) same->diff_path = e.diff_path;
  }
  return merged;
}

}  // namespace

Status Editor::FindTask(const std::string& id, NodeId* item, std::string* path) const {
  const MapEntry* tasks = Root().Find("tasks");
  const std::string missing = "no task with id '" + id + "' in /tasks";
  if (tasks == nullptr) return Error{missing};
  if (Status problem = ContainerProblem(*tasks, "/tasks", root_flow_); !problem.ok()) return problem;
  const Node& list = N(tasks->value);
  if (list.kind != NodeKind::kSeq) {
    return CannotEdit("/tasks", ValueSite(*tasks, root_flow_).begin,
                      "it is " + WithArticle(list.kind) + ", not a list");
  }
  int found = 0;
  for (size_t i = 0; i < list.items.size(); ++i) {
    const Node& task = N(list.items[i]);
    const MapEntry* e = task.kind == NodeKind::kMap ? task.Find("id") : nullptr;
    if (e == nullptr || N(e->value).text != id) continue;
    *item = list.items[i];
    *path = "/tasks/" + std::to_string(i);
    ++found;
  }
  if (found == 0) return Error{missing};
  if (found > 1) return Error{"task id '" + id + "' appears more than once in /tasks"};
  if (refs_[*item] > 1) {
    return CannotEdit(*path, N(*item).offset,
                      "an alias elsewhere refers to it; the engine will not change both");
  }
  return Status::Ok();
}

Status Editor::EditTask(NodeId item, const std::string& path, const TaskEdit& edit) {
  const bool flow = IsFlow(item);
  Status st;
  if (edit.status) st = SetField(item, path, "status", Str(*edit.status), flow);
  if (st.ok() && edit.assigned_to) {
    st = SetField(item, path, "assignedTo", edit.assigned_to->has_value() ? Str(**edit.assigned_to) : Null(),
                  flow);
  }
  if (st.ok() && edit.diff_path) st = SetField(item, path, "diffPath", Str(*edit.diff_path), flow);
  return st;
}

Status Editor::EditTasks(const std::vector<TaskEdit>& edits) {
  for (const TaskEdit& edit : MergeTaskEdits(edits)) {
    NodeId item = 0;
    std::string path;
    Status st = FindTask(edit.task_id, &item, &path);
    if (st.ok()) st = EditTask(item, path, edit);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

namespace {

std::vector<std::pair<std::string, int>> ProgressFields(const Progress& p) {
  return {{"total", p.total},
          {"pending", p.pending},
          {"inProgress", p.in_progress},
          {"diffSubmitted", p.diff_submitted},
          {"reviewed", p.reviewed},
          {"done", p.done},
          {"failed", p.failed},
          {"blocked", p.blocked},
          {"percent", p.percent}};
}

}  // namespace

std::vector<std::string> Editor::ProgressLines(const Progress& p, int key_col) const {
  std::vector<std::string> lines;
  for (const auto& [key, value] : ProgressFields(p)) {
    lines.push_back(Spaces(key_col) + key + ": " + std::to_string(value));
  }
  return lines;
}

// A new progress block goes after `tasks`, whose counts it sums up; without
// tasks, just before `changeLog`; otherwise last.
Status Editor::InsertProgress(const std::vector<std::string>& lines) {
  if (root_flow_) return FlowInsert("/progress", RootId(), "");
  const Node& root = Root();
  size_t after = root.entries.size() - 1;
  for (size_t i = 0; i < root.entries.size(); ++i) {
    if (root.entries[i].key == "changeLog" && i > 0) after = i - 1;
  }
  for (size_t i = 0; i < root.entries.size(); ++i) {
    if (root.entries[i].key == "tasks") after = i;
  }
  std::vector<std::string> block{Spaces(Column(root.entries[0].key_offset)) + "progress:"};
  block.insert(block.end(), lines.begin(), lines.end());
  AddLines(EntryEnd(RootId(), after), block);
  return Status::Ok();
}

Status Editor::SetProgress(const Progress& p) {
  expect_.owned_container.insert("/progress");
  for (const auto& [key, value] : ProgressFields(p)) {
    expect_.owned.insert("/progress/" + key);
    expect_.values["/progress/" + key] = Int(value);
  }
  const Node& root = Root();
  const MapEntry* e = root.Find("progress");
  if (e == nullptr) return InsertProgress(ProgressLines(p, Column(root.entries[0].key_offset) + map_indent_));
  if (Status problem = ContainerProblem(*e, "/progress", root_flow_); !problem.ok()) return problem;
  const Node& block = N(e->value);
  Site site = ValueSite(*e, root_flow_);
  if (block.kind == NodeKind::kNull || (block.kind == NodeKind::kMap && site.kind == Site::kFlowEmpty)) {
    return ReplaceWithBlock(*e, "/progress", ProgressLines(p, ChildColumn(*e)));
  }
  if (block.kind != NodeKind::kMap) {
    return CannotEdit("/progress", site.begin, "it is " + WithArticle(block.kind) + ", not a mapping");
  }
  // Counts are set in place, so x- keys and comments in the block stay.
  const bool flow = IsFlow(e->value);
  std::vector<std::string> missing;
  const int col = flow ? 0 : Column(block.entries[0].key_offset);
  for (const auto& [key, value] : ProgressFields(p)) {
    const MapEntry* f = block.Find(key);
    if (f != nullptr) {
      if (Status st = Replace(*f, "/progress/" + key, Int(value), flow); !st.ok()) return st;
    } else if (flow) {
      return FlowInsert("/progress/" + key, e->value, "/progress");
    } else {
      missing.push_back(Spaces(col) + key + ": " + std::to_string(value));
    }
  }
  if (!missing.empty()) AddLines(EntryEnd(e->value, block.entries.size() - 1), missing);
  return Status::Ok();
}

// New items copy the last item's layout (block "- key: ..." with the keys
// aligned under the first, or a one-line "- {...}") and the quoting of its
// values; a new list uses the file's indentation and quotes timestamps.
std::vector<std::string> Editor::ChangeLogLines(const std::vector<ChangeLogEntry>& entries,
                                                std::optional<NodeId> seq, int dash_col) const {
  int key_col = dash_col + item_gap_;
  bool flow = false;
  std::map<std::string, Quote> quotes{{"at", Quote::kDouble}};
  if (seq && !N(*seq).items.empty() && N(N(*seq).items.back()).kind == NodeKind::kMap) {
    NodeId last = N(*seq).items.back();
    const Node& item = N(last);
    flow = IsFlow(last);
    if (!flow && !item.entries.empty()) key_col = Column(item.entries[0].key_offset);
    for (const MapEntry& f : item.entries) {
      if (N(f.value).is_scalar()) quotes[f.key] = QuoteOf(ValueSite(f, flow).kind);
    }
  }
  std::vector<std::string> lines;
  for (const ChangeLogEntry& c : entries) {
    std::vector<std::pair<std::string, Scalar>> fields{{"at", Str(c.at)},
                                                       {"actor", Str(c.actor)},
                                                       {"from", c.from.empty() ? Null() : Str(c.from)},
                                                       {"to", Str(c.to)}};
    if (!c.reason.empty()) fields.push_back({"reason", Str(c.reason)});
    if (!c.trace.empty()) fields.push_back({"trace", Str(c.trace)});
    std::vector<std::string> parts;
    for (const auto& [key, value] : fields) parts.push_back(key + ": " + Render(value, quotes[key], flow));
    if (flow) {
      std::string line = Spaces(dash_col) + "- {";
      for (size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
      lines.push_back(line + "}");
      continue;
    }
    lines.push_back(Spaces(dash_col) + "-" + Spaces(std::max(1, key_col - dash_col - 1)) + parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) lines.push_back(Spaces(key_col) + parts[i]);
  }
  return lines;
}

void Editor::ExpectChangeLog(const std::vector<ChangeLogEntry>& entries, size_t first) {
  expect_.owned_container.insert("/changeLog");
  for (size_t i = 0; i < entries.size(); ++i) {
    const ChangeLogEntry& c = entries[i];
    const std::string item = "/changeLog/" + std::to_string(first + i);
    expect_.owned.insert(item);
    expect_.owned_container.insert(item);
    expect_.values[item + "/at"] = Str(c.at);
    expect_.values[item + "/actor"] = Str(c.actor);
    expect_.values[item + "/from"] = c.from.empty() ? Null() : Str(c.from);
    expect_.values[item + "/to"] = Str(c.to);
    if (!c.reason.empty()) expect_.values[item + "/reason"] = Str(c.reason);
    if (!c.trace.empty()) expect_.values[item + "/trace"] = Str(c.trace);
  }
}

Status Editor::AppendChangeLog(const std::vector<ChangeLogEntry>& entries) {
  const Node& root = Root();
  const MapEntry* e = root.Find("changeLog");
  if (e == nullptr) {
    if (root_flow_) return FlowInsert("/changeLog", RootId(), "");
    ExpectChangeLog(entries, 0);
    const int col = Column(root.entries[0].key_offset);
    std::vector<std::string> lines{Spaces(col) + "changeLog:"};
    for (std::string& line : ChangeLogLines(entries, std::nullopt, col + seq_indent_)) {
      lines.push_back(std::move(line));
    }
    AddLines(EntryEnd(RootId(), root.entries.size() - 1), lines);
    return Status::Ok();
  }
  if (Status problem = ContainerProblem(*e, "/changeLog", root_flow_); !problem.ok()) return problem;
  const Node& list = N(e->value);
  Site site = ValueSite(*e, root_flow_);
  if (list.kind == NodeKind::kNull || (list.kind == NodeKind::kSeq && site.kind == Site::kFlowEmpty)) {
    ExpectChangeLog(entries, 0);
    return ReplaceWithBlock(*e, "/changeLog",
                            ChangeLogLines(entries, std::nullopt, Column(e->key_offset) + seq_indent_));
  }
  if (list.kind != NodeKind::kSeq) {
    return CannotEdit("/changeLog", site.begin, "it is " + WithArticle(list.kind) + ", not a list");
  }
  if (IsFlow(e->value)) {
    return CannotEdit("/changeLog", site.begin,
                      "it is a flow list ([...]); write it in block style so the engine can add items");
  }
  ExpectChangeLog(entries, list.items.size());
  AddLines(SeqEnd(e->value), ChangeLogLines(entries, e->value, Column(SkipProperties(list.offset))));
  return Status::Ok();
}

Status Editor::Apply(const SpecEdits& edits) {
  const Node& root = Root();
  if (root.kind != NodeKind::kMap) {
    return Error{"cannot edit the file: its top level is " + WithArticle(root.kind) + ", not a mapping"};
  }
  if (root.entries.empty()) return Error{"cannot edit the file: its top-level mapping is empty"};
  root_flow_ = IsFlow(RootId());
  Status st;
  if (edits.status) st = SetStatus(*edits.status);
  if (st.ok() && edits.updated_at) st = SetUpdatedAt(*edits.updated_at);
  if (st.ok()) st = EditTasks(edits.tasks);
  if (st.ok() && edits.progress) st = SetProgress(*edits.progress);
  if (st.ok() && !edits.append_changelog.empty()) st = AppendChangeLog(edits.append_changelog);
  return st;
}

// The text with every splice applied. Lines inserted at one offset go the
// more indented first (a new changeLog item before a new top-level key that
// follows the list), else in the order they were made (a new progress block
// before a new changeLog).
Result<std::string> Editor::Text() const {
  std::vector<Splice> sorted = splices_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Splice& a, const Splice& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.column > b.column;
  });
  std::string out;
  size_t pos = 0;
  for (const Splice& s : sorted) {
    if (s.begin < pos) {
      return Error{"cannot write back safely: two edits overlap at " + Where(s.begin) +
                   "; the file is left alone"};
    }
    out.append(t_.substr(pos, s.begin - pos));
    out += s.text;
    pos = s.end;
  }
  out.append(t_.substr(pos));
  return out;
}

}  // namespace specd::writeback_internal
