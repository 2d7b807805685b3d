// Issue 10 item 7's rest, through the real binary: the commands that only
// look (status, show, log, events, failures) with a journal they cannot
// write, a journal older than this specd opened read-only, `ulimit -f`
// named as the cause, and a repository without .agents/specs/ where looking
// creates nothing. Permissions apply to the child: it runs as nobody.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/journal_test_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::RawDb;
using ::specd::testing::ReadAll;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr char kId[] = "spec-2026-01-01-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";

class ReadOnlyJournalTest : public ::testing::Test {
 protected:
  ReadOnlyJournalTest() {
    EXPECT_EQ(RunProcess(repo_.path(), "git", {"init", "-q", repo_.path()})->exit_code, 0);
    for (const std::string& dir : {repo_.path(), repo_ / ".git"}) ::chmod(dir.c_str(), 0755);
  }
  ~ReadOnlyJournalTest() override {
    ::chmod(SpecdDir().c_str(), 0755);  // so that the temporary directory can be removed
  }

  Output Specd(const std::vector<std::string>& args, bool as_nobody = false) {
    RunOptions options;
    options.env.emplace_back("SPECD_ACTOR", "ada");
    options.as_nobody = as_nobody;
    std::optional<Output> o = RunProcess(repo_.path(), SPECD_BINARY, args, options);
    EXPECT_TRUE(o.has_value()) << "could not drop to nobody";
    return o.value_or(Output{});
  }
  std::string SpecdDir() const { return repo_ / ".git/specd"; }
  std::string Journal() const { return repo_ / ".git/specd/journal.db"; }
  std::vector<std::string> SpecdFiles() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(SpecdDir(), ec))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  // A spec, journaled by one writable run, and a failure to search for.
  void Journaled() {
    Write(repo_ / kRel, kValidSpec);
    ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
    RawDb(Journal()).Exec(
        "INSERT INTO failures (spec_id, task_id, summary, details, resolution, at_ms) "
        "VALUES ('spec-2026-01-01-001', 'TASK-001', 'linker error in bench', '', 'add -lm', 0)");
  }

  TempDir repo_;
};

// A read-only .git/specd/ (and journal): every looking command shows the
// journal as last written, says so once, exits 0 and creates nothing.
TEST_F(ReadOnlyJournalTest, ReadCommandsShowAJournalInAReadOnlyFolder) {
  Journaled();
  ASSERT_EQ(::chmod(Journal().c_str(), 0444), 0);
  ASSERT_EQ(::chmod(SpecdDir().c_str(), 0555), 0);
  const std::vector<std::string> before = SpecdFiles();
  const std::string bytes = ReadAll(Journal());

  Output status = Specd({"status"}, true);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "repository: " + repo_.path() + "\njournal: " + Journal() + "\n\ndraft (1)\n  " +
                            kId + "  " + kRel + "\n");
  EXPECT_EQ(status.err, "specd status: note: journal is read-only here; showing it as last written\n");

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"show", kId}, {"log", kId}, {"events"}, {"failures", "--like", "linker"}}) {
    Output o = Specd(args, true);
    EXPECT_EQ(o.exit_code, 0) << args[0] << ": " << o.err;
    EXPECT_EQ(o.err, "specd " + args[0] + ": note: journal is read-only here; showing it as last written\n");
    EXPECT_NE(o.out, "") << args[0];
  }
  EXPECT_THAT(Specd({"failures", "--like", "linker"}, true).out, ::testing::HasSubstr("resolved: add -lm"));
  EXPECT_THAT(Specd({"log", kId}, true).out, ::testing::HasSubstr("registered at draft"));
  EXPECT_EQ(SpecdFiles(), before);
  EXPECT_EQ(ReadAll(Journal()), bytes);
}

// Only the file write-protected (its folder writable): SQLite opens it for
// reading; the pass is skipped, not failed.
TEST_F(ReadOnlyJournalTest, AWriteProtectedJournalInAWritableFolder) {
  Journaled();
  ASSERT_EQ(::chmod(SpecdDir().c_str(), 0777), 0);
  ASSERT_EQ(::chmod(Journal().c_str(), 0444), 0);
  const std::string bytes = ReadAll(Journal());
  Output o = Specd({"status"}, true);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "specd status: note: journal is read-only here; showing it as last written\n");
  EXPECT_THAT(o.out, ::testing::HasSubstr("draft (1)"));
  EXPECT_EQ(ReadAll(Journal()), bytes);
}

// A journal from an older specd cannot be migrated where it cannot be
// written: say it needs one writable run, exit 2.
TEST_F(ReadOnlyJournalTest, AnOlderJournalOpenedReadOnlyNeedsOneWritableRun) {
  Journaled();
  const int older = Journal::SchemaVersion() - 1;
  RawDb(Journal()).Exec("PRAGMA user_version = " + std::to_string(older));
  ASSERT_EQ(::chmod(Journal().c_str(), 0444), 0);
  ASSERT_EQ(::chmod(SpecdDir().c_str(), 0555), 0);
  Output o = Specd({"status"}, true);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "specd: journal " + Journal() + " has schema version " + std::to_string(older) +
                ", older than this specd's (" + std::to_string(Journal::SchemaVersion()) +
                ") and it cannot be written here: run specd reconcile once where it can (that upgrades "
                "it)\n");
}

// Past `ulimit -f` the journal's write fails with EFBIG: the message names
// that, not SQLite's bare "disk I/O error".
TEST_F(ReadOnlyJournalTest, AFileSizeLimitIsNamedAsTheCause) {
  Journaled();
  Output o = *RunProcess(repo_.path(), "sh",
                         {"-c", std::string("ulimit -f 1; exec ") + SPECD_BINARY + " request-review " + kId});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(o.err, "specd: journal " + Journal() + ": cannot read the schema version: cannot write " +
                       Journal() + "-shm: file too large (ulimit -f?)\n");
  EXPECT_EQ(ReadAll(repo_ / kRel), kValidSpec);
}

// A git repository without .agents/specs/: looking says so and creates
// nothing (no .git/specd/, no .agents/).
TEST_F(ReadOnlyJournalTest, LookingWithoutASpecsFolderCreatesNothing) {
  Output status = Specd({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "repository: " + repo_.path() + "\nno specs here (.agents/specs/ does not exist)\n");
  EXPECT_EQ(status.err, "");

  Output show = Specd({"show", kId});
  EXPECT_EQ(show.exit_code, 2);
  EXPECT_EQ(show.err, std::string("specd show: no spec ") + kId + "\n");
  Output log = Specd({"log", kId});
  EXPECT_EQ(log.exit_code, 2);
  EXPECT_EQ(log.err, std::string("specd log: no spec ") + kId + " in the journal\n");
  Output events = Specd({"events"});
  EXPECT_EQ(events.exit_code, 0);
  EXPECT_EQ(events.out + events.err, "");
  Output failures = Specd({"failures", "--like", "x"});
  EXPECT_EQ(failures.exit_code, 0);
  EXPECT_EQ(failures.out, "no recorded failure like 'x'\n");
  Output json = Specd({"status", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out), nlohmann::json::parse("{\"repository\": \"" + repo_.path() +
                                                                   "\", \"journal\": null, \"specs\": []}"));

  EXPECT_FALSE(fs::exists(SpecdDir()));
  EXPECT_FALSE(fs::exists(repo_ / ".agents"));
}

}  // namespace
}  // namespace specd
