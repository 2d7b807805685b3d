#include "cli/commands.h"

namespace specd::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"validate", "Check spec files against the schema and the spec rules", SetupValidate},
      {"schema", "Print the JSON Schema built into specd", SetupSchema},
  };
  return commands;
}

}  // namespace specd::cli
