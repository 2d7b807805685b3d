// The repository settings, .agents/specd.yaml: LoadRepoSettings on real
// files (defaults, every field with the place it was written, every kind of
// invalid value with its exact diagnostic, the lease rule, a symlink out of
// the repository), GitRepo::HeadBranch, and `specd config` / `specd
// validate` through the real binary in a real git repository.
#include "engine/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/git_repo.h"
#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

class SettingsTest : public ::testing::Test {
 protected:
  void Settings(const std::string& text) { Write(repo_ / kSettingsPath, text); }
  // The error message of loading the settings ("" when they load).
  std::string LoadError() {
    Result<RepoSettings> s = LoadRepoSettings(repo_.path());
    return s.ok() ? "" : s.error().message;
  }

  TempDir repo_;
};

TEST_F(SettingsTest, NoFileGivesTheDefaults) {
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->target_branch, std::nullopt);
  EXPECT_EQ(s->lease_ttl_seconds, 60);
  EXPECT_EQ(s->heartbeat_seconds, 20);
  EXPECT_EQ(s->max_attempts, 3);
  EXPECT_TRUE(s->gates.empty());
  EXPECT_EQ(s->origin, (std::map<std::string, std::string>{{"gates", "default"},
                                                           {"lease.heartbeatSeconds", "default"},
                                                           {"lease.maxAttempts", "default"},
                                                           {"lease.ttlSeconds", "default"},
                                                           {"targetBranch", "default"}}));
}

TEST_F(SettingsTest, AnEmptyOrCommentedOutFileIsTheDefaults) {
  for (const char* text : {"", "\n\n", "# targetBranch: main\n#lease:\n#  ttlSeconds: 30\n", "---\n"}) {
    Settings(text);
    Result<RepoSettings> s = LoadRepoSettings(repo_.path());
    ASSERT_TRUE(s.ok()) << text << s.error().message;
    EXPECT_EQ(s->lease_ttl_seconds, 60) << text;
    EXPECT_EQ(s->origin.at("lease.ttlSeconds"), "default") << text;
  }
}

TEST_F(SettingsTest, EveryFieldComesFromTheFileWithItsLineAndColumn) {
  Settings(
      "targetBranch: release/2.x\n"
      "lease:\n"
      "  ttlSeconds: 90\n"
      "  heartbeatSeconds: 10\n"
      "  maxAttempts: 5\n"
      "  x-note: kept\n"
      "gates:\n"
      "  - name: build\n"
      "    run: make -j2 && make test\n"
      "    timeoutSeconds: 600\n"
      "  - name: lint\n"
      "    run: make lint\n"
      "x-team: core\n");
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->target_branch, "release/2.x");
  EXPECT_EQ(s->lease_ttl_seconds, 90);
  EXPECT_EQ(s->heartbeat_seconds, 10);
  EXPECT_EQ(s->max_attempts, 5);
  ASSERT_EQ(s->gates.size(), 2u);
  EXPECT_EQ(s->gates[0].name, "build");
  EXPECT_EQ(s->gates[0].run, "make -j2 && make test");
  EXPECT_EQ(s->gates[0].timeout_seconds, 600);
  EXPECT_EQ(s->gates[1].name, "lint");
  EXPECT_EQ(s->gates[1].run, "make lint");
  EXPECT_EQ(s->gates[1].timeout_seconds, std::nullopt);
  EXPECT_EQ(s->origin,
            (std::map<std::string, std::string>{{"gates", ".agents/specd.yaml:8:3"},
                                                {"lease.heartbeatSeconds", ".agents/specd.yaml:4:21"},
                                                {"lease.maxAttempts", ".agents/specd.yaml:5:16"},
                                                {"lease.ttlSeconds", ".agents/specd.yaml:3:15"},
                                                {"targetBranch", ".agents/specd.yaml:1:15"}}));
}

