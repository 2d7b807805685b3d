// The engine over real parts: a temporary repository on disk, a real SQLite
// journal file, and FakeEnv (real files underneath) for the clock, call
// counts and injected failures. Each test builds a small world, acts once
// or a few times, and asserts the whole file's bytes, the journal's rows and
// the events, exactly.
#include "engine/engine.h"

#include <fcntl.h>
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
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "schema/validate.h"
#include "tests/fake_env.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// A small world.

constexpr int64_t kT0 = 1771408800000;  // 2026-02-18T10:00:00Z
constexpr int64_t kMinute = 60'000;
constexpr char kId[] = "spec-2026-02-18-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-02-18-001.yaml";

std::string Ts(int64_t ms) {
  return FormatTimestamp(ms);
}

using ::specd::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `bytes` as an editor does: a new file renamed over the old one (a
// new inode, so the edit is seen whatever the clock's granularity).
void EditorWrite(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::string temp = fs::path(path).parent_path().string() + "/.editor-swap";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << temp;
  }
  ASSERT_EQ(::rename(temp.c_str(), path.c_str()), 0) << std::strerror(errno);
}

using ::specd::testing::Replace;

// How the write-back renders a trace id: plain, unless it would read as a
// number under YAML 1.2's core schema (all digits, or digits e digits).
std::string TraceText(const std::string& trace) {
  bool digits = trace.find_first_not_of("0123456789") == std::string::npos;
  size_t e = trace.find_first_of("eE");
  bool float_like = e != std::string::npos && e > 0 && e + 1 < trace.size() &&
                    trace.substr(0, e).find_first_not_of("0123456789") == std::string::npos &&
                    trace.substr(e + 1).find_first_not_of("0123456789") == std::string::npos;
  return digits || float_like ? "\"" + trace + "\"" : trace;
}

// One appended changeLog item, as the write-back writes it (block style,
// two-space step, the keys in this order, empty reason left out). A reason
// is double-quoted when it cannot be plain ("a: b") or when the item before
// it had its reason double-quoted (new items copy their sibling's style).
std::string LogEntry(int64_t at, const std::string& actor, const std::string& from, const std::string& to,
                     const std::string& reason, const std::string& trace, bool quoted_reason = false) {
  const std::string nl = "\n";
  std::string s = "  - at: \"" + Ts(at) + "\"" + nl + "    actor: " + actor + nl + "    from: " + from + nl +
                  "    to: " + to + nl;
  if (quoted_reason || reason.find(": ") != std::string::npos) {
    s += "    reason: \"" + reason + "\"" + nl;
  } else if (!reason.empty()) {
    s += "    reason: " + reason + nl;
  }
  s += "    trace: " + TraceText(trace) + nl;
  return s;
}

// The spec every test starts from: comments, a blank line, a trailing
// comment, `updatedAt` absent.
const std::string kDraft =
    "# Written by hand; specd must keep this comment.\n"
    "id: spec-2026-02-18-001\n"
    "version: \"1.0.0\"\n"
    "status: draft # the author's status\n"
    "\n"
    "metadata:\n"
    "  title: Export reports as CSV files # the title\n"
    "  author: ada\n"
    "  createdAt: \"2026-02-18T09:00:00Z\"\n"
    "  priority: medium\n"
    "\n"
    "requirements:\n"
    "  - id: REQ-001\n"
    "    description: Reports can be exported.\n"
    "    priority: high\n"
    "    acceptanceCriteria:\n"
    "      - a CSV file downloads\n"
    "    status: pending\n"
    "# The end.\n";

std::string WithStatus(const std::string& text, const std::string& status) {
  return Replace(text, "status: draft # the author's status", "status: " + status + " # the author's status");
}

// kDraft as the engine writes it at `at` with `status` and changeLog `log`
// (the concatenated LogEntry items, in the order appended).
std::string Written(const std::string& base, const std::string& status, int64_t at, const std::string& log) {
  std::string s = WithStatus(base, status);
  s = Replace(s, "  priority: medium\n", "  priority: medium\n  updatedAt: \"" + Ts(at) + "\"\n");
  return Replace(s, "    status: pending\n#", "    status: pending\nchangeLog:\n" + log + "#");
}

const std::string kOneTask =
    "tasks:\n"
    "  - id: TASK-001\n"
    "    title: Write the CSV exporter\n"
    "    type: feature\n"
    "    status: pending # the worker moves it\n"
    "    assignedTo: null\n"
    "    files:\n"
    "      - src/export/csv.cc\n";

std::string ProgressBlock(int total, int pending, int in_progress, int submitted, int reviewed, int done,
                          int failed, int blocked, int percent) {
  return "progress:\n  total: " + std::to_string(total) + "\n  pending: " + std::to_string(pending) +
         "\n  inProgress: " + std::to_string(in_progress) +
         "\n  diffSubmitted: " + std::to_string(submitted) + "\n  reviewed: " + std::to_string(reviewed) +
         "\n  done: " + std::to_string(done) + "\n  failed: " + std::to_string(failed) +
         "\n  blocked: " + std::to_string(blocked) + "\n  percent: " + std::to_string(percent) + "\n";
}

// Journal rows as one line each, so a mismatch reads as text.
std::string Row(const TransitionRecord& t) {
  return "#" + std::to_string(t.seq) + " " + t.spec_id + " " + (t.from.empty() ? "(new)" : t.from) + " -> " +
         t.to + " by " + t.actor + " '" + t.reason + "' at " + Ts(t.at_ms) + " trace " + t.trace_id +
         " hash " + t.content_hash;
}
std::string Row(const RefusalRecord& r) {
  return r.spec_id + " " + r.from + " -> " + r.requested + " refused, by " + r.actor + " '" + r.reason +
         "' at " + Ts(r.at_ms);
}
std::string Row(const std::string& id, const std::string& from, const std::string& to,
                const std::string& actor, const std::string& reason, int64_t at, const std::string& trace,
                const std::string& bytes, int64_t seq) {
  TransitionRecord t{seq, id, trace, actor, from, to, reason, at, ContentHash(bytes)};
  return Row(t);
}

class RecordingSink : public EventSink {
 public:
  void OnEvent(const EngineEvent& e) override { events.push_back(e); }
  std::vector<EngineEvent> events;
};

