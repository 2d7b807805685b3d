// The specd binary as a user runs it: real temporary repositories, the real
// executable (SPECD_BINARY) run in a chosen directory, its stdout, stderr
// and exit status captured.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/repo.h"
#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using Json = nlohmann::json;

using ::specd::testing::kValidSpec;

std::string WithId(std::string text, const std::string& id) {
  text.replace(text.find("spec-2026-01-01-001"), 19, id);
  return text;
}

// spec-2026-01-01-002: a status typo (line 3) and an unknown priority (line 10).
std::string SchemaInvalidSpec() {
  std::string s = WithId(kValidSpec, "spec-2026-01-01-002");
  s.replace(s.find("status: draft"), 13, "status: drafty");
  s.replace(s.find("priority: high"), 14, "priority: urgent");
  return s;
}

const char kStatusMessage[] =
    "must be one of draft, review, approved, planning, in-progress, diff-submitted, reviewed, completed, "
    "failed, blocked, cancelled (got 'drafty'; did you mean 'draft'?)";
const char kPriorityMessage[] = "must be one of low, medium, high, critical (got 'urgent')";

using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

// Runs the specd binary with `args` in directory `cwd`. With `as_nobody`,
// the child drops root first (so that file permissions apply); nullopt when
// it could not.
std::optional<Output> RunSpecd(const std::string& cwd, const std::vector<std::string>& args,
                               bool as_nobody = false) {
  RunOptions options;
  options.as_nobody = as_nobody;
  return RunProcess(cwd, SPECD_BINARY, args, options);
}

Output Specd(const std::string& cwd, const std::vector<std::string>& args) {
  std::optional<Output> o = RunSpecd(cwd, args);
  return o ? *o : Output{};
}

// <root>/.agents/specs/ with one valid and one schema-invalid active spec,
// an archived valid one and a template that is not a valid spec.
void MakeRepo(const std::string& root) {
  Write(root + "/.agents/specs/active/spec-2026-01-01-001.yaml", kValidSpec);
  Write(root + "/.agents/specs/active/spec-2026-01-01-002.yaml", SchemaInvalidSpec());
  Write(root + "/.agents/specs/archive/2025-12/spec-2025-12-01-001.yaml",
        WithId(kValidSpec, "spec-2025-12-01-001"));
  Write(root + "/.agents/specs/templates/feature.yaml", "id: feature\ntitle: <fill in>\n");
  fs::create_directories(root + "/src/deep/er");
}

// ---------------------------------------------------------- exit statuses

TEST(Cli, ExitZeroWhenEveryFileIsValid) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t.path(), {"validate", ".agents/specs/active/spec-2026-01-01-001.yaml"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "1 file: 1 valid, 0 invalid\n");
  EXPECT_EQ(o.err, "");
}

TEST(Cli, ExitOneWhenAFileIsInvalid) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t.path(), {"validate", ".agents/specs/active"});
  EXPECT_EQ(o.exit_code, 1);
  const std::string f = ".agents/specs/active/spec-2026-01-01-002.yaml";
  EXPECT_EQ(o.out, f + ":3:9: error: /status: " + kStatusMessage + "\n" + f +
                       ":10:15: error: /requirements/0/priority: " + kPriorityMessage + "\n" +
                       "2 files: 1 valid, 1 invalid\n");
  EXPECT_EQ(o.err, "");
}

TEST(Cli, ExitTwoWhenAFileCannotBeRead) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t.path(), {"validate", "missing.yaml", ".agents/specs/active/spec-2026-01-01-001.yaml"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out,
            "missing.yaml:1:1: error: No such file or directory\n"
            "2 files: 1 valid, 0 invalid, 1 unreadable\n");
}

TEST(Cli, ExitTwoForAFilePermissionsKeepClosed) {
  TempDir t;
  ASSERT_EQ(::chmod(t.path().c_str(), 0755), 0);
  Write(t / "spec-2026-01-01-001.yaml", kValidSpec);
  ASSERT_EQ(::chmod((t / "spec-2026-01-01-001.yaml").c_str(), 0), 0);
  // root reads a mode-000 file anyway: run specd as "nobody" then.
  std::optional<Output> o = RunSpecd(t.path(), {"validate", "spec-2026-01-01-001.yaml"}, ::geteuid() == 0);
  if (!o) GTEST_SKIP() << "running as root and cannot drop privileges to test EACCES";
  EXPECT_EQ(o->exit_code, 2);
  EXPECT_EQ(o->out,
            "spec-2026-01-01-001.yaml:1:1: error: cannot open: Permission denied\n"
            "1 file: 0 valid, 0 invalid, 1 unreadable\n");
}

