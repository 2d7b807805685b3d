// One spec file's bytes in, its diagnostics out: encoding, YAML rules,
// the JSON Schema and the spec rules, in that order. Pure: no disk, no clock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/yaml_tree.h"

namespace specd {

class SpecSchema;

struct ValidateOptions {
  LoadLimits limits;
  bool syntax_only = false;            // encoding and YAML rules only
  bool reference_parser = false;       // yaml-cpp for every file, no fast path
  const SpecSchema* schema = nullptr;  // null: the built-in schema
};

// The id a spec stored at `path` must have: its file name without .yaml/.yml.
std::string ExpectedSpecId(std::string_view path);

// The diagnostic for a file over the size limit (not read at all).
Diagnostic FileTooLarge(const std::string& display_path, uint64_t size, size_t limit);

// `display_path` names the file in the diagnostics.
std::vector<Diagnostic> ValidateSpecText(std::string_view bytes, const std::string& display_path,
                                         const ValidateOptions& options);

// The same, and hands back the loaded document (valid YAML or not, check
// `loaded`), for callers that go on to act on the spec.
std::vector<Diagnostic> ValidateSpecText(std::string_view bytes, const std::string& display_path,
                                         const ValidateOptions& options, Document* doc, bool* loaded);

// What a YAML document other than a spec (the repository settings) is
// checked against, through the same steps and with the same diagnostics.
struct DocumentKind {
  const SpecSchema* schema = nullptr;
  std::string fields = "spec fields";  // "the document must be a mapping of <fields>"
  bool empty_ok = false;               // a blank or comments-only file is no error (and `loaded` stays false)
  // The checks a schema cannot express, after it; may be empty.
  std::function<void(const Document&, std::vector<Finding>*)> rules;
};

// Encoding, YAML rules, then `kind`'s schema and rules (options.schema and
// options.syntax_only are not used).
std::vector<Diagnostic> ValidateDocumentText(std::string_view bytes, const std::string& display_path,
                                             const ValidateOptions& options, const DocumentKind& kind,
                                             Document* doc, bool* loaded);

}  // namespace specd