std::vector<std::string> Lines(const std::vector<EngineEvent>& events) {
  std::vector<std::string> out;
  for (const EngineEvent& e : events) out.push_back(DescribeEvent(e));
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : env_(kT0) {
    // The files were written long before the engine looks at them: their
    // stamps are kept (StampIsSettled). RacilyCleanStampIsNotKept looks in
    // the clock tick of the write instead.
    env_.SkewFileClock(int64_t{3600} * 1'000'000'000);
    Result<std::unique_ptr<Journal>> j = Journal::Open(journal_dir_ / "journal.db");
    EXPECT_TRUE(j.ok()) << j.error().message;
    if (j.ok()) journal_ = std::move(*j);
    engine_ = std::make_unique<SpecEngine>(&env_, journal_.get(), repo_.path());
    engine_->AddSink(&sink_);
  }

  std::string Path(const std::string& rel = kRel) const { return repo_ / rel; }
  std::string File(const std::string& rel = kRel) const { return ReadAll(Path(rel)); }
  void Edit(const std::string& bytes, const std::string& rel = kRel) { EditorWrite(Path(rel), bytes); }

  // One reconcile pass; its events as lines. Checks the sink saw the same.
  std::vector<std::string> Reconcile() {
    sink_.events.clear();
    Result<PassReport> r = engine_->ReconcileAll();
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {"error: " + r.error().message};
    last_ = *r;
    EXPECT_EQ(Lines(sink_.events), Lines(r->events));
    return Lines(r->events);
  }

  Result<Decision> Verb(SpecState to, const std::string& actor, Role role, const std::string& reason = "") {
    sink_.events.clear();
    return engine_->RequestTransition(kId, to, Actor{actor, role}, reason);
  }

  // The trace id the engine gave kId when it registered it (random: read back).
  std::string Trace() { return Record().trace_id; }
  SpecRecord Record(const std::string& id = kId) {
    Result<std::optional<SpecRecord>> r = journal_->GetSpec(id);
    EXPECT_TRUE(r.ok() && r->has_value()) << id;
    return r.ok() && r->has_value() ? **r : SpecRecord{};
  }
  std::vector<std::string> Transitions(const std::string& id = kId) {
    std::vector<std::string> out;
    Result<std::vector<TransitionRecord>> ts = journal_->Transitions(id);
    EXPECT_TRUE(ts.ok());
    if (ts.ok()) {
      for (const TransitionRecord& t : *ts) out.push_back(Row(t));
    }
    return out;
  }
  std::vector<std::string> Refusals(const std::string& id = kId) {
    std::vector<std::string> out;
    Result<std::vector<RefusalRecord>> rs = journal_->Refusals(id);
    EXPECT_TRUE(rs.ok());
    if (rs.ok()) {
      for (const RefusalRecord& r : *rs) out.push_back(Row(r));
    }
    return out;
  }
  std::vector<std::string> Failures(const std::string& id = kId) {
    std::vector<std::string> out;
    Result<std::vector<FailureRecord>> fs = journal_->Failures(id);
    EXPECT_TRUE(fs.ok());
    if (fs.ok()) {
      for (const FailureRecord& f : *fs) {
        out.push_back("#" + std::to_string(f.id) + " " + f.spec_id + " task '" + f.task_id + "' at " +
                      Ts(f.at_ms) + ": " + f.summary + " | details: " + f.details +
                      " | resolution: " + f.resolution);
      }
    }
    return out;
  }
  // Names in the active directory that are specd's temp files.
  std::vector<std::string> TempFiles(const std::string& dir = ".agents/specs/active") {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(repo_ / dir, ec)) {
      std::string name = e.path().filename().string();
      if (name.rfind(kTempPrefix, 0) == 0) out.push_back(name);
    }
    return out;
  }
  // Saves `bytes` over the spec in place (same inode) and puts its mtime
  // back: a save that neither size, inode nor mtime tells from the version
  // before it (what one in the same clock tick looks like).
  void SaveInPlaceKeepingMtime(const std::string& bytes) {
    struct stat before;
    ASSERT_EQ(::stat(Path().c_str(), &before), 0);
    {
      std::ofstream out(Path(), std::ios::binary | std::ios::in | std::ios::out);
      out << bytes;
    }
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, Path().c_str(), times, 0), 0);
  }
  // The record's stamp is the file's.
  void ExpectRecordMatchesFile(const std::string& rel = kRel) {
    SpecRecord r = Record();
    std::string bytes = File(rel);
    EXPECT_EQ(r.path, rel);
    EXPECT_EQ(r.content_hash, ContentHash(bytes));
    Result<FileStamp> st = Env::Default()->Stat(Path(rel));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(r.size, st->size);
    EXPECT_EQ(r.mtime_ns, st->mtime_ns);
    EXPECT_EQ(r.inode, st->inode);
  }

  // kDraft registered at kT0, and the spec moved to review by the author's
  // edit at kT0 + 1 minute. Returns the file's bytes.
  std::string InReview() {
    Edit(kDraft);
    Reconcile();
    env_.SetNowMillis(kT0 + kMinute);
    Edit(WithStatus(kDraft, "review"));
    Reconcile();
    return File();
  }

  TempDir repo_;
  TempDir journal_dir_;
  FakeEnv env_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<SpecEngine> engine_;
  RecordingSink sink_;
  PassReport last_;
};

// ---------------------------------------------------------------------------
// Registering, and not re-reading what has not changed.

TEST_F(EngineTest, NewSpecIsRegisteredAtItsStatusAndLeftAsItIs) {
  Edit(kDraft);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: registered at draft"});
  EXPECT_EQ(last_.files, 1u);
  EXPECT_EQ(last_.unchanged, 0u);
  EXPECT_EQ(File(), kDraft);  // nothing to write: no byte changed
  SpecRecord r = Record();
  EXPECT_EQ(r.id, kId);
  EXPECT_EQ(r.status, "draft");
  EXPECT_EQ(r.generation, 0);
  EXPECT_EQ(r.trace_id.size(), 16u);  // random (NewTraceId), the same in every row below
  EXPECT_EQ(r.written_hash, "");
  EXPECT_EQ(r.errors, "");
  EXPECT_FALSE(r.removed);
  EXPECT_EQ(r.updated_ms, kT0);
  ExpectRecordMatchesFile();
  EXPECT_EQ(Transitions(),
            std::vector<std::string>{Row(kId, "", "draft", "specd", "registered", kT0, Trace(), kDraft, 1)});
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
}

TEST_F(EngineTest, UnchangedFileIsNotReadAgain) {
  Edit(kDraft);
  Reconcile();
  env_.ResetCounts();
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  EXPECT_EQ(last_.files, 1u);
  EXPECT_EQ(last_.unchanged, 1u);
  EXPECT_EQ(env_.Count(FakeEnv::Op::kNewTempFile), 0);

  // Touched (a new mtime, same bytes): read once, nothing else happens, and
  // the new stamp is kept so the next pass reads nothing again.
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'700'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, Path().c_str(), times, 0), 0);
  env_.ResetCounts();
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  EXPECT_EQ(Record().generation, 0);
  ExpectRecordMatchesFile();
  env_.ResetCounts();
  Reconcile();
  EXPECT_EQ(last_.unchanged, 1u);
  EXPECT_EQ(Transitions().size(), 1u);
}

// An edit of the same size, in place (same inode), whose mtime equals the
// one recorded: what a save within the same file-system clock tick as the
// previous write looks like (ext4 and tmpfs stamp with a coarse clock), or
// a tool that keeps mtimes. The size/mtime/inode shortcut must not hide it
// for ever ("racily clean", as git calls it): the journal would keep the
// old hash, and every verb would then find the file "changed since the
// pass" on each of its attempts and give up.
TEST_F(EngineTest, SameSizeEditInTheSameClockTickIsSeen) {
  const std::string review = InReview();
  struct stat before;
  ASSERT_EQ(::stat(Path().c_str(), &before), 0);
  const std::string edited = Replace(review, "Export reports as CSV files", "Export reports as TSV files");
  ASSERT_EQ(edited.size(), review.size());
  {
    std::ofstream out(Path(), std::ios::binary | std::ios::in | std::ios::out);  // in place
    out << edited;
  }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, Path().c_str(), times, 0), 0);
  ASSERT_EQ(File(), edited);

  env_.SetNowMillis(kT0 + 2 * kMinute);
  Reconcile();
  EXPECT_EQ(Record().content_hash, ContentHash(edited));
  EXPECT_EQ(Record().generation, 2);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed) << d->reason;
  EXPECT_NE(File().find("Export reports as TSV files"), std::string::npos);
  EXPECT_EQ(Record().status, "planning");
}

// A stamp taken in the clock tick of the file's last write is not kept: a
// second write in that tick, of the same size and in place, leaves stat(2)
// saying what it said before, and only the bytes tell. (The ctime defeats a
// tool that restores mtimes, as above, but not this.) The next pass reads
// the file again, and keeps the stamp once it is older than a tick.
TEST_F(EngineTest, RacilyCleanStampIsNotKept) {
  env_.SkewFileClock(-1'000'000'000);  // every look is made in the tick of the last write
  Edit(kDraft);
  Reconcile();
  EXPECT_EQ(Record().content_hash, ContentHash(kDraft));
  EXPECT_EQ(Record().size, 0u);  // no stamp kept
  EXPECT_EQ(Record().mtime_ns, 0);

  Result<FileStamp> stamp = Env::Default()->Stat(Path());
  ASSERT_TRUE(stamp.ok());
  env_.PinStamp(Path(), *stamp);  // the write below leaves the same stamp
  const std::string edited = Replace(kDraft, "Export reports as CSV files", "Export reports as TSV files");
  ASSERT_EQ(edited.size(), std::string(kDraft).size());
  {
    std::ofstream out(Path(), std::ios::binary | std::ios::in | std::ios::out);  // in place
    out << edited;
  }
  env_.SetNowMillis(kT0 + kMinute);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: edited"});
  EXPECT_EQ(Record().content_hash, ContentHash(edited));
  EXPECT_EQ(Record().generation, 1);

  env_.SkewFileClock(int64_t{3600} * 1'000'000'000);   // a while later: the stamp is settled
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});  // hashed once more, not parsed
  EXPECT_EQ(last_.unchanged, 1u);
  EXPECT_EQ(Record().size, stamp->size);
  EXPECT_EQ(Record().mtime_ns, stamp->mtime_ns);
  EXPECT_EQ(Record().generation, 1);

  // From now on stat(2) is enough: a file whose stamp is settled is not read
  // (which is why only a stamp no later write can repeat may be kept).
  {
    std::ofstream out(Path(), std::ios::binary | std::ios::in | std::ios::out);
    out << kDraft;
  }
  Reconcile();
  EXPECT_EQ(last_.unchanged, 1u);
  EXPECT_EQ(Record().content_hash, ContentHash(edited));
}

// ---------------------------------------------------------------------------
// Author edits and specd's own writes.

