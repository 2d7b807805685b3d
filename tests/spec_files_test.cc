// The file walk, the careful read and the many-file run, on real temporary
// directories: real symlinks, real FIFOs (if a FIFO were opened for a
// blocking read, the test would hang: that is the check), real permission
// errors.
#include "engine/spec_files.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/repo.h"
#include "engine/validate_run.h"
#include "schema/diagnostic.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using ::specd::testing::kValidSpec;

// The same spec under another id, for a second valid file.
std::string ValidSpec(const std::string& id) {
  std::string s = kValidSpec;
  s.replace(s.find("spec-2026-01-01-001"), 19, id);
  return s;
}

using ::specd::testing::TempDir;

void MakeDirs(const std::string& path) {
  fs::create_directories(path);
}

void Write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

void Symlink(const std::string& target, const std::string& link) {
  fs::create_directories(fs::path(link).parent_path());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link << ": " << std::strerror(errno);
}

void Fifo(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0) << path << ": " << std::strerror(errno);
}

std::vector<std::string> DisplayPaths(const std::vector<SpecFile>& files) {
  std::vector<std::string> out;
  for (const SpecFile& f : files) out.push_back(f.display_path);
  return out;
}

std::vector<std::string> TextLines(const ValidateReport& report) {
  std::vector<std::string> out;
  for (const FileResult& f : report.files) {
    for (const Diagnostic& d : f.diagnostics) out.push_back(FormatText(d));
  }
  return out;
}

std::vector<Outcome> Outcomes(const ValidateReport& report) {
  std::vector<Outcome> out;
  for (const FileResult& f : report.files) out.push_back(f.outcome);
  return out;
}

ValidateReport CollectAndValidate(const std::vector<std::string>& inputs, const std::string& boundary,
                                  int threads = 1) {
  return ValidateSpecFiles(CollectSpecFiles(inputs, boundary), ValidateOptions{}, threads);
}

// Runs `body` in a child process that has dropped root for "nobody", so
// that file permissions apply; returns what the body returned, or nullopt
// when privileges could not be dropped.
std::optional<std::string> AsNobody(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0 || ::geteuid() == 0) {
      out = "\x01";  // could not drop privileges
    } else {
      out = body();
    }
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (out == "\x01" || !WIFEXITED(status)) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------- the walk

TEST(CollectSpecFiles, WalksSortedAndFindsOnlyYamlFiles) {
  TempDir t;
  const std::string specs = t / "specs";
  Write(specs + "/b.yaml", "b: 1\n");
  Write(specs + "/a.yml", "a: 1\n");
  Write(specs + "/Z.yaml", "z: 1\n");
  Write(specs + "/c.txt", "c: 1\n");
  Write(specs + "/README.md", "# read me\n");
  Write(specs + "/yaml", "no extension\n");
  Write(specs + "/.yaml", "only an extension\n");
  Write(specs + "/notes.yaml.bak", "backup\n");
  Write(specs + "/sub/d.yaml", "d: 1\n");
  Write(specs + "/sub/deeper/e.yml", "e: 1\n");
  Write(specs + "/a-first/f.yaml", "f: 1\n");
  std::vector<SpecFile> files = CollectSpecFiles({specs}, t.path());
  EXPECT_THAT(DisplayPaths(files),
              ElementsAre(specs + "/Z.yaml", specs + "/a-first/f.yaml", specs + "/a.yml", specs + "/b.yaml",
                          specs + "/sub/d.yaml", specs + "/sub/deeper/e.yml"));
  for (const SpecFile& f : files) {
    EXPECT_EQ(f.open_path, f.display_path);
    EXPECT_EQ(f.skip_reason, "");
    EXPECT_FALSE(f.io_error);
    EXPECT_FALSE(f.refused);
  }
}

TEST(CollectSpecFiles, KeepsTheDirectoryAsTheUserWroteIt) {
  TempDir t;
  Write(t / "specs/a.yaml", "a: 1\n");
  EXPECT_THAT(DisplayPaths(CollectSpecFiles({t / "specs/"}, t.path())), ElementsAre(t / "specs/a.yaml"));
}

