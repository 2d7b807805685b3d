#include "engine/git_identity.h"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

#include "engine/repo.h"

namespace specd {

namespace {

constexpr int kMaxIncludeDepth = 10;  // git's own limit
constexpr std::streamsize kMaxConfigBytes = 1 << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

void SkipLine(const std::string& t, size_t* i) {
  while (*i < t.size() && t[*i] != '\n') ++*i;
}

// A section header from just after `[`: "user", "includeif.gitdir:~/x",
// "user.sub" (old style, all lowercased); "" when it is not one.
std::string Header(const std::string& t, size_t* i) {
  std::string name, sub;
  while (*i < t.size() && t[*i] != ']' && t[*i] != '"' && !IsBlank(t[*i]) && t[*i] != '\n') name += t[(*i)++];
  while (*i < t.size() && IsBlank(t[*i])) ++*i;
  if (*i < t.size() && t[*i] == '"') {
    for (++*i; *i < t.size() && t[*i] != '"' && t[*i] != '\n'; ++*i) {
      if (t[*i] == '\\' && *i + 1 < t.size()) ++*i;
      sub += t[*i];
    }
    if (*i < t.size() && t[*i] == '"') ++*i;
  }
  if (*i >= t.size() || t[*i] != ']') {
    SkipLine(t, i);
    return "";
  }
  ++*i;
  return sub.empty() ? Lower(name) : Lower(name) + "." + sub;
}

// A value from just after `=`, to its line's end (or past continued lines),
// as git's parse_value reads it: blanks outside quotes each one space, none
// leading or trailing; `#` and `;` outside quotes start a comment.
std::string Value(const std::string& t, size_t* i) {
  std::string v;
  size_t spaces = 0;
  bool quoted = false, comment = false;
  auto next = [&] {
    char c = t[(*i)++];
    if (c == '\r' && *i < t.size() && t[*i] == '\n') c = t[(*i)++];
    return c;
  };
  while (*i < t.size()) {
    char c = next();
    if (c == '\n') break;
    if (comment) continue;
    if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
      spaces += v.empty() ? 0 : 1;
      continue;
    }
    if (!quoted && (c == '#' || c == ';')) {
      comment = true;
      continue;
    }
    v.append(spaces, ' ');
    spaces = 0;
    if (c == '"') {
      quoted = !quoted;
    } else if (c != '\\') {
      v += c;
    } else if (*i < t.size()) {
      const char e = next();
      if (e == '\n') continue;                                       // the value goes on on the next line
      v += e == 't' ? '\t' : e == 'b' ? '\b' : e == 'n' ? '\n' : e;  // git refuses other escapes
    }
  }
  return v;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kMaxConfigBytes, '\0');
  in.read(text.data(), kMaxConfigBytes);
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

bool Truthy(const char* v) {
  if (!v) return false;
  const std::string s = Lower(v);
  return !(s.empty() || s == "0" || s == "false" || s == "no" || s == "off");
}

// Reads the files in order; later values win, as in git.
class Reader {
 public:
  explicit Reader(const GitConfigPlaces& places) : places_(places) {}

  void File(const std::string& path, int depth = 0) {
    std::optional<std::string> text = ReadSmallFile(path);
    if (!text) return;
    ForEachGitConfigValue(
        *text, [&](const std::string& section, const std::string& key, const std::string& value) {
          if (section == "user" && key == "email") id_.email = value;
          if (section == "user" && key == "name") id_.name = value;
          if (section == "extensions" && key == "worktreeconfig") worktree_config_ = Truthy(value.c_str());
          if (section == "include" && key == "path" && depth < kMaxIncludeDepth && !value.empty()) {
            File(Resolve(value, DirOf(path)), depth + 1);
          }
        });
  }

  std::string Home() const {
    const char* home = places_.getenv("HOME");
    return home ? home : "";
  }
  bool worktree_config() const { return worktree_config_; }
  const GitIdentity& identity() const { return id_; }

 private:
  std::string Resolve(const std::string& path, const std::string& dir) const {
    if (path.rfind("~/", 0) == 0) return Home() + path.substr(1);
    return path[0] == '/' ? path : dir + "/" + path;
  }

  const GitConfigPlaces& places_;
  GitIdentity id_;
  bool worktree_config_ = false;
};

}  // namespace

void ForEachGitConfigValue(const std::string& t,
                           const std::function<void(const std::string& section, const std::string& key,
                                                    const std::string& value)>& fn) {
  std::string section;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (IsBlank(c) || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '#' || c == ';') {
      SkipLine(t, &i);
    } else if (c == '[') {
      ++i;
      section = Header(t, &i);
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      std::string key;
      while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '-')) key += t[i++];
      while (i < t.size() && IsBlank(t[i])) ++i;
      std::string value = "true";
      if (i < t.size() && t[i] == '=') {
        ++i;
        value = Value(t, &i);
      } else {
        SkipLine(t, &i);
      }
      if (!section.empty()) fn(section, Lower(key), value);
    } else {
      SkipLine(t, &i);  // not git config: git would refuse the file; we read on
    }
  }
}

GitIdentity ReadGitIdentity(const std::string& repo_root, const GitConfigPlaces& places) {
  Reader reader(places);
  if (!Truthy(places.getenv("GIT_CONFIG_NOSYSTEM"))) {
    const char* system = places.getenv("GIT_CONFIG_SYSTEM");
    reader.File(system ? system : places.system_file);
  }
  if (const char* global = places.getenv("GIT_CONFIG_GLOBAL")) {
    if (*global) reader.File(global);
  } else {
    const char* xdg = places.getenv("XDG_CONFIG_HOME");
    const std::string home = reader.Home();
    if (xdg && *xdg) {
      reader.File(std::string(xdg) + "/git/config");
    } else if (!home.empty()) {
      reader.File(home + "/.config/git/config");
    }
    if (!home.empty()) reader.File(home + "/.gitconfig");
  }
  if (std::optional<GitDirs> dirs = FindGitDirs(repo_root)) {  // the common one holds the config
    reader.File(dirs->common_dir + "/config");
    if (reader.worktree_config()) reader.File(dirs->git_dir + "/config.worktree");
  }
  return reader.identity();
}

}  // namespace specd