TEST_F(EngineTest, AuthorEditsCountAsGenerationsSpecdsOwnWritesDoNot) {
  Edit(kDraft);
  Reconcile();
  EXPECT_EQ(Record().generation, 0);

  env_.SetNowMillis(kT0 + kMinute);
  std::string retitled = Replace(kDraft, "Export reports as CSV files", "Export every report as a CSV file");
  Edit(retitled);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: edited"});
  EXPECT_EQ(File(), retitled);  // a valid draft: nothing for specd to write
  EXPECT_EQ(Record().generation, 1);
  EXPECT_EQ(Record().status, "draft");
  ExpectRecordMatchesFile();

  env_.SetNowMillis(kT0 + 2 * kMinute);
  Edit(WithStatus(retitled, "review"));  // the author's second edit; specd writes back
  Reconcile();
  EXPECT_EQ(Record().generation, 2);
  EXPECT_EQ(Record().written_hash, ContentHash(File()));
  Reconcile();  // specd's own write is not an edit
  EXPECT_EQ(last_.unchanged, 1u);
  EXPECT_EQ(Record().generation, 2);

  env_.SetNowMillis(kT0 + 3 * kMinute);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed);
  Reconcile();
  EXPECT_EQ(Record().generation, 2);
  EXPECT_EQ(Record().status, "planning");
  ExpectRecordMatchesFile();
}

TEST_F(EngineTest, LegalStatusEditIsRecordedWithTheAuthorAsActor) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  Edit(WithStatus(kDraft, "review"));
  EXPECT_EQ(Reconcile(), std::vector<std::string>{
                             "spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
  const std::string expected =
      Written(kDraft, "review", kT0 + kMinute,
              LogEntry(kT0 + kMinute, "ada", "draft", "review", "status edited in the file", Trace()));
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Transitions(),
            (std::vector<std::string>{Row(kId, "", "draft", "specd", "registered", kT0, Trace(), kDraft, 1),
                                      Row(kId, "draft", "review", "ada", "status edited in the file",
                                          kT0 + kMinute, Trace(), expected, 2)}));
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
  EXPECT_EQ(Record().status, "review");
  EXPECT_EQ(Record().generation, 1);
  ExpectRecordMatchesFile();
  ASSERT_EQ(sink_.events.size(), 1u);
  const EngineEvent& e = sink_.events[0];
  EXPECT_EQ(e.kind, EngineEvent::Kind::kTransition);
  EXPECT_EQ(e.spec_id, kId);
  EXPECT_EQ(e.path, kRel);
  EXPECT_EQ(e.from, "draft");
  EXPECT_EQ(e.to, "review");
  EXPECT_EQ(e.actor, "ada");
  EXPECT_EQ(e.reason, "status edited in the file");
}

TEST_F(EngineTest, IllegalStatusEditIsRefusedAndEveryOtherEditKept) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  // draft -> completed, and in the same save a new title and a new comment.
  std::string edited = Replace(WithStatus(kDraft, "completed"), "Export reports as CSV files",
                               "Export reports as CSV and TSV files");
  edited = Replace(edited, "  author: ada\n", "  author: ada\n  # ada: TSV too, asked by finance\n");
  Edit(edited);
  EXPECT_EQ(
      Reconcile(),
      std::vector<std::string>{
          "spec-2026-02-18-001: refused draft -> completed, status put back to draft: draft -> completed is "
          "not a step of the spec life cycle (from draft it goes to review, or cancelled)"});
  const std::string expected =
      "# Written by hand; specd must keep this comment.\n"
      "id: spec-2026-02-18-001\n"
      "version: \"1.0.0\"\n"
      "status: draft # the author's status\n"
      "\n"
      "metadata:\n"
      "  title: Export reports as CSV and TSV files # the title\n"
      "  author: ada\n"
      "  # ada: TSV too, asked by finance\n"
      "  createdAt: \"2026-02-18T09:00:00Z\"\n"
      "  priority: medium\n"
      "  updatedAt: \"2026-02-18T10:01:00Z\"\n"
      "\n"
      "requirements:\n"
      "  - id: REQ-001\n"
      "    description: Reports can be exported.\n"
      "    priority: high\n"
      "    acceptanceCriteria:\n"
      "      - a CSV file downloads\n"
      "    status: pending\n"
      "# The end.\n";
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Refusals(),
            std::vector<std::string>{
                "spec-2026-02-18-001 draft -> completed refused, by ada 'draft -> completed is not a step "
                "of the spec life cycle (from draft it goes to review, or cancelled)' at "
                "2026-02-18T10:01:00Z"});
  EXPECT_EQ(Transitions().size(), 1u);  // only the registration
  EXPECT_EQ(Record().status, "draft");
  EXPECT_EQ(Record().generation, 1);
  EXPECT_EQ(Record().errors, "");
  ExpectRecordMatchesFile();
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, EngineEvent::Kind::kRefused);
  EXPECT_EQ(sink_.events[0].actor, "ada");
  // The put-back file is specd's own write: nothing more happens.
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  EXPECT_EQ(last_.unchanged, 1u);
}

// planning -> completed without tasks also breaks "tasks are required from
// in-progress on": still a status edit to refuse, not a broken file.
TEST_F(EngineTest, IllegalStatusEditThatAlsoBreaksATaskRuleIsRefusedNotCalledInvalid) {
  Edit(WithStatus(kDraft, "approved"));
  EXPECT_EQ(Reconcile(), (std::vector<std::string>{
                             "spec-2026-02-18-001: registered at approved",
                             "spec-2026-02-18-001: approved -> planning (specd: approved: planning starts)",
                             "spec-2026-02-18-001: planning, waiting: the plan has no tasks yet"}));
  const std::string planning = File();
  EXPECT_EQ(planning,
            Written(kDraft, "planning", kT0,
                    LogEntry(kT0, "specd", "approved", "planning", "approved: planning starts", Trace())));
  env_.SetNowMillis(kT0 + kMinute);
  std::string edited = Replace(planning, "status: planning #", "status: completed #");
  edited = Replace(edited, "# The end.\n", "# ada: we are done, I think\n# The end.\n");
  Edit(edited);
  EXPECT_EQ(
      Reconcile(),
      (std::vector<std::string>{
          "spec-2026-02-18-001: refused planning -> completed, status put back to planning: planning -> "
          "completed is not a step of the spec life cycle (from planning it goes to in-progress, or "
          "cancelled)"}));  // still waiting for tasks: said once, when it began
  std::string expected = Replace(planning, "# The end.\n", "# ada: we are done, I think\n# The end.\n");
  expected = Replace(expected, "updatedAt: \"2026-02-18T10:00:00Z\"", "updatedAt: \"2026-02-18T10:01:00Z\"");
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Record().status, "planning");
  EXPECT_EQ(Record().errors, "");
  EXPECT_EQ(Refusals(),
            std::vector<std::string>{
                "spec-2026-02-18-001 planning -> completed refused, by ada 'planning -> completed is not "
                "a step of the spec life cycle (from planning it goes to in-progress, or cancelled)' at "
                "2026-02-18T10:01:00Z"});
}

// ---------------------------------------------------------------------------
// The engine's own steps.

TEST_F(EngineTest, ApprovedMovesToPlanningAtOnce) {
  const std::string review = InReview();
  env_.SetNowMillis(kT0 + 2 * kMinute);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->to, SpecState::kApproved);
  const int64_t t2 = kT0 + 2 * kMinute;
  const std::string expected =
      Written(kDraft, "planning", t2,
              LogEntry(kT0 + kMinute, "ada", "draft", "review", "status edited in the file", Trace()) +
                  LogEntry(t2, "rex", "review", "approved", "", Trace()) +
                  LogEntry(t2, "specd", "approved", "planning", "approved: planning starts", Trace()));
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(
      Transitions(),
      (std::vector<std::string>{
          Row(kId, "", "draft", "specd", "registered", kT0, Trace(), kDraft, 1),
          Row(kId, "draft", "review", "ada", "status edited in the file", kT0 + kMinute, Trace(), review, 2),
          Row(kId, "review", "approved", "rex", "", t2, Trace(), expected, 3),
          Row(kId, "approved", "planning", "specd", "approved: planning starts", t2, Trace(), expected, 4)}));
  EXPECT_EQ(Lines(sink_.events),
            (std::vector<std::string>{
                "spec-2026-02-18-001: review -> approved (rex)",
                "spec-2026-02-18-001: approved -> planning (specd: approved: planning starts)",
                "spec-2026-02-18-001: planning, waiting: the plan has no tasks yet"}));
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[2].kind, EngineEvent::Kind::kWaiting);
  EXPECT_EQ(sink_.events[2].from, "planning");
  EXPECT_EQ(sink_.events[2].actor, "specd");
  EXPECT_EQ(sink_.events[2].reason, "the plan has no tasks yet");
  EXPECT_EQ(Record().status, "planning");
  ExpectRecordMatchesFile();
}