TEST(Cli, UnknownOptionIsAUsageError) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t.path(), {"validate", "--bogus"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "The following argument was not expected: --bogus\nRun with --help for more information.\n");
}

TEST(Cli, BadFormatIsAUsageError) {
  TempDir t;
  Output o = Specd(t.path(), {"validate", "--format", "xml", "x.yaml"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "--format: xml not in {text,json}\nRun with --help for more information.\n");
}

TEST(Cli, NoSubcommandIsAUsageError) {
  TempDir t;
  Output o = Specd(t.path(), {});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "A subcommand is required\nRun with --help for more information.\n");
}

// -------------------------------------------------------- --format json

TEST(Cli, JsonOutputCarriesEveryField) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t.path(), {"validate", "--format", "json", ".agents/specs/active", "missing.yaml"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "");
  Json j = Json::parse(o.out);  // throws (and fails the test) if it is not JSON
  const std::string valid = ".agents/specs/active/spec-2026-01-01-001.yaml";
  const std::string invalid = ".agents/specs/active/spec-2026-01-01-002.yaml";
  Json expected = {
      {"files",
       {
           {{"path", valid}, {"outcome", "valid"}, {"diagnostics", Json::array()}},
           {{"path", invalid},
            {"outcome", "invalid"},
            {"diagnostics",
             {
                 {{"file", invalid},
                  {"line", 3},
                  {"column", 9},
                  {"pointer", "/status"},
                  {"keyword", "enum"},
                  {"message", kStatusMessage},
                  {"severity", "error"}},
                 {{"file", invalid},
                  {"line", 10},
                  {"column", 15},
                  {"pointer", "/requirements/0/priority"},
                  {"keyword", "enum"},
                  {"message", kPriorityMessage},
                  {"severity", "error"}},
             }}},
           {{"path", "missing.yaml"},
            {"outcome", "unreadable"},
            {"diagnostics",
             {{{"file", "missing.yaml"},
               {"line", 1},
               {"column", 1},
               {"pointer", ""},
               {"keyword", "io"},
               {"message", "No such file or directory"},
               {"severity", "error"}}}}},
       }},
      {"summary", {{"files", 3}, {"valid", 1}, {"invalid", 1}, {"unreadable", 1}, {"skipped", 0}}},
  };
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST(Cli, JsonOutputForSkippedAndRefusedFiles) {
  TempDir t;
  Write(t / "outside/secret.yaml", kValidSpec);
  MakeRepo(t / "repo");
  ASSERT_EQ(::symlink((t / "outside/secret.yaml").c_str(), (t / "repo/escape.yaml").c_str()), 0);
  ASSERT_EQ(::mkfifo((t / "repo/pipe.yaml").c_str(), 0644), 0);
  Output o = Specd(t / "repo", {"validate", "--format", "json", "escape.yaml", "pipe.yaml"});
  EXPECT_EQ(o.exit_code, 2);
  Json j = Json::parse(o.out);
  Json expected = {
      {"files",
       {
           {{"path", "escape.yaml"},
            {"outcome", "invalid"},
            {"diagnostics",
             {{{"file", "escape.yaml"},
               {"line", 1},
               {"column", 1},
               {"pointer", ""},
               {"keyword", "symlink"},
               {"message",
                "symlink points outside the repository (to " + t / "outside/secret.yaml" + "); not followed"},
               {"severity", "error"}}}}},
           {{"path", "pipe.yaml"},
            {"outcome", "unreadable"},
            {"diagnostics",
             {{{"file", "pipe.yaml"},
               {"line", 1},
               {"column", 1},
               {"pointer", ""},
               {"keyword", "io"},
               {"message", "a FIFO, not a file: nothing to validate"},
               {"severity", "error"}}}}},
       }},
      {"summary", {{"files", 2}, {"valid", 0}, {"invalid", 1}, {"unreadable", 1}, {"skipped", 0}}},
  };
  EXPECT_EQ(j, expected) << j.dump(2);
}

// --------------------------------------------- finding the repository

