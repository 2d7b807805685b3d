// The apply step's promises through the CLI (issue 10 items 5 and 6): a
// verb that fails changes nothing, and one spec id held by two files is an
// error on both that stops the engine acting on either.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "process_util.h"
#include "test_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kId[] = "spec-2026-01-01-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";
constexpr char kCopyRel[] = ".agents/specs/active/old/spec-2026-01-01-001.yaml";

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunProcess(repo_.path(), "git", {"init", "-q", repo_.path()})->exit_code, 0);
    Write(repo_ / kRel, kValidSpec);
  }

  Output Specd(std::vector<std::string> args, bool as_nobody = false) {
    args.push_back("--repo");
    args.push_back(repo_.path());
    RunOptions options{{{"SPECD_ACTOR", "ada"}}};
    options.as_nobody = as_nobody;
    std::optional<Output> o = RunProcess(repo_.path(), SPECD_BINARY, args, options);
    return o ? *o : Output{};
  }

  TempDir repo_{"specd-apply"};
};

TEST_F(ApplyTest, AVerbWhoseJournalCannotBeWrittenLeavesTheFileAlone) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);  // the journal, owned by root
  // Everything but the journal belongs to nobody: the spec file can be
  // written by the verb, the journal only read.
  ASSERT_EQ(::chmod(repo_.path().c_str(), 0755), 0);
  for (const auto& entry : fs::recursive_directory_iterator(repo_ / ".agents")) {
    ASSERT_EQ(::chown(entry.path().c_str(), 65534, 65534), 0);
  }
  ASSERT_EQ(::chown((repo_ / ".agents").c_str(), 65534, 65534), 0);
  const std::string before = ReadAll(repo_ / kRel);
  Output o = Specd({"request-review", kId}, /*as_nobody=*/true);
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("journal"), std::string::npos) << o.err;
  EXPECT_EQ(ReadAll(repo_ / kRel), before);  // not `status: review`
  // As root the same verb goes through, file and journal together.
  Output again = Specd({"request-review", kId});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(ReadAll(repo_ / kRel).find("status: review"), std::string::npos);
}

std::string DuplicateLine(const std::string& path, const std::string& other) {
  return path + ":1:5: error: /id: spec id 'spec-2026-01-01-001' is also in " + other +
         ": one id, one file (rename or remove one; specd acts on neither until then)";
}

TEST_F(ApplyTest, ValidateReportsBothFilesOfOneId) {
  Write(repo_ / kCopyRel, kValidSpec);
  Output o = Specd({"validate"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.out.find(DuplicateLine(kRel, kCopyRel)), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(DuplicateLine(kCopyRel, kRel)), std::string::npos) << o.out;
}

TEST_F(ApplyTest, TheEngineActsOnNeitherCopyUntilOneIsGone) {
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Write(repo_ / kCopyRel, Replace(kValidSpec, "status: draft", "status: review"));
  Output o = Specd({"reconcile"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("is also in " + std::string(kRel)), std::string::npos) << o.out;
  Output verb = Specd({"request-review", kId});
  EXPECT_EQ(verb.exit_code, 1) << verb.out << verb.err;
  EXPECT_NE(verb.err.find("is also in"), std::string::npos) << verb.err;
  // Neither file was written: the copy's status edit was not obeyed nor put back.
  EXPECT_EQ(ReadAll(repo_ / kRel), kValidSpec);
  EXPECT_EQ(ReadAll(repo_ / kCopyRel), Replace(kValidSpec, "status: draft", "status: review"));

  ASSERT_EQ(::unlink((repo_ / kRel).c_str()), 0);
  Output fixed = Specd({"reconcile"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  Output status = Specd({"show", kId});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out.find("is also in"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("review"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace specd::testing
