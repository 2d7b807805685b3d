// The engine verbs as a newcomer uses them: the real specd binary
// (SPECD_BINARY) in a real temporary git repository (git init), its exact
// stdout, stderr and exit status, with SPECD_ACTOR saying who acts. Hand
// edits between the steps are made the way an editor makes them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/env.h"
#include "engine/journal.h"
#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

using ::specd::testing::Replace;

// Runs `program` with `args` in `cwd`, with SPECD_ACTOR=actor (unset when "").
Output RunProgram(const std::string& cwd, const std::string& program, const std::vector<std::string>& args,
                  const std::string& actor) {
  RunOptions options;
  options.env.emplace_back("SPECD_ACTOR", actor.empty() ? std::nullopt : std::optional<std::string>(actor));
  return *RunProcess(cwd, program, args, options);
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// How the write-back renders a trace id: plain, unless it would read as a
// number under YAML 1.2's core schema (all digits, or digits e digits).
std::string TraceText(const std::string& trace) {
  static const std::regex kNumber("[0-9]+([eE][0-9]+)?");
  return std::regex_match(trace, kNumber) ? "\"" + trace + "\"" : trace;
}

// Timestamps are the real clock's: shown as <at>.
std::string MaskTimes(const std::string& text) {
  static const std::regex kTime("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");
  return std::regex_replace(text, kTime, "<at>");
}

class CliEngineTest : public ::testing::Test {
 protected:
  CliEngineTest() {
    Output git = RunProgram(repo_.path(), "git", {"init", "-q", repo_.path()}, "");
    EXPECT_EQ(git.exit_code, 0) << git.err;
  }

  Output Specd(const std::vector<std::string>& args, const std::string& actor = "ada") {
    return RunProgram(repo_.path(), SPECD_BINARY, args, actor);
  }

  // `specd new` as ada; returns the id (spec-<today>-NNN).
  std::string New(const std::string& title = "Export reports as CSV files") {
    const std::string today = FormatTimestamp(Env::Default()->NowMillis()).substr(0, 10);
    Output o = Specd({"new", "--template", "feature", "--title", title, "--author", "ada"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_EQ(o.err, "");
    std::string id = fs::path(o.out.substr(0, o.out.size() - 1)).stem().string();
    EXPECT_EQ(id.rfind("spec-" + today + "-", 0), 0u) << o.out;
    EXPECT_EQ(o.out, repo_ / Rel(id) + "\n");
    return id;
  }

  static std::string Rel(const std::string& id) { return ".agents/specs/active/" + id + ".yaml"; }
  std::string File(const std::string& id) { return ReadAll(repo_ / Rel(id)); }
  // A save from an editor that writes the file in place.
  void Save(const std::string& id, const std::string& bytes) { Write(repo_ / Rel(id), bytes); }

  std::string Trace(const std::string& id) {
    Output o = Specd({"show", id, "--json"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    Json j = Json::parse(o.out, nullptr, false);
    return j.is_object() ? j.value("trace", "") : "";
  }

  TempDir repo_;
};

// ---------------------------------------------------------------------------
// The newcomer's path: new -> request-review -> approve -> planning.

TEST_F(CliEngineTest, NewcomerTakesASpecFromNewToPlanning) {
  const std::string id = New();
  const std::string rel = Rel(id);
  std::string text = File(id);
  EXPECT_NE(text.find("id: \"" + id + "\"\n"), std::string::npos);
  EXPECT_NE(text.find("  title: \"Export reports as CSV files\"\n"), std::string::npos);
  EXPECT_NE(text.find("  author: \"ada\"\n"), std::string::npos);
  EXPECT_NE(text.find("\nstatus: draft\n"), std::string::npos);

  Output status = Specd({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "repository: " + repo_.path() + "\njournal: " + repo_.path() +
                            "/.git/specd/journal.db\n\ndraft (1)\n  " + id + "  " + rel + "\n");

  // The author edits by hand: a comment and a requirement, in place.
  text = Replace(text, "requirements:\n", "# ada: the finance team asked for this.\nrequirements:\n");
  text = Replace(text, "Replace this with one observable behaviour the feature adds.",
                 "A report can be downloaded as a CSV file.");
  Save(id, text);

  Output review = Specd({"request-review", id});
  EXPECT_EQ(review.exit_code, 0) << review.err;
  EXPECT_EQ(review.out, id + ": draft -> review (ada)\n");
  EXPECT_EQ(review.err, "");
  std::string after_review = File(id);
  EXPECT_NE(after_review.find("# ada: the finance team asked for this.\nrequirements:\n"), std::string::npos);
  EXPECT_NE(after_review.find("A report can be downloaded as a CSV file."), std::string::npos);
  EXPECT_NE(after_review.find("\nstatus: review\n"), std::string::npos);
  // Every comment of the template and of the author is still there.
  for (const std::string& line : SplitLines(text)) {
    if (line.find('#') == std::string::npos) continue;
    EXPECT_NE(after_review.find(line + "\n"), std::string::npos) << "lost: " << line;
  }

  // A second hand edit between the steps.
  after_review = Replace(after_review, "  priority: medium\n", "  priority: high # raised by ada\n");
  Save(id, after_review);

  Output approve = Specd({"approve", id}, "rex");
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(approve.out, id + ": review -> approved (rex)\n" + id +
                             ": approved -> planning (specd: approved: planning starts)\n" + id +
                             ": planning, waiting: the plan has no tasks yet\n");
  EXPECT_EQ(approve.err, "");
  const std::string planning = File(id);
  EXPECT_NE(planning.find("\nstatus: planning\n"), std::string::npos);
  EXPECT_NE(planning.find("  priority: high # raised by ada\n"), std::string::npos);
  EXPECT_NE(planning.find("# ada: the finance team asked for this.\n"), std::string::npos);

  const std::string trace = Trace(id);
  ASSERT_EQ(trace.size(), 16u);
  Output log = Specd({"log", id});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(MaskTimes(log.out),
            "#1  <at>  registered at draft  by specd: registered  [trace " + trace + "]\n" +
                "#2  <at>  draft -> review  by ada  [trace " + trace + "]\n" +
                "#3  <at>  review -> approved  by rex  [trace " + trace + "]\n" +
                "#4  <at>  approved -> planning  by specd: approved: planning starts  [trace " + trace +
                "]\n");

  Output show = Specd({"show", id});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out, id + "  planning\n  path: " + rel + "\n  author edits: 2   trace: " + trace + "\n");

  // The file's changeLog says the same as the log.
  // (after the requirements, before the template's closing comment block)
  const size_t from = planning.find("changeLog:\n");
  const size_t to = planning.find("\n# Tasks are optional while the spec is a draft");
  ASSERT_TRUE(from != std::string::npos && to != std::string::npos && from < to) << planning;
  const std::string t = TraceText(trace);
  EXPECT_EQ(MaskTimes(planning.substr(from, to - from)),
            "changeLog:\n"
            "  - at: \"<at>\"\n    actor: ada\n    from: draft\n    to: review\n    trace: " +
                t +
                "\n"
                "  - at: \"<at>\"\n    actor: rex\n    from: review\n    to: approved\n    trace: " +
                t +
                "\n"
                "  - at: \"<at>\"\n    actor: specd\n    from: approved\n    to: planning\n"
                "    reason: \"approved: planning starts\"\n    trace: " +
                t + "\n");
  EXPECT_EQ(planning.substr(to), text.substr(text.find("\n# Tasks are optional while the spec is a draft")));
}

TEST_F(CliEngineTest, JsonOutputsParse) {
  const std::string id = New();
  ASSERT_EQ(Specd({"request-review", id}).exit_code, 0);
  ASSERT_EQ(Specd({"approve", id}, "rex").exit_code, 0);

  Output status = Specd({"status", "--json"});
  EXPECT_EQ(status.exit_code, 0);
  Json s = Json::parse(status.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << status.out;
  EXPECT_EQ(s["repository"], repo_.path());
  EXPECT_EQ(s["journal"], repo_.path() + "/.git/specd/journal.db");
  ASSERT_EQ(s["specs"].size(), 1u);
  EXPECT_EQ(s["specs"][0]["id"], id);
  EXPECT_EQ(s["specs"][0]["status"], "planning");
  EXPECT_EQ(s["specs"][0]["path"], Rel(id));
  EXPECT_EQ(s["specs"][0]["valid"], true);
  EXPECT_EQ(s["specs"][0]["errors"], "");

  Output show = Specd({"show", id, "--json"});
  EXPECT_EQ(show.exit_code, 0);
  Json sh = Json::parse(show.out, nullptr, false);
  ASSERT_TRUE(sh.is_object()) << show.out;
  EXPECT_EQ(sh["id"], id);
  EXPECT_EQ(sh["status"], "planning");
  EXPECT_EQ(sh["removed"], false);
  EXPECT_EQ(sh["generation"], 0);
  EXPECT_EQ(sh["valid"], true);
  EXPECT_EQ(sh["tasks"], Json::array());

  Output log = Specd({"log", id, "--json"});
  EXPECT_EQ(log.exit_code, 0);
  Json l = Json::parse(log.out, nullptr, false);
  ASSERT_TRUE(l.is_array()) << log.out;
  ASSERT_EQ(l.size(), 4u);
  std::vector<std::string> rows;
  for (const Json& r : l) {
    rows.push_back(r["kind"].get<std::string>() + " " + r["from"].get<std::string>() + "->" +
                   r["to"].get<std::string>() + " " + r["actor"].get<std::string>() + " '" +
                   r["reason"].get<std::string>() + "' " + std::to_string(r["seq"].get<int>()));
    EXPECT_EQ(r["trace"], sh["trace"]);
    EXPECT_EQ(r["contentHash"].get<std::string>().size(), 32u);
  }
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "transition ->draft specd 'registered' 1", "transition draft->review ada '' 2",
                      "transition review->approved rex '' 3",
                      "transition approved->planning specd 'approved: planning starts' 4"}));
  // The last transition's hash is the file's.
  EXPECT_EQ(l[3]["contentHash"], ContentHash(File(id)));
}

// ---------------------------------------------------------------------------
// Refusals a newcomer can read.

TEST_F(CliEngineTest, IllegalHandEditIsRefusedWithAReasonAndShownInTheLog) {
  const std::string id = New();
  ASSERT_EQ(Specd({"request-review", id}).exit_code, 0);
  // The author approves their own spec by editing the file, and adds a note.
  std::string text = File(id);
  std::string edited = Replace(text, "\nstatus: review\n", "\nstatus: approved\n");
  edited = Replace(edited, "metadata:\n", "metadata:\n  # ada: approving this myself\n");
  Save(id, edited);

  const std::string reason =
      "review -> approved cannot be made by editing the file: a reviewer runs `specd approve ID`";
  Output o = Specd({"reconcile"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, id + ": refused review -> approved, status put back to review: " + reason + "\n" +
                       "1 specs: 0 unchanged, 1 events\n");
  EXPECT_EQ(o.err, "");
  const std::string put_back = File(id);
  EXPECT_NE(put_back.find("\nstatus: review\n"), std::string::npos);
  EXPECT_NE(put_back.find("metadata:\n  # ada: approving this myself\n"), std::string::npos);
  // Only status and updatedAt differ from what the author saved.
  std::string expected = Replace(edited, "\nstatus: approved\n", "\nstatus: review\n");
  std::string updated_line = put_back.substr(put_back.find("  updatedAt: "));
  updated_line = updated_line.substr(0, updated_line.find('\n') + 1);
  std::string old_line = expected.substr(expected.find("  updatedAt: "));
  old_line = old_line.substr(0, old_line.find('\n') + 1);
  EXPECT_EQ(put_back, Replace(expected, old_line, updated_line));

  Output log = Specd({"log", id});
  EXPECT_EQ(log.exit_code, 0);
  std::vector<std::string> lines = SplitLines(MaskTimes(log.out));
  ASSERT_EQ(lines.size(), 3u) << log.out;
  EXPECT_EQ(lines[2], "    <at>  refused review -> approved by ada: " + reason);

  Output json = Specd({"log", id, "--json"});
  Json l = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(l.is_array() && l.size() == 3u) << json.out;
  EXPECT_EQ(l[2]["kind"], "refused");
  EXPECT_EQ(l[2]["requested"], "approved");
  EXPECT_EQ(l[2]["reason"], reason);

  Output status = Specd({"status"});
  EXPECT_NE(status.out.find("\nreview (1)\n"), std::string::npos) << status.out;
}

TEST_F(CliEngineTest, ApproveOnADraftExitsOneWithTheReason) {
  const std::string id = New();
  const std::string before = File(id);
  Output o = Specd({"approve", id}, "rex");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "specd approve: " + id + " is draft; approve takes a spec in review or diff-submitted\n");
  EXPECT_EQ(File(id), before);
}

TEST_F(CliEngineTest, RejectWithoutReasonIsAUsageError) {
  const std::string id = New();
  ASSERT_EQ(Specd({"request-review", id}).exit_code, 0);
  const std::string before = File(id);
  Output o = Specd({"reject", id}, "rex");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "--reason is required\nRun with --help for more information.\n");
  EXPECT_EQ(File(id), before);
  // An empty reason is the engine's to refuse.
  o = Specd({"reject", id, "--reason", ""}, "rex");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, "specd reject: refused: review -> draft needs a reason (--reason)\n");
  EXPECT_EQ(File(id), before);
  // With a reason it goes back to draft.
  o = Specd({"reject", id, "--reason", "REQ-001 is not testable"}, "rex");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, id + ": review -> draft (rex: REQ-001 is not testable)\n");
}

