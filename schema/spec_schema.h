// The JSON Schema (draft 7) check of a loaded spec. valijson decides what is
// valid; a walk of the same schema turns each failure into a message that
// says what was expected, and reports unknown field names at their key
// (valijson 1.0 gives no text for a failed propertyNames).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/result.h"
#include "schema/yaml_tree.h"

namespace specd {

// The schemas compiled into the binary (schema/spec.schema.json,
// schema/settings.schema.json).
std::string_view BuiltinSchemaText();
std::string_view SettingsSchemaText();

// A JSON Schema (draft 7) and the messages written from it: the spec schema,
// and the same machinery for the repository settings (.agents/specd.yaml).

class SpecSchema {
 public:
  static Result<std::shared_ptr<const SpecSchema>> Parse(std::string_view json_text);
  // Parsed once, on first use; safe to share between threads.
  static const SpecSchema& Builtin();
  static const SpecSchema& Settings();  // schema/settings.schema.json, likewise

  ~SpecSchema();
  // Appends one finding per violation. Thread-safe.
  void Check(const Document& doc, std::vector<Finding>* out) const;

  // For tests. Whether the schema compiled into a direct checker (else Check
  // always asks valijson), and Check with valijson deciding every document:
  // the reference the direct checker must agree with.
  bool compiled() const;
  void CheckWithValijson(const Document& doc, std::vector<Finding>* out) const;

 private:
  struct Impl;
  explicit SpecSchema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace specd
