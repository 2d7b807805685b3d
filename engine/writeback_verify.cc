#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "engine/writeback_editor.h"
#include "schema/diagnostic.h"

namespace specd::writeback_internal {

// The self-check: the edited text loads to the same tree except where the
// edits own it, and holds the new values there. The Editor's scans
// (writeback_layout.cc) read YAML the way the YAML spec has it; yaml-cpp accepts a few things it does not
// (continuation lines further left than their key, a lone CR as a line
// break), and a block scalar at the very end of a file without a final
// line break would gain one from any line added after it. Those are
// refused here rather than written.

namespace {

struct Flat {
  std::string path;
  const Node* node;
};

void Flatten(const Document& d, NodeId id, const std::string& path, std::vector<Flat>* out) {
  const Node& n = d.node(id);
  out->push_back({path, &n});
  for (const MapEntry& e : n.entries) Flatten(d, e.value, path + "/" + EscapePointerToken(e.key), out);
  for (size_t i = 0; i < n.items.size(); ++i) Flatten(d, n.items[i], path + "/" + std::to_string(i), out);
}

bool IsOwned(const Expectations& x, const std::string& path) {
  if (x.owned_container.count(path) != 0) return true;
  for (const std::string& p : x.owned) {
    if (path.compare(0, p.size(), p) == 0 && (path.size() == p.size() || path[p.size()] == '/')) return true;
  }
  return false;
}

bool SameNode(const Node& a, const Node& b) {
  if (a.kind != b.kind) return false;
  if (!a.is_scalar()) return true;  // children are compared on their own
  return a.kind == NodeKind::kNull || (a.quoted == b.quoted && a.text == b.text);
}

}  // namespace

Status Verify(const Document& before, std::string_view text, const Expectations& x) {
  Document after;
  Finding problem;
  if (!LoadYaml(text, LoadLimits{}, &after, &problem)) {
    return Error{"cannot write back safely: the edited text would not load (" + problem.message +
                 "); the file is left alone"};
  }
  std::vector<Flat> a, b;
  Flatten(before, before.root_id(), "", &a);
  Flatten(after, after.root_id(), "", &b);
  auto drop_owned = [&](std::vector<Flat>* v) {
    v->erase(std::remove_if(v->begin(), v->end(), [&](const Flat& f) { return IsOwned(x, f.path); }),
             v->end());
  };
  std::map<std::string, const Node*> owned_after;
  for (const Flat& f : b) {
    if (IsOwned(x, f.path)) owned_after[f.path] = f.node;
  }
  drop_owned(&a);
  drop_owned(&b);
  auto fail = [](const std::string& path) {
    return Error{"cannot write back safely: the edit would also change " + (path.empty() ? "/" : path) +
                 "; the file is left alone"};
  };
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size()) return fail(i < a.size() ? a[i].path : b[i].path);
    if (a[i].path != b[i].path || !SameNode(*a[i].node, *b[i].node)) return fail(a[i].path);
  }
  for (const auto& [path, value] : x.values) {
    auto it = owned_after.find(path);
    if (it == owned_after.end() || !Holds(*it->second, value)) return fail(path);
  }
  for (const auto& [path, node] : owned_after) {
    if (node->is_scalar() && x.values.count(path) == 0) return fail(path);
  }
  return Status::Ok();
}

}  // namespace specd::writeback_internal
