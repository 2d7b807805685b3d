// The fields of a loaded spec the engine acts on, read from the typed tree.
// Anything missing or of the wrong type reads as empty: the validator has
// already said so, and the engine never rewrites an invalid file.
#pragma once

#include <string>
#include <vector>

#include "engine/state_machine.h"
#include "schema/yaml_tree.h"

namespace specd {

// One changeLog item, as read from a spec or appended by the engine.
struct ChangeLogEntry {
  std::string at, actor, from, to, reason, trace;
};

struct SpecModel {
  std::string id;
  std::string status;  // as written
  std::string author;
  std::string title;     // metadata.title
  std::string priority;  // metadata.priority ("" when not given)
  std::vector<TaskFact> tasks;
  std::vector<ChangeLogEntry> change_log;
  bool has_progress = false;
  std::vector<std::pair<std::string, int64_t>> progress;  // as written, in order
};

SpecModel ReadSpecModel(const Document& doc);

// Derived progress counts ("progress" is the engine's; never trusted from the
// file), in the order they are written.
std::vector<std::pair<std::string, int64_t>> DeriveProgress(const std::vector<TaskFact>& tasks);

}  // namespace specd
