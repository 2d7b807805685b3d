// Issue 10 through the CLI, as a hostile user or an unlucky newcomer meets
// it: the real specd binary in a real git repository, with symlinks out of
// it, devices and FIFOs named like specs, unreadable folders, a journal
// specd may not write, control characters in specs and names, and bad
// option values. Each test asserts exit codes, exact messages and bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kId[] = "spec-2026-01-01-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";

std::string SpecWithId(const std::string& id) {
  return Replace(kValidSpec, kId, id);
}

class SafetyTest : public ::testing::Test {
 protected:
  SafetyTest() {
    EXPECT_EQ(RunProcess(repo_.path(), "git", {"init", "-q", repo_.path()})->exit_code, 0);
    Write(repo_ / kRel, kValidSpec);
  }

  Output Specd(const std::vector<std::string>& args, const std::string& cwd = "", bool as_nobody = false) {
    RunOptions options;
    options.env.emplace_back("SPECD_ACTOR", "ada");
    options.as_nobody = as_nobody;
    std::optional<Output> o = RunProcess(cwd.empty() ? repo_.path() : cwd, SPECD_BINARY, args, options);
    EXPECT_TRUE(o.has_value()) << "could not drop to nobody";
    return o.value_or(Output{});
  }
  std::string Journal() const { return repo_ / ".git/specd/journal.db"; }
  // Everything the journal holds on disk, WAL included.
  std::string JournalBytes() const { return ReadAll(Journal()) + ReadAll(Journal() + "-wal"); }

  TempDir repo_;
  TempDir outside_{"specd-outside"};
};

// ---------------------------------------------------------------- item 2

