// A JSON Schema (draft 7) compiled once into a direct checker over the typed
// tree: it only answers "valid or not", in a walk with no copy of the
// document and no allocation per node. valijson stays the reference: when a
// document is not valid, spec_schema.cc asks valijson for the failures (their
// messages are written from valijson's), so the program must accept exactly
// what valijson (strong types, propertyNames stripped) accepts. It knows the
// keywords our schemas use and no others: a schema with any other keyword
// does not compile (Compile returns null) and every document goes to valijson.
// Internal to schema/.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "schema/yaml_tree.h"

namespace specd {

class SchemaProgram {
 public:
  // `schema` is the whole schema document ("$ref": "#/..." resolve in it).
  // Null when the schema uses something the program does not know.
  static std::unique_ptr<const SchemaProgram> Compile(const nlohmann::json& schema);

  ~SchemaProgram();
  // Whether `doc` satisfies the schema; ignores propertyNames (checked by
  // the field-name walk). Thread-safe.
  bool Accepts(const Document& doc) const;

  struct Rule;

 private:
  SchemaProgram();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace specd