// A gate's quietSeconds (how long without output before it may be blocked):
// read when written, nullopt (the runner's 600 s) when not, at least 1.
TEST_F(SettingsTest, AGateQuietSecondsIsReadAndChecked) {
  Settings(
      "gates:\n"
      "  - name: unit\n"
      "    run: make test\n"
      "    timeoutSeconds: 900\n"
      "    quietSeconds: 120\n"
      "  - name: lint\n"
      "    run: make lint\n");
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->gates.size(), 2u);
  EXPECT_EQ(s->gates[0].timeout_seconds, 900);
  EXPECT_EQ(s->gates[0].quiet_seconds, 120);
  EXPECT_EQ(s->gates[1].quiet_seconds, std::nullopt);
  Settings("gates:\n  - name: unit\n    run: make\n    quietSeconds: 0\n");
  EXPECT_EQ(LoadError(),
            ".agents/specd.yaml:4:19: error: /gates/0/quietSeconds: must be at least 1 (got integer 0)");
  Settings("gates:\n  - name: unit\n    run: make\n    quietSeconds: 1.5\n");
  EXPECT_EQ(LoadError(),
            ".agents/specd.yaml:4:19: error: /gates/0/quietSeconds: expected integer, got number 1.5");
}

// Unset, the heartbeat is a third of the TTL, rounded down, at least 1.
TEST_F(SettingsTest, TheHeartbeatDefaultsToAThirdOfTheTtl) {
  for (auto [ttl, beat] : std::vector<std::pair<int, int>>{{3, 1}, {4, 1}, {10, 3}, {90, 30}}) {
    Settings("lease:\n  ttlSeconds: " + std::to_string(ttl) + "\n");
    Result<RepoSettings> s = LoadRepoSettings(repo_.path());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->heartbeat_seconds, beat) << ttl;
    EXPECT_EQ(s->origin.at("lease.heartbeatSeconds"), "default");
  }
}

TEST_F(SettingsTest, EachInvalidValueHasItsExactDiagnostic) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"lease:\n  ttlSeconds: 2\n", "2:15: error: /lease/ttlSeconds: must be at least 3 (got integer 2)"},
      {"lease:\n  ttlSeconds: sixty\n", "2:15: error: /lease/ttlSeconds: expected integer, got 'sixty'"},
      {"lease:\n  ttlSeconds: 1.5\n",
       "2:15: error: /lease/ttlSeconds: must be at least 3 (got number 1.5)\n.agents/specd.yaml:2:15: error: "
       "/lease/ttlSeconds: expected integer, got number 1.5"},
      {"lease:\n  heartbeatSeconds: 0\n",
       "2:21: error: /lease/heartbeatSeconds: must be at least 1 (got integer 0)"},
      {"lease:\n  maxAttempts: 0\n", "2:16: error: /lease/maxAttempts: must be at least 1 (got integer 0)"},
      {"lease:\n  maxAttempts: 101\n",
       "2:16: error: /lease/maxAttempts: must be at most 100 (got integer 101)"},
      {"lease: 60\n", "1:8: error: /lease: expected mapping, got integer 60"},
      {"targetBranch: -main\n",
       "1:15: error: /targetBranch: must be a git branch name such as main (no spaces, no '..', not starting "
       "with '-') (got '-main')"},
      {"targetBranch: a..b\n",
       "1:15: error: /targetBranch: must be a git branch name such as main (no spaces, no '..', not starting "
       "with '-') (got 'a..b')"},
      {"targetBranch: my branch\n",
       "1:15: error: /targetBranch: must be a git branch name such as main (no spaces, no '..', not starting "
       "with '-') (got 'my branch')"},
      {"targetBranch: 42\n",
       "1:15: error: /targetBranch: expected string, got integer 42 (quote it to make it a string)"},
      {"gates: make test\n", "1:8: error: /gates: expected list, got 'make test'"},
      {"gates:\n  - name: build\n", "2:5: error: /gates/0/run: required field 'run' is missing"},
      {"gates:\n  - name: build\n    run: make\n    timeoutSeconds: 0\n",
       "4:21: error: /gates/0/timeoutSeconds: must be at least 1 (got integer 0)"},
      {"gates:\n  - name: build\n    run: make\n    command: make\n",
       "4:5: error: /gates/0/command: unknown field 'command' (extension fields start with 'x-')"},
      {"gates:\n  - name: build\n    run: make\n  - name: build\n    run: make all\n",
       "4:11: error: /gates/1/name: gate 'build' is also /gates/0: one name, one gate"},
      {"leese:\n  ttlSeconds: 30\n", "1:1: error: /leese: unknown field 'leese' (did you mean 'lease'?)"},
      {"lease:\n  ttl: 30\n", "2:3: error: /lease/ttl: unknown field 'ttl' (did you mean 'ttlSeconds'?)"},
      {"lease:\n  ttlSeconds: 30\n  ttlSeconds: 40\n",
       "3:3: error: /lease/ttlSeconds: duplicate key 'ttlSeconds' (first defined at line 2, column 3)"},
      {"- targetBranch: main\n", "1:1: error: the document must be a mapping of settings, not a list"},
      {"targetBranch: [main\n", ""},  // a YAML syntax error: only its place is asserted below
  };
  for (const auto& [text, expected] : cases) {
    Settings(text);
    Result<RepoSettings> s = LoadRepoSettings(repo_.path());
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalid) << text;
    if (expected.empty()) {
      EXPECT_THAT(s.error().message, ::testing::StartsWith(".agents/specd.yaml:")) << text;
      EXPECT_THAT(s.error().message, ::testing::HasSubstr(": error: ")) << text;
      continue;
    }
    EXPECT_EQ(s.error().message, ".agents/specd.yaml:" + expected) << text;
  }
}