TEST(Cli, NoPathWalksUpToTheRepositoryAndLeavesOutTemplates) {
  TempDir t;
  MakeRepo(t.path());
  Output o = Specd(t / "src/deep/er", {"validate"});
  EXPECT_EQ(o.exit_code, 1);
  const std::string f = "../../../.agents/specs/active/spec-2026-01-01-002.yaml";
  EXPECT_EQ(o.out, f + ":3:9: error: /status: " + kStatusMessage + "\n" + f +
                       ":10:15: error: /requirements/0/priority: " + kPriorityMessage + "\n" +
                       "3 files: 2 valid, 1 invalid\n");
  EXPECT_EQ(o.err, "");
  // The same from the root itself; json names every file checked, templates not among them.
  Output j = Specd(t.path(), {"validate", "--format", "json"});
  EXPECT_EQ(j.exit_code, 1);
  const Json report = Json::parse(j.out);
  std::vector<std::string> paths;
  for (const Json& f : report["files"]) paths.push_back(f["path"]);
  EXPECT_THAT(paths, ElementsAre(".agents/specs/active/spec-2026-01-01-001.yaml",
                                 ".agents/specs/active/spec-2026-01-01-002.yaml",
                                 ".agents/specs/archive/2025-12/spec-2025-12-01-001.yaml"));
}