TEST_F(EngineTest, PlanningWaitsForTasksThenForAClaimThenStarts) {
  Edit(WithStatus(kDraft, "approved"));
  Reconcile();
  const std::string planning = File();

  env_.SetNowMillis(kT0 + kMinute);
  Edit(Replace(planning, "changeLog:\n", kOneTask + "changeLog:\n"));
  EXPECT_EQ(Reconcile(),
            std::vector<std::string>{"spec-2026-02-18-001: planning, waiting: no task has been claimed yet"});
  // Git-clean: the author's edit is all; a missing progress block is not a
  // change of specd's to write on its own.
  std::string expected = Replace(planning, "changeLog:\n", kOneTask + "changeLog:\n");
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Record().status, "planning");

  env_.SetNowMillis(kT0 + 2 * kMinute);
  const int64_t t2 = kT0 + 2 * kMinute;
  Edit(Replace(File(), "status: pending # the worker moves it", "status: in-progress # the worker moves it"));
  EXPECT_EQ(
      Reconcile(),
      (std::vector<std::string>{
          "spec-2026-02-18-001: planning -> in-progress (specd: the plan is sound and a task is claimed)",
          "spec-2026-02-18-001: in-progress, waiting: 1 of 1 tasks have not submitted a diff"}));
  expected =
      Replace(expected, "status: pending # the worker moves it", "status: in-progress # the worker moves it");
  // With a transition to write, the progress block rides along.
  expected = Replace(expected, "changeLog:\n", ProgressBlock(1, 0, 1, 0, 0, 0, 0, 0, 0) + "changeLog:\n");
  expected = Replace(expected, "status: planning #", "status: in-progress #");
  expected = Replace(expected, "updatedAt: \"2026-02-18T10:00:00Z\"", "updatedAt: \"2026-02-18T10:02:00Z\"");
  expected = Replace(expected, "# The end.\n",
                     LogEntry(t2, "specd", "planning", "in-progress",
                              "the plan is sound and a task is claimed", Trace(), /*quoted_reason=*/true) +
                         "# The end.\n");
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Record().status, "in-progress");
  std::vector<std::string> ts = Transitions();
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts[2], Row(kId, "planning", "in-progress", "specd", "the plan is sound and a task is claimed", t2,
                       Trace(), expected, 3));
}

// A dependency cycle is not a plan to wait on: the file does not validate,
// and is not rewritten.
TEST_F(EngineTest, PlanWithACycleOrAnUnknownDependencyIsInvalidAndNotRewritten) {
  Edit(WithStatus(kDraft, "approved"));
  Reconcile();
  const std::string planning = File();
  env_.SetNowMillis(kT0 + kMinute);
  std::string tasks =
      "tasks:\n"
      "  - id: TASK-001\n    title: One\n    type: feature\n    status: pending\n    dependencies: "
      "[TASK-002]\n"
      "  - id: TASK-002\n    title: Two\n    type: test\n    status: pending\n    dependencies: [TASK-001, "
      "TASK-009]\n";
  std::string edited = Replace(planning, "changeLog:\n", tasks + "changeLog:\n");
  Edit(edited);
  std::vector<std::string> events = Reconcile();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].rfind("spec-2026-02-18-001: invalid, left as it is: " + std::string(kRel) + ":", 0), 0u)
      << events[0];
  EXPECT_EQ(File(), edited);
  std::string errors = Record().errors;
  EXPECT_NE(errors.find("dependency 'TASK-009' is not a task of this spec"), std::string::npos) << errors;
  EXPECT_NE(errors.find("dependency cycle: "), std::string::npos) << errors;
  EXPECT_EQ(Record().status, "planning");  // the last legal status
}

// ---------------------------------------------------------------------------
// Invalid and removed files.

TEST_F(EngineTest, InvalidFileIsNeverRewrittenAndItsErrorsAreJournaled) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  // Invalid, and with a status edit specd would otherwise act on.
  std::string broken =
      Replace(WithStatus(kDraft, "review"), "    priority: high\n", "    priority: urgent\n");
  Edit(broken);
  env_.ResetCounts();
  const std::string error =
      std::string(kRel) +
      ":15:15: error: /requirements/0/priority: must be one of low, medium, high, critical "
      "(got 'urgent')";
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: invalid, left as it is: " + error});
  EXPECT_EQ(File(), broken);
  EXPECT_EQ(env_.Count(FakeEnv::Op::kNewTempFile), 0);
  SpecRecord r = Record();
  EXPECT_EQ(r.errors, error + "\n");
  EXPECT_EQ(r.status, "draft");
  EXPECT_EQ(r.generation, 1);
  ExpectRecordMatchesFile();
  EXPECT_EQ(Transitions().size(), 1u);
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
  // Recorded as a failure, for `specd failures --like`.
  const std::string failure =
      "#1 spec-2026-02-18-001 task '' at 2026-02-18T10:01:00Z: /requirements/0/priority: must be one of low, "
      "medium, high, critical (got 'urgent') | details: " +
      error + "\n | resolution: ";
  EXPECT_EQ(Failures(), std::vector<std::string>{failure});
  // The same errors again (touched, saved again): not a new failure.
  env_.SetNowMillis(kT0 + 90'000);
  Edit(broken + "# saved again\n");
  Reconcile();
  EXPECT_EQ(Failures(), std::vector<std::string>{failure});
  // A verb on it is refused with the errors.
  Result<Decision> d = Verb(SpecState::kReview, "ada", Role::kAuthor);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->reason, "the spec does not validate; fix it first:\n" + error + "\n");
  EXPECT_EQ(File(), broken + "# saved again\n");
}

// The author fixes the file, which also carries a status edit: the edit is
// acted on and written back, and the journal forgets the old errors and
// records the new status (else the journal and the file disagree, and every
// verb is refused with errors the file no longer has).
TEST_F(EngineTest, InvalidFileFixedWithAStatusEditIsActedOnAndItsErrorsCleared) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  Edit(Replace(WithStatus(kDraft, "review"), "    priority: high\n", "    priority: urgent\n"));
  Reconcile();
  ASSERT_NE(Record().errors, "");

  env_.SetNowMillis(kT0 + 2 * kMinute);
  Edit(WithStatus(kDraft, "review"));
  EXPECT_EQ(Reconcile(), std::vector<std::string>{
                             "spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
  const std::string expected =
      Written(kDraft, "review", kT0 + 2 * kMinute,
              LogEntry(kT0 + 2 * kMinute, "ada", "draft", "review", "status edited in the file", Trace()));
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Record().errors, "");
  EXPECT_EQ(Record().status, "review");
  EXPECT_EQ(Transitions().back(), Row(kId, "draft", "review", "ada", "status edited in the file",
                                      kT0 + 2 * kMinute, Trace(), expected, 2));
  std::vector<std::string> failures = Failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].substr(failures[0].find(" | resolution: ")),
            " | resolution: fixed by an edit of the file at 2026-02-18T10:02:00Z (author edit #2)");
  env_.SetNowMillis(kT0 + 3 * kMinute);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed) << d->reason;
}

TEST_F(EngineTest, FileThatWasNeverValidIsJournaledWithItsErrorsAndNoStatus) {
  std::string broken = Replace(kDraft, "version: \"1.0.0\"\n", "");
  Edit(broken);
  std::vector<std::string> events = Reconcile();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], "spec-2026-02-18-001: invalid, left as it is: " + std::string(kRel) +
                           ":2:1: error: /version: required field 'version' is missing");
  EXPECT_EQ(File(), broken);
  SpecRecord r = Record();
  EXPECT_EQ(r.status, "");
  EXPECT_NE(r.errors, "");
  EXPECT_EQ(Transitions(), std::vector<std::string>{});
  // Made valid: registered then.
  env_.SetNowMillis(kT0 + kMinute);
  Edit(kDraft);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: registered at draft"});
  EXPECT_EQ(Record().errors, "");
}