TEST_F(CliEngineTest, AVerbOnAnUnknownSpecSaysSo) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Output o = Specd({"approve", "spec-2026-01-01-009"}, "rex");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "specd approve: no spec spec-2026-01-01-009 in " + repo_.path() + "/.agents/specs/\n");
  o = Specd({"log", "spec-2026-01-01-009"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "specd log: no spec spec-2026-01-01-009 in the journal\n");
}

TEST_F(CliEngineTest, CancelMovesTheSpecToTheArchive) {
  const std::string id = New();
  const std::string month = FormatTimestamp(Env::Default()->NowMillis()).substr(0, 7);
  const std::string archived = ".agents/specs/archive/" + month + "/" + id + ".yaml";
  Output o = Specd({"cancel", id, "--reason", "superseded by a wider spec"}, "pat");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, id + ": draft -> cancelled (pat: superseded by a wider spec)\n" + id + ": archived to " +
                       archived + "\n");
  EXPECT_FALSE(fs::exists(repo_ / Rel(id)));
  EXPECT_NE(ReadAll(repo_ / archived).find("\nstatus: cancelled\n"), std::string::npos);
  Output status = Specd({"status"});
  EXPECT_EQ(status.out, "repository: " + repo_.path() + "\njournal: " + repo_.path() +
                            "/.git/specd/journal.db\n\ncancelled (1)\n  " + id + "  " + archived + "\n");
  o = Specd({"cancel", id, "--reason", "again"}, "pat");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err, "specd cancel: " + id +
                       " is cancelled; cancel takes a spec that is not completed or cancelled\n");
}

