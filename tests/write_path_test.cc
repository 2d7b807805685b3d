// The write path (WriteFileAtomic) on real files: a save that lands at any
// point of a write-back is never lost (issue 10, item 1), a write-back keeps
// what it does not own, the mode, the owner, a symlink (item 4), and specd's
// temp files neither outlive a killed writer nor show in `git status`
// (item 8). The engine-level and CLI-level tests run the real specd binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/env.h"
#include "tests/fake_env.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::RunProcess;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr int64_t kT0 = 1771408800000;  // 2026-02-18T10:00:00Z

// The names in `dir`, sorted.
std::vector<std::string> Names(const std::string& dir) {
  Result<std::vector<std::string>> names = Env::Default()->ListDir(dir);
  EXPECT_TRUE(names.ok());
  return names.ok() ? *names : std::vector<std::string>{};
}

// An editor's rename-save of `path`.
void RenameSave(const std::string& path, const std::string& bytes) {
  Write(path + ".editor-swap", bytes);
  ASSERT_EQ(::rename((path + ".editor-swap").c_str(), path.c_str()), 0) << std::strerror(errno);
}

FileStamp StampOf(const std::string& path) {
  Result<FileStamp> s = Env::Default()->Stat(path);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : FileStamp{};
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class WritePathTest : public ::testing::Test {
 protected:
  WritePathTest() { Write(path_, "old\n"); }
  TempDir dir_{"specd-write"};
  const std::string path_ = dir_ / "spec.yaml";
  FakeEnv env_{kT0};
};

// The author's rename-save lands after specd's check, right before its
// exchange: the exchange takes it away from the name, specd sees it is not
// the version read and puts it back. Nothing of specd's stays.
TEST_F(WritePathTest, ASaveLandingRightBeforeTheExchangeIsPutBack) {
  const FileStamp read = StampOf(path_);
  int renames = 0;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op == FakeEnv::Op::kRenameFile && renames++ == 0) RenameSave(path_, "the author's\n");
  });
  Status s = WriteFileAtomic(&env_, path_, "specd's\n", &read);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s.error().message,
            path_ + " was saved while specd was writing it; specd's version was withdrawn");
  EXPECT_EQ(renames, 2);  // the exchange, and the exchange back
  EXPECT_EQ(ReadAll(path_), "the author's\n");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
}

// An editor that opened the file before the exchange and writes after it
// (an append, an in-place save): the file it holds open goes back to the
// name, so what it writes lands in the spec, not in a deleted file.
TEST_F(WritePathTest, AWriterHoldingTheFileOpenKeepsItsFile) {
  const FileStamp read = StampOf(path_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Status s = WriteFileAtomic(&env_, path_, "specd's\n", &read);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  ASSERT_EQ(::write(fd, "# author line 1\n", 16), 16);
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(ReadAll(path_), "old\n# author line 1\n");
  // Asked of the displaced file, then of specd's before and after the exchange back.
  EXPECT_EQ(env_.Count(FakeEnv::Op::kOpenForWriting), 3);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
  // Once no one holds it, the write goes through.
  const FileStamp now = StampOf(path_);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "specd's\n", &now).ok());
  EXPECT_EQ(ReadAll(path_), "specd's\n");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
}

// Two saves: one displaced by the exchange, a newer one renamed over specd's
// file before specd could put the first back. The newest stays at the name,
// the displaced one is kept beside it (never deleted) and named.
TEST_F(WritePathTest, ADisplacedSaveThatCannotGoBackIsKeptAndNamed) {
  const FileStamp read = StampOf(path_);
  bool exchanged = false, saved_again = false;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op == FakeEnv::Op::kRenameFile && !exchanged) {
      exchanged = true;
      RenameSave(path_, "first save\n");
    } else if (exchanged && !saved_again && op == FakeEnv::Op::kStat) {
      saved_again = true;
      RenameSave(path_, "second save\n");
    }
  });
  Status s = WriteFileAtomic(&env_, path_, "specd's\n", &read);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  const std::string kept = path_ + ".specd-kept-" + std::to_string(kT0);
  EXPECT_EQ(s.error().message,
            path_ + " was saved again while specd was writing it; the displaced version is kept at " + kept);
  EXPECT_EQ(ReadAll(path_), "second save\n");
  EXPECT_EQ(ReadAll(kept), "first save\n");
  EXPECT_EQ(Names(dir_.path()),
            (std::vector<std::string>{"spec.yaml", "spec.yaml.specd-kept-" + std::to_string(kT0)}));
}

