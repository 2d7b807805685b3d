// specd schema: print the built-in JSON Schema (for editors and other tools).
#include <cstdio>

#include "cli/commands.h"
#include "schema/spec_schema.h"

namespace specd::cli {

Run SetupSchema(CLI::App* sub) {
  return [] {
    std::string_view text = BuiltinSchemaText();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  };
}

}  // namespace specd::cli
