#include "engine/repo.h"

#include <filesystem>
#include <system_error>

namespace specd {

namespace fs = std::filesystem;

std::optional<std::string> FindRepoRoot(const std::string& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  dir = dir.lexically_normal();
  while (true) {
    if (fs::is_directory(dir / ".agents" / "specs", ec) || fs::exists(dir / ".git", ec)) {
      std::string s = dir.string();
      if (s.size() > 1 && s.back() == '/') s.pop_back();
      return s;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

std::string SpecsDir(const std::string& repo_root) {
  return repo_root + "/.agents/specs";
}

}  // namespace specd