// A writer SIGKILLed around its exchange leaves one temp file; the next
// pass's RecoverTempFile must tell what it holds. `author_saves` lands right
// before the exchange; `die_before_exchange` kills the writer before it;
// `save_again` is a save after the kill, before the recovery.
struct KilledWrite {
  bool author_saves = false, die_before_exchange = false;
  std::string save_again;
};

// Runs the write in a child killed as `k` says; returns the temp file left.
std::string KillWriter(const std::string& path, const KilledWrite& k) {
  const FileStamp read = StampOf(path);
  pid_t child = ::fork();
  if (child == 0) {
    FakeEnv env(kT0);
    bool exchanging = false;
    env.SetHook([&](FakeEnv::Op op, const std::string&) {
      if (exchanging) ::raise(SIGKILL);  // the first step after the exchange
      if (op != FakeEnv::Op::kRenameFile) return;
      if (k.die_before_exchange) ::raise(SIGKILL);
      if (k.author_saves) RenameSave(path, "the author's\n");
      exchanging = true;
    });
    WriteFileAtomic(&env, path, "specd's\n", &read);
    ::_exit(3);  // not reached: the hook kills it
  }
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  if (!k.save_again.empty()) RenameSave(path, k.save_again);
  const std::string dir = path.substr(0, path.find_last_of('/'));
  for (const std::string& n : Names(dir)) {
    if (n.rfind(kTempPrefix, 0) == 0) {
      EXPECT_TRUE(TempFileOrphaned(n)) << n;
      return dir + "/" + n;
    }
  }
  ADD_FAILURE() << "no temp file left";
  return "";
}

TEST_F(WritePathTest, AKilledExchangesTempFileIsToldApartByTheNextPass) {
  struct Case {
    const char* what;
    KilledWrite kill;
    std::string then;                // the spec's bytes after the recovery
    std::vector<std::string> names;  // and what is in its folder
    std::string kept;                // the kept file's bytes, if any
  };
  const std::string kept_name = "spec.yaml.specd-kept-" + std::to_string(kT0);
  const std::vector<Case> cases = {
      {"killed before the exchange: specd's version is dropped",
       {false, true, ""},
       "old\n",
       {"spec.yaml"},
       ""},
      {"killed after it, the version read displaced: dropped",
       {false, false, ""},
       "specd's\n",
       {"spec.yaml"},
       ""},
      {"killed after it, an author's save displaced: put back",
       {true, false, ""},
       "the author's\n",
       {"spec.yaml"},
       ""},
      {"an author's save displaced, then saved again: kept",
       {true, false, "saved again\n"},
       "saved again\n",
       {"spec.yaml", kept_name},
       "the author's\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Write(path_, "old\n");
    const std::string temp = KillWriter(path_, c.kill);
    ASSERT_FALSE(temp.empty());
    RecoverTempFile(&env_, temp);
    EXPECT_EQ(ReadAll(path_), c.then);
    EXPECT_EQ(Names(dir_.path()), c.names);
    if (!c.kept.empty()) {
      EXPECT_EQ(ReadAll(dir_ / kept_name), c.kept);
      fs::remove(dir_ / kept_name);
    }
  }
}

// A plain write's temp file (no exchange, so nothing displaced) is removed.
TEST_F(WritePathTest, APlainWritesTempFileIsRemoved) {
  const std::string temp = dir_ / ".specd-tmp-1-0123456789abcdef";
  Write(temp, "half a spec");
  RecoverTempFile(&env_, temp);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
  EXPECT_EQ(ReadAll(path_), "old\n");
}

// The file read is the one displaced: it is deleted, the new one is in place.
TEST_F(WritePathTest, AnUntouchedFileIsReplaced) {
  const FileStamp read = StampOf(path_);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "specd's\n", &read).ok());
  EXPECT_EQ(ReadAll(path_), "specd's\n");
  EXPECT_EQ(env_.Count(FakeEnv::Op::kRenameFile), 1);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
}