TEST_F(SettingsTest, ATtlBelowThreeHeartbeatsIsRefused) {
  Settings("lease:\n  ttlSeconds: 5\n  heartbeatSeconds: 2\n");
  EXPECT_EQ(LoadError(),
            ".agents/specd.yaml:2:15: error: /lease/ttlSeconds: 5 is less than 3 heartbeats "
            "(3 x lease.heartbeatSeconds 2 = 6)");
  Settings("lease:\n  heartbeatSeconds: 25\n");  // against the default TTL
  EXPECT_EQ(LoadError(),
            ".agents/specd.yaml:2:21: error: /lease/heartbeatSeconds: lease.ttlSeconds 60 (the default) is "
            "less than 3 heartbeats (3 x lease.heartbeatSeconds 25 = 75)");
  Settings("lease:\n  ttlSeconds: 6\n  heartbeatSeconds: 2\n");  // exactly three fit
  EXPECT_EQ(LoadError(), "");
}

// Who may do what (issue 15): `roles` and `allowSelfApproval`, each value with
// its place; absent, nullopt (anyone may) and no origin (the default).
TEST_F(SettingsTest, RolesAreReadWithTheirPlaces) {
  Result<RepoSettings> none = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->roles, std::nullopt);
  EXPECT_FALSE(none->allow_self_approval);

  Settings(
      "roles:\n"
      "  reviewers: [bob@example.com, \"*@corp.example.com\"]\n"
      "  maintainers:\n"
      "    - alice@example.com\n"
      "    - Alice Liddell\n"
      "  x-note: kept\n"
      "allowSelfApproval: true\n");
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->roles.has_value());
  EXPECT_EQ(s->roles->reviewers, (std::vector<std::string>{"bob@example.com", "*@corp.example.com"}));
  EXPECT_EQ(s->roles->maintainers, (std::vector<std::string>{"alice@example.com", "Alice Liddell"}));
  EXPECT_TRUE(s->roles->allow_self_approval);
  EXPECT_TRUE(s->allow_self_approval);
  EXPECT_EQ(s->origin.at("roles"), ".agents/specd.yaml:2:3");
  EXPECT_EQ(s->origin.at("roles.reviewers"), ".agents/specd.yaml:2:14");
  EXPECT_EQ(s->origin.at("roles.maintainers"), ".agents/specd.yaml:4:5");
  EXPECT_EQ(s->origin.at("allowSelfApproval"), ".agents/specd.yaml:7:20");

  // Set with no lists: no one holds either role.
  Settings("roles: {}\n");
  s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->roles.has_value());
  EXPECT_TRUE(s->roles->reviewers.empty());
  EXPECT_TRUE(s->roles->maintainers.empty());
  EXPECT_FALSE(s->roles->allow_self_approval);
  EXPECT_EQ(s->origin.count("roles.reviewers"), 0u);
}

