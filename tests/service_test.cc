// specd service install|uninstall|status as a user runs it: the real specd
// binary, the unit directory under a temporary XDG_CONFIG_HOME, and a fake
// systemctl ($SPECD_SYSTEMCTL) that appends its arguments to a file, prints
// what the test asks is-active / is-enabled to print, and fails the verb the
// test names. Then the unit text itself: names and systemd quoting.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/journal.h"
#include "tests/process_util.h"
#include "tests/test_util.h"
#include "watchers/service_unit.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr char kFakeSystemctl[] =
    "#!/bin/sh\n"
    "printf '%s\\n' \"$*\" >> \"$FAKE_CALLS\"\n"
    "case \"$2\" in\n"
    "  is-active) out=$FAKE_ACTIVE ;;\n"
    "  is-enabled) out=$FAKE_ENABLED ;;\n"
    "  *) out= ;;\n"
    "esac\n"
    "[ -n \"$out\" ] && printf '%s\\n' \"$out\"\n"
    "if [ \"$2\" = \"$FAKE_FAIL\" ]; then\n"
    "  echo 'Failed to connect to bus: No medium found' >&2\n"
    "  exit \"$FAKE_STATUS\"\n"
    "fi\n"
    "exit 0\n";

// The unit for `root`, written out by hand from the list.
std::string ExpectedUnit(const std::string& exec_start, const std::string& root_escaped) {
  // clang-format off
  return "# Written by `specd service install`; `specd service uninstall` removes it.\n"
         "[Unit]\n"
         "Description=specd watch for " + root_escaped + "\n"
         "\n"
         "[Service]\n"
         "Type=notify\n"
         "NotifyAccess=main\n"
         "ExecStart=" + exec_start + "\n"
         "WorkingDirectory=" + root_escaped + "\n"
         "Restart=on-failure\n"
         "RestartSec=2\n"
         "WatchdogSec=30\n"
         "TimeoutStopSec=30\n"
         "\n"
         "[Install]\n"
         "WantedBy=default.target\n";
  // clang-format on
}

// The first 8 hex characters of SHA-256(path), from coreutils' sha256sum: an
// oracle independent of the OpenSSL call the unit name uses.
std::string Sha256Prefix(const std::string& path) {
  std::optional<Output> o = RunProcess("/", "sha256sum", {}, {.stdin_text = path});
  EXPECT_TRUE(o && o->exit_code == 0);
  return o ? o->out.substr(0, 8) : "";
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { UseRepo("shop"); }

  void UseRepo(const std::string& name) {
    root_ = tmp_ / name;
    fs::create_directories(root_ + "/.agents/specs/active");
    unit_name_ = "specd-watch-" + SafeName(name) + "-" + Sha256Prefix(root_) + ".service";
    unit_path_ = tmp_ / "config/systemd/user/" + unit_name_;
  }
  static std::string SafeName(std::string name) {
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    }
    return name;
  }

  // Runs specd in the repository; `fail`: the systemctl verb that fails.
  Output Specd(const std::vector<std::string>& args, const std::string& fail = "", int status = 1,
               const std::string& active = "", const std::string& enabled = "") {
    std::string script = fake();
    Write(script, kFakeSystemctl);
    ::chmod(script.c_str(), 0755);
    RunOptions options;
    options.env = {{"XDG_CONFIG_HOME", tmp_ / "config"},
                   {"SPECD_SYSTEMCTL", script},
                   {"FAKE_CALLS", tmp_ / "calls"},
                   {"FAKE_FAIL", fail},
                   {"FAKE_STATUS", std::to_string(status)},
                   {"FAKE_ACTIVE", active},
                   {"FAKE_ENABLED", enabled}};
    std::optional<Output> out = RunProcess(root_, SPECD_BINARY, args, options);
    return out ? *out : Output{};
  }
  std::string fake() const { return tmp_ / "fake-systemctl"; }
  std::string Calls() { return ReadAll(tmp_ / "calls"); }
  void ForgetCalls() { fs::remove(tmp_ / "calls"); }
  std::vector<std::string> UnitDirEntries() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(tmp_ / "config/systemd/user")) {
      names.push_back(e.path().filename().string());
    }
    return names;
  }

  TempDir tmp_{"specd-service"};
  const std::string binary_ = fs::canonical(SPECD_BINARY).string();
  std::string root_, unit_name_, unit_path_;
};