TEST(CollectSpecFiles, NamedFileOfAnyExtensionIsTaken) {
  TempDir t;
  Write(t / "notes.txt", "a: 1\n");
  Write(t / "Specfile", "a: 1\n");
  std::vector<SpecFile> files = CollectSpecFiles({t / "notes.txt", t / "Specfile"}, t.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].display_path, t / "notes.txt");
  EXPECT_EQ(files[0].open_path, t / "notes.txt");
  EXPECT_EQ(files[0].skip_reason, "");
  EXPECT_EQ(files[1].display_path, t / "Specfile");
  EXPECT_EQ(files[1].open_path, t / "Specfile");
}

TEST(CollectSpecFiles, NamedFilesKeepTheirOrder) {
  TempDir t;
  Write(t / "b.yaml", "b: 1\n");
  Write(t / "a.yaml", "a: 1\n");
  EXPECT_THAT(DisplayPaths(CollectSpecFiles({t / "b.yaml", t / "a.yaml"}, t.path())),
              ElementsAre(t / "b.yaml", t / "a.yaml"));
}

TEST(CollectSpecFiles, DotGitIsSkipped) {
  TempDir t;
  Write(t / ".git/config.yaml", "a: 1\n");
  Write(t / ".git/refs/x.yml", "a: 1\n");
  Write(t / "sub/.git/y.yaml", "a: 1\n");
  Write(t / "sub/kept.yaml", "a: 1\n");
  EXPECT_THAT(DisplayPaths(CollectSpecFiles({t.path()}, t.path())), ElementsAre(t / "sub/kept.yaml"));
}

TEST(CollectSpecFiles, WalkLeavesOutTemplates) {
  // spec_files.h: "directories are walked for *.yaml and *.yml (sorted,
  // .git and templates/ left out)".
  TempDir t;
  const std::string specs = t / ".agents/specs";
  Write(specs + "/templates/feature.yaml", "id: feature\n");
  Write(specs + "/active/spec-2026-01-01-001.yaml", kValidSpec);
  EXPECT_THAT(DisplayPaths(CollectSpecFiles({specs}, t.path())),
              ElementsAre(specs + "/active/spec-2026-01-01-001.yaml"));
}

// ---------------------------------------------------------------- symlinks

TEST(CollectSpecFiles, SymlinkInsideTheBoundaryIsFollowedUnderItsOwnName) {
  TempDir t;
  Write(t / "data/stored.yaml", kValidSpec);
  Symlink("../data/stored.yaml", t / "specs/spec-2026-01-01-001.yaml");
  std::vector<SpecFile> files = CollectSpecFiles({t / "specs"}, t.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].display_path, t / "specs/spec-2026-01-01-001.yaml");
  EXPECT_EQ(files[0].open_path, t / "data/stored.yaml");
  EXPECT_EQ(files[0].skip_reason, "");
  EXPECT_FALSE(files[0].refused);
  // The id is checked against the link's name, and the target's bytes are read.
  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kValid));
  EXPECT_THAT(TextLines(report), IsEmpty());
}

TEST(CollectSpecFiles, SymlinkOutsideTheBoundaryIsRefusedAndCountsInvalid) {
  TempDir t;
  Write(t / "outside/secret.yaml", kValidSpec);
  Symlink("../../outside/secret.yaml", t / "repo/specs/spec-2026-01-01-001.yaml");
  Symlink("/etc/passwd", t / "repo/specs/passwd.yaml");
  std::vector<SpecFile> files = CollectSpecFiles({t / "repo/specs"}, t / "repo");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].display_path, t / "repo/specs/passwd.yaml");
  EXPECT_EQ(files[0].open_path, "");
  EXPECT_TRUE(files[0].refused);
  EXPECT_FALSE(files[0].io_error);
  EXPECT_EQ(files[0].skip_reason, "symlink points outside the repository (to /etc/passwd); not followed");
  EXPECT_EQ(files[1].open_path, "");
  EXPECT_TRUE(files[1].refused);
  EXPECT_EQ(files[1].skip_reason,
            "symlink points outside the repository (to " + t / "outside/secret.yaml" + "); not followed");

  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kInvalid, Outcome::kInvalid));
  EXPECT_THAT(
      TextLines(report),
      ElementsAre(t / "repo/specs/passwd.yaml" +
                      ":1:1: error: symlink points outside the repository (to /etc/passwd); not followed",
                  t / "repo/specs/spec-2026-01-01-001.yaml" +
                      ":1:1: error: symlink points outside the repository (to " + t / "outside/secret.yaml" +
                      "); not followed"));
  EXPECT_EQ(report.files[0].diagnostics[0].keyword, "symlink");
  EXPECT_EQ(SummaryLine(report), "2 files: 0 valid, 2 invalid");
  EXPECT_EQ(report.ExitCode(), 1);
}