// A watcher may look at a file mid-write: asked to hold, the engine neither
// journals the half file's errors nor calls it a failure; once the writer is
// done the final, valid content is simply acted on.
TEST_F(EngineTest, HeldInvalidFileIsNotJournaledAndTheFinalContentIsActedOn) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  const std::string half = WithStatus(kDraft, "review").substr(0, 120);  // cut inside metadata
  Edit(half);
  Result<PassReport> held = engine_->ReconcilePath(kRel, /*hold_invalid=*/true);
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(held->held, std::vector<std::string>{kRel});
  EXPECT_EQ(Lines(held->events), std::vector<std::string>{});
  EXPECT_EQ(Record().errors, "");
  EXPECT_EQ(Record().generation, 0);
  EXPECT_EQ(Failures(), std::vector<std::string>{});

  Edit(WithStatus(kDraft, "review"));
  Result<PassReport> done = engine_->ReconcilePath(kRel, /*hold_invalid=*/true);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->held, std::vector<std::string>{});
  EXPECT_EQ(
      Lines(done->events),
      std::vector<std::string>{"spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
  EXPECT_EQ(Failures(), std::vector<std::string>{});
  EXPECT_EQ(Record().generation, 1);
}

TEST_F(EngineTest, AHeldFileStillInvalidWhenAskedAgainWithoutHoldIsAFailure) {
  Edit(kDraft);
  Reconcile();
  Edit("id: [unclosed\n");
  ASSERT_EQ(engine_->ReconcilePath(kRel, true)->held.size(), 1u);
  Result<PassReport> final_pass = engine_->ReconcilePath(kRel);
  ASSERT_TRUE(final_pass.ok());
  ASSERT_EQ(final_pass->events.size(), 1u);
  EXPECT_EQ(final_pass->events[0].kind, EngineEvent::Kind::kInvalid);
  EXPECT_EQ(Failures().size(), 1u);
}

TEST_F(EngineTest, SpecsInSubdirectoriesOfActiveAreReconciled) {
  const std::string rel = ".agents/specs/active/team-a/spec-2026-02-18-001.yaml";
  Edit(kDraft, rel);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: registered at draft"});
  EXPECT_EQ(Record().path, rel);
  env_.ResetCounts();
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  EXPECT_EQ(last_.unchanged, 1u);
}

// Many files in one call: one journal transaction per group, the sink told
// of each event once the group is committed, every file journaled.
TEST_F(EngineTest, ManyPathsAreJournaledInGroupsAndTheSinkHearsEachEventOnce) {
  std::vector<std::string> rels;
  for (int i = 1; i <= 600; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "spec-2026-02-18-%03d", i);
    std::string rel = std::string(".agents/specs/active/") + id + ".yaml";
    Edit(Replace(kDraft, kId, id), rel);
    rels.push_back(rel);
  }
  sink_.events.clear();
  std::vector<size_t> progress;
  Result<PassReport> r = engine_->ReconcilePaths(rels, false, [&](size_t done, size_t total) {
    EXPECT_EQ(total, 600u);
    progress.push_back(done);
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 600u);
  EXPECT_EQ(r->events.size(), 600u);
  EXPECT_EQ(Lines(sink_.events), Lines(r->events));
  EXPECT_EQ(progress, (std::vector<size_t>{256, 512, 600}));
  Result<std::vector<PathStamp>> stamps = journal_->ListStamps();
  ASSERT_TRUE(stamps.ok());
  EXPECT_EQ(stamps->size(), 600u);
}

TEST_F(EngineTest, DeletedFileIsRecordedAsRemovedAndItsHistoryKept) {
  InReview();
  std::vector<std::string> history = Transitions();
  ASSERT_EQ(history.size(), 2u);
  env_.SetNowMillis(kT0 + 5 * kMinute);
  ASSERT_EQ(::unlink(Path().c_str()), 0);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: file removed (" + std::string(kRel) +
                                                  "), history kept"});
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, EngineEvent::Kind::kRemoved);
  SpecRecord r = Record();
  EXPECT_TRUE(r.removed);
  EXPECT_EQ(r.status, "review");
  EXPECT_EQ(r.path, kRel);
  EXPECT_EQ(r.updated_ms, kT0 + 5 * kMinute);
  EXPECT_EQ(Transitions(), history);
  Result<std::vector<SpecRecord>> live = journal_->ListSpecs();
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->empty());
  Result<std::vector<SpecRecord>> all = journal_->ListSpecs(true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  // Said once.
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  // A verb on a removed spec is an error naming it.
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "no spec spec-2026-02-18-001 in " + repo_.path() + "/.agents/specs/");
}

// ---------------------------------------------------------------------------
// Verbs.

TEST_F(EngineTest, CancelledSpecMovesToTheArchiveOfTheClocksMonth) {
  InReview();
  const int64_t march = 1772703000000;  // 2026-03-05T09:30:00Z
  env_.SetNowMillis(march);
  Result<Decision> refused = Verb(SpecState::kCancelled, "pat", Role::kPerson, "");
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->reason, "cancelling needs a reason (--reason)");
  EXPECT_TRUE(fs::exists(Path()));

  Result<Decision> d = Verb(SpecState::kCancelled, "pat", Role::kPerson, "superseded by a wider spec");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed);
  const std::string archived = ".agents/specs/archive/2026-03/spec-2026-02-18-001.yaml";
  EXPECT_FALSE(fs::exists(Path()));
  const std::string expected =
      Written(kDraft, "cancelled", march,
              LogEntry(kT0 + kMinute, "ada", "draft", "review", "status edited in the file", Trace()) +
                  LogEntry(march, "pat", "review", "cancelled", "superseded by a wider spec", Trace()));
  EXPECT_EQ(File(archived), expected);
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
  EXPECT_EQ(TempFiles(".agents/specs/archive/2026-03"), std::vector<std::string>{});
  EXPECT_EQ(
      Lines(sink_.events),
      (std::vector<std::string>{"spec-2026-02-18-001: review -> cancelled (pat: superseded by a wider spec)",
                                "spec-2026-02-18-001: archived to " + archived}));
  SpecRecord r = Record();
  EXPECT_EQ(r.status, "cancelled");
  EXPECT_FALSE(r.removed);
  ExpectRecordMatchesFile(archived);
  EXPECT_EQ(Transitions().back(), Row(kId, "review", "cancelled", "pat", "superseded by a wider spec", march,
                                      Trace(), expected, 3));
  // The next pass finds it in the archive, unchanged, and says nothing.
  env_.ResetCounts();
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  EXPECT_EQ(last_.unchanged, 1u);
  // Final.
  Result<Decision> again = Verb(SpecState::kCancelled, "pat", Role::kPerson, "again");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->allowed);
  EXPECT_EQ(again->reason, "the spec is already cancelled");
}

TEST_F(EngineTest, RejectFromReviewNeedsAReason) {
  const std::string review = InReview();
  env_.SetNowMillis(kT0 + 2 * kMinute);
  env_.ResetCounts();
  Result<Decision> d = Verb(SpecState::kDraft, "rex", Role::kReviewer, "");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->reason, "review -> draft needs a reason (--reason)");
  EXPECT_EQ(File(), review);
  EXPECT_EQ(env_.Count(FakeEnv::Op::kNewTempFile), 0);
  EXPECT_EQ(Transitions().size(), 2u);
  EXPECT_EQ(sink_.events.size(), 0u);

  // An author may not reject.
  d = Verb(SpecState::kDraft, "ada", Role::kAuthor, "changed my mind");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->reason,
            "review -> draft is not the author's to make: a reviewer runs `specd reject ID --reason TEXT`");

  d = Verb(SpecState::kDraft, "rex", Role::kReviewer, "REQ-001 needs a size limit");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  const int64_t t2 = kT0 + 2 * kMinute;
  EXPECT_EQ(File(),
            Written(kDraft, "draft", t2,
                    LogEntry(kT0 + kMinute, "ada", "draft", "review", "status edited in the file", Trace()) +
                        LogEntry(t2, "rex", "review", "draft", "REQ-001 needs a size limit", Trace())));
  EXPECT_EQ(Record().status, "draft");
}