TEST_F(ServiceTest, InstallWritesTheUnitThenReloadsAndEnablesIt) {
  Output o = Specd({"service", "install"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(ReadAll(unit_path_), ExpectedUnit(binary_ + " watch --repo " + root_, root_));
  EXPECT_EQ(UnitDirEntries(), std::vector<std::string>{unit_name_});  // no temp file left
  EXPECT_EQ(Calls(), "--user daemon-reload\n--user enable --now " + unit_name_ + "\n");
  EXPECT_EQ(o.out, "wrote " + unit_path_ + "\nenabled and started " + unit_name_ +
                       "\nits log: journalctl --user -u " + unit_name_ + "\n");
  EXPECT_EQ(o.err, "");
}

TEST_F(ServiceTest, InstallQuotesARepositoryPathWithASpaceAndAPercent) {
  UseRepo("my 100% shop");
  Output o = Specd({"service", "install", "--repo", root_});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(unit_name_, "specd-watch-my_100__shop-" + Sha256Prefix(root_) + ".service");
  std::string escaped = tmp_.path() + "/my 100%% shop";
  EXPECT_EQ(ReadAll(unit_path_), ExpectedUnit(binary_ + " watch --repo \"" + escaped + "\"", escaped));
}

TEST_F(ServiceTest, StatusFindsTheRepositoryFromASubdirectory) {
  std::string sub = root_ + "/.agents/specs/active";
  std::optional<Output> o =
      RunProcess(sub, SPECD_BINARY, {"service", "status"}, {.env = {{"XDG_CONFIG_HOME", tmp_ / "config"}}});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->exit_code, 4);
  EXPECT_EQ(o->out, "unit file: " + unit_path_ + "\ninstalled: no (specd service install)\n");
}

TEST_F(ServiceTest, InstallKeepsTheUnitAndSaysWhatToRunWhenSystemctlFails) {
  Output o = Specd({"service", "install"}, "daemon-reload");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(ReadAll(unit_path_), ExpectedUnit(binary_ + " watch --repo " + root_, root_));
  EXPECT_EQ(Calls(), "--user daemon-reload\n");  // nothing after the failure
  EXPECT_EQ(o.out, "wrote " + unit_path_ + "\n");
  EXPECT_EQ(o.err,
            "Failed to connect to bus: No medium found\n"
            "specd service install: `" +
                fake() +
                " --user daemon-reload` exited 1.\n"
                "The unit file is kept at " +
                unit_path_ +
                ".\n"
                "When a systemd user manager is reachable (a login session; not a bare container, nor ssh\n"
                "without lingering), run:\n"
                "  systemctl --user daemon-reload && systemctl --user enable --now " +
                unit_name_ +
                "\n"
                "To have it start at boot without logging in: loginctl enable-linger $USER\n");
}

TEST_F(ServiceTest, InstallFailsWhenTheUnitCannotBeStarted) {
  Output o = Specd({"service", "install"}, "enable", 5);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_TRUE(fs::exists(unit_path_));
  EXPECT_EQ(Calls(), "--user daemon-reload\n--user enable --now " + unit_name_ + "\n");
  EXPECT_NE(o.err.find("`" + fake() + " --user enable --now " + unit_name_ + "` exited 5.\n"),
            std::string::npos)
      << o.err;
}

TEST_F(ServiceTest, InstallWithoutSystemctlAnywhereSaysItCouldNotRunIt) {
  std::string missing = tmp_ / "no-such-systemctl";
  std::optional<Output> o =
      RunProcess(root_, SPECD_BINARY, {"service", "install"},
                 {.env = {{"XDG_CONFIG_HOME", tmp_ / "config"}, {"SPECD_SYSTEMCTL", missing}}});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->exit_code, 1);
  EXPECT_TRUE(fs::exists(unit_path_));
  EXPECT_NE(
      o->err.find("`" + missing + " --user daemon-reload` could not be run: No such file or directory.\n"),
      std::string::npos)
      << o->err;
}