TEST(CollectSpecFiles, NamedSymlinkOutsideTheBoundaryIsRefusedToo) {
  TempDir t;
  Write(t / "outside/secret.txt", "a: 1\n");
  Symlink(t / "outside/secret.txt", t / "repo/link.txt");
  std::vector<SpecFile> files = CollectSpecFiles({t / "repo/link.txt"}, t / "repo");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].refused);
  EXPECT_EQ(files[0].skip_reason,
            "symlink points outside the repository (to " + t / "outside/secret.txt" + "); not followed");
}

TEST(CollectSpecFiles, DanglingSymlinkIsSkippedWithAWarning) {
  TempDir t;
  Symlink("../nowhere.yaml", t / "specs/gone.yaml");
  std::vector<SpecFile> files = CollectSpecFiles({t / "specs"}, t.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].skip_reason, "dangling symlink; skipped");
  EXPECT_FALSE(files[0].refused);
  EXPECT_FALSE(files[0].io_error);
  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kSkipped));
  EXPECT_THAT(TextLines(report),
              ElementsAre(t / "specs/gone.yaml" + ":1:1: warning: dangling symlink; skipped"));
  EXPECT_EQ(SummaryLine(report), "0 files: 0 valid, 0 invalid, 1 skipped");
  EXPECT_EQ(report.ExitCode(), 0);
}

// ------------------------------------------------- FIFOs, devices, sockets

TEST(CollectSpecFiles, FifoNamedYamlIsSkippedAndNeverOpened) {
  TempDir t;
  Fifo(t / "specs/x.yaml");
  Write(t / "specs/y.yaml", "y: 1\n");
  std::vector<SpecFile> files = CollectSpecFiles({t / "specs"}, t.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].display_path, t / "specs/x.yaml");
  EXPECT_EQ(files[0].skip_reason, "a FIFO, not a file; skipped");
  EXPECT_FALSE(files[0].io_error);
  EXPECT_FALSE(files[0].refused);
  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kSkipped, Outcome::kInvalid));
  EXPECT_EQ(TextLines(report).at(0), t / "specs/x.yaml" + ":1:1: warning: a FIFO, not a file; skipped");
  EXPECT_EQ(SummaryLine(report), "1 file: 0 valid, 1 invalid, 1 skipped");
}

// Named on the command line, a FIFO is an error, as a missing file is (exit
// 2); only what a directory walk finds is passed over with a warning.
TEST(CollectSpecFiles, NamedFifoIsAnErrorAndNeverOpened) {
  TempDir t;
  Fifo(t / "pipe.yaml");
  ValidateReport report = CollectAndValidate({t / "pipe.yaml"}, t.path());
  EXPECT_THAT(TextLines(report),
              ElementsAre(t / "pipe.yaml" + ":1:1: error: a FIFO, not a file: nothing to validate"));
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kUnreadable));
  EXPECT_EQ(report.ExitCode(), 2);
}

TEST(CollectSpecFiles, SymlinkToAFifoIsSkipped) {
  TempDir t;
  Fifo(t / "data/pipe");
  Symlink("../data/pipe", t / "specs/x.yaml");
  ValidateReport report = CollectAndValidate({t / "specs"}, t.path());
  EXPECT_THAT(TextLines(report),
              ElementsAre(t / "specs/x.yaml" + ":1:1: warning: symlink to a FIFO; skipped"));
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kSkipped));
}

TEST(CollectSpecFiles, SocketNamedYamlIsSkipped) {
  TempDir t;
  MakeDirs(t / "specs");
  const std::string path = t / "specs/s.yaml";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ValidateReport report = CollectAndValidate({t / "specs"}, t.path());
  ::close(fd);
  EXPECT_THAT(TextLines(report), ElementsAre(path + ":1:1: warning: a socket, not a file; skipped"));
}

