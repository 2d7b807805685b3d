// The pre-commit decision without git: staged bytes and HEAD's bytes in,
// the exact diagnostics out (pipeline/staged_check.h).
#include "pipeline/staged_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "tests/test_util.h"

namespace specd::pipeline {
namespace {

using ::specd::testing::kValidSpec;

constexpr char kPath[] = ".agents/specs/active/spec-2026-01-01-001.yaml";

using ::specd::testing::Replace;

const std::string kTasks =
    "tasks:\n"
    "  - id: TASK-001\n"
    "    title: Write the exporter\n"
    "    type: feature\n"
    "    status: pending\n"
    "    priority: high\n"
    "    assignedTo: null\n"
    "    estimatedTime: 2h\n"
    "    dependencies: []\n"
    "    files: [src/export.cc]\n"
    "    requirements: [REQ-001]\n";

std::string Entry(const std::string& at, const std::string& actor, const std::string& from,
                  const std::string& to, const std::string& trace = "abcdabcdabcdabcd") {
  return "  - at: \"" + at + "\"\n    actor: " + actor + "\n    from: " + from + "\n    to: " + to +
         "\n    trace: " + trace + "\n";
}

// kValidSpec at `status`, with `tasks` and these changeLog entries.
std::string Spec(const std::string& status, const std::string& log = "", const std::string& tasks = "") {
  std::string s = Replace(kValidSpec, "status: draft\n", "status: " + status + "\n");
  return s + tasks + (log.empty() ? "" : "changeLog:\n" + log);
}

SpecBlob Blob(const std::string& bytes, const std::string& path = kPath) {
  SpecBlob b;
  b.path = path;
  b.bytes = bytes;
  b.size = bytes.size();
  return b;
}

StagedSpec Change(const std::optional<std::string>& head, const std::optional<std::string>& staged) {
  StagedSpec s;
  if (head) s.head = Blob(*head);
  if (staged) s.staged = Blob(*staged);
  return s;
}

class FakeJournal : public JournalView {
 public:
  Result<std::optional<JournaledSpec>> Find(const std::string& id) override {
    ++lookups;
    if (broken) return *broken;
    auto it = specs.find(id);
    return it == specs.end() ? std::nullopt : std::optional<JournaledSpec>(it->second);
  }
  std::map<std::string, JournaledSpec> specs;
  std::optional<Error> broken;
  int lookups = 0;
};

// This clone's journal, having made these transitions of spec-2026-01-01-001
// under trace abcdabcdabcdabcd (Entry's default).
FakeJournal Made(std::set<std::tuple<std::string, std::string, std::string>> transitions) {
  FakeJournal j;
  j.specs["spec-2026-01-01-001"] = JournaledSpec{"abcdabcdabcdabcd", std::move(transitions)};
  return j;
}

// The report as text: one diagnostic a line, then "files/errors".
std::string Check(const std::vector<StagedSpec>& specs, JournalView* journal = nullptr) {
  StagedReport r = CheckStagedSpecs(specs, ValidateOptions{}, journal);
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += FormatText(d) + "\n";
  return out + std::to_string(r.files) + " checked, " + std::to_string(r.files_with_errors) + " with errors";
}

TEST(StagedCheckTest, UnchangedStatusAndValidPasses) {
  EXPECT_EQ(Check({Change(kValidSpec, Replace(kValidSpec, "Something must hold", "Something else holds"))}),
            "1 checked, 0 with errors");
}

TEST(StagedCheckTest, InvalidStagedSpecSaysWhatSpecdValidateSays) {
  const std::string bad = Replace(kValidSpec, "    priority: high\n", "    priority: urgent\n");
  std::string expected;
  for (const Diagnostic& d : ValidateSpecText(bad, kPath, ValidateOptions{}))
    expected += FormatText(d) + "\n";
  ASSERT_NE(expected, "");
  EXPECT_EQ(Check({Change(kValidSpec, bad)}), expected + "1 checked, 1 with errors");
}

TEST(StagedCheckTest, HandEditFromDraftToReviewPasses) {
  EXPECT_EQ(Check({Change(kValidSpec, Spec("review"))}), "1 checked, 0 with errors");
}

TEST(StagedCheckTest, HandEditJumpingTheLifeCycleStopsTheCommitAtTheStatusField) {
  EXPECT_EQ(
      Check({Change(kValidSpec, Spec("approved"))}),
      std::string(kPath) +
          ":3:9: error: /status: draft -> approved is not a step of the spec life cycle (from draft it goes "
          "to review, or cancelled) (HEAD has draft)\n1 checked, 1 with errors");
}

TEST(StagedCheckTest, HandEditOfAReviewersStepNamesTheVerbWithTheSpecsId) {
  EXPECT_EQ(
      Check({Change(Spec("review"), Spec("approved"))}),
      std::string(kPath) +
          ":3:9: error: /status: review -> approved cannot be made by editing the file: a reviewer runs "
          "`specd approve spec-2026-01-01-001` (HEAD has review)\n1 checked, 1 with errors");
}

TEST(StagedCheckTest, ChangeLogChainFromHeadsStatusIsSpecdsOwnTransition) {
  const std::string log = Entry("2026-01-02T10:00:00Z", "ada", "draft", "review") +
                          Entry("2026-01-02T11:00:00Z", "rex", "review", "approved") +
                          Entry("2026-01-02T11:00:00Z", "specd", "approved", "planning");
  FakeJournal journal = Made({{"2026-01-02T10:00:00Z", "draft", "review"},
                              {"2026-01-02T11:00:00Z", "review", "approved"},
                              {"2026-01-02T11:00:00Z", "approved", "planning"}});
  EXPECT_EQ(Check({Change(kValidSpec, Spec("planning", log, kTasks))}, &journal), "1 checked, 0 with errors");
  // Only the entries beyond HEAD's count: HEAD at review already had the first.
  const std::string head = Spec("review", Entry("2026-01-02T10:00:00Z", "ada", "draft", "review"));
  FakeJournal later = Made(
      {{"2026-01-02T11:00:00Z", "review", "approved"}, {"2026-01-02T11:00:00Z", "approved", "planning"}});
  EXPECT_EQ(Check({Change(head, Spec("planning", log, kTasks))}, &later), "1 checked, 0 with errors");
  // HEAD at review by a hand edit (no changeLog yet); specd has since written
  // that edit into the changeLog, then approved: the chain starts at review.
  EXPECT_EQ(Check({Change(Spec("review"), Spec("planning", log, kTasks))}, &later),
            "1 checked, 0 with errors");
}

TEST(StagedCheckTest, ChainThatDoesNotReachTheStagedStatusIsAHandEdit) {
  const std::string log = Entry("2026-01-02T10:00:00Z", "ada", "draft", "review");
  EXPECT_EQ(
      Check({Change(kValidSpec, Spec("approved", log))}),
      std::string(kPath) +
          ":3:9: error: /status: draft -> approved is not a step of the spec life cycle (from draft it goes "
          "to review, or cancelled) (HEAD has draft)\n1 checked, 1 with errors");
}

TEST(StagedCheckTest, NewSpecStartsAsDraft) {
  EXPECT_EQ(Check({Change(std::nullopt, kValidSpec)}), "1 checked, 0 with errors");
  EXPECT_EQ(Check({Change(std::nullopt, Spec("review"))}), "1 checked, 0 with errors");
  EXPECT_EQ(
      Check({Change(std::nullopt, Spec("approved"))}),
      std::string(kPath) +
          ":3:9: error: /status: draft -> approved is not a step of the spec life cycle (from draft it goes "
          "to review, or cancelled) (a new spec starts as draft)\n1 checked, 1 with errors");
  const std::string log = Entry("2026-01-02T10:00:00Z", "ada", "draft", "review") +
                          Entry("2026-01-02T11:00:00Z", "rex", "review", "approved");
  FakeJournal journal =
      Made({{"2026-01-02T10:00:00Z", "draft", "review"}, {"2026-01-02T11:00:00Z", "review", "approved"}});
  EXPECT_EQ(Check({Change(std::nullopt, Spec("approved", log))}, &journal), "1 checked, 0 with errors");
}

TEST(StagedCheckTest, DeletedSpecNeedsNothing) {
  EXPECT_EQ(Check({Change(kValidSpec, std::nullopt)}), "0 checked, 0 with errors");
}

TEST(StagedCheckTest, EntryWithThisClonesTraceMustBeInThisClonesJournal) {
  FakeJournal journal;
  journal.specs["spec-2026-01-01-001"] =
      JournaledSpec{"abcdabcdabcdabcd", {{"2026-01-02T10:00:00Z", "draft", "review"}}};
  const std::string recorded = Entry("2026-01-02T10:00:00Z", "ada", "draft", "review");
  EXPECT_EQ(Check({Change(kValidSpec, Spec("review", recorded))}, &journal), "1 checked, 0 with errors");
  const std::string forged = recorded + Entry("2026-01-02T11:00:00Z", "rex", "review", "approved");
  EXPECT_EQ(
      Check({Change(kValidSpec, Spec("approved", forged))}, &journal),
      std::string(kPath) +
          ":20:5: error: /changeLog/1: review -> approved at 2026-01-02T11:00:00Z by rex has this clone's "
          "trace "
          "abcdabcdabcdabcd but this clone's journal never recorded it: specd writes both, so the entry was "
          "written by hand (use the specd verb; if specd was interrupted, run `specd reconcile`)\n"
          "1 checked, 1 with errors");
  // Another clone's trace is no evidence by itself (issue 15): the forgery
  // of a hostile contributor, with a trace made up.
  const std::string theirs =
      recorded + Entry("2026-01-02T11:00:00Z", "rex", "review", "approved", "0f0f0f0f0f0f0f0f");
  EXPECT_EQ(
      Check({Change(kValidSpec, Spec("approved", theirs))}, &journal),
      std::string(kPath) +
          ":20:5: error: /changeLog/1: review -> approved at 2026-01-02T11:00:00Z by rex is new in this "
          "commit, but specd did not make it here and no commit being merged carries it: a changeLog "
          "entry typed into the file is not evidence of a transition (make it with the specd verb, or "
          "merge the commit that has it)\n1 checked, 1 with errors");
  // The same entry in a commit being merged (a teammate's approval): evidence.
  StagedSpec merged = Change(kValidSpec, Spec("approved", theirs));
  merged.incoming.push_back(Blob(Spec("approved", theirs)));
  EXPECT_EQ(Check({merged}, &journal), "1 checked, 0 with errors");
  // ...but only the entry as that commit has it: another actor is not it.
  const std::string altered =
      recorded + Entry("2026-01-02T11:00:00Z", "eve", "review", "approved", "0f0f0f0f0f0f0f0f");
  StagedSpec tampered = Change(kValidSpec, Spec("approved", altered));
  tampered.incoming.push_back(Blob(Spec("approved", theirs)));
  EXPECT_THAT(Check({tampered}, &journal), ::testing::HasSubstr("by eve is new in this commit"));
  // No journal in this clone: nothing was made here.
  EXPECT_THAT(Check({Change(kValidSpec, Spec("review", recorded))}),
              ::testing::HasSubstr("draft -> review at 2026-01-02T10:00:00Z by ada is new in this commit"));
  // No status change: the journal is not asked.
  journal.lookups = 0;
  EXPECT_EQ(Check({Change(kValidSpec, kValidSpec)}, &journal), "1 checked, 0 with errors");
  EXPECT_EQ(journal.lookups, 0);
}

TEST(StagedCheckTest, AJournalThatCannotBeReadIsAnErrorNotNotKnown) {
  FakeJournal journal;
  journal.broken = Error{"journal /r/.git/specd/journal.db: database disk image is malformed"};
  const std::string log = Entry("2026-01-02T10:00:00Z", "ada", "draft", "review") +
                          Entry("2026-01-02T11:00:00Z", "rex", "review", "approved");
  EXPECT_EQ(
      Check({Change(kValidSpec, Spec("approved", log))}, &journal),
      std::string(kPath) +
          ":15:3: error: /changeLog: cannot read this clone's journal to check the new changeLog entries: "
          "journal /r/.git/specd/journal.db: database disk image is malformed\n1 checked, 1 with errors");
}

TEST(StagedCheckTest, BadInputIsAnErrorOrAWarningNeverACrash) {
  StagedSpec binary = Change(kValidSpec, std::string("\x00\x01\xff\xfe binary", 12));
  StagedSpec huge = Change(kValidSpec, std::nullopt);
  huge.staged = Blob("");
  huge.staged->size = 5u << 20;
  huge.staged->too_large = true;
  StagedSpec link = Change(std::nullopt, std::nullopt);
  link.staged = Blob("");
  link.staged->not_a_file = "a symlink in the index: not checked";
  std::string out = Check({binary, huge, link});
  EXPECT_NE(out.find(std::string(kPath) + ":1:1: error: "), std::string::npos) << out;
  EXPECT_NE(out.find(FormatText(FileTooLarge(kPath, 5u << 20, LoadLimits{}.max_bytes))), std::string::npos)
      << out;
  EXPECT_NE(out.find(std::string(kPath) + ":1:1: warning: a symlink in the index: not checked\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.substr(out.rfind('\n') + 1), "3 checked, 2 with errors");
}

}  // namespace
}  // namespace specd::pipeline