// Without RENAME_EXCHANGE (some file systems): the stamp is checked right
// before a plain rename.
TEST_F(WritePathTest, WithoutExchangeTheStampIsCheckedBeforeARename) {
  env_.DisableExchange();
  const FileStamp read = StampOf(path_);
  RenameSave(path_, "the author's\n");
  Status s = WriteFileAtomic(&env_, path_, "specd's\n", &read);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(ReadAll(path_), "the author's\n");
  const FileStamp now = StampOf(path_);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "specd's\n", &now).ok());
  EXPECT_EQ(ReadAll(path_), "specd's\n");
  EXPECT_EQ(env_.Count(FakeEnv::Op::kRenameFile), 2);  // an exchange that could not, then the rename
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"spec.yaml"});
}

TEST_F(WritePathTest, ModeAndOwnerAreKept) {
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(path_.c_str(), 4321, 8765), 0);
  }
  FileStamp read = StampOf(path_);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "specd's\n", &read).ok());
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  if (root) {
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 8765u);
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0755), 0);
  read = StampOf(path_);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "again\n", &read).ok());
  EXPECT_EQ(ModeOf(path_), 0755u);
  ASSERT_TRUE(WriteFileAtomic(&env_, path_, "unconditional\n").ok());
  EXPECT_EQ(ModeOf(path_), 0755u);
  EXPECT_EQ(ReadAll(path_), "unconditional\n");
}

TEST_F(WritePathTest, ASymlinkIsWrittenThroughAndStaysASymlink) {
  fs::create_directories(dir_ / "shared");
  Write(dir_ / "shared/real.yaml", "old\n");
  const std::string link = dir_ / "link.yaml";
  ASSERT_EQ(::symlink("shared/real.yaml", link.c_str()), 0);
  const FileStamp read = StampOf(link);
  ASSERT_TRUE(WriteFileAtomic(&env_, link, "specd's\n", &read).ok());
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), "shared/real.yaml");
  EXPECT_EQ(ReadAll(dir_ / "shared/real.yaml"), "specd's\n");
  EXPECT_EQ(Names(dir_ / "shared"), std::vector<std::string>{"real.yaml"});
}

TEST_F(WritePathTest, WhatIsNotARegularFileIsNeverReplaced) {
  const std::string fifo = dir_ / "fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  Status s = WriteFileAtomic(&env_, fifo, "specd's\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(s.error().message, fifo + " is not a regular file; specd replaces only regular files");
  EXPECT_EQ(Names(dir_.path()), (std::vector<std::string>{"fifo.yaml", "spec.yaml"}));
  EXPECT_EQ(env_.Count(FakeEnv::Op::kNewTempFile), 0);
}

// ---------------------------------------------------------------------------
// Temp files.

TEST(TempFileTest, NamesCarryThePidAndAreOrphanedOnlyWhenItIsGone) {
  TempDir dir("specd-write");
  FakeEnv env(kT0);
  std::string seen;
  env.SetHook([&](FakeEnv::Op op, const std::string& path) {
    if (op == FakeEnv::Op::kSync) seen = fs::path(path).filename();
  });
  ASSERT_TRUE(WriteFileAtomic(&env, dir / "a.yaml", "x\n").ok());
  const std::string prefix = ".specd-tmp-" + std::to_string(::getpid()) + "-";
  ASSERT_EQ(seen.rfind(prefix, 0), 0u) << seen;
  EXPECT_EQ(seen.size(), prefix.size() + 16);
  EXPECT_FALSE(TempFileOrphaned(seen));  // this process runs
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(TempFileOrphaned(".specd-tmp-" + std::to_string(child) + "-0123456789abcdef"));
  EXPECT_FALSE(TempFileOrphaned(".specd-tmp-0123456789abcdef"));  // an older specd's: no pid
  EXPECT_FALSE(TempFileOrphaned(".specd-tmp-" + std::to_string(child)));
  EXPECT_FALSE(TempFileOrphaned("spec.yaml"));
}

