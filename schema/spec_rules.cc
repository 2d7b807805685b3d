#include "schema/spec_rules.h"

#include <functional>
#include <map>
#include <unordered_map>

namespace specd {

namespace {

const Node* Field(const Document& doc, const Node& map, std::string_view key) {
  return doc.Field(map, key);
}

const Node* StringField(const Document& doc, const Node& map, std::string_view key) {
  const Node* n = doc.Field(map, key);
  return n && n->kind == NodeKind::kString ? n : nullptr;
}

struct Item {
  std::string id;
  size_t index;
  const Node* node;
};

// The items of a list field that have a string id, checked for uniqueness.
std::vector<Item> UniqueIds(const Document& doc, const char* list, std::vector<Finding>* out) {
  std::vector<Item> items;
  const Node* seq = Field(doc, doc.root(), list);
  if (!seq || seq->kind != NodeKind::kSeq) return items;
  std::unordered_map<std::string, size_t> first;
  for (size_t i = 0; i < seq->items.size(); ++i) {
    const Node& item = doc.node(seq->items[i]);
    const Node* id = StringField(doc, item, "id");
    if (!id) continue;
    auto [it, inserted] = first.emplace(id->text, i);
    if (!inserted) {
      out->push_back(
          Finding{id->offset, "/" + std::string(list) + "/" + std::to_string(i) + "/id", "unique-id",
                  "duplicate id '" + id->text + "' (also " + list + "[" + std::to_string(it->second) + "])"});
      continue;
    }
    items.push_back(Item{id->text, i, &item});
  }
  return items;
}

void CheckPaths(const Document& doc, const Node& task, const std::string& base, std::vector<Finding>* out) {
  auto check = [&](const Node& n, const std::string& pointer) {
    if (n.kind != NodeKind::kString) return;
    std::string why = RepoPathProblem(n.text);
    if (!why.empty()) out->push_back(Finding{n.offset, pointer, "repo-path", why});
  };
  if (const Node* files = Field(doc, task, "files"); files && files->kind == NodeKind::kSeq) {
    for (size_t i = 0; i < files->items.size(); ++i) {
      check(doc.node(files->items[i]), base + "/files/" + std::to_string(i));
    }
  }
  if (const Node* diff = Field(doc, task, "diffPath")) check(*diff, base + "/diffPath");
}

}  // namespace

std::string RepoPathProblem(std::string_view path) {
  if (path.empty()) return "must be a repo-relative path, not empty";
  if (path.find('\0') != std::string_view::npos) return "must not contain a NUL byte";
  if (path[0] == '/' || path[0] == '\\' || (path.size() > 1 && path[1] == ':')) {
    return "must be a repo-relative path, not an absolute one";
  }
  if (path.find('\\') != std::string_view::npos) return "must use '/' as the separator, not '\\'";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") return "must be a repo-relative path without '..'";
    if (seg == ".git") return "must not be under .git/";
    start = end + 1;
  }
  return "";
}

void CheckSpecRules(const Document& doc, std::string_view expected_id, std::vector<Finding>* out) {
  const Node& root = doc.root();
  if (!expected_id.empty()) {
    if (const Node* id = StringField(doc, root, "id"); id && id->text != expected_id) {
      out->push_back(
          Finding{id->offset, "/id", "id-matches-filename",
                  "id '" + id->text + "' does not match the file name '" + std::string(expected_id) + "'"});
    }
  }
  std::vector<Item> reqs = UniqueIds(doc, "requirements", out);
  std::vector<Item> tasks = UniqueIds(doc, "tasks", out);
  std::unordered_map<std::string, size_t> req_ids, task_index;
  for (const Item& r : reqs) req_ids.emplace(r.id, r.index);
  for (size_t i = 0; i < tasks.size(); ++i) task_index.emplace(tasks[i].id, i);

  // Edges of the dependency graph, with where each is written.
  struct Edge {
    size_t to;
    const Node* node;
    std::string pointer;
  };
  std::vector<std::vector<Edge>> edges(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t) {
    const Item& task = tasks[t];
    std::string base = "/tasks/" + std::to_string(task.index);
    CheckPaths(doc, *task.node, base, out);
    if (const Node* refs = Field(doc, *task.node, "requirements"); refs && refs->kind == NodeKind::kSeq) {
      for (size_t i = 0; i < refs->items.size(); ++i) {
        const Node& r = doc.node(refs->items[i]);
        if (r.kind == NodeKind::kString && !req_ids.count(r.text)) {
          out->push_back(Finding{r.offset, base + "/requirements/" + std::to_string(i), "known-requirement",
                                 "requirement '" + r.text + "' is not defined in /requirements"});
        }
      }
    }
    if (const Node* deps = Field(doc, *task.node, "dependencies"); deps && deps->kind == NodeKind::kSeq) {
      for (size_t i = 0; i < deps->items.size(); ++i) {
        const Node& d = doc.node(deps->items[i]);
        if (d.kind != NodeKind::kString) continue;
        std::string pointer = base + "/dependencies/" + std::to_string(i);
        auto it = task_index.find(d.text);
        if (it == task_index.end()) {
          out->push_back(Finding{d.offset, pointer, "known-task",
                                 "dependency '" + d.text + "' is not a task of this spec"});
          continue;
        }
        edges[t].push_back(Edge{it->second, &d, pointer});
      }
    }
  }

  // Cycles: an iterative depth-first search; each back edge closes a cycle,
  // reported once at the dependency that closes it.
  enum Color : uint8_t { kWhite, kGrey, kBlack };
  std::vector<Color> color(tasks.size(), kWhite);
  std::vector<size_t> path;
  struct Step {
    size_t task;
    size_t next_edge;
  };
  for (size_t start = 0; start < tasks.size(); ++start) {
    if (color[start] != kWhite) continue;
    std::vector<Step> stack{{start, 0}};
    color[start] = kGrey;
    path.assign(1, start);
    while (!stack.empty()) {
      Step& s = stack.back();
      if (s.next_edge == edges[s.task].size()) {
        color[s.task] = kBlack;
        stack.pop_back();
        path.pop_back();
        continue;
      }
      const Edge& e = edges[s.task][s.next_edge++];
      if (color[e.to] == kGrey) {
        std::string cycle;
        bool on = false;
        for (size_t p : path) {
          on = on || p == e.to;
          if (on) cycle += tasks[p].id + " -> ";
        }
        cycle += tasks[e.to].id;
        out->push_back(Finding{e.node->offset, e.pointer, "dependency-cycle", "dependency cycle: " + cycle});
      } else if (color[e.to] == kWhite) {
        color[e.to] = kGrey;
        path.push_back(e.to);
        stack.push_back(Step{e.to, 0});
      }
    }
  }
}

}  // namespace specd