TEST_F(SettingsTest, EachInvalidRoleValueHasItsExactDiagnostic) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"roles: [bob]\n", "1:1: error: /roles: expected mapping, got a list"},
      {"roles:\n  reviewer: [bob]\n",
       "2:3: error: /roles/reviewer: unknown field 'reviewer' (did you mean 'reviewers'?)"},
      {"roles:\n  admins: [bob]\n",
       "2:3: error: /roles/admins: unknown field 'admins' (extension fields start with 'x-')"},
      {"roles:\n  reviewers: bob\n", "2:14: error: /roles/reviewers: expected list, got 'bob'"},
      {"roles:\n  reviewers: [bob, 7]\n",
       "2:20: error: /roles/reviewers/1: expected string, got integer 7 (quote it to make it a string)"},
      {"roles:\n  maintainers: [\"\"]\n",
       "2:17: error: /roles/maintainers/0: must be at least 1 character long (it has 0)"},
      {"allowSelfApproval: yes\n", "1:20: error: /allowSelfApproval: expected boolean, got 'yes'"},
      {"alowSelfApproval: true\n",
       "1:1: error: /alowSelfApproval: unknown field 'alowSelfApproval' (did you mean 'allowSelfApproval'?)"},
  };
  for (const auto& [text, expected] : cases) {
    Settings(text);
    EXPECT_EQ(LoadError(), ".agents/specd.yaml:" + expected) << text;
  }
}

TEST_F(SettingsTest, TheBusIsReadWithItsPlacesAndChecked) {
  Result<RepoSettings> none = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->nats.has_value(), false);
  EXPECT_EQ(none->repo_id, RepoIdOf(repo_.path()));  // the folder's name
  Settings("lease:\n  maxAttempts: 2\n");
  Result<RepoSettings> other = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->repo_id, RepoIdOf(repo_.path()));  // a file without repoId: still the folder's name

  Settings(
      "repoId: shop\n"
      "nats:\n"
      "  url: nats://10.0.0.5:4222,nats://10.0.0.6:4222\n"
      "  subjectPrefix: acme.prod\n"
      "  credentialsFile: ci/specd.creds\n");
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->repo_id, "shop");
  ASSERT_TRUE(s->nats.has_value());
  EXPECT_EQ(s->nats->url, "nats://10.0.0.5:4222,nats://10.0.0.6:4222");
  EXPECT_EQ(s->nats->subject_prefix, "acme.prod");
  EXPECT_EQ(s->nats->credentials_file, "ci/specd.creds");
  EXPECT_EQ(s->origin.at("repoId"), ".agents/specd.yaml:1:9");
  EXPECT_EQ(s->origin.at("nats.url"), ".agents/specd.yaml:3:8");
  EXPECT_EQ(s->origin.at("nats.subjectPrefix"), ".agents/specd.yaml:4:18");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"repoId: my.shop\n",
       "1:9: error: /repoId: must be letters, digits, '-' and '_' (1 to 100): this repository's name on the "
       "message bus, the same in every clone (default: the name of the repository's folder) (got 'my.shop')"},
      {"nats: {}\n", "1:1: error: /nats/url: required field 'url' is missing"},
      {"nats:\n  url: http://h:4222\n",
       "2:8: error: /nats/url: must be a NATS server's address, as nats://host:4222 (several: "
       "comma-separated) (got 'http://h:4222')"},
      {"nats:\n  url: nats://h\n  subjectPrefix: acme.\n",
       "3:18: error: /nats/subjectPrefix: must be dot-separated tokens of letters, digits, '-' and '_', put "
       "before every subject (acme gives acme.specs.created) (got 'acme.')"},
  };
  for (const auto& [text, expected] : cases) {
    Settings(text);
    EXPECT_EQ(LoadError(), ".agents/specd.yaml:" + expected) << text;
  }
}

// Every error, one per line, in file order.
TEST_F(SettingsTest, EveryErrorIsInTheMessageOnePerLine) {
  Settings("targetBranch: -x\nlease:\n  ttlSeconds: 1\n  maxAttempts: 0\nextra: 1\n");
  EXPECT_EQ(
      LoadError(),
      ".agents/specd.yaml:1:15: error: /targetBranch: must be a git branch name such as main (no spaces, "
      "no '..', not starting with '-') (got '-x')\n"
      ".agents/specd.yaml:3:15: error: /lease/ttlSeconds: must be at least 3 (got integer 1)\n"
      ".agents/specd.yaml:4:16: error: /lease/maxAttempts: must be at least 1 (got integer 0)\n"
      ".agents/specd.yaml:5:1: error: /extra: unknown field 'extra' (extension fields start with 'x-')");
}

