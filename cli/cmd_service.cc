// specd service install|uninstall|status: the systemd user unit that runs
// `specd watch` for one repository, so the watcher starts with the session
// and is restarted when it fails. The unit text is watchers/service_unit.h;
// this file writes it and drives systemctl ($SPECD_SYSTEMCTL, else
// systemctl, found in PATH).
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/hand_over.h"
#include "engine/env.h"
#include "watchers/service_unit.h"

extern char** environ;

namespace specd::cli {
namespace {

constexpr int kExitSystemctlFailed = 1;
constexpr int kExitNotActive = 3;     // as `systemctl status` for an inactive unit
constexpr int kExitNotInstalled = 4;  // as `systemctl status` for an unknown unit

struct Unit {
  std::string root;
  std::string name;  // specd-watch-...service
  std::string path;  // <unit dir>/<name>
};

// $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user (the XDG base
// directory spec ignores a relative XDG_CONFIG_HOME, and so does systemd).
std::optional<std::string> UnitDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && xdg[0] == '/') {
    return std::string(xdg) + "/systemd/user";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') {
    const passwd* pw = ::getpwuid(::getuid());
    home = pw ? pw->pw_dir : nullptr;
  }
  if (home == nullptr || home[0] != '/') return std::nullopt;
  return std::string(home) + "/.config/systemd/user";
}

std::optional<Unit> FindUnit(const RepoOptions& options) {
  std::optional<std::string> root = FindRoot(options);
  if (!root) return std::nullopt;
  std::optional<std::string> dir = UnitDir();
  if (!dir) {
    std::fprintf(stderr,
                 "specd service: no home directory to put the unit in (set HOME or XDG_CONFIG_HOME)\n");
    return std::nullopt;
  }
  Unit unit{*root, ServiceUnitName(*root), ""};
  unit.path = *dir + "/" + unit.name;
  return unit;
}

// ----- systemctl ------------------------------------------------------------

std::string SystemctlProgram() {
  const char* p = std::getenv("SPECD_SYSTEMCTL");
  return p && *p ? p : "systemctl";
}

struct Ran {
  std::vector<std::string> argv;  // program first
  int exit_code = -1;             // -1: not run, or killed
  std::string how;                // "exited 1", "was killed by signal 9", "could not be run: ..."
  std::string out;                // stdout, when captured
  bool ok() const { return exit_code == 0; }
  std::string command() const {
    std::string s;
    for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
  }
};

std::string ReadToEnd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Sets exit_code and how.
void Wait(pid_t pid, Ran* r) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r->exit_code = WEXITSTATUS(status);
    r->how = "exited " + std::to_string(r->exit_code);
  } else {
    r->how = "was killed by signal " + std::to_string(WTERMSIG(status));
  }
}

// Runs `systemctl --user ARGS...`. Its stderr is the user's; its stdout too
// unless `capture` (then it is returned, for is-active and is-enabled).
Ran Systemctl(const std::vector<std::string>& args, bool capture) {
  Ran r;
  r.argv = {SystemctlProgram(), "--user"};
  r.argv.insert(r.argv.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : r.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (capture) {
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      r.how = std::string("could not be run: pipe: ") + std::strerror(errno);
      posix_spawn_file_actions_destroy(&actions);
      return r;
    }
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  }
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (capture) ::close(pipe_fds[1]);
  if (err == 0 && capture) r.out = ReadToEnd(pipe_fds[0]);
  if (capture) ::close(pipe_fds[0]);
  if (err != 0) {
    r.how = std::string("could not be run: ") + std::strerror(err);
    return r;
  }
  Wait(pid, &r);
  return r;
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// What to tell the user when systemctl fails: usually there is no user
// manager to talk to (a container, ssh without lingering).
void PrintSystemctlFailure(const char* verb, const Ran& r, const std::string& kept, const std::string& later,
                           bool linger) {
  std::fprintf(stderr,
               "specd service %s: `%s` %s.\n%s"
               "When a systemd user manager is reachable (a login session; not a bare container, nor ssh\n"
               "without lingering), run:\n"
               "  %s\n",
               verb, r.command().c_str(), r.how.c_str(), kept.c_str(), later.c_str());
  if (linger)
    std::fprintf(stderr, "To have it start at boot without logging in: loginctl enable-linger $USER\n");
}

// ----- the three verbs --------------------------------------------------------

int Install(const Unit& unit) {
  std::optional<std::string> self = SpecdPath();  // for ExecStart
  if (!self) {
    std::fprintf(stderr, "specd service install: cannot read /proc/self/exe: %s\n", std::strerror(errno));
    return kExitUsage;
  }
  Result<std::string> text = ServiceUnitText(*self, unit.root);
  if (!text.ok()) {
    std::fprintf(stderr, "specd service install: %s\n", text.error().message.c_str());
    return kExitUsage;
  }
  Env* env = Env::Default();
  Result<std::string> before = env->ReadFile(unit.path);
  std::string dir = unit.path.substr(0, unit.path.rfind('/'));
  Status written = env->MakeDirs(dir);
  if (written.ok()) written = WriteFileAtomic(env, unit.path, *text);
  if (!written.ok()) {
    std::fprintf(stderr, "specd service install: %s\n", written.error().message.c_str());
    return kExitUsage;
  }
  std::printf("wrote %s\n", unit.path.c_str());
  std::fflush(stdout);
  const std::string later = "systemctl --user daemon-reload && systemctl --user enable --now " + unit.name;
  const std::string kept = "The unit file is kept at " + unit.path + ".\n";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"daemon-reload"}, std::vector<std::string>{"enable", "--now", unit.name}}) {
    if (Ran r = Systemctl(args, false); !r.ok()) {
      PrintSystemctlFailure("install", r, kept, later, true);
      return kExitSystemctlFailed;
    }
  }
  std::printf("enabled and started %s\nits log: journalctl --user -u %s\n", unit.name.c_str(),
              unit.name.c_str());
  if (before.ok() && *before != *text) {
    std::printf("the unit changed: `systemctl --user restart %s` makes a running watcher use it\n",
                unit.name.c_str());
  }
  return kExitOk;
}

