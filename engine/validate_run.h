// `specd validate` without the printing: check many spec files on all cores
// and count the outcomes. One bad file never stops the others.
#pragma once

#include <string>
#include <vector>

#include "engine/spec_files.h"
#include "schema/diagnostic.h"
#include "schema/validate.h"

namespace specd {

enum class Outcome { kValid, kInvalid, kSkipped, kUnreadable };

struct FileResult {
  std::string path;
  Outcome outcome = Outcome::kValid;
  std::vector<Diagnostic> diagnostics;
  std::string spec_id;  // the id the file declares ("" when it has none)
  int id_line = 1, id_column = 1;
};

struct ValidateReport {
  std::vector<FileResult> files;  // in the order they were collected
  size_t valid = 0, invalid = 0, skipped = 0, unreadable = 0;

  size_t checked() const { return valid + invalid + unreadable; }
  // 0 all valid, 1 some invalid, 2 some could not be read.
  int ExitCode() const { return unreadable ? 2 : invalid ? 1 : 0; }
};

// threads <= 0: one per core. Files under a repository's .agents/specs/
// that declare the same spec id are each an error naming the other: one id,
// one file.
ValidateReport ValidateSpecFiles(const std::vector<SpecFile>& files, const ValidateOptions& options,
                                 int threads = 0);

// "spec id 'X' is also in OTHER: one id, one file (...)": validate's, the
// engine's and the hooks' words for a spec id held by two files.
std::string DuplicateIdMessage(const std::string& id, const std::string& other_path);

// The closing line: "2000 files: 1998 valid, 2 invalid".
std::string SummaryLine(const ValidateReport& report);

}  // namespace specd