TEST_F(EngineTest, RejectingReviewedWorkSendsReviewedTasksBackToPending) {
  const std::string reviewed =
      "id: spec-2026-02-18-001\n"
      "version: \"1.0.0\"\n"
      "status: reviewed\n"
      "metadata:\n"
      "  title: Export reports as CSV files\n"
      "  author: ada\n"
      "requirements:\n"
      "  - id: REQ-001\n"
      "    description: Reports can be exported.\n"
      "    priority: high\n"
      "    acceptanceCriteria: [a CSV file downloads]\n"
      "    status: pending\n"
      "tasks:\n"
      "  - id: TASK-001\n"
      "    title: Write the CSV exporter\n"
      "    type: feature\n"
      "    status: reviewed # reviewer looked\n"
      "    assignedTo: worker-7\n"
      "    diffPath: .agents/diffs/spec-2026-02-18-001.TASK-001.diff\n"
      "  - id: TASK-002\n"
      "    title: Document the export\n"
      "    type: docs\n"
      "    status: done\n"
      "    assignedTo: worker-8\n"
      "progress:\n"
      "  total: 2\n"
      "  pending: 0\n"
      "  inProgress: 0\n"
      "  diffSubmitted: 0\n"
      "  reviewed: 1\n"
      "  done: 1\n"
      "  failed: 0\n"
      "  blocked: 0\n"
      "  percent: 50\n";
  Edit(reviewed);
  EXPECT_EQ(Reconcile(),
            (std::vector<std::string>{
                "spec-2026-02-18-001: registered at reviewed",
                "spec-2026-02-18-001: reviewed, waiting: the diffs have not been committed yet"}));
  EXPECT_EQ(File(), reviewed);  // progress was right: nothing to write

  env_.SetNowMillis(kT0 + kMinute);
  Result<Decision> d =
      Verb(SpecState::kInProgress, "rex", Role::kReviewer, "TASK-001 misses the empty report");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed) << d->reason;
  const std::string expected =
      "id: spec-2026-02-18-001\n"
      "version: \"1.0.0\"\n"
      "status: in-progress\n"
      "metadata:\n"
      "  title: Export reports as CSV files\n"
      "  author: ada\n"
      "  updatedAt: \"2026-02-18T10:01:00Z\"\n"
      "requirements:\n"
      "  - id: REQ-001\n"
      "    description: Reports can be exported.\n"
      "    priority: high\n"
      "    acceptanceCriteria: [a CSV file downloads]\n"
      "    status: pending\n"
      "tasks:\n"
      "  - id: TASK-001\n"
      "    title: Write the CSV exporter\n"
      "    type: feature\n"
      "    status: pending # reviewer looked\n"
      "    assignedTo: null\n"
      "    diffPath: .agents/diffs/spec-2026-02-18-001.TASK-001.diff\n"
      "  - id: TASK-002\n"
      "    title: Document the export\n"
      "    type: docs\n"
      "    status: done\n"
      "    assignedTo: worker-8\n"
      "progress:\n"
      "  total: 2\n"
      "  pending: 1\n"
      "  inProgress: 0\n"
      "  diffSubmitted: 0\n"
      "  reviewed: 0\n"
      "  done: 1\n"
      "  failed: 0\n"
      "  blocked: 0\n"
      "  percent: 50\n"
      "changeLog:\n" +
      LogEntry(kT0 + kMinute, "rex", "reviewed", "in-progress", "TASK-001 misses the empty report", Trace());
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Lines(sink_.events),
            (std::vector<std::string>{
                "spec-2026-02-18-001: reviewed -> in-progress (rex: TASK-001 misses the empty report)",
                "spec-2026-02-18-001: in-progress, waiting: 1 of 2 tasks have not submitted a diff"}));
  EXPECT_EQ(Record().status, "in-progress");
}

// ---------------------------------------------------------------------------
// Bytes the author chose.

TEST_F(EngineTest, CrlfAndBomSurviveATransitionByteForByte) {
  auto crlf = [](const std::string& s) {
    std::string out;
    for (char c : s) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  };
  const std::string bom = "\xEF\xBB\xBF";
  Edit(bom + crlf(kDraft));
  EXPECT_EQ(Reconcile(), std::vector<std::string>{"spec-2026-02-18-001: registered at draft"});
  env_.SetNowMillis(kT0 + kMinute);
  Edit(bom + crlf(WithStatus(kDraft, "review")));
  Reconcile();
  EXPECT_EQ(File(), bom + crlf(Written(kDraft, "review", kT0 + kMinute,
                                       LogEntry(kT0 + kMinute, "ada", "draft", "review",
                                                "status edited in the file", Trace()))));
  EXPECT_EQ(Record().status, "review");
}

// ---------------------------------------------------------------------------
// Failures on the way to the disk.

TEST_F(EngineTest, FailingFsyncLeavesTheFileTheJournalAndTheDirectoryAsTheyWere) {
  const std::string review = InReview();
  const SpecRecord record = Record();
  const std::vector<std::string> transitions = Transitions();
  env_.SetNowMillis(kT0 + 2 * kMinute);
  env_.ResetCounts();
  env_.FailNth(FakeEnv::Op::kSync, 1, "cannot fsync: Input/output error (injected)");
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "cannot fsync: Input/output error (injected)");
  EXPECT_EQ(env_.Count(FakeEnv::Op::kSync), 1);
  EXPECT_EQ(env_.Count(FakeEnv::Op::kRenameFile), 0);
  EXPECT_EQ(File(), review);
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
  ASSERT_EQ(env_.temp_files().size(), 1u);
  EXPECT_FALSE(fs::exists(env_.temp_files()[0]));
  EXPECT_EQ(Record(), record);
  EXPECT_EQ(Transitions(), transitions);
  EXPECT_EQ(sink_.events.size(), 0u);
  // The disk is fine again: the same verb goes through.
  d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(Record().status, "planning");
}

TEST_F(EngineTest, FailingRenameLeavesEverythingAsItWas) {
  Edit(kDraft);
  Reconcile();
  const SpecRecord record = Record();
  env_.SetNowMillis(kT0 + kMinute);
  Edit(WithStatus(kDraft, "review"));
  env_.FailNth(FakeEnv::Op::kRenameFile, 1, "cannot rename: No space left on device (injected)");
  sink_.events.clear();
  Result<PassReport> r = engine_->ReconcileAll();
  // One file that cannot be finished does not stop the pass: it is listed.
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].path, kRel);
  EXPECT_EQ(r->failed[0].message, "cannot rename: No space left on device (injected)");
  EXPECT_EQ(File(), WithStatus(kDraft, "review"));
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
  EXPECT_EQ(Record(), record);
  EXPECT_EQ(Transitions().size(), 1u);
  EXPECT_EQ(sink_.events.size(), 0u);
  // Next pass, the disk works: the edit is acted on.
  EXPECT_EQ(Reconcile(), std::vector<std::string>{
                             "spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
}

// A file that cannot be acted on (its write-back fails) does not stop the
// pass: the others are acted on and a deleted spec is still recorded as
// removed (a watcher's rescan after a moved directory depends on that).
// (Spec files are read by spec_files' safe read, not through Env.)
TEST_F(EngineTest, AFailingFileDoesNotStopThePassOrTheRemovals) {
  const std::string other = ".agents/specs/active/spec-2026-02-18-002.yaml";
  Edit(kDraft);
  Edit(Replace(kDraft, kId, "spec-2026-02-18-002"), other);
  Reconcile();
  Edit(WithStatus(kDraft, "review"));
  ASSERT_EQ(::unlink(Path(other).c_str()), 0);
  env_.FailNth(FakeEnv::Op::kNewTempFile, 1, "cannot write: Input/output error (injected)");
  Result<PassReport> r = engine_->ReconcileAll();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].path, kRel);
  EXPECT_EQ(r->failed[0].message, "cannot write: Input/output error (injected)");
  EXPECT_EQ(Lines(r->events),
            std::vector<std::string>{"spec-2026-02-18-002: file removed (" + other + "), history kept"});
  EXPECT_TRUE(Record("spec-2026-02-18-002").removed);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{
                             "spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
}

// The rename happened, then the directory fsync failed: the file holds
// specd's new version, the journal does not. The next pass takes the
// missing transitions from the file's changeLog, and does not count
// specd's own write as an author's edit.
TEST_F(EngineTest, FailingDirectoryFsyncAfterTheRenameIsCaughtUpFromTheChangeLog) {
  InReview();
  const int64_t gen = Record().generation;
  env_.SetNowMillis(kT0 + 2 * kMinute);
  env_.FailNth(FakeEnv::Op::kSyncDir, 1, "cannot fsync dir: Input/output error (injected)");
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(Record().status, "review");
  const std::string written = File();
  EXPECT_NE(written.find("status: planning"), std::string::npos);

  env_.SetNowMillis(kT0 + 3 * kMinute);
  EXPECT_EQ(Reconcile(),
            (std::vector<std::string>{
                "spec-2026-02-18-001: review -> approved (rex: recorded from the file's changeLog)",
                "spec-2026-02-18-001: approved -> planning (specd: recorded from the file's changeLog)",
                "spec-2026-02-18-001: planning, waiting: the plan has no tasks yet"}));
  EXPECT_EQ(File(), written);
  EXPECT_EQ(Record().status, "planning");
  ExpectRecordMatchesFile();
  std::vector<std::string> ts = Transitions();
  ASSERT_EQ(ts.size(), 4u);
  // Journaled at the changeLog entries' own time (the interrupted write's),
  // so a later catch-up recognises them.
  EXPECT_EQ(ts[2], Row(kId, "review", "approved", "rex", "recorded from the file", kT0 + 2 * kMinute, Trace(),
                       written, 3));
  EXPECT_EQ(ts[3], Row(kId, "approved", "planning", "specd", "approved: planning starts", kT0 + 2 * kMinute,
                       Trace(), written, 4));
  EXPECT_EQ(Record().generation, gen) << "specd's own write counted as an author's edit";
}