TEST(CollectSpecFiles, CharacterDeviceNamedYamlIsSkipped) {
  TempDir t;
  MakeDirs(t / "specs");
  const std::string path = t / "specs/null.yaml";
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod of a character device needs CAP_MKNOD: " << std::strerror(errno);
  }
  ValidateReport report = CollectAndValidate({t / "specs"}, t.path());
  EXPECT_THAT(TextLines(report),
              ElementsAre(path + ":1:1: warning: a character device, not a file; skipped"));
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kSkipped));
}

// --------------------------------------------------------------- reading

TEST(ReadSpecFile, ReadsARegularFile) {
  TempDir t;
  Write(t / "a.yaml", kValidSpec);
  Result<FileBytes> r = ReadSpecFile(t / "a.yaml", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, kValidSpec);
  EXPECT_EQ(r->size, std::string(kValidSpec).size());
  EXPECT_FALSE(r->too_large);
}

TEST(ReadSpecFile, FifoIsRefusedWithoutBlocking) {
  TempDir t;
  Fifo(t / "x.yaml");
  Result<FileBytes> r = ReadSpecFile(t / "x.yaml", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not a regular file");
}

TEST(ReadSpecFile, FifoSwappedInAfterTheWalkIsUnreadableNotAHang) {
  // The walk saw a file; by the time it is read, a FIFO stands in its place.
  TempDir t;
  Write(t / "x.yaml", "a: 1\n");
  std::vector<SpecFile> files = CollectSpecFiles({t / "x.yaml"}, t.path());
  ASSERT_EQ(files.size(), 1u);
  ASSERT_EQ(::unlink((t / "x.yaml").c_str()), 0);
  Fifo(t / "x.yaml");
  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kUnreadable));
  EXPECT_THAT(TextLines(report), ElementsAre(t / "x.yaml" + ":1:1: error: not a regular file"));
  EXPECT_EQ(report.ExitCode(), 2);
}

TEST(ReadSpecFile, DirectoryIsRefused) {
  TempDir t;
  MakeDirs(t / "dir.yaml");
  Result<FileBytes> r = ReadSpecFile(t / "dir.yaml", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not a regular file");
}

TEST(ReadSpecFile, DoesNotFollowASymlink) {
  TempDir t;
  Write(t / "target.yaml", "a: 1\n");
  Symlink(t / "target.yaml", t / "link.yaml");
  Result<FileBytes> r = ReadSpecFile(t / "link.yaml", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot open: Too many levels of symbolic links");
}

TEST(ReadSpecFile, MissingFile) {
  TempDir t;
  Result<FileBytes> r = ReadSpecFile(t / "missing.yaml", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot open: No such file or directory");
}

TEST(ReadSpecFile, SizeLimitIsExact) {
  TempDir t;
  Write(t / "at.yaml", std::string(100, 'a'));
  Write(t / "over.yaml", std::string(101, 'a'));
  Result<FileBytes> at = ReadSpecFile(t / "at.yaml", 100);
  ASSERT_TRUE(at.ok());
  EXPECT_FALSE(at->too_large);
  EXPECT_EQ(at->data.size(), 100u);
  Result<FileBytes> over = ReadSpecFile(t / "over.yaml", 100);
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(over->too_large);
  EXPECT_EQ(over->size, 101u);
  EXPECT_EQ(over->data, "");
}

TEST(ReadSpecFile, SixtyFourMegabyteFileIsNotRead) {
  TempDir t;
  const std::string path = t / "spec-2026-01-01-001.yaml";
  Write(path, "");
  ASSERT_EQ(::truncate(path.c_str(), off_t{64} << 20), 0);  // sparse: no disk used
  Result<FileBytes> r = ReadSpecFile(path, 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->too_large);
  EXPECT_EQ(r->size, uint64_t{64} << 20);
  EXPECT_EQ(r->data, "");
  ValidateReport report = CollectAndValidate({path}, t.path());
  EXPECT_THAT(
      TextLines(report),
      ElementsAre(path + ":1:1: error: the file is 67108864 bytes; the limit is 1048576 (--max-bytes)"));
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kInvalid));
}

TEST(ReadSpecFile, UnreadableFile) {
  TempDir t;
  ASSERT_EQ(::chmod(t.path().c_str(), 0755), 0);  // let "nobody" look inside
  const std::string path = t / "locked.yaml";
  Write(path, kValidSpec);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  auto body = [&] {
    Result<FileBytes> r = ReadSpecFile(path, 1 << 20);
    std::string out = r.ok() ? "read " + std::to_string(r->data.size()) + " bytes" : r.error().message;
    ValidateReport report = CollectAndValidate({path, t / "missing.yaml"}, t.path());
    for (const std::string& line : TextLines(report)) out += "\n" + line;
    out += "\n" + SummaryLine(report) + "\nexit " + std::to_string(report.ExitCode());
    return out;
  };
  std::string got;
  if (::geteuid() != 0) {
    got = body();
  } else {
    // root reads a mode-000 file anyway; a child that dropped root does not.
    std::optional<std::string> child = AsNobody(body);
    if (!child) GTEST_SKIP() << "running as root and cannot drop privileges to test EACCES";
    got = *child;
  }
  EXPECT_EQ(got, "cannot open: Permission denied\n" + path + ":1:1: error: cannot open: Permission denied\n" +
                     t / "missing.yaml" + ":1:1: error: No such file or directory\n" +
                     "2 files: 0 valid, 0 invalid, 2 unreadable\nexit 2");
}

TEST(CollectSpecFiles, MissingPathIsUnreadable) {
  TempDir t;
  std::vector<SpecFile> files = CollectSpecFiles({t / "missing.yaml"}, t.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].io_error);
  EXPECT_EQ(files[0].skip_reason, "No such file or directory");
  ValidateReport report = ValidateSpecFiles(files, ValidateOptions{}, 1);
  EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kUnreadable));
  EXPECT_THAT(TextLines(report), ElementsAre(t / "missing.yaml" + ":1:1: error: No such file or directory"));
  EXPECT_EQ(report.files[0].diagnostics[0].keyword, "io");
  EXPECT_EQ(SummaryLine(report), "1 file: 0 valid, 0 invalid, 1 unreadable");
  EXPECT_EQ(report.ExitCode(), 2);
}