// The line goes into the common git directory's info/exclude once, after
// the lines already there (the last without its newline).
TEST(TempFileTest, GitExcludeGetsThePatternOnceInTheCommonDir) {
  TempDir dir("specd-write");
  const std::string main = dir / "main";
  ASSERT_EQ(RunProcess(dir.path(), "git", {"init", "-q", main})->exit_code, 0);
  ASSERT_EQ(RunProcess(main, "git", {"commit", "-q", "--allow-empty", "-m", "one"},
                       {{{"GIT_AUTHOR_NAME", "t"},
                         {"GIT_AUTHOR_EMAIL", "t@t"},
                         {"GIT_COMMITTER_NAME", "t"},
                         {"GIT_COMMITTER_EMAIL", "t@t"}}})
                ->exit_code,
            0);
  Output wt = *RunProcess(main, "git", {"worktree", "add", "-q", dir / "linked"});
  ASSERT_EQ(wt.exit_code, 0) << wt.err;
  Write(main + "/.git/info/exclude", "# mine\n*.bak");
  fs::create_directories(dir / "linked/.agents/specs/active");
  fs::create_directories(main + "/.agents/specs/active");
  ExcludeTempFilesFromGit(dir / "linked/.agents/specs/active");
  ExcludeTempFilesFromGit(main + "/.agents/specs/active");
  ExcludeTempFilesFromGit(main + "/.agents/specs");
  EXPECT_EQ(ReadAll(main + "/.git/info/exclude"),
            "# mine\n*.bak\n# specd's temp files (added once by specd)\n.specd-tmp-*\n");
  // git itself now leaves a temp file out of `git status`.
  Write(dir / "linked/.agents/specs/active/.specd-tmp-1-0123456789abcdef", "x");
  Output st = *RunProcess(dir / "linked", "git", {"status", "--porcelain", "--untracked-files=all"});
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_EQ(st.out, "");
}

// ---------------------------------------------------------------------------
// Through the CLI, on a real git repository.

class WritePathCliTest : public ::testing::Test {
 protected:
  WritePathCliTest() {
    Git({"init", "-q", repo_.path()});
    fs::create_directories(repo_ / kActive);
  }

  Output Git(const std::vector<std::string>& args) {
    Output o = *RunProcess(repo_.path(), "git", args,
                           {{{"GIT_AUTHOR_NAME", "t"},
                             {"GIT_AUTHOR_EMAIL", "t@t"},
                             {"GIT_COMMITTER_NAME", "t"},
                             {"GIT_COMMITTER_EMAIL", "t@t"}}});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return o;
  }
  Output Specd(std::vector<std::string> args) {
    args.push_back("--repo");
    args.push_back(repo_.path());
    return *RunProcess(repo_.path(), SPECD_BINARY, args);
  }
  static std::string Spec(int n, const std::string& status = "draft") {
    std::string text = Replace(kValidSpec, "spec-2026-01-01-001", Id(n));
    return status == "draft" ? text : Replace(text, "status: draft\n", "status: " + status + "\n");
  }
  static std::string Id(int n) { return "spec-2026-01-01-00" + std::to_string(n); }
  std::string PathOf(int n) const { return repo_ / (std::string(kActive) + "/" + Id(n) + ".yaml"); }

  // An in-place save (mode and inode kept, as most editors do).
  static void SaveInPlace(const std::string& path, const std::string& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ASSERT_EQ(::close(fd), 0);
  }

  static constexpr char kActive[] = ".agents/specs/active";
  TempDir repo_{"specd-write-cli"};
};