// Two interrupted writes in a row (or two pulls of a teammate's
// transitions): each time the journal is caught up from the changeLog. The
// second time, the entries caught up the first time must count as
// journaled, or the new tail does not chain from the journal's status and
// specd's own cancellation is refused as if the author had typed it.
TEST_F(EngineTest, ChangeLogCatchUpWorksTwiceInARow) {
  InReview();
  env_.SetNowMillis(kT0 + 2 * kMinute);
  env_.ResetCounts();
  env_.FailNth(FakeEnv::Op::kSyncDir, 1, "cannot fsync dir: Input/output error (injected)");
  ASSERT_FALSE(Verb(SpecState::kApproved, "rex", Role::kReviewer).ok());
  env_.SetNowMillis(kT0 + 3 * kMinute);
  Reconcile();
  ASSERT_EQ(Record().status, "planning");

  env_.SetNowMillis(kT0 + 4 * kMinute);
  env_.ResetCounts();
  env_.FailNth(FakeEnv::Op::kSyncDir, 1, "cannot fsync dir: Input/output error (injected)");
  ASSERT_FALSE(Verb(SpecState::kCancelled, "pat", Role::kPerson, "superseded by a wider spec").ok());
  ASSERT_NE(File().find("status: cancelled #"), std::string::npos);
  env_.SetNowMillis(kT0 + 5 * kMinute);
  EXPECT_EQ(Reconcile(),
            (std::vector<std::string>{
                "spec-2026-02-18-001: planning -> cancelled (pat: recorded from the file's changeLog)",
                "spec-2026-02-18-001: archived to .agents/specs/archive/2026-02/spec-2026-02-18-001.yaml"}));
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
  EXPECT_EQ(Record().status, "cancelled");
}

// specd moved the cancelled spec to the archive, then failed (or was killed)
// before journaling it: the journal still has it in review under active/.
// The next pass finds it in the archive, records the cancellation from the
// file's changeLog, and keeps it live at its new path (the file did not go
// away: it moved).
TEST_F(EngineTest, SpecMovedToTheArchiveButNotJournaledIsFoundThere) {
  InReview();
  const int64_t march = 1772703000000;  // 2026-03-05T09:30:00Z
  env_.SetNowMillis(march);
  env_.ResetCounts();
  env_.FailNth(FakeEnv::Op::kSyncDir, 2, "cannot fsync the archive: Input/output error (injected)");
  Result<Decision> d = Verb(SpecState::kCancelled, "pat", Role::kPerson, "superseded by a wider spec");
  ASSERT_FALSE(d.ok());
  const std::string archived = ".agents/specs/archive/2026-03/spec-2026-02-18-001.yaml";
  ASSERT_TRUE(fs::exists(Path(archived)));
  ASSERT_FALSE(fs::exists(Path()));
  EXPECT_EQ(Record().path, kRel);
  EXPECT_EQ(Record().status, "review");

  env_.SetNowMillis(march + kMinute);
  EXPECT_EQ(Reconcile(),
            std::vector<std::string>{
                "spec-2026-02-18-001: review -> cancelled (pat: recorded from the file's changeLog)"});
  SpecRecord r = Record();
  EXPECT_FALSE(r.removed);
  EXPECT_EQ(r.status, "cancelled");
  EXPECT_EQ(r.path, archived);
  ExpectRecordMatchesFile(archived);
  EXPECT_EQ(Transitions().size(), 3u);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
}

// Someone moves a spec file by hand (git mv): the same spec at a new path,
// not a spec that went away.
TEST_F(EngineTest, FileMovedByHandKeepsItsRecordLiveUnderTheNewPath) {
  InReview();
  const std::string moved = ".agents/specs/archive/2026-02/spec-2026-02-18-001.yaml";
  fs::create_directories(fs::path(Path(moved)).parent_path());
  ASSERT_EQ(::rename(Path().c_str(), Path(moved).c_str()), 0);
  env_.SetNowMillis(kT0 + 5 * kMinute);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
  SpecRecord r = Record();
  EXPECT_FALSE(r.removed);
  EXPECT_EQ(r.status, "review");
  ExpectRecordMatchesFile(moved);
  Result<std::vector<SpecRecord>> live = journal_->ListSpecs();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->size(), 1u);
}

// A teammate cancelled the spec on their clone (specd wrote the status and
// the changeLog entry there) and this clone pulls the file: the pass records
// the cancellation from the changeLog, moves the file to the archive, and
// the spec stays live under its new path, not "removed".
TEST_F(EngineTest, SpecCancelledElsewhereAndPulledIsArchivedAndStaysLive) {
  const std::string review = InReview();
  const int64_t march = 1772703000000;  // 2026-03-05T09:30:00Z
  std::string pulled = Replace(review, "status: review #", "status: cancelled #");
  pulled =
      Replace(pulled, "# The end.\n",
              LogEntry(march - kMinute, "pat", "review", "cancelled", "superseded by a wider spec", Trace()) +
                  "# The end.\n");
  Edit(pulled);
  env_.SetNowMillis(march);
  EXPECT_EQ(Reconcile(),
            (std::vector<std::string>{
                "spec-2026-02-18-001: review -> cancelled (pat: recorded from the file's changeLog)",
                "spec-2026-02-18-001: archived to .agents/specs/archive/2026-03/spec-2026-02-18-001.yaml"}));
  const std::string archived = ".agents/specs/archive/2026-03/spec-2026-02-18-001.yaml";
  EXPECT_EQ(File(archived), pulled);
  SpecRecord r = Record();
  EXPECT_FALSE(r.removed);
  EXPECT_EQ(r.status, "cancelled");
  ExpectRecordMatchesFile(archived);
  EXPECT_EQ(Reconcile(), std::vector<std::string>{});
}

// ---------------------------------------------------------------------------
// The file changes between the engine's read and its write.

// The author saves (a new comment, a new title) while specd is writing its
// update: after the temp file is synced, before the rename. specd notices,
// re-reads and re-applies: the file holds both.
TEST_F(EngineTest, AuthorEditBetweenReadAndWriteSurvives) {
  const std::string review = InReview();
  const std::string authors =
      Replace(Replace(review, "Export reports as CSV files", "Export reports as CSV, quoted per RFC 4180"),
              "  author: ada\n", "  author: ada\n  # ada: saved while specd was writing\n");
  int edits = 0;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op == FakeEnv::Op::kSync && edits++ == 0) EditorWrite(Path(), authors);
  });
  env_.SetNowMillis(kT0 + 2 * kMinute);
  const int64_t t2 = kT0 + 2 * kMinute;
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  env_.SetHook(nullptr);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(edits, 2);  // the first write was abandoned, the second made
  std::string expected = Replace(authors, "status: review #", "status: planning #");
  expected = Replace(expected, "updatedAt: \"2026-02-18T10:01:00Z\"", "updatedAt: \"2026-02-18T10:02:00Z\"");
  expected = Replace(expected, "# The end.\n",
                     LogEntry(t2, "rex", "review", "approved", "", Trace()) +
                         LogEntry(t2, "specd", "approved", "planning", "approved: planning starts", Trace()) +
                         "# The end.\n");
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
  std::vector<std::string> ts = Transitions();
  ASSERT_EQ(ts.size(), 4u);  // each transition once
  EXPECT_EQ(ts[2], Row(kId, "review", "approved", "rex", "", t2, Trace(), expected, 3));
  EXPECT_EQ(ts[3],
            Row(kId, "approved", "planning", "specd", "approved: planning starts", t2, Trace(), expected, 4));
  EXPECT_EQ(Record().generation, 2);  // the author's edit counted
  ExpectRecordMatchesFile();
}

// A same-size save in place, in the clock tick of the version read, made
// between the engine's read and its write: no stamp tells it from what was
// read (its mtime is put back here; the check that reads ctime has passed
// before it happens), so the displaced file's bytes are compared, and the
// save survives.
TEST_F(EngineTest, ASaveInTheClockTickOfTheReadIsNotDisplaced) {
  const std::string review = InReview();
  env_.SkewFileClock(-1'000'000'000);  // the engine reads in the tick of the last write
  const std::string authors = Replace(review, "Export reports as CSV files", "Export reports as TSV files");
  ASSERT_EQ(authors.size(), review.size());
  int edits = 0;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op != FakeEnv::Op::kRenameFile || edits++ != 0) return;
    SaveInPlaceKeepingMtime(authors);
  });
  env_.SetNowMillis(kT0 + 2 * kMinute);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  env_.SetHook(nullptr);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->allowed) << d->reason;
  EXPECT_GE(edits, 2);  // the first exchange was undone, the write made again
  EXPECT_NE(File().find("Export reports as TSV files"), std::string::npos) << File();
  EXPECT_NE(File().find("status: planning"), std::string::npos) << File();
  EXPECT_EQ(Record().content_hash, ContentHash(File()));
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
}