// ------------------------------------------------------- many files at once

TEST(ValidateSpecFiles, OneBadFileDoesNotStopTheOthers) {
  TempDir t;
  const std::string s = t / "repo/specs";
  Write(s + "/a-binary.yaml", std::string("\x7F"
                                          "ELF\x02\x01\x01\x00",
                                          8));
  Write(s + "/b-dup.yaml", "id: x\nid: y\n");
  Write(s + "/c-empty.yaml", "");
  Fifo(s + "/d-fifo.yaml");
  Write(t / "outside.yaml", kValidSpec);
  Symlink(t / "outside.yaml", s + "/e-escape.yaml");
  Write(s + "/spec-2026-01-01-001.yaml", kValidSpec);
  Write(s + "/spec-2026-01-01-002.yaml", ValidSpec("spec-2026-01-01-002"));
  Write(s + "/z-bomb.yaml", "a: &a [x, *a]\n");
  for (int threads : {1, 2, 8}) {
    SCOPED_TRACE(threads);
    ValidateReport report = CollectAndValidate({s, t / "repo/missing.yaml"}, t / "repo", threads);
    EXPECT_THAT(DisplayPaths(CollectSpecFiles({s, t / "repo/missing.yaml"}, t / "repo")),
                ElementsAre(s + "/a-binary.yaml", s + "/b-dup.yaml", s + "/c-empty.yaml", s + "/d-fifo.yaml",
                            s + "/e-escape.yaml", s + "/spec-2026-01-01-001.yaml",
                            s + "/spec-2026-01-01-002.yaml", s + "/z-bomb.yaml", t / "repo/missing.yaml"));
    EXPECT_THAT(Outcomes(report), ElementsAre(Outcome::kInvalid, Outcome::kInvalid, Outcome::kInvalid,
                                              Outcome::kSkipped, Outcome::kInvalid, Outcome::kValid,
                                              Outcome::kValid, Outcome::kInvalid, Outcome::kUnreadable));
    EXPECT_THAT(
        TextLines(report),
        ElementsAre(
            s + "/a-binary.yaml:1:1: error: control byte 0x7f is not allowed in YAML (is this a binary "
                "file?)",
            s + "/b-dup.yaml:2:1: error: /id: duplicate key 'id' (first defined at line 1, column 1)",
            s + "/c-empty.yaml:1:1: error: the file is empty; a spec is a mapping of fields",
            s + "/d-fifo.yaml:1:1: warning: a FIFO, not a file; skipped",
            s + "/e-escape.yaml:1:1: error: symlink points outside the repository (to " + t / "outside.yaml" +
                "); not followed",
            s + "/z-bomb.yaml:1:11: error: /a/1: alias *a refers to a node that contains it (a cycle)",
            t / "repo/missing.yaml" + ":1:1: error: No such file or directory"));
    EXPECT_EQ(report.valid, 2u);
    EXPECT_EQ(report.invalid, 5u);
    EXPECT_EQ(report.skipped, 1u);
    EXPECT_EQ(report.unreadable, 1u);
    EXPECT_EQ(SummaryLine(report), "8 files: 2 valid, 5 invalid, 1 unreadable, 1 skipped");
    EXPECT_EQ(report.ExitCode(), 2);
  }
}