int Uninstall(const Unit& unit) {
  Env* env = Env::Default();
  if (!env->Exists(unit.path)) {
    std::printf("%s is not installed (no %s)\n", unit.name.c_str(), unit.path.c_str());
    return kExitOk;
  }
  if (Ran r = Systemctl({"disable", "--now", unit.name}, false); !r.ok()) {
    PrintSystemctlFailure("uninstall", r, "The unit file is kept at " + unit.path + ".\n",
                          "specd service uninstall", false);
    return kExitSystemctlFailed;
  }
  std::printf("stopped and disabled %s\n", unit.name.c_str());
  if (Status s = env->RemoveFile(unit.path); !s.ok()) {
    std::fprintf(stderr, "specd service uninstall: %s\n", s.error().message.c_str());
    return kExitUsage;
  }
  std::printf("removed %s\n", unit.path.c_str());
  std::fflush(stdout);
  if (Ran r = Systemctl({"daemon-reload"}, false); !r.ok()) {
    PrintSystemctlFailure("uninstall", r, "", "systemctl --user daemon-reload", false);
    return kExitSystemctlFailed;
  }
  return kExitOk;
}

// One `systemctl --user is-X UNIT` answer: its stdout word, or nullopt when
// it printed none (systemctl could not reach the user manager).
std::optional<std::string> Query(const char* what, const Unit& unit, Ran* ran) {
  *ran = Systemctl({what, unit.name}, true);
  std::string word = FirstLine(ran->out);
  if (word.empty()) return std::nullopt;
  return word;
}

int ServiceStatus(const Unit& unit) {
  std::printf("unit file: %s\n", unit.path.c_str());
  if (!Env::Default()->Exists(unit.path)) {
    std::printf("installed: no (specd service install)\n");
    return kExitNotInstalled;
  }
  std::printf("installed: yes\n");
  Ran ran;
  std::optional<std::string> active = Query("is-active", unit, &ran);
  if (!active) {
    std::printf("systemctl: not reachable (`%s` %s, printed nothing)\n", ran.command().c_str(),
                ran.how.c_str());
    return kExitNotActive;
  }
  std::printf("active: %s\n", active->c_str());
  std::optional<std::string> enabled = Query("is-enabled", unit, &ran);
  std::printf("enabled: %s\n",
              enabled ? enabled->c_str() : ("unknown (`" + ran.command() + "` " + ran.how + ")").c_str());
  return *active == "active" ? kExitOk : kExitNotActive;
}

}  // namespace

Run SetupService(CLI::App* sub) {
  sub->description(
      "The systemd user unit that runs `specd watch` for this repository, so the\n"
      "watcher starts with the session and restarts on failure.\n"
      "Exit status: 0 done (status: active), 1 systemctl failed, 2 usage or I/O error;\n"
      "status: 3 installed but not active, 4 not installed.");
  sub->require_subcommand(1);
  auto repo = std::make_shared<RepoOptions>();
  struct Verb {
    const char* name;
    const char* help;
    int (*run)(const Unit&);
  };
  static const Verb kVerbs[] = {
      {"install", "Write the unit to ~/.config/systemd/user/, then daemon-reload and enable --now", Install},
      {"uninstall", "disable --now, remove the unit file, daemon-reload (not installed: nothing to do)",
       Uninstall},
      {"status", "The unit file, whether installed, is-active and is-enabled (exit 0, 3 or 4)",
       ServiceStatus},
  };
  auto chosen = std::make_shared<std::vector<std::pair<CLI::App*, const Verb*>>>();
  for (const Verb& v : kVerbs) {
    CLI::App* verb = sub->add_subcommand(v.name, v.help);
    AddRepoOptions(verb, repo.get(), false);
    chosen->emplace_back(verb, &v);
  }
  return [repo, chosen] {
    for (const auto& [verb, v] : *chosen) {
      if (!verb->parsed()) continue;
      std::optional<Unit> unit = FindUnit(*repo);
      return unit ? v->run(*unit) : kExitUsage;
    }
    return kExitUsage;
  };
}

}  // namespace specd::cli
