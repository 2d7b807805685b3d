// `specd new`: a spec made from a template, under the next free id of the day.
#pragma once

#include <string>

#include "engine/env.h"

namespace specd {

struct NewSpec {
  std::string template_text;  // with {{id}}, {{title}}, {{author}}, {{now}}
  std::string title;
  std::string author;
};

// Writes <root>/.agents/specs/active/spec-YYYY-MM-DD-NNN.yaml with the next
// NNN not used by any file in active/ or archive/ (the date is today's, UTC),
// never replacing a file. Returns the path written. The filled text must
// validate; if not, nothing is written and the Error holds the diagnostics.
Result<std::string> CreateSpec(Env* env, const std::string& root, const NewSpec& spec);

// The text with every {{key}} replaced (values are written inside the
// template's double quotes, so quotes and backslashes are escaped).
std::string FillTemplate(std::string text, const std::string& id, const std::string& title,
                         const std::string& author, const std::string& now);

}  // namespace specd