// Read as specs are: a symlink out of the repository is not followed (its
// target's bytes appear nowhere); one inside is.
TEST_F(SettingsTest, ASymlinkOutOfTheRepositoryIsRefused) {
  TempDir outside("specd-outside");
  Write(outside / "secret.yaml", "targetBranch: hunter2-do-not-leak\n");
  fs::create_directories(repo_ / ".agents");
  ASSERT_EQ(::symlink((outside / "secret.yaml").c_str(), (repo_ / kSettingsPath).c_str()), 0);
  Result<RepoSettings> s = LoadRepoSettings(repo_.path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(s.error().message, ".agents/specd.yaml:1:1: error: symlink points outside the repository (to " +
                                   outside.path() + "/secret.yaml); not followed");

  fs::remove(repo_ / kSettingsPath);
  Write(repo_ / ".agents/shared.yaml", "targetBranch: trunk\n");
  ASSERT_EQ(::symlink("shared.yaml", (repo_ / kSettingsPath).c_str()), 0);
  Result<RepoSettings> inside = LoadRepoSettings(repo_.path());
  ASSERT_TRUE(inside.ok()) << inside.error().message;
  EXPECT_EQ(inside->target_branch, "trunk");

  fs::remove(repo_ / kSettingsPath);
  fs::create_directories(repo_ / kSettingsPath);
  EXPECT_EQ(LoadError(), ".agents/specd.yaml:1:1: error: a directory, not a file");
}

// ------------------------------------------------------------ HEAD's branch

Output Git(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"-c", "user.name=t", "-c", "user.email=t@example.com"};
  all.insert(all.end(), args.begin(), args.end());
  Output o = *RunProcess(dir, "git", all);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  return o;
}

TEST(HeadBranchTest, UnbornNamedAndDetached) {
  TempDir repo;
  Git(repo.path(), {"init", "-q", repo.path()});
  Git(repo.path(), {"symbolic-ref", "HEAD", "refs/heads/trunk"});
  auto head = [&] {
    Result<std::unique_ptr<pipeline::GitRepo>> git = pipeline::GitRepo::Open(repo.path(), false);
    EXPECT_TRUE(git.ok());
    Result<std::optional<std::string>> b = (*git)->HeadBranch();
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? *b : std::optional<std::string>("<error>");
  };
  EXPECT_EQ(head(), "trunk");  // unborn: no commit yet
  Git(repo.path(), {"commit", "-q", "--allow-empty", "-m", "first"});
  Git(repo.path(), {"checkout", "-q", "-b", "feature/x"});
  EXPECT_EQ(head(), "feature/x");
  Git(repo.path(), {"checkout", "-q", "--detach"});
  EXPECT_EQ(head(), std::nullopt);
}

// ------------------------------------------------------------ through the CLI

class ConfigCliTest : public ::testing::Test {
 protected:
  ConfigCliTest() {
    Git(repo_.path(), {"init", "-q", repo_.path()});
    Git(repo_.path(), {"symbolic-ref", "HEAD", "refs/heads/trunk"});
    Write(repo_ / ".agents/specs/active/spec-2026-01-01-001.yaml", kValidSpec);
  }
  Output Specd(const std::vector<std::string>& args) { return *RunProcess(repo_.path(), SPECD_BINARY, args); }

  TempDir repo_;
};