TEST(Cli, NoPathAndNoRepositoryIsAUsageError) {
  TempDir t;
  fs::create_directories(t / "plain/dir");
  if (FindRepoRoot(t / "plain/dir")) GTEST_SKIP() << "the temporary directory is inside a repository";
  Output o = Specd(t / "plain/dir", {"validate"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "specd: not inside a repository with .agents/specs/ (name files, or use --repo DIR)\n");
}

TEST(Cli, NoPathInAGitRepositoryWithoutSpecsIsAUsageError) {
  TempDir t;
  fs::create_directories(t / "repo/.git");
  fs::create_directories(t / "repo/sub");
  Output o = Specd(t / "repo/sub", {"validate"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "specd: no " + t / "repo/.agents/specs" + " directory (name files, or use --repo DIR)\n");
}

TEST(Cli, RepoOptionNamesTheRepository) {
  TempDir t;
  MakeRepo(t / "repo");
  fs::create_directories(t / "elsewhere");
  Output o = Specd(t / "elsewhere", {"validate", "--repo", "../repo"});
  EXPECT_EQ(o.exit_code, 1);
  const std::string f = "../repo/.agents/specs/active/spec-2026-01-01-002.yaml";
  EXPECT_EQ(o.out, f + ":3:9: error: /status: " + kStatusMessage + "\n" + f +
                       ":10:15: error: /requirements/0/priority: " + kPriorityMessage + "\n" +
                       "3 files: 2 valid, 1 invalid\n");
  EXPECT_EQ(o.err, "");
}

TEST(Cli, RepoOptionSetsTheSymlinkBoundary) {
  TempDir t;
  MakeRepo(t / "repo");
  fs::create_directories(t / "elsewhere");
  Write(t / "elsewhere/spec-2026-01-01-009.yaml", WithId(kValidSpec, "spec-2026-01-01-009"));
  ASSERT_EQ(::symlink("../../../../elsewhere/spec-2026-01-01-009.yaml",
                      (t / "repo/.agents/specs/active/spec-2026-01-01-009.yaml").c_str()),
            0);
  Output o = Specd(t / "elsewhere", {"validate", "--repo", t / "repo", t / "repo/.agents/specs/active"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.out, ::testing::HasSubstr(t / "repo/.agents/specs/active/spec-2026-01-01-009.yaml" +
                                          ":1:1: error: symlink points outside the repository (to " +
                                          t / "elsewhere/spec-2026-01-01-009.yaml" + "); not followed\n"));
  EXPECT_THAT(o.out, ::testing::EndsWith("3 files: 1 valid, 2 invalid\n"));
}

TEST(Cli, RepoOptionMustBeADirectory) {
  TempDir t;
  Output o = Specd(t.path(), {"validate", "--repo", t / "nope"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "specd: --repo " + t / "nope" + ": no such directory\n");
  Write(t / "file", "not a directory\n");
  Output file = Specd(t.path(), {"validate", "--repo", t / "file"});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_EQ(file.err, "specd: --repo " + t / "file" + ": not a directory\n");
}

// ------------------------------------------------------ --syntax-only

TEST(Cli, SyntaxOnlyIgnoresSchemaErrorsButNotYamlErrors) {
  TempDir t;
  MakeRepo(t.path());
  const std::string f = ".agents/specs/active/spec-2026-01-01-002.yaml";
  Output schema = Specd(t.path(), {"validate", "--syntax-only", f});
  EXPECT_EQ(schema.exit_code, 0);
  EXPECT_EQ(schema.out, "1 file: 1 valid, 0 invalid\n");
  Write(t / "dup.yaml", std::string(kValidSpec) + "status: review\n");
  Output yaml = Specd(t.path(), {"validate", "--syntax-only", "dup.yaml"});
  EXPECT_EQ(yaml.exit_code, 1);
  EXPECT_EQ(yaml.out,
            "dup.yaml:14:1: error: /status: duplicate key 'status' (first defined at line 3, column 1)\n"
            "1 file: 0 valid, 1 invalid\n");
  Write(t / "two.yaml", std::string(kValidSpec) + "---\n" + kValidSpec);
  Output docs = Specd(t.path(), {"validate", "--syntax-only", "two.yaml"});
  EXPECT_EQ(docs.exit_code, 1);
  EXPECT_EQ(docs.out,
            "two.yaml:14:1: error: a second YAML document starts here; a spec file holds exactly one\n"
            "1 file: 0 valid, 1 invalid\n");
}

TEST(Cli, MaxBytesLimitsTheFileSize) {
  TempDir t;
  Write(t / "spec-2026-01-01-001.yaml", kValidSpec);
  Output o = Specd(t.path(), {"validate", "--max-bytes", "100", "spec-2026-01-01-001.yaml"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "spec-2026-01-01-001.yaml:1:1: error: the file is " +
                       std::to_string(std::string(kValidSpec).size()) +
                       " bytes; the limit is 100 (--max-bytes)\n1 file: 0 valid, 1 invalid\n");
}

// ------------------------------------------------------------- schema

TEST(Cli, SchemaPrintsTheBuiltInJsonSchema) {
  TempDir t;
  Output o = Specd(t.path(), {"schema"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.err, "");
  Json printed = Json::parse(o.out);
  Json source = Json::parse(ReadAll(std::string(SPECD_SOURCE_DIR) + "/schema/spec.schema.json"));
  EXPECT_EQ(printed, source);
  EXPECT_EQ(printed["$schema"], "http://json-schema.org/draft-07/schema#");
}

// ------------------------------------------------- read-only by design

struct Snapshot {
  std::string bytes;
  timespec mtime;
  mode_t mode;
};

std::map<std::string, Snapshot> TakeSnapshot(const std::string& root) {
  std::map<std::string, Snapshot> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st;
    EXPECT_EQ(::lstat(it->path().c_str(), &st), 0);
    Snapshot s{"", st.st_mtim, st.st_mode};
    if (S_ISREG(st.st_mode)) s.bytes = ReadAll(it->path());
    out[it->path().string()] = s;
  }
  return out;
}

TEST(Cli, ValidationNeverModifiesAFile) {
  TempDir t;
  MakeRepo(t.path());
  const std::string active = t / ".agents/specs/active/";
  Write(active + "spec-2026-01-01-003.yaml", "\xEF\xBB\xBF" + WithId(kValidSpec, "spec-2026-01-01-003"));
  std::string crlf;
  for (char c : WithId(kValidSpec, "spec-2026-01-01-004"))
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Write(active + "spec-2026-01-01-004.yaml", crlf);
  Write(active + "spec-2026-01-01-005.yaml", std::string("id: x\n\x00\x01", 8));
  Write(active + "spec-2026-01-01-006.yaml", "a: &a [x, *a]\n");
  Write(active + "spec-2026-01-01-007.yaml", "");
  // Old timestamps, so that any rewrite, even within the same second, shows.
  for (const auto& e : fs::recursive_directory_iterator(t.path())) {
    timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }
  const auto before = TakeSnapshot(t.path());
  Output text = Specd(t / "src", {"validate"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_THAT(text.out, ::testing::EndsWith("8 files: 4 valid, 4 invalid\n"));
  Output json = Specd(t.path(), {"validate", "--format", "json", "--syntax-only", ".agents"});
  EXPECT_EQ(json.exit_code, 1);
  const auto after = TakeSnapshot(t.path());
  ASSERT_EQ(before.size(), after.size()) << "specd created or removed a file";
  for (const auto& [path, b] : before) {
    SCOPED_TRACE(path);
    auto it = after.find(path);
    ASSERT_NE(it, after.end());
    EXPECT_EQ(it->second.bytes, b.bytes);
    EXPECT_EQ(it->second.mtime.tv_sec, b.mtime.tv_sec);
    EXPECT_EQ(it->second.mtime.tv_nsec, b.mtime.tv_nsec);
    EXPECT_EQ(it->second.mode, b.mode);
  }
}

}  // namespace
}  // namespace specd