// ---------------------------------------------------------------------------
// Invalid specs and recorded failures.

const char kInvalid[] =
    "id: spec-2026-01-01-002\n"
    "version: 1.0.0\n"
    "status: draft\n"
    "metadata:\n"
    "  title: A spec with a bad priority\n"
    "  author: ada\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: Something must hold\n"
    "    priority: urgent\n"
    "    acceptanceCriteria:\n"
    "      - it holds\n"
    "    status: pending\n";

TEST_F(CliEngineTest, StatusShowsTheJournalAndAnInvalidSpecsErrors) {
  const std::string rel = ".agents/specs/active/spec-2026-01-01-002.yaml";
  Write(repo_ / rel, kInvalid);
  const std::string error =
      rel +
      ":10:15: error: /requirements/0/priority: must be one of low, medium, high, critical (got 'urgent')";
  Output r = Specd({"reconcile"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "spec-2026-01-01-002: invalid, left as it is: " + error + "\n1 specs: 0 unchanged, 1 events\n");
  EXPECT_EQ(ReadAll(repo_ / rel), kInvalid);

  Output o = Specd({"status"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "repository: " + repo_.path() + "\njournal: " + repo_.path() +
                       "/.git/specd/journal.db\n\ninvalid (1)\n  spec-2026-01-01-002  " + rel + "\n    " +
                       error + "\n");
  Output json = Specd({"status", "--json"});
  Json s = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << json.out;
  ASSERT_EQ(s["specs"].size(), 1u);
  EXPECT_EQ(s["specs"][0]["valid"], false);
  EXPECT_EQ(s["specs"][0]["errors"], error + "\n");
  EXPECT_EQ(ReadAll(repo_ / rel), kInvalid);

  // A verb on it says why it cannot act.
  Output v = Specd({"request-review", "spec-2026-01-01-002"});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_EQ(v.err, "specd request-review: spec-2026-01-01-002 is invalid; request-review takes a draft\n" +
                       error + "\n");
}

// An invalid spec is recorded as a failure; its fix as the resolution.
TEST_F(CliEngineTest, FailuresLikeFindsAnInvalidSpecAndHowItWasFixed) {
  const std::string rel = ".agents/specs/active/spec-2026-01-01-002.yaml";
  Write(repo_ / rel, kInvalid);
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Output o = Specd({"failures", "--like", "priority urgent"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(MaskTimes(o.out),
            "<at>  spec-2026-01-01-002\n"
            "  /requirements/0/priority: must be one of low, medium, high, critical (got 'urgent')\n");

  Write(repo_ / rel, Replace(kInvalid, "priority: urgent", "priority: high"));
  Output r = Specd({"reconcile"});
  EXPECT_EQ(r.out, "spec-2026-01-01-002: registered at draft\n1 specs: 0 unchanged, 1 events\n");
  o = Specd({"failures", "--like", "priority urgent"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(MaskTimes(o.out),
            "<at>  spec-2026-01-01-002\n"
            "  /requirements/0/priority: must be one of low, medium, high, critical (got 'urgent')\n"
            "  resolved: fixed by an edit of the file at <at> (author edit #1)\n");
}

TEST_F(CliEngineTest, FailuresLikeFindsARecordedFailure) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);  // creates the journal
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(repo_ / ".git/specd/journal.db");
    ASSERT_TRUE(j.ok()) << j.error().message;
    JournalBatch batch;
    batch.failures.push_back(FailureRecord{0, "spec-2026-02-18-001", "TASK-001",
                                           "CSV export crashes on an empty report",
                                           "std::out_of_range in WriteHeader when there are no rows",
                                           "write the header before the first row", 1771408800000, 0});
    batch.failures.push_back(
        FailureRecord{0, "spec-2026-02-18-002", "", "login page times out", "", "", 1771408860000, 0});
    ASSERT_TRUE((*j)->Apply(batch).ok());
  }
  Output o = Specd({"failures", "--like", "export crash with no rows"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "2026-02-18T10:00:00Z  spec-2026-02-18-001 TASK-001\n"
            "  CSV export crashes on an empty report\n"
            "  resolved: write the header before the first row\n");
  o = Specd({"failures", "--like", "nothing similar"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "no recorded failure like 'nothing similar'\n");
}

}  // namespace
}  // namespace specd