TEST_F(ConfigCliTest, ConfigPrintsEverySettingAndWhereItCameFrom) {
  Output d = Specd({"config"});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.err, "");
  EXPECT_EQ(d.out,
            "targetBranch            trunk   (HEAD)\n"
            "lease.ttlSeconds        60      (default)\n"
            "lease.heartbeatSeconds  20      (default)\n"
            "lease.maxAttempts       3       (default)\n"
            "gates                   (none)  (default)\n");

  Write(repo_ / kSettingsPath,
        "lease:\n  ttlSeconds: 30\n  maxAttempts: 5\ngates:\n  - name: unit\n    run: make test\n"
        "    timeoutSeconds: 600\n  - name: lint\n    run: make lint\n");
  Output f = Specd({"config"});
  EXPECT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out,
            "targetBranch            trunk                           (HEAD)\n"
            "lease.ttlSeconds        30                              (.agents/specd.yaml:2:15)\n"
            "lease.heartbeatSeconds  10                              (default)\n"
            "lease.maxAttempts       5                               (.agents/specd.yaml:3:16)\n"
            "gates                   unit: make test (timeout 600s)  (.agents/specd.yaml:5:3)\n"
            "                        lint: make lint\n");

  Output j = Specd({"config", "--json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out), nlohmann::json::parse(R"({
    "targetBranch": {"value": "trunk", "from": "HEAD"},
    "lease.ttlSeconds": {"value": 30, "from": ".agents/specd.yaml:2:15"},
    "lease.heartbeatSeconds": {"value": 10, "from": "default"},
    "lease.maxAttempts": {"value": 5, "from": ".agents/specd.yaml:3:16"},
    "gates": {"value": [{"name": "unit", "run": "make test", "timeoutSeconds": 600},
                        {"name": "lint", "run": "make lint"}],
              "from": ".agents/specd.yaml:5:3"}})"));

  Write(repo_ / kSettingsPath, "targetBranch: main\n");
  Output b = Specd({"config", "--json"});
  EXPECT_EQ(nlohmann::json::parse(b.out)["targetBranch"],
            nlohmann::json::parse(R"({"value": "main", "from": ".agents/specd.yaml:1:15"})"));
}

TEST_F(ConfigCliTest, ADetachedHeadHasNoTargetBranch) {
  Git(repo_.path(), {"commit", "-q", "--allow-empty", "-m", "first"});
  Git(repo_.path(), {"checkout", "-q", "--detach"});
  Output o = Specd({"config", "--json"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out)["targetBranch"],
            nlohmann::json::parse(R"({"value": null, "from": "HEAD is detached"})"));
}

TEST_F(ConfigCliTest, InvalidSettingsAreDiagnosticsAndExit1) {
  Write(repo_ / kSettingsPath, "lease:\n  ttlSeconds: 5\n  heartbeatSeconds: 2\n  maxAtempts: 4\n");
  Output o = Specd({"config"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            ".agents/specd.yaml:2:15: error: /lease/ttlSeconds: 5 is less than 3 heartbeats "
            "(3 x lease.heartbeatSeconds 2 = 6)\n"
            ".agents/specd.yaml:4:3: error: /lease/maxAtempts: unknown field 'maxAtempts' (did you mean "
            "'maxAttempts'?)\n");

  TempDir elsewhere("specd-nowhere");
  Output none = *RunProcess(elsewhere.path(), SPECD_BINARY, {"config"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err, "specd: not inside a repository with .agents/specs/ (use --repo DIR)\n");
}

// `specd validate` with no paths checks the settings file too, and counts it.
TEST_F(ConfigCliTest, ValidateChecksAndCountsTheSettingsFile) {
  Output none = Specd({"validate"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "1 file: 1 valid, 0 invalid\n");

  Write(repo_ / kSettingsPath, "lease:\n  ttlSeconds: 30\n");
  Output valid = Specd({"validate"});
  EXPECT_EQ(valid.exit_code, 0) << valid.out;
  EXPECT_EQ(valid.out, "2 files: 2 valid, 0 invalid\n");

  Write(repo_ / kSettingsPath, "lease:\n  ttlSeconds: 2\n");
  Output invalid = Specd({"validate"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_EQ(invalid.out,
            ".agents/specd.yaml:2:15: error: /lease/ttlSeconds: must be at least 3 (got integer 2)\n"
            "2 files: 1 valid, 1 invalid\n");

  Output json = Specd({"validate", "--format", "json"});
  nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["summary"]["invalid"], 1) << json.out;

  // Named paths are checked as named: the settings file is not added.
  Output named = Specd({"validate", ".agents/specs/active/spec-2026-01-01-001.yaml"});
  EXPECT_EQ(named.exit_code, 0);
  EXPECT_EQ(named.out, "1 file: 1 valid, 0 invalid\n");
}

}  // namespace
}  // namespace specd
