#include "pipeline/hook_install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/gate_runner.h"

namespace specd::pipeline {

namespace fs = std::filesystem;

namespace {

// Hooks are small scripts; this is plain POSIX file work, not spec files,
// so it goes straight to the file system rather than through Env.
std::optional<std::string> ReadSmall(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsSpecdHook(const std::string& path) {
  std::optional<std::string> text = ReadSmall(path);
  return text && text->find(std::string("\n") + kHookMarker) != std::string::npos;
}

Error SysError(const std::string& what) {
  return Error{what + ": " + std::strerror(errno)};
}

// Written whole to a temporary name, made executable, then renamed over.
Status WriteScript(const std::string& path, const std::string& text) {
  const std::string temp = path + ".specd-tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return SysError("cannot write " + temp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fchmod(fd, 0755) == 0 && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    Error e = SysError("cannot write " + path);
    ::unlink(temp.c_str());
    return e;
  }
  return Status::Ok();
}

HookState StateOf(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (!Exists(path)) return HookState::kNotInstalled;
  if (!IsSpecdHook(path)) return HookState::kForeign;
  return Exists(path + kChainedSuffix) ? HookState::kChained : HookState::kInstalled;
}

}  // namespace

const std::vector<std::string>& HookNames() {
  static const std::vector<std::string> names = {"pre-commit", "pre-merge-commit", "post-merge",
                                                 "post-checkout", "post-rewrite"};
  return names;
}

Result<std::string> HooksDir(GitRepo* repo) {
  Result<std::optional<std::string>> configured = repo->ConfigPath("core.hooksPath");
  if (!configured.ok()) return configured.error();
  if (*configured && !(*configured)->empty()) {
    std::string dir = **configured;
    if (dir[0] != '/') dir = (repo->work_dir().empty() ? repo->git_dir() : repo->work_dir()) + "/" + dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
  }
  return repo->common_dir() + "/hooks";
}

std::string HookScript(const std::string& name, const std::string& specd) {
  const bool pre = name == "pre-commit" || name == "pre-merge-commit";  // a check that can stop git
  std::string s = "#!/bin/sh\n" + std::string(kHookMarker) +
                  " installed by `specd hooks install`; `specd hooks uninstall` puts back what was here.\n"
                  "installed=" +
                  ShellQuote(specd) +
                  "\n"
                  "specd=\"$installed\"\n"
                  "[ -x \"$specd\" ] || specd=specd\n"
                  "status=0\n"
                  // No dirname: each program a hook starts is a fork and an exec
                  // on every commit and checkout.
                  "case $0 in */*) here=${0%/*} ;; *) here=. ;; esac\n"
                  "chained=\"$here/" +
                  name + kChainedSuffix +
                  "\"\n"
                  "if [ -x \"$chained\" ]; then \"$chained\" \"$@\" || status=$?; fi\n"
                  // specd-hook, beside specd, is the hooks' own executable: it loads
                  // only what they use (specd would hand over to specd-git, a second
                  // start with the watcher's and NATS' libraries).
                  "run=\"$specd\"\n"
                  "if [ \"$specd\" = \"$installed\" ] && [ -x \"${installed%/*}/specd-hook\" ]; then\n"
                  "  run=\"${installed%/*}/specd-hook\"\n"
                  "  SPECD_FRONT=\"$installed\"\n"
                  "  export SPECD_FRONT\n"
                  "fi\n";
  if (pre) {
    // Without specd, a commit that carries no spec goes through; one that
    // does is stopped, saying what is missing and the ways out.
    s += "[ \"$status\" -eq 0 ] || exit \"$status\"\n"
         "if ! command -v \"$specd\" >/dev/null 2>&1; then\n"
         "  staged=$(git diff --cached --name-only -- .agents/specs 2>/dev/null) || staged=unknown\n"
         "  [ -z \"$staged\" ] && exit 0\n"
         "  echo \"specd hook: $installed is missing (and no specd on PATH), so the staged specs cannot be "
         "checked; commit stopped.\" >&2\n"
         "  echo \"specd hook: put specd back at that path, or remove the hooks with \\`specd hooks "
         "uninstall\\`, "
         "or commit without the check: git commit --no-verify\" >&2\n"
         "  exit 1\n"
         "fi\n"
         "exec \"$run\" hook " +
         name + " \"$@\"\n";
  } else {
    s += "if command -v \"$specd\" >/dev/null 2>&1; then\n"
         "  \"$run\" hook " +
         name +
         " \"$@\"\n"
         "else\n"
         "  echo \"specd hook: $installed is missing (and no specd on PATH); the journal was not updated "
         "(\\`specd reconcile\\` catches up once specd is back; \\`specd hooks uninstall\\` removes the "
         "hooks)\" >&2\n"
         "fi\n"
         "exit \"$status\"\n";
  }
  return s;
}

const char* HookStateText(HookState s) {
  switch (s) {
    case HookState::kNotInstalled:
      return "not installed";
    case HookState::kInstalled:
      return "installed";
    case HookState::kChained:
      return "installed, chained to your hook";
    case HookState::kForeign:
      return "someone else's hook (install chains to it)";
  }
  return "?";
}

Result<std::vector<HookStatus>> HookStatuses(const std::string& dir) {
  std::vector<HookStatus> out;
  for (const std::string& name : HookNames()) out.push_back(HookStatus{name, StateOf(dir, name)});
  return out;
}

Result<std::vector<std::string>> InstallHooks(const std::string& dir, const std::string& specd) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  std::vector<std::string> said;
  for (const std::string& name : HookNames()) {
    const std::string path = dir + "/" + name, chained = path + kChainedSuffix;
    const std::string script = HookScript(name, specd);
    HookState state = StateOf(dir, name);
    if (state == HookState::kForeign) {
      if (Exists(chained)) {
        return Error{path + " is not specd's and " + chained + " exists too; move one of them away"};
      }
      if (::rename(path.c_str(), chained.c_str()) != 0) return SysError("cannot move " + path + " aside");
    }
    if (state != HookState::kForeign && ReadSmall(path) == script) {
      said.push_back(name + ": already installed");
      continue;
    }
    if (Status s = WriteScript(path, script); !s.ok()) return s.error();
    said.push_back(name + (state == HookState::kForeign
                               ? ": installed, chained to your hook (now " + name + kChainedSuffix + ")"
                               : ": installed"));
  }
  return said;
}

Result<std::vector<std::string>> UninstallHooks(const std::string& dir) {
  std::vector<std::string> said;
  for (const std::string& name : HookNames()) {
    const std::string path = dir + "/" + name, chained = path + kChainedSuffix;
    HookState state = StateOf(dir, name);
    if (state == HookState::kInstalled || state == HookState::kChained) {
      if (::unlink(path.c_str()) != 0) return SysError("cannot remove " + path);
      if (state == HookState::kChained && ::rename(chained.c_str(), path.c_str()) != 0) {
        return SysError("cannot put back " + chained);
      }
      said.push_back(name + (state == HookState::kChained ? ": removed, your hook is back" : ": removed"));
    } else {
      said.push_back(name + ": " + HookStateText(state) + ", left alone");
    }
  }
  return said;
}

}  // namespace specd::pipeline