TEST(ValidateSpecFiles, NoFilesIsAllValid) {
  ValidateReport report = ValidateSpecFiles({}, ValidateOptions{}, 0);
  EXPECT_THAT(report.files, IsEmpty());
  EXPECT_EQ(SummaryLine(report), "0 files: 0 valid, 0 invalid");
  EXPECT_EQ(report.ExitCode(), 0);
}

TEST(SummaryLine, WordsAndCounts) {
  ValidateReport r;
  r.valid = 1;
  EXPECT_EQ(SummaryLine(r), "1 file: 1 valid, 0 invalid");
  EXPECT_EQ(r.ExitCode(), 0);
  r.valid = 1998;
  r.invalid = 2;
  EXPECT_EQ(SummaryLine(r), "2000 files: 1998 valid, 2 invalid");
  EXPECT_EQ(r.ExitCode(), 1);
  r.unreadable = 3;
  EXPECT_EQ(SummaryLine(r), "2003 files: 1998 valid, 2 invalid, 3 unreadable");
  EXPECT_EQ(r.ExitCode(), 2);
  r.skipped = 4;
  EXPECT_EQ(SummaryLine(r), "2003 files: 1998 valid, 2 invalid, 3 unreadable, 4 skipped");
  r.unreadable = 0;
  EXPECT_EQ(SummaryLine(r), "2000 files: 1998 valid, 2 invalid, 4 skipped");
  EXPECT_EQ(r.ExitCode(), 1);
}

// ------------------------------------------------------------ repo root

TEST(FindRepoRoot, WalksUpFromANestedDirectory) {
  TempDir t;
  MakeDirs(t / "repo/.agents/specs/active");
  MakeDirs(t / "repo/src/a/b/c");
  EXPECT_EQ(FindRepoRoot(t / "repo/src/a/b/c"), t / "repo");
  EXPECT_EQ(FindRepoRoot(t / "repo"), t / "repo");
  EXPECT_EQ(FindRepoRoot(t / "repo/.agents/specs/active"), t / "repo");
  EXPECT_EQ(SpecsDir(t / "repo"), t / "repo/.agents/specs");
}

TEST(FindRepoRoot, StopsAtAGitDirectory) {
  TempDir t;
  MakeDirs(t / "outer/.agents/specs");
  MakeDirs(t / "outer/inner/.git");
  MakeDirs(t / "outer/inner/x/y");
  EXPECT_EQ(FindRepoRoot(t / "outer/inner/x/y"), t / "outer/inner");
  // A .git file (as in a worktree or submodule) counts too.
  Write(t / "other/.git", "gitdir: /somewhere\n");
  MakeDirs(t / "other/z");
  EXPECT_EQ(FindRepoRoot(t / "other/z"), t / "other");
}

TEST(FindRepoRoot, NormalizesTheStart) {
  TempDir t;
  MakeDirs(t / "repo/.agents/specs");
  MakeDirs(t / "repo/a/b");
  EXPECT_EQ(FindRepoRoot(t / "repo/a/b/../b/./"), t / "repo");
}

TEST(FindRepoRoot, NoneWhenThereIsNoRepository) {
  TempDir t;
  MakeDirs(t / "plain/dir");
  if (FindRepoRoot("/tmp").has_value()) GTEST_SKIP() << "/tmp is itself inside a repository";
  EXPECT_EQ(FindRepoRoot(t / "plain/dir"), std::nullopt);
  // A .agents directory without specs/ does not make a repository.
  MakeDirs(t / "plain/.agents");
  EXPECT_EQ(FindRepoRoot(t / "plain/dir"), std::nullopt);
}

}  // namespace
}  // namespace specd
