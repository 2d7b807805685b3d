// Finding spec files on disk and reading them without surprises: symlinks
// that leave the repository are not followed, FIFOs and devices are never
// opened for a blocking read, and no more than the size limit is read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/result.h"

namespace specd {

// A path found by the walk: a file to check, or one passed over and why.
struct SpecFile {
  std::string display_path;  // as the user named it, or below a named directory
  std::string open_path;     // what to open (a symlink's resolved target)
  std::string skip_reason;   // non-empty: not checked
  bool io_error = false;     // skipped because it could not be looked at
  bool refused = false;      // skipped by policy, and that is an error
};

// How deep below active/ (and archive/) spec files are looked for, by the
// engine's full pass and by the watcher's backends alike.
inline constexpr int kMaxSpecDirDepth = 8;

// A name the engine takes for a spec file: *.yaml or *.yml, not a dotfile
// (editors' temporaries and specd's own temp files start with a dot).
bool IsSpecFileName(std::string_view name);

// The last component of a path ("a/b.yaml" -> "b.yaml").
std::string BaseName(const std::string& path);

// Files named directly are taken whatever their extension; directories are
// walked for *.yaml and *.yml (sorted; .git and .agents/specs/templates/
// left out unless named).
// `boundary` is the directory symlinks may point into.
std::vector<SpecFile> CollectSpecFiles(const std::vector<std::string>& inputs, const std::string& boundary);

struct FileBytes {
  std::string data;
  uint64_t size = 0;       // on disk
  bool too_large = false;  // size > max_bytes: data was not read
};

// Reads a regular file, never blocking on a FIFO; refuses anything else.
Result<FileBytes> ReadSpecFile(const std::string& path, size_t max_bytes);

// One spec file of the repository, by the walk's rules (what `specd
// validate` reads is what the engine reads): lstat first; a symlink only to
// a regular file inside `boundary`; a FIFO, device, socket or directory never
// opened; then ReadSpecFile. An Error with ErrorCode::kInvalid is a file
// specd does not read (the message says why, as the walk's skip reason);
// other codes are I/O errors.
Result<FileBytes> ReadRepoSpecFile(const std::string& path, const std::string& boundary, size_t max_bytes);

}  // namespace specd
