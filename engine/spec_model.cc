#include "engine/spec_model.h"

namespace specd {

namespace {

const Node* Get(const Document& doc, const Node& map, std::string_view key) {
  return doc.Field(map, key);
}
std::string Text(const Document& doc, const Node& map, std::string_view key) {
  return doc.FieldText(map, key);
}

// A list of strings (anything else in it is skipped: the validator said so).
std::vector<std::string> Texts(const Document& doc, const Node& map, std::string_view key) {
  std::vector<std::string> out;
  const Node* list = Get(doc, map, key);
  if (!list || list->kind != NodeKind::kSeq) return out;
  for (NodeId id : list->items) {
    const Node& item = doc.node(id);
    if (item.kind == NodeKind::kString) out.push_back(item.text);
  }
  return out;
}

}  // namespace

SpecModel ReadSpecModel(const Document& doc) {
  SpecModel m;
  if (doc.empty() || doc.root().kind != NodeKind::kMap) return m;
  const Node& root = doc.root();
  m.id = Text(doc, root, "id");
  m.status = Text(doc, root, "status");
  if (const Node* meta = Get(doc, root, "metadata")) {
    m.author = Text(doc, *meta, "author");
    m.title = Text(doc, *meta, "title");
    m.priority = Text(doc, *meta, "priority");
  }
  if (const Node* tasks = Get(doc, root, "tasks"); tasks && tasks->kind == NodeKind::kSeq) {
    for (NodeId id : tasks->items) {
      const Node& t = doc.node(id);
      const Node* assignee = Get(doc, t, "assignedTo");
      TaskFact task{Text(doc, t, "id"), Text(doc, t, "status"),
                    assignee && assignee->kind == NodeKind::kString && !assignee->text.empty()};
      if (task.assigned) task.assigned_to = assignee->text;
      task.dependencies = Texts(doc, t, "dependencies");
      task.files = Texts(doc, t, "files");
      task.priority = Text(doc, t, "priority");
      task.diff_path = Text(doc, t, "diffPath");
      task.title = Text(doc, t, "title");
      m.tasks.push_back(std::move(task));
    }
  }
  if (const Node* log = Get(doc, root, "changeLog"); log && log->kind == NodeKind::kSeq) {
    for (NodeId id : log->items) {
      const Node& e = doc.node(id);
      m.change_log.push_back(ChangeLogEntry{Text(doc, e, "at"), Text(doc, e, "actor"), Text(doc, e, "from"),
                                            Text(doc, e, "to"), Text(doc, e, "reason"),
                                            Text(doc, e, "trace")});
    }
  }
  if (const Node* p = Get(doc, root, "progress"); p && p->kind == NodeKind::kMap) {
    m.has_progress = true;
    for (const MapEntry& e : p->entries) {
      const Node& v = doc.node(e.value);
      m.progress.emplace_back(e.key, v.kind == NodeKind::kInt ? v.integer : -1);
    }
  }
  return m;
}

std::vector<std::pair<std::string, int64_t>> DeriveProgress(const std::vector<TaskFact>& tasks) {
  int64_t pending = 0, in_progress = 0, submitted = 0, reviewed = 0, done = 0, failed = 0, blocked = 0;
  for (const TaskFact& t : tasks) {
    pending += t.status == "pending";
    in_progress += t.status == "in-progress";
    submitted += t.status == "diff-submitted";
    reviewed += t.status == "reviewed";
    done += t.status == "done";
    failed += t.status == "failed";
    blocked += t.status == "blocked";
  }
  int64_t total = static_cast<int64_t>(tasks.size());
  return {{"total", total},
          {"pending", pending},
          {"inProgress", in_progress},
          {"diffSubmitted", submitted},
          {"reviewed", reviewed},
          {"done", done},
          {"failed", failed},
          {"blocked", blocked},
          {"percent", total ? done * 100 / total : 0}};
}

}  // namespace specd
