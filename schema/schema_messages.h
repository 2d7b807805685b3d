// The messages of the JSON Schema check (spec_schema.cc): what valijson's
// failure descriptions mean, and a message for each written from the schema
// itself. Internal to schema/.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema/yaml_tree.h"

namespace specd {

using Json = nlohmann::json;
// Resolves a "$ref" to the schema it names (or returns its argument).
using Deref = std::function<const Json&(const Json&)>;

// The closest of `names` to `word`, if close enough to be a typo ("" if none).
std::string Suggest(const std::string& word, const std::vector<std::string>& names);

struct Classified {
  std::string keyword;
  bool container = false;  // only says that something below failed
};
// The schema keyword behind one of valijson's failure descriptions.
Classified Classify(const std::string& description);

// valijson's context ["<root>", "[tasks]", "[0]"] as a JSON pointer.
std::string ContextPointer(const std::vector<std::string>& context);

// The name between the first and last single quote of a description
// ("Missing required property 'id'." -> "id").
std::string QuotedName(const std::string& description);

// The message for a failure of `keyword` at node `n`, where `cands` are the
// subschemas that apply there; `description` (valijson's) when there is
// nothing better to say.
std::string FailureMessage(const std::string& keyword, const std::string& description,
                           const std::vector<const Json*>& cands, const Node& n, const Deref& deref);

}  // namespace specd
