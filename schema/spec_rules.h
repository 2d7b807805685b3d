// The rules of SPEC_FORMAT.md that a JSON Schema cannot say: the id matches
// the file name, ids are unique, dependencies and requirement references
// resolve, the dependency graph has no cycle, paths stay inside the repo.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/yaml_tree.h"

namespace specd {

// `expected_id` is the file name without its extension ("" skips that rule).
void CheckSpecRules(const Document& doc, std::string_view expected_id, std::vector<Finding>* out);

// "" when `path` is a clean repository-relative path, else why it is not.
std::string RepoPathProblem(std::string_view path);

}  // namespace specd