// 0600 stays 0600 and 0755 stays 0755 through a reconcile's write-back and
// a verb's; git sees content changes only, no mode change.
TEST_F(WritePathCliTest, ReconcileAndVerbsKeepTheFileMode) {
  Write(PathOf(1), Spec(1));
  Write(PathOf(2), Spec(2));
  ASSERT_EQ(::chmod(PathOf(1).c_str(), 0600), 0);
  ASSERT_EQ(::chmod(PathOf(2).c_str(), 0755), 0);
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Git({"add", "-A"});
  Git({"commit", "-q", "-m", "specs"});
  SaveInPlace(PathOf(1), Spec(1, "review"));
  SaveInPlace(PathOf(2), Spec(2, "review"));
  Output r = Specd({"reconcile"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(ReadAll(PathOf(1)).find("changeLog:"), std::string::npos) << "not written back";
  EXPECT_EQ(ModeOf(PathOf(1)), 0600u);
  EXPECT_EQ(ModeOf(PathOf(2)), 0755u);
  Output v = Specd({"approve", Id(2), "--actor", "rex"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(ReadAll(PathOf(2)).find("status: planning\n"), std::string::npos) << ReadAll(PathOf(2));
  EXPECT_EQ(ModeOf(PathOf(2)), 0755u);
  Output summary = Git({"diff", "--summary"});
  EXPECT_EQ(summary.out, "");  // no "mode change 100755 => 100644"
  Output names = Git({"diff", "--name-only"});
  EXPECT_EQ(names.out, std::string(kActive) + "/" + Id(1) + ".yaml\n" + kActive + "/" + Id(2) + ".yaml\n");
}

// A spec that is a symlink to a file inside the repository stays a symlink;
// its target gets the write-back.
TEST_F(WritePathCliTest, ASymlinkedSpecStaysASymlinkWithItsTargetUpdated) {
  const std::string target = repo_ / ".agents/shared/spec-1.yaml";
  Write(target, Spec(1));
  ASSERT_EQ(::symlink("../../shared/spec-1.yaml", PathOf(1).c_str()), 0);
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  SaveInPlace(target, Spec(1, "review"));
  Output r = Specd({"reconcile"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::is_symlink(PathOf(1)));
  EXPECT_EQ(fs::read_symlink(PathOf(1)), "../../shared/spec-1.yaml");
  const std::string bytes = ReadAll(target);
  EXPECT_EQ(bytes.rfind(Spec(1, "review").substr(0, 60), 0), 0u) << bytes;
  EXPECT_NE(bytes.find("changeLog:\n  - at:"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("    from: draft\n    to: review\n"), std::string::npos) << bytes;
  EXPECT_EQ(Names(repo_ / ".agents/shared"), std::vector<std::string>{"spec-1.yaml"});
}

// A writer killed with SIGKILL leaves its temp file; the next reconcile
// removes it (its pid is gone), keeps a live process's, and keeps both out
// of `git status`.
TEST_F(WritePathCliTest, AKilledWritersTempFileIsGoneAfterTheNextReconcile) {
  Write(PathOf(1), Spec(1));
  ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
  Git({"add", "-A"});
  Git({"commit", "-q", "-m", "specs"});
  const std::string active = repo_ / kActive;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string temp = active + "/.specd-tmp-" + std::to_string(::getpid()) + "-0123456789abcdef";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || ::write(fd, "half a spec", 11) != 11) ::_exit(1);
    ::raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  const std::string dead = ".specd-tmp-" + std::to_string(child) + "-0123456789abcdef";
  const std::string live = ".specd-tmp-" + std::to_string(::getpid()) + "-fedcba9876543210";
  Write(active + "/" + live, "being written");
  std::vector<std::string> before = {dead, live, Id(1) + ".yaml"};
  std::sort(before.begin(), before.end());
  EXPECT_EQ(Names(active), before);
  Output r = Specd({"reconcile"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Names(active), (std::vector<std::string>{live, Id(1) + ".yaml"}));
  EXPECT_EQ(Git({"status", "--porcelain", "--untracked-files=all"}).out, "");
  EXPECT_EQ(Git({"check-ignore", "--no-index", std::string(kActive) + "/" + live}).out,
            std::string(kActive) + "/" + live + "\n");
}

}  // namespace
}  // namespace specd