// What `validate` never reads, the engine never reads either: a symlink to
// a file outside (a secret), one to /dev/zero, a FIFO. Each is the spec's
// error, journaled and shown by status; the secret's bytes appear nowhere.
TEST_F(SafetyTest, EngineNeverReadsASymlinkOutADeviceOrAFifo) {
  const std::string secret = outside_ / "secret.yaml";
  Write(secret, "aws_secret: hunter2-do-not-leak\n");
  const std::string out_rel = ".agents/specs/active/spec-2026-01-01-002.yaml";
  const std::string zero_rel = ".agents/specs/active/spec-2026-01-01-003.yaml";
  const std::string fifo_rel = ".agents/specs/active/spec-2026-01-01-004.yaml";
  ASSERT_EQ(::symlink(secret.c_str(), (repo_ / out_rel).c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", (repo_ / zero_rel).c_str()), 0);
  ASSERT_EQ(::mkfifo((repo_ / fifo_rel).c_str(), 0644), 0);
  const std::string why_out = "symlink points outside the repository (to " + secret + "); not followed";
  const std::string why_zero = "symlink points outside the repository (to /dev/zero); not followed";
  const std::string why_fifo = "a FIFO, not a file; skipped";

  Output r = Specd({"reconcile"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string invalid = ": invalid, left as it is: ";
  EXPECT_EQ(r.out,
            "spec-2026-01-01-001: registered at draft\n"
            "spec-2026-01-01-002" +
                invalid + out_rel + ":1:1: error: " + why_out + "\n" + "spec-2026-01-01-003" + invalid +
                zero_rel + ":1:1: error: " + why_zero + "\n" + "spec-2026-01-01-004" + invalid + fifo_rel +
                ":1:1: error: " + why_fifo + "\n" + "4 specs: 0 unchanged, 4 events\n");

  Output s = Specd({"status"});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "repository: " + repo_.path() + "\njournal: " + Journal() +
                       "\n\ndraft (1)\n  spec-2026-01-01-001  " + kRel + "\n\ninvalid (3)\n" +
                       "  spec-2026-01-01-002  " + out_rel + "\n    " + out_rel + ":1:1: error: " + why_out +
                       "\n  spec-2026-01-01-003  " + zero_rel + "\n    " + zero_rel +
                       ":1:1: error: " + why_zero + "\n  spec-2026-01-01-004  " + fifo_rel + "\n    " +
                       fifo_rel + ":1:1: error: " + why_fifo + "\n");
  Output show = Specd({"show", "spec-2026-01-01-002"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  for (const Output& o : {r, s, show}) EXPECT_THAT(o.out + o.err, Not(HasSubstr("hunter2")));
  EXPECT_THAT(JournalBytes(), Not(HasSubstr("hunter2")));
  // A second pass reads nothing new and says nothing.
  Output again = Specd({"reconcile"});
  EXPECT_EQ(again.out, "4 specs: 4 unchanged, 0 events\n");
}

// ---------------------------------------------------------------- item 3

// active/ leading outside the repository: every command refuses, exit 2,
// and nothing there is read or written; no journal is made.
TEST_F(SafetyTest, ASpecFolderLeadingOutsideIsRefusedByEveryCommand) {
  fs::remove_all(repo_ / ".agents/specs/active");
  Write(outside_ / "elsewhere/spec-2026-01-01-001.yaml", kValidSpec);
  ASSERT_EQ(::symlink((outside_ / "elsewhere").c_str(), (repo_ / ".agents/specs/active").c_str()), 0);
  const std::string refused = "specd: " + repo_ / ".agents/specs/active" +
                              " leads outside the repository (to " + outside_ / "elsewhere" +
                              "); specd reads and writes specs only inside " + repo_.path() + "\n";
  const std::vector<std::vector<std::string>> commands = {
      {"validate"},
      {"reconcile"},
      {"status"},
      {"show", kId},
      {"log", kId},
      {"new", "--title", "A spec that must not be written"},
      {"request-review", kId},
      {"cancel", kId, "--reason", "not wanted"},
      {"watch"},
  };
  for (const std::vector<std::string>& args : commands) {
    Output o = Specd(args);
    EXPECT_EQ(o.exit_code, 2) << args[0];
    EXPECT_EQ(o.out, "") << args[0];
    EXPECT_EQ(o.err, refused) << args[0];
  }
  Output hook = Specd({"hook", "post-checkout", "a", "b", "1"});
  EXPECT_EQ(hook.exit_code, 0);  // never fails git, but says so
  EXPECT_EQ(hook.err, refused + "specd hook post-checkout: the journal was not updated\n");
  EXPECT_EQ(ReadAll(outside_ / "elsewhere/spec-2026-01-01-001.yaml"), kValidSpec);
  EXPECT_EQ(std::distance(fs::directory_iterator(outside_ / "elsewhere"), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(Journal()));
}

// ---------------------------------------------------------------- item 8

// --repo inside a repository finds its root, as git does; `/` or a folder
// in no repository is an error, and no journal is made there.
TEST_F(SafetyTest, RepoOptionFindsTheRootOrRefuses) {
  Output s = Specd({"status", "--repo", repo_ / ".agents/specs/active"}, outside_.path());
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_THAT(s.out, ::testing::StartsWith("repository: " + repo_.path() + "\njournal: " + Journal() + "\n"));
  EXPECT_FALSE(fs::exists(repo_ / ".agents/specs/active/.agents"));

  for (const std::string& dir : {std::string("/"), outside_.path()}) {
    Output o = Specd({"status", "--repo", dir}, outside_.path());
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err,
              "specd: --repo " + dir + ": not in a repository (no .agents/specs/ or .git there or above)\n");
  }
  EXPECT_FALSE(fs::exists(outside_ / ".agents"));
  EXPECT_FALSE(fs::exists("/.agents/.specd"));
}

// ---------------------------------------------------------------- item 7

TEST_F(SafetyTest, OptionValuesOutOfRangeAreUsageErrors) {
  for (const std::string v : {"-1", "0", "18446744073709551616", "9223372036854775807"}) {
    Output o = Specd({"validate", "--max-bytes", v});
    EXPECT_EQ(o.exit_code, 2) << v;
    EXPECT_EQ(o.out, "") << v;
    EXPECT_THAT(o.err, HasSubstr("--max-bytes: '" + v +
                                 "' is out of range: must be a whole number from 1 to "
                                 "1073741824"));
  }
  Output small = Specd({"validate", "--max-bytes", "100"});
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_THAT(small.out, HasSubstr("the limit is 100 (--max-bytes)"));

  Output blank = Specd({"cancel", kId, "--reason", " \t  "});
  EXPECT_EQ(blank.exit_code, 1);
  EXPECT_EQ(blank.err, "specd cancel: refused: cancelling needs a reason (--reason)\n");
  EXPECT_EQ(ReadAll(repo_ / kRel), kValidSpec);

  Output x = Specd({"approve", "-x"});
  EXPECT_EQ(x.exit_code, 2);
  EXPECT_THAT(x.err, HasSubstr("-x"));
  EXPECT_THAT(x.err, Not(HasSubstr("id is required")));
  Output no_id = Specd({"approve"});
  EXPECT_EQ(no_id.exit_code, 2);
  EXPECT_EQ(no_id.err, "specd approve: a spec id is required (spec-YYYY-MM-DD-NNN)\n");
}

// Past `ulimit -f`, a verb reports the error and exits 2; it is not killed
// by SIGXFSZ, and the spec keeps its bytes.
TEST_F(SafetyTest, FileSizeLimitIsAnErrorNotASignal) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Output o = *RunProcess(repo_.path(), "sh",
                         {"-c", std::string("ulimit -f 1; exec ") + SPECD_BINARY + " request-review " + kId});
  EXPECT_EQ(o.exit_code, 2) << o.err;  // -1 would be a death by signal
  EXPECT_THAT(o.err, ::testing::StartsWith("specd: journal " + Journal() + ": "));
  EXPECT_EQ(ReadAll(repo_ / kRel), kValidSpec);
}

// A spec folder specd may not read is an error naming it, not "no specs"
// (nor every spec journaled as removed); --repo on an unreadable folder says
// permission denied; with a journal it may not write, status still shows it.
TEST_F(SafetyTest, UnreadableFoldersAndReadOnlyJournalsSayTheRealCause) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  for (const std::string& dir : {repo_.path(), repo_ / ".git", repo_ / ".git/specd"})
    ::chmod(dir.c_str(), 0755);
  ::chmod(Journal().c_str(), 0644);
  ::chmod((repo_ / ".agents/specs/active").c_str(), 0700);
  Output denied = Specd({"status"}, "", true);
  EXPECT_EQ(denied.exit_code, 2);
  EXPECT_EQ(denied.out, "");
  EXPECT_EQ(denied.err, "specd: cannot read " + repo_ / ".agents/specs/active" + ": Permission denied\n");

  Output repo_denied = Specd({"status", "--repo", outside_.path()}, "/", true);
  EXPECT_EQ(repo_denied.exit_code, 2);
  EXPECT_EQ(repo_denied.err, "specd: --repo " + outside_.path() + ": permission denied\n");

  // The journal is nobody's to write too, but a subfolder cannot be listed:
  // the pass fails (nothing journaled as removed) and status still shows
  // what the journal holds, as for a full disk.
  ::chmod((repo_ / ".agents/specs/active").c_str(), 0755);
  for (const std::string& p : {repo_ / ".git/specd", Journal()}) ::chmod(p.c_str(), 0777);
  Write(repo_ / ".agents/specs/active/team/spec-2026-01-01-002.yaml", SpecWithId("spec-2026-01-01-002"));
  ::chmod((repo_ / ".agents/specs/active/team").c_str(), 0700);
  Output s = Specd({"status"}, "", true);
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "repository: " + repo_.path() + "\njournal: " + Journal() + "\n\ndraft (1)\n  " + kId +
                       "  " + kRel + "\n");
  EXPECT_EQ(s.err, "specd status: cannot list " + repo_ / ".agents/specs/active/team" +
                       ": Permission denied\nspecd status: showing the journal as it was before this pass\n");
}

// ---------------------------------------------------------------- item 10

// Control characters from a spec, a file name or --actor are printed
// escaped by every text printer; JSON escapes them as JSON does.
TEST_F(SafetyTest, ControlCharactersAreEscapedInTextAndJson) {
  const std::string title = "Pwned\\e]0;owned\\a by \\e[2J\\u009b31m colours";  // YAML escapes
  Write(repo_ / kRel, Replace(kValidSpec, "status: draft", "status: \"draft\\e]0;owned\\a\""));
  const std::string odd = ".agents/specs/active/spec-2026-01-01-002\x1b[1m.yaml";
  Write(repo_ / odd, Replace(SpecWithId("spec-2026-01-01-002"), "  title: A valid spec for the tests",
                             "  title: \"" + title + "\""));
  std::vector<Output> outs;
  outs.push_back(Specd({"validate"}));
  outs.push_back(Specd({"reconcile"}));
  outs.push_back(Specd({"status"}));
  outs.push_back(Specd({"show", kId}));
  for (const Output& o : outs) {
    EXPECT_EQ((o.out + o.err).find_first_of("\x1b\x07"), std::string::npos) << o.out << o.err;
    EXPECT_THAT(o.out + o.err, Not(HasSubstr("\xc2\x9b")));
  }
  EXPECT_THAT(outs[0].out, HasSubstr("spec-2026-01-01-002\\x1b[1m.yaml"));
  EXPECT_THAT(outs[2].out, HasSubstr("draft\\x1b]0;owned\\x07"));
  Output json = Specd({"status", "--json"});
  EXPECT_THAT(json.out, HasSubstr("\\u001b]0;owned\\u0007"));

  Write(repo_ / kRel, kValidSpec);
  ASSERT_EQ(Specd({"request-review", kId, "--actor", "eve\x1b]0;hi\x07\xc2\x9b"}).exit_code, 0);
  Output log = Specd({"log", kId});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, HasSubstr("by eve\\x1b]0;hi\\x07\\u009b"));
  EXPECT_EQ(log.out.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace specd