TEST_F(ServiceTest, ReinstallingAChangedUnitSaysHowToRestartIt) {
  Write(unit_path_, "[Service]\nExecStart=/old/specd watch\n");
  Output o = Specd({"service", "install"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(ReadAll(unit_path_), ExpectedUnit(binary_ + " watch --repo " + root_, root_));
  EXPECT_NE(o.out.find("the unit changed: `systemctl --user restart " + unit_name_ +
                       "` makes a running watcher use it\n"),
            std::string::npos)
      << o.out;
}

TEST_F(ServiceTest, UninstallDisablesRemovesAndReloads) {
  ASSERT_EQ(Specd({"service", "install"}).exit_code, 0);
  ForgetCalls();
  Output o = Specd({"service", "uninstall"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_FALSE(fs::exists(unit_path_));
  EXPECT_EQ(Calls(), "--user disable --now " + unit_name_ + "\n--user daemon-reload\n");
  EXPECT_EQ(o.out, "stopped and disabled " + unit_name_ + "\nremoved " + unit_path_ + "\n");
}

TEST_F(ServiceTest, UninstallWhenNotInstalledSaysSoAndSucceeds) {
  Output o = Specd({"service", "uninstall"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, unit_name_ + " is not installed (no " + unit_path_ + ")\n");
  EXPECT_EQ(Calls(), "");
}

TEST_F(ServiceTest, UninstallKeepsTheUnitWhenDisableFails) {
  ASSERT_EQ(Specd({"service", "install"}).exit_code, 0);
  ForgetCalls();
  Output o = Specd({"service", "uninstall"}, "disable");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_TRUE(fs::exists(unit_path_));
  EXPECT_EQ(Calls(), "--user disable --now " + unit_name_ + "\n");
  EXPECT_NE(o.err.find("The unit file is kept at " + unit_path_ + ".\n"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("enable-linger"), std::string::npos) << o.err;
}

TEST_F(ServiceTest, StatusOfAnActiveUnitExitsZero) {
  ASSERT_EQ(Specd({"service", "install"}).exit_code, 0);
  ForgetCalls();
  Output o = Specd({"service", "status"}, "", 0, "active", "enabled");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "unit file: " + unit_path_ + "\ninstalled: yes\nactive: active\nenabled: enabled\n");
  EXPECT_EQ(Calls(), "--user is-active " + unit_name_ + "\n--user is-enabled " + unit_name_ + "\n");
}

TEST_F(ServiceTest, StatusOfAnInstalledButInactiveUnitExitsThree) {
  ASSERT_EQ(Specd({"service", "install"}).exit_code, 0);
  Output o = Specd({"service", "status"}, "is-active", 3, "failed", "enabled");
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.out, "unit file: " + unit_path_ + "\ninstalled: yes\nactive: failed\nenabled: enabled\n");
}

TEST_F(ServiceTest, StatusWhenSystemctlIsNotReachableExitsThree) {
  ASSERT_EQ(Specd({"service", "install"}).exit_code, 0);
  ForgetCalls();
  Output o = Specd({"service", "status"}, "is-active", 1);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.out, "unit file: " + unit_path_ + "\ninstalled: yes\nsystemctl: not reachable (`" + fake() +
                       " --user is-active " + unit_name_ + "` exited 1, printed nothing)\n");
  EXPECT_EQ(Calls(), "--user is-active " + unit_name_ + "\n");
}

TEST_F(ServiceTest, StatusWhenNotInstalledExitsFourWithoutAskingSystemctl) {
  Output o = Specd({"service", "status"});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.out, "unit file: " + unit_path_ + "\ninstalled: no (specd service install)\n");
  EXPECT_EQ(Calls(), "");
}

TEST_F(ServiceTest, HelpDocumentsTheExitCodes) {
  Output o = Specd({"service", "--help"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("status: 3 installed but not active, 4 not installed."), std::string::npos) << o.out;
}

TEST_F(ServiceTest, TheUnitGoesToDotConfigWithoutXdgConfigHome) {
  std::optional<Output> o = RunProcess(root_, SPECD_BINARY, {"service", "status"},
                                       {.env = {{"XDG_CONFIG_HOME", std::nullopt}, {"HOME", tmp_ / "home"}}});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->out, "unit file: " + (tmp_ / "home/.config/systemd/user/") + unit_name_ +
                        "\ninstalled: no (specd service install)\n");
}

// ----- the unit text ----------------------------------------------------------

TEST(ServiceUnitTest, QuotesArgumentsOnlyWhenSystemdWouldSplitOrUnescapeThem) {
  EXPECT_EQ(QuoteExecArgument("/usr/bin/specd"), "/usr/bin/specd");
  EXPECT_EQ(QuoteExecArgument("/srv/my shop"), "\"/srv/my shop\"");
  EXPECT_EQ(QuoteExecArgument("/srv/100%"), "/srv/100%%");
  EXPECT_EQ(QuoteExecArgument("/srv/$HOME"), "/srv/$$HOME");
  EXPECT_EQ(QuoteExecArgument("/srv/a\\b"), "\"/srv/a\\\\b\"");
  EXPECT_EQ(QuoteExecArgument("/srv/say \"hi\""), "\"/srv/say \\\"hi\\\"\"");
  EXPECT_EQ(QuoteExecArgument("/srv/it's"), "\"/srv/it's\"");
  EXPECT_EQ(QuoteExecArgument("/srv/a;b"), "\"/srv/a;b\"");
  EXPECT_EQ(QuoteExecArgument(""), "\"\"");
}

TEST(ServiceUnitTest, QuotesTheExecutableWithoutDoublingDollars) {
  EXPECT_EQ(QuoteExecPath("/opt/specd 2/bin/specd"), "\"/opt/specd 2/bin/specd\"");
  EXPECT_EQ(QuoteExecPath("/opt/100%/$v/specd"), "/opt/100%%/$v/specd");
}

// Installed unit names must never change: the hash is the first 8 hex
// characters of SHA-256 of the path, as `printf %s PATH | sha256sum` prints.
TEST(ServiceUnitTest, NamesTheUnitAfterTheRepositoryAndItsPathHash) {
  // printf %s /srv/shop | sha256sum -> e7c7ea0b...
  EXPECT_EQ(ServiceUnitName("/srv/shop"), "specd-watch-shop-e7c7ea0b.service");
  // printf %s '/srv/été shop' | sha256sum -> 920bd1f9...
  EXPECT_EQ(ServiceUnitName("/srv/été shop"), "specd-watch-__t___shop-920bd1f9.service");
  // printf %s / | sha256sum -> 8a5edab2...
  EXPECT_EQ(ServiceUnitName("/"), "specd-watch-root-8a5edab2.service");
  // printf %s /srv/aaa...a (100 a) | sha256sum -> 34fec0fe...
  EXPECT_EQ(ServiceUnitName("/srv/" + std::string(100, 'a')),
            "specd-watch-" + std::string(64, 'a') + "-34fec0fe.service");
}

TEST(ServiceUnitTest, RefusesPathsAUnitFileCannotCarry) {
  EXPECT_TRUE(ServiceUnitText("/usr/bin/specd", "/srv/shop").ok());
  Result<std::string> newline = ServiceUnitText("/usr/bin/specd", "/srv/sh\nop");
  ASSERT_FALSE(newline.ok());
  EXPECT_EQ(newline.error().message,
            "the repository holds a control character, which a unit file cannot carry: /srv/sh\nop");
  EXPECT_FALSE(ServiceUnitText("specd", "/srv/shop").ok());
  EXPECT_FALSE(ServiceUnitText("/opt/it's/specd", "/srv/shop").ok());
  EXPECT_TRUE(ServiceUnitText("/usr/bin/specd", "/srv/it's \"shop\"").ok());
  EXPECT_FALSE(ServiceUnitText("/usr/bin/specd", "/srv/shop ").ok());
  EXPECT_FALSE(ServiceUnitText("/usr/bin/specd", "/srv/shop\\").ok());
}

}  // namespace
}  // namespace specd