// The same during a reconcile (the author's status edit is being written
// back when the author saves again).
TEST_F(EngineTest, AuthorEditDuringAReconcileWriteSurvives) {
  Edit(kDraft);
  Reconcile();
  env_.SetNowMillis(kT0 + kMinute);
  Edit(WithStatus(kDraft, "review"));
  const std::string second_draft = Replace(kDraft, "# The end.\n", "# ada: one more thought\n# The end.\n");
  const std::string second = WithStatus(second_draft, "review");
  bool edited = false;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op == FakeEnv::Op::kSync && !edited) edited = true, EditorWrite(Path(), second);
  });
  EXPECT_EQ(Reconcile(), std::vector<std::string>{
                             "spec-2026-02-18-001: draft -> review (ada: status edited in the file)"});
  env_.SetHook(nullptr);
  std::string expected =
      Written(second_draft, "review", kT0 + kMinute,
              LogEntry(kT0 + kMinute, "ada", "draft", "review", "status edited in the file", Trace()));
  EXPECT_EQ(File(), expected);
  EXPECT_EQ(Transitions().size(), 2u);
}

// An in-place save of the same size in the same clock tick (the stamp does
// not change) between specd's read and its rename must not be overwritten
// either: the stamp alone cannot tell, the bytes can.
TEST_F(EngineTest, SameSizeInPlaceEditBetweenReadAndWriteSurvives) {
  const std::string review = InReview();
  const std::string authors = Replace(review, "Export reports as CSV files", "Export reports as TSV files");
  ASSERT_EQ(authors.size(), review.size());
  bool edited = false;
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op != FakeEnv::Op::kSync || edited) return;
    edited = true;
    SaveInPlaceKeepingMtime(authors);
  });
  env_.SetNowMillis(kT0 + 2 * kMinute);
  Result<Decision> d = Verb(SpecState::kApproved, "rex", Role::kReviewer);
  env_.SetHook(nullptr);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_NE(File().find("Export reports as TSV files"), std::string::npos)
      << "the author's edit was overwritten:\n"
      << File();
  EXPECT_NE(File().find("status: planning"), std::string::npos);
}

// The same with a second process: a forked "editor" saves the file when the
// engine (in this process) has read it and is about to replace it. The
// processes hand over through pipes, so the edit lands inside the window
// every time; 20 rounds of verbs, 20 edits, none lost.
TEST_F(EngineTest, SecondProcessEditingBetweenReadAndWriteLosesNothing) {
  InReview();
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  const std::string path = Path();
  pid_t editor = ::fork();
  ASSERT_GE(editor, 0);
  if (editor == 0) {
    ::close(go[1]);
    ::close(done[0]);
    char round;
    while (::read(go[0], &round, 1) == 1) {
      // Read, change the title to name the round, add a comment line: a save.
      std::string text = ReadAll(path);
      size_t title = text.find("  title: ");
      size_t eol = text.find('\n', title);
      text.replace(title, eol - title, "  title: Export reports, edit number " + std::to_string(int(round)));
      size_t end = text.find("# The end.\n");
      text.insert(end, "# editor: round " + std::to_string(int(round)) + "\n");
      std::string temp = path + ".editor";
      std::ofstream(temp, std::ios::binary | std::ios::trunc) << text;
      if (::rename(temp.c_str(), path.c_str()) != 0) ::_exit(1);
      if (::write(done[1], &round, 1) != 1) ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(go[0]);
  ::close(done[1]);
  constexpr int kRounds = 20;
  int round = 0;
  bool pending = false;  // one edit per verb: the first write attempt of each
  env_.SetHook([&](FakeEnv::Op op, const std::string&) {
    if (op != FakeEnv::Op::kSync || !pending) return;
    pending = false;
    char r = static_cast<char>(++round);
    ASSERT_EQ(::write(go[1], &r, 1), 1);
    ASSERT_EQ(::read(done[0], &r, 1), 1);
  });
  for (int i = 0; i < kRounds; ++i) {
    env_.AdvanceMillis(1000);
    pending = true;
    bool to_draft = i % 2 == 0;  // review -> draft (rejected), draft -> review, ...
    Result<Decision> d = to_draft
                             ? Verb(SpecState::kDraft, "rex", Role::kReviewer, "round " + std::to_string(i))
                             : Verb(SpecState::kReview, "ada", Role::kAuthor);
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_TRUE(d->allowed) << d->reason;
  }
  env_.SetHook(nullptr);
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(editor, &status, 0), editor);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(done[0]);
  EXPECT_EQ(round, kRounds);
  const std::string text = File();
  EXPECT_NE(text.find("  title: Export reports, edit number " + std::to_string(kRounds) + "\n"),
            std::string::npos)
      << text;
  for (int r = 1; r <= kRounds; ++r) {
    EXPECT_NE(text.find("# editor: round " + std::to_string(r) + "\n"), std::string::npos) << "round " << r;
  }
  // Every verb's changeLog entry is there, and the journal agrees.
  size_t entries = 0;
  for (size_t at = text.find("  - at: "); at != std::string::npos; at = text.find("  - at: ", at + 1))
    ++entries;
  EXPECT_EQ(entries, 1u + kRounds);
  EXPECT_EQ(Transitions().size(), 2u + kRounds);
  EXPECT_EQ(Record().status, "review");
  EXPECT_EQ(Record().generation, 1 + kRounds);
  Reconcile();
  ExpectRecordMatchesFile();
  EXPECT_EQ(ValidateSpecText(text, kRel, ValidateOptions{}).size(), 0u);
}

// ---------------------------------------------------------------------------
// Changes brought in by git (`specd hook post-merge`): journaled as git's,
// the teammate named in the reason, the file never written or moved.

class EngineFromGitTest : public EngineTest {
 protected:
  std::vector<std::string> ReconcileFromGit() {
    EngineOptions options;
    options.changes_from_git = true;
    SpecEngine git(&env_, journal_.get(), repo_.path(), options);
    Result<PassReport> r = git.ReconcileAll();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? Lines(r->events) : std::vector<std::string>{"error: " + r.error().message};
  }
};

TEST_F(EngineFromGitTest, TeammatesChangeLogEntriesAreJournaledByGitAndTheFileIsLeftAlone) {
  const std::string review = InReview();
  std::string pulled = Replace(review, "status: review #", "status: approved #");
  pulled = Replace(
      pulled, "# The end.\n",
      LogEntry(kT0 + 2 * kMinute, "rex", "review", "approved", "", "f00dfeedf00dfeed") + "# The end.\n");
  Edit(pulled);
  env_.SetNowMillis(kT0 + 3 * kMinute);
  EXPECT_EQ(ReconcileFromGit(),
            std::vector<std::string>{
                "spec-2026-02-18-001: review -> approved (git: recorded from the file's changeLog)"});
  EXPECT_EQ(File(), pulled);  // no approved -> planning written into git's file
  std::vector<std::string> rows = Transitions();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2], Row(kId, "review", "approved", "git", "by rex: recorded from the file",
                         kT0 + 2 * kMinute, Trace(), pulled, 3));
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
  EXPECT_EQ(Record().status, "approved");
  EXPECT_EQ(ReconcileFromGit(), std::vector<std::string>{});  // caught up: nothing twice
}

TEST_F(EngineFromGitTest, StatusChangesWithoutAChainAreRecordedNotRefused) {
  const std::string review = InReview();
  const std::string back = Replace(review, "status: review #", "status: draft #");  // a reviewer's, by hand
  Edit(back);
  env_.SetNowMillis(kT0 + 2 * kMinute);
  EXPECT_EQ(ReconcileFromGit(), std::vector<std::string>{
                                    "spec-2026-02-18-001: review -> draft (git: by ada: status edited in the "
                                    "file, brought in by git)"});
  EXPECT_EQ(File(), back);
  EXPECT_EQ(Refusals(), std::vector<std::string>{});

  // Not a step of the life cycle at all: still the file's word, with a note; not archived.
  const std::string done = Replace(back, "status: draft #", "status: completed #");
  Edit(done);
  env_.SetNowMillis(kT0 + 3 * kMinute);
  EXPECT_EQ(
      ReconcileFromGit(),
      std::vector<std::string>{"spec-2026-02-18-001: draft -> completed (git: by ada: status edited in the "
                               "file, brought in by git (draft -> completed is not a step of the spec life "
                               "cycle))"});
  EXPECT_EQ(File(), done);
  EXPECT_EQ(Record().status, "completed");
  EXPECT_EQ(Record().path, kRel);
  std::vector<std::string> rows = Transitions();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3],
            Row(kId, "draft", "completed", "git",
                "by ada: status edited in the file, brought in by git (draft -> completed is not a step "
                "of the spec life cycle)",
                kT0 + 3 * kMinute, Trace(), done, 4));
  EXPECT_EQ(Refusals(), std::vector<std::string>{});
}

}  // namespace
}  // namespace specd
