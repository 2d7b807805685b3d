#include "engine/journal.h"

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>
#include <utility>

namespace specd {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------
// Schema. Each entry migrates from the version before it; the schema version
// (PRAGMA user_version) is the number of entries applied. Never edit a
// shipped entry: add one.

// v1: what the journal knows about each spec file, and its history.
// specs is WITHOUT ROWID so ListSpecs' "ORDER BY id" is the table's own order.
// AUTOINCREMENT: seq never goes back or is reused, and since every write
// holds SQLite's write lock (BEGIN IMMEDIATE) it is strictly increasing across
// processes too.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE specs (
  id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  status TEXT NOT NULL,
  generation INTEGER NOT NULL,
  written_hash TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  removed INTEGER NOT NULL CHECK (removed IN (0, 1)),
  errors TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX specs_by_path ON specs (path);

CREATE TABLE transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL REFERENCES specs (id),
  trace_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  content_hash TEXT NOT NULL
);
CREATE INDEX transitions_by_spec ON transitions (spec_id, seq);

CREATE TABLE refusals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL REFERENCES specs (id),
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  requested TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX refusals_by_spec ON refusals (spec_id, seq);
)sql";

// v2: failures and how they were resolved, searchable. failures_fts is an
// external-content FTS5 index over failures, kept in sync by triggers (so the
// text is stored once). porter: "indent" finds "indentation".
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL,
  resolution TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX failures_by_spec ON failures (spec_id, id);

CREATE VIRTUAL TABLE failures_fts USING fts5(
  summary, details, resolution, content='failures', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER failures_fts_insert AFTER INSERT ON failures BEGIN
  INSERT INTO failures_fts (rowid, summary, details, resolution)
  VALUES (new.id, new.summary, new.details, new.resolution);
END;
CREATE TRIGGER failures_fts_delete AFTER DELETE ON failures BEGIN
  INSERT INTO failures_fts (failures_fts, rowid, summary, details, resolution)
  VALUES ('delete', old.id, old.summary, old.details, old.resolution);
END;
CREATE TRIGGER failures_fts_update AFTER UPDATE ON failures BEGIN
  INSERT INTO failures_fts (failures_fts, rowid, summary, details, resolution)
  VALUES ('delete', old.id, old.summary, old.details, old.resolution);
  INSERT INTO failures_fts (rowid, summary, details, resolution)
  VALUES (new.id, new.summary, new.details, new.resolution);
END;
)sql";

// v3: the ctime joins the stamp (an in-place save of the same size that puts
// the mtime back still moves the ctime, as git knows), and why a spec waits.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE specs ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE specs ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
)sql";

// v4: what the watcher did that concerns no single spec (overflow rescans).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE watch_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql";

constexpr std::array<const char*, 4> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4};

constexpr int kBusyTimeoutMs = 5000;

// A search uses at most this many distinct words: enough for any question,
// and a pasted log cannot turn into a query with thousands of terms.
constexpr size_t kMaxSearchWords = 64;

// ---------------------------------------------------------------------------
// Thin RAII over the sqlite3 C API.

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

}  // namespace

// Each SQL text is prepared once per connection and reused: preparing costs
// more than running a lookup by key (about 9 of 14 us), and reconcile looks
// up every file.
class JournalStatements {
 public:
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtFinalizer>> by_sql;
};

namespace {

// One use of a cached prepared statement. Going out of scope resets it and
// clears its bindings, so no statement keeps a read snapshot open between
// calls. Text is bound without a copy (SQLITE_STATIC): the caller keeps the
// bound strings alive until the next Reset or the end of the use.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& other) noexcept : s_(std::exchange(other.s_, nullptr)), bind_rc_(other.bind_rc_) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (s_) Reset();
  }

  void BindText(int i, std::string_view v) {
    // A null data pointer would bind SQL NULL, not "".
    Check(sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void BindInt(int i, int64_t v) { Check(sqlite3_bind_int64(s_, i, v)); }

  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind is reported here).
  int Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    bind_rc_ = SQLITE_OK;
  }

  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }

 private:
  void Check(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3_stmt* s_;  // owned by JournalStatements
  int bind_rc_ = SQLITE_OK;
};

// One connection, its statements, and the journal's path for error messages
// that say which journal and what failed.
struct Conn {
  sqlite3* db;
  const std::string& path;
  JournalStatements* statements;

  Error Fail(const std::string& what) const {
    return Error{"journal " + path + ": " + what + ": " + sqlite3_errmsg(db)};
  }

  // For fixed SQL only: values are always bound through Prepare.
  Status Exec(const char* sql, const std::string& what) const {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(what);
    return Status::Ok();
  }

  Result<Stmt> Prepare(const std::string& sql) const {
    auto it = statements->by_sql.find(sql);
    if (it == statements->by_sql.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        return Fail("cannot prepare \"" + sql + "\"");
      }
      it = statements->by_sql.emplace(sql, s).first;
    }
    return Stmt(it->second.get());
  }

  // Inside a group (Journal::BeginGroup): `body` runs in a savepoint of the
  // group's transaction, all of it or none.
  template <typename Body>
  Status InSavepoint(const std::string& what, Body body) const {
    if (Status s = Exec("SAVEPOINT batch", "cannot begin " + what); !s.ok()) return s;
    Status s = body();
    if (s.ok()) return Exec("RELEASE batch", "cannot end " + what);
    if (!sqlite3_get_autocommit(db)) {
      sqlite3_exec(db, "ROLLBACK TO batch", nullptr, nullptr, nullptr);
      sqlite3_exec(db, "RELEASE batch", nullptr, nullptr, nullptr);
    }
    return s;
  }

  // Runs `body` in one BEGIN IMMEDIATE transaction: BEGIN IMMEDIATE takes the
  // write lock up front (waiting up to the busy timeout), so a transaction
  // never fails half-way because another process wrote first.
  template <typename Body>
  Status InWriteTransaction(const std::string& what, Body body) const {
    if (Status s = Exec("BEGIN IMMEDIATE", "cannot begin a write transaction to " + what); !s.ok()) {
      return s;
    }
    Status s = body();
    if (s.ok()) s = Exec("COMMIT", "cannot commit " + what);
    // Some errors (a full disk, I/O) already rolled back; ROLLBACK would fail.
    if (!s.ok() && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
};

// Runs a query to completion, reading each row with `read`.
template <typename T, typename Read>
Result<std::vector<T>> Collect(const Conn& c, Stmt& st, const std::string& what, Read read) {
  std::vector<T> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(read(st));
  if (rc != SQLITE_DONE) return c.Fail(what);
  return out;
}

Result<int> UserVersion(const Conn& c) {
  Result<Stmt> st = c.Prepare("PRAGMA user_version");
  if (!st.ok()) return st.error();
  if (st->Step() != SQLITE_ROW) return c.Fail("cannot read the schema version");
  return static_cast<int>(st->Int(0));
}

Status CheckNotNewer(const Conn& c, int version) {
  if (version <= Journal::SchemaVersion()) return Status::Ok();
  return Error{"journal " + c.path + " has schema version " + std::to_string(version) +
               ", newer than this specd supports (" + std::to_string(Journal::SchemaVersion()) +
               "); upgrade specd (the journal was left untouched)"};
}

// Applies the migrations after `from` in one transaction: a failure leaves
// the journal as it was.
Status Migrate(const Conn& c) {
  return c.InWriteTransaction("the schema migration", [&]() -> Status {
    // Read again under the write lock: another process may have migrated.
    Result<int> from = UserVersion(c);
    if (!from.ok()) return from.error();
    if (Status s = CheckNotNewer(c, *from); !s.ok()) return s;
    for (int v = *from + 1; v <= Journal::SchemaVersion(); ++v) {
      if (Status s = c.Exec(kMigrations[v - 1], "cannot migrate to schema version " + std::to_string(v));
          !s.ok()) {
        return s;
      }
    }
    // PRAGMA takes no bound parameters; the value is our own constant.
    std::string set = "PRAGMA user_version = " + std::to_string(Journal::SchemaVersion());
    return c.Exec(set.c_str(), "cannot set the schema version");
  });
}

// Turning a new (rollback-journal) database into WAL needs an exclusive lock,
// and SQLite reports "database is locked" (or keeps the old mode) at once
// instead of calling the busy handler: two processes creating the journal
// together would fail. So retry, for as long as the busy timeout.
Status SwitchToWal(const Conn& c) {
  constexpr int kRetryMs = 5;
  Result<Stmt> st = c.Prepare("PRAGMA journal_mode = WAL");
  if (!st.ok()) return st.error();
  for (int waited_ms = 0;; waited_ms += kRetryMs) {
    int rc = st->Step();
    std::string mode = rc == SQLITE_ROW ? st->Text(0) : "";
    st->Reset();
    if (mode == "wal") return Status::Ok();
    if (waited_ms >= kBusyTimeoutMs || (rc != SQLITE_ROW && rc != SQLITE_BUSY)) {
      return rc == SQLITE_ROW
                 ? Error{"journal " + c.path + ": cannot switch to WAL mode (still " + mode + ")"}
                 : c.Fail("cannot switch to WAL mode");
    }
    sqlite3_sleep(kRetryMs);
  }
}

// The checks come before anything that writes, so a journal from a newer
// specd (or a file that is not a journal) is not touched.
Status Configure(const Conn& c) {
  sqlite3_busy_timeout(c.db, kBusyTimeoutMs);
  Result<int> version = UserVersion(c);
  if (!version.ok()) return version.error();
  if (Status s = CheckNotNewer(c, *version); !s.ok()) return s;
  if (Status s = SwitchToWal(c); !s.ok()) return s;
  if (Status s = c.Exec("PRAGMA synchronous = FULL", "cannot set synchronous=FULL"); !s.ok()) return s;
  if (Status s = c.Exec("PRAGMA foreign_keys = ON", "cannot enable foreign keys"); !s.ok()) return s;
  if (*version < Journal::SchemaVersion()) return Migrate(c);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Writing a batch.

// "draft -> review"; a spec's first transition starts from nothing.
std::string Arrow(const std::string& from, const std::string& to) {
  return (from.empty() ? "(none)" : from) + " -> " + to;
}

std::string Nth(const char* what, size_t i, size_t n, const std::string& key) {
  return std::string("cannot record ") + what + " " + std::to_string(i + 1) + " of " + std::to_string(n) +
         " (" + key + ")";
}

Status WriteUpserts(const Conn& c, const std::vector<SpecRecord>& specs) {
  if (specs.empty()) return Status::Ok();
  Result<Stmt> st = c.Prepare(
      "INSERT INTO specs (id, path, content_hash, size, mtime_ns, inode, status, generation, written_hash, "
      "trace_id, removed, errors, updated_ms, ctime_ns, waiting) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
      "ON CONFLICT (id) DO UPDATE SET path = excluded.path, content_hash = excluded.content_hash, "
      "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, status = excluded.status, "
      "generation = excluded.generation, written_hash = excluded.written_hash, trace_id = excluded.trace_id, "
      "removed = excluded.removed, errors = excluded.errors, updated_ms = excluded.updated_ms, "
      "ctime_ns = excluded.ctime_ns, waiting = excluded.waiting");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < specs.size(); ++i) {
    const SpecRecord& r = specs[i];
    st->BindText(1, r.id);
    st->BindText(2, r.path);
    st->BindText(3, r.content_hash);
    st->BindInt(4, static_cast<int64_t>(r.size));  // uint64 stored bit for bit
    st->BindInt(5, r.mtime_ns);
    st->BindInt(6, static_cast<int64_t>(r.inode));
    st->BindText(7, r.status);
    st->BindInt(8, r.generation);
    st->BindText(9, r.written_hash);
    st->BindText(10, r.trace_id);
    st->BindInt(11, r.removed ? 1 : 0);
    st->BindText(12, r.errors);
    st->BindInt(13, r.updated_ms);
    st->BindInt(14, r.ctime_ns);
    st->BindText(15, r.waiting);
    if (st->Step() != SQLITE_DONE) return c.Fail(Nth("spec", i, specs.size(), "id \"" + r.id + "\""));
    st->Reset();
  }
  return Status::Ok();
}

Status WriteTransitions(const Conn& c, const std::vector<TransitionRecord>& transitions,
                        std::vector<int64_t>* seqs) {
  if (transitions.empty()) return Status::Ok();
  Result<Stmt> st = c.Prepare(
      "INSERT INTO transitions "
      "(spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < transitions.size(); ++i) {
    const TransitionRecord& t = transitions[i];
    st->BindText(1, t.spec_id);
    st->BindText(2, t.trace_id);
    st->BindText(3, t.actor);
    st->BindText(4, t.from);
    st->BindText(5, t.to);
    st->BindText(6, t.reason);
    st->BindInt(7, t.at_ms);
    st->BindText(8, t.content_hash);
    if (st->Step() != SQLITE_DONE) {
      return c.Fail(Nth("transition", i, transitions.size(), t.spec_id + " " + Arrow(t.from, t.to)));
    }
    seqs->push_back(sqlite3_last_insert_rowid(c.db));
    st->Reset();
  }
  return Status::Ok();
}

Status WriteRefusals(const Conn& c, const std::vector<RefusalRecord>& refusals, std::vector<int64_t>* seqs) {
  if (refusals.empty()) return Status::Ok();
  Result<Stmt> st = c.Prepare(
      "INSERT INTO refusals (spec_id, actor, from_status, requested, reason, at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < refusals.size(); ++i) {
    const RefusalRecord& r = refusals[i];
    st->BindText(1, r.spec_id);
    st->BindText(2, r.actor);
    st->BindText(3, r.from);
    st->BindText(4, r.requested);
    st->BindText(5, r.reason);
    st->BindInt(6, r.at_ms);
    if (st->Step() != SQLITE_DONE) {
      return c.Fail(Nth("refusal", i, refusals.size(), r.spec_id + " " + Arrow(r.from, r.requested)));
    }
    seqs->push_back(sqlite3_last_insert_rowid(c.db));
    st->Reset();
  }
  return Status::Ok();
}

// Binds the fields a failure insert and update share, as ?1..?6.
void BindFailure(Stmt& st, const FailureRecord& f) {
  st.BindText(1, f.spec_id);
  st.BindText(2, f.task_id);
  st.BindText(3, f.summary);
  st.BindText(4, f.details);
  st.BindText(5, f.resolution);
  st.BindInt(6, f.at_ms);
}

Status WriteFailures(const Conn& c, const std::vector<FailureRecord>& failures, std::vector<int64_t>* ids) {
  if (failures.empty()) return Status::Ok();
  Result<Stmt> insert = c.Prepare(
      "INSERT INTO failures (spec_id, task_id, summary, details, resolution, at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert.ok()) return insert.error();
  Result<Stmt> update = c.Prepare(
      "UPDATE failures SET spec_id = ?1, task_id = ?2, summary = ?3, details = ?4, resolution = ?5, "
      "at_ms = ?6 WHERE id = ?7");
  if (!update.ok()) return update.error();
  for (size_t i = 0; i < failures.size(); ++i) {
    const FailureRecord& f = failures[i];
    Stmt& st = f.id == 0 ? *insert : *update;
    BindFailure(st, f);
    if (f.id != 0) st.BindInt(7, f.id);
    std::string key = f.id == 0 ? "new, " + f.summary : "id " + std::to_string(f.id);
    if (st.Step() != SQLITE_DONE) return c.Fail(Nth("failure", i, failures.size(), key));
    if (f.id != 0 && sqlite3_changes(c.db) == 0) {
      return Error{"journal " + c.path + ": " + Nth("failure", i, failures.size(), key) +
                   ": no such failure"};
    }
    ids->push_back(f.id == 0 ? sqlite3_last_insert_rowid(c.db) : f.id);
    st.Reset();
  }
  return Status::Ok();
}

Status WriteWatchLog(const Conn& c, const std::vector<WatchRecord>& records) {
  if (records.empty()) return Status::Ok();
  Result<Stmt> st = c.Prepare("INSERT INTO watch_log (at_ms, kind, detail) VALUES (?1, ?2, ?3)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < records.size(); ++i) {
    st->BindInt(1, records[i].at_ms);
    st->BindText(2, records[i].kind);
    st->BindText(3, records[i].detail);
    if (st->Step() != SQLITE_DONE) return c.Fail(Nth("watch log entry", i, records.size(), records[i].kind));
    st->Reset();
  }
  return Status::Ok();
}

Status WriteBatch(const Conn& c, const JournalBatch& batch, AppliedIds* ids) {
  if (Status s = WriteUpserts(c, batch.upserts); !s.ok()) return s;
  if (Status s = WriteTransitions(c, batch.transitions, &ids->transition_seqs); !s.ok()) return s;
  if (Status s = WriteRefusals(c, batch.refusals, &ids->refusal_seqs); !s.ok()) return s;
  if (Status s = WriteFailures(c, batch.failures, &ids->failure_ids); !s.ok()) return s;
  return WriteWatchLog(c, batch.watch);
}

// ---------------------------------------------------------------------------
// Reading.

constexpr char kSpecColumns[] =
    "id, path, content_hash, size, mtime_ns, inode, status, generation, written_hash, trace_id, removed, "
    "errors, updated_ms, ctime_ns, waiting";

SpecRecord ReadSpec(const Stmt& st) {
  SpecRecord r;
  r.id = st.Text(0);
  r.path = st.Text(1);
  r.content_hash = st.Text(2);
  r.size = static_cast<uint64_t>(st.Int(3));
  r.mtime_ns = st.Int(4);
  r.inode = static_cast<uint64_t>(st.Int(5));
  r.status = st.Text(6);
  r.generation = st.Int(7);
  r.written_hash = st.Text(8);
  r.trace_id = st.Text(9);
  r.removed = st.Int(10) != 0;
  r.errors = st.Text(11);
  r.updated_ms = st.Int(12);
  r.ctime_ns = st.Int(13);
  r.waiting = st.Text(14);
  return r;
}

TransitionRecord ReadTransition(const Stmt& st) {
  TransitionRecord t;
  t.seq = st.Int(0);
  t.spec_id = st.Text(1);
  t.trace_id = st.Text(2);
  t.actor = st.Text(3);
  t.from = st.Text(4);
  t.to = st.Text(5);
  t.reason = st.Text(6);
  t.at_ms = st.Int(7);
  t.content_hash = st.Text(8);
  return t;
}

RefusalRecord ReadRefusal(const Stmt& st) {
  RefusalRecord r;
  r.seq = st.Int(0);
  r.spec_id = st.Text(1);
  r.actor = st.Text(2);
  r.from = st.Text(3);
  r.requested = st.Text(4);
  r.reason = st.Text(5);
  r.at_ms = st.Int(6);
  return r;
}

FailureRecord ReadFailure(const Stmt& st) {
  FailureRecord f;
  f.id = st.Int(0);
  f.spec_id = st.Text(1);
  f.task_id = st.Text(2);
  f.summary = st.Text(3);
  f.details = st.Text(4);
  f.resolution = st.Text(5);
  f.at_ms = st.Int(6);
  return f;
}

// The highest seq in `table` (our own constant), 0 when it is empty.
Result<int64_t> MaxSeq(const Conn& c, const std::string& table) {
  Result<Stmt> st = c.Prepare("SELECT COALESCE(MAX(seq), 0) FROM " + table);
  if (!st.ok()) return st.error();
  if (st->Step() != SQLITE_ROW) return c.Fail("cannot read the last seq of " + table);
  return st->Int(0);
}

Result<std::optional<SpecRecord>> QueryOneSpec(const Conn& c, const std::string& sql, const std::string& key,
                                               const std::string& what) {
  Result<Stmt> st = c.Prepare(sql);
  if (!st.ok()) return st.error();
  st->BindText(1, key);
  int rc = st->Step();
  if (rc == SQLITE_ROW) return std::optional<SpecRecord>(ReadSpec(*st));
  if (rc != SQLITE_DONE) return c.Fail(what);
  return std::optional<SpecRecord>();
}

// ASCII by hand: std::isalnum depends on the locale.
bool IsWordByte(unsigned char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

// Free words -> an FTS5 query that cannot be a syntax error. Words are split
// at every ASCII byte that is not a letter or digit (unicode61 separates there
// too; UTF-8 bytes stay in words), and each is written as a quoted string, so
// AND, OR, NOT, NEAR, *, ^, :, quotes and parentheses are only text. The words
// are OR-ed: a failure sharing some words still matches, and bm25 puts the
// ones sharing the most (and rarest) words first.
std::string FtsQuery(std::string_view text) {
  std::set<std::string> seen;
  std::string query;
  size_t i = 0;
  while (i < text.size() && seen.size() < kMaxSearchWords) {
    if (!IsWordByte(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    std::string word(text.substr(start, i - start));
    if (!seen.insert(word).second) continue;
    if (!query.empty()) query += " OR ";
    query += "\"" + word + "\"";
  }
  return query;
}

// Reads the "gitdir: <dir>" line of a .git file; "" if it is not one.
std::string ReadGitdirLine(const fs::path& dot_git) {
  std::ifstream in(dot_git);
  std::string line;
  if (!std::getline(in, line)) return "";
  constexpr std::string_view kPrefix = "gitdir:";
  if (line.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  line.erase(0, kPrefix.size());
  const char* kSpace = " \t\r\n";
  size_t first = line.find_first_not_of(kSpace);
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(kSpace) - first + 1);
}

// The repository's own git directory, if it has a usable one.
std::optional<fs::path> GitDirOf(const fs::path& root) {
  std::error_code ec;
  fs::path dot_git = root / ".git";
  if (fs::is_directory(dot_git, ec)) return dot_git;
  if (!fs::is_regular_file(dot_git, ec)) return std::nullopt;
  std::string target = ReadGitdirLine(dot_git);
  if (target.empty()) return std::nullopt;
  fs::path dir =
      fs::path(target).is_absolute() ? fs::path(target) : root / target;  // relative to the .git file
  dir = dir.lexically_normal();
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

// ---------------------------------------------------------------------------
// SHA-256 (FIPS 180-4).

constexpr std::array<uint32_t, 64> kSha256K = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t Rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

void Sha256Block(std::array<uint32_t, 8>& h, const unsigned char* block) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = uint32_t{block[4 * i]} << 24 | uint32_t{block[4 * i + 1]} << 16 | uint32_t{block[4 * i + 2]} << 8 |
           uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t t1 = k + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + kSha256K[i] + w[i];
    uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

}  // namespace

// ---------------------------------------------------------------------------

void Journal::DbCloser::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Journal::Journal(std::string path, DbPtr db, std::unique_ptr<JournalStatements> statements)
    : path_(std::move(path)), db_(std::move(db)), statements_(std::move(statements)) {}

Journal::~Journal() = default;

int Journal::SchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) return Error{"journal " + path + ": cannot create " + dir.string() + ": " + ec.message()};
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  DbPtr db(raw);  // even a failed open returns a handle, which holds the message
  auto statements = std::make_unique<JournalStatements>();
  Conn c{raw, path, statements.get()};
  if (rc != SQLITE_OK) return c.Fail("cannot open");
  if (Status s = Configure(c); !s.ok()) return s.error();
  return std::unique_ptr<Journal>(new Journal(path, std::move(db), std::move(statements)));
}

Status Journal::Apply(const JournalBatch& batch, AppliedIds* applied) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  AppliedIds ids;
  auto body = [&] { return WriteBatch(c, batch, &ids); };
  Status s = in_group_ ? c.InSavepoint("a batch", body) : c.InWriteTransaction("a batch", body);
  if (s.ok() && applied) *applied = std::move(ids);
  return s;
}

Result<std::optional<SpecRecord>> Journal::GetSpec(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryOneSpec({db_.get(), path_, statements_.get()},
                      std::string("SELECT ") + kSpecColumns + " FROM specs WHERE id = ?1", id,
                      "cannot read spec " + id);
}

Result<std::optional<SpecRecord>> Journal::GetSpecByPath(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryOneSpec({db_.get(), path_, statements_.get()},
                      std::string("SELECT ") + kSpecColumns +
                          " FROM specs WHERE path = ?1 ORDER BY removed, updated_ms DESC LIMIT 1",
                      path, "cannot read the spec at " + path);
}

Result<std::vector<SpecRecord>> Journal::ListSpecs(bool include_removed) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  std::string sql = std::string("SELECT ") + kSpecColumns + " FROM specs WHERE removed = 0 OR ?1 ORDER BY id";
  Result<Stmt> st = c.Prepare(sql);
  if (!st.ok()) return st.error();
  st->BindInt(1, include_removed ? 1 : 0);
  return Collect<SpecRecord>(c, *st, "cannot list specs", ReadSpec);
}

Result<std::vector<PathStamp>> Journal::ListStamps() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st =
      c.Prepare("SELECT path, size, mtime_ns, inode, ctime_ns FROM specs WHERE removed = 0 ORDER BY path");
  if (!st.ok()) return st.error();
  return Collect<PathStamp>(c, *st, "cannot list spec stamps", [](const Stmt& row) {
    return PathStamp{row.Text(0), static_cast<uint64_t>(row.Int(1)), row.Int(2),
                     static_cast<uint64_t>(row.Int(3)), row.Int(4)};
  });
}

Result<std::vector<WatchRecord>> Journal::WatchLog() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare("SELECT seq, at_ms, kind, detail FROM watch_log ORDER BY seq");
  if (!st.ok()) return st.error();
  return Collect<WatchRecord>(c, *st, "cannot read the watch log", [](const Stmt& row) {
    return WatchRecord{row.Int(0), row.Int(1), row.Text(2), row.Text(3)};
  });
}

Status Journal::BeginGroup() {
  std::lock_guard<std::mutex> lock(mu_);
  if (in_group_) return Error{"journal " + path_ + ": a group is already open"};
  Conn c{db_.get(), path_, statements_.get()};
  if (Status s = c.Exec("BEGIN IMMEDIATE", "cannot begin a group of batches"); !s.ok()) return s;
  in_group_ = true;
  return Status::Ok();
}

Status Journal::Mark() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_group_) return Error{"journal " + path_ + ": a mark needs a group"};
  Conn c{db_.get(), path_, statements_.get()};
  return c.Exec("SAVEPOINT change", "cannot mark the journal");
}

Status Journal::Unmark(bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  if (!keep) sqlite3_exec(c.db, "ROLLBACK TO change", nullptr, nullptr, nullptr);
  return c.Exec("RELEASE change", "cannot release the journal's mark");
}

Status Journal::EndGroup(bool commit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_group_) return Status::Ok();
  in_group_ = false;
  Conn c{db_.get(), path_, statements_.get()};
  if (sqlite3_get_autocommit(c.db))
    return commit ? c.Fail("the group's transaction was rolled back") : Status::Ok();
  if (commit) {
    Status s = c.Exec("COMMIT", "cannot commit a group of batches");
    if (!s.ok() && !sqlite3_get_autocommit(c.db)) sqlite3_exec(c.db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return c.Exec("ROLLBACK", "cannot roll back a group of batches");
}

Result<std::vector<TransitionRecord>> Journal::Transitions(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare(
      "SELECT seq, spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash "
      "FROM transitions WHERE spec_id = ?1 ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return Collect<TransitionRecord>(c, *st, "cannot read the transitions of " + spec_id, ReadTransition);
}

Result<std::vector<RefusalRecord>> Journal::Refusals(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare(
      "SELECT seq, spec_id, actor, from_status, requested, reason, at_ms "
      "FROM refusals WHERE spec_id = ?1 ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return Collect<RefusalRecord>(c, *st, "cannot read the refusals of " + spec_id, ReadRefusal);
}

Result<std::vector<TransitionRecord>> Journal::TransitionsAfter(int64_t seq, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare(
      "SELECT seq, spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash "
      "FROM transitions WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindInt(1, seq);
  st->BindInt(2, limit);
  return Collect<TransitionRecord>(c, *st, "cannot read the transitions", ReadTransition);
}

Result<std::vector<RefusalRecord>> Journal::RefusalsAfter(int64_t seq, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare(
      "SELECT seq, spec_id, actor, from_status, requested, reason, at_ms "
      "FROM refusals WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindInt(1, seq);
  st->BindInt(2, limit);
  return Collect<RefusalRecord>(c, *st, "cannot read the refusals", ReadRefusal);
}

Result<int64_t> Journal::LastRefusalSeq() {
  std::lock_guard<std::mutex> lock(mu_);
  return MaxSeq({db_.get(), path_, statements_.get()}, "refusals");
}

Result<std::vector<FailureRecord>> Journal::Failures(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  Result<Stmt> st = c.Prepare(
      "SELECT id, spec_id, task_id, summary, details, resolution, at_ms "
      "FROM failures WHERE spec_id = ?1 ORDER BY id");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return Collect<FailureRecord>(c, *st, "cannot read the failures of " + spec_id, ReadFailure);
}

Result<std::vector<FailureRecord>> Journal::SearchFailures(const std::string& text, int limit) {
  std::string query = FtsQuery(text);
  if (query.empty() || limit <= 0) return std::vector<FailureRecord>();
  std::lock_guard<std::mutex> lock(mu_);
  Conn c{db_.get(), path_, statements_.get()};
  // Weights: summary 2, details 1, resolution 1. Ties: the newest first.
  Result<Stmt> st = c.Prepare(
      "SELECT f.id, f.spec_id, f.task_id, f.summary, f.details, f.resolution, f.at_ms, "
      "bm25(failures_fts, 2.0, 1.0, 1.0) AS rank "
      "FROM failures_fts JOIN failures AS f ON f.id = failures_fts.rowid "
      "WHERE failures_fts MATCH ?1 ORDER BY rank, f.id DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindText(1, query);
  st->BindInt(2, limit);
  return Collect<FailureRecord>(c, *st, "cannot search failures for \"" + text + "\"", [](const Stmt& row) {
    FailureRecord f = ReadFailure(row);
    f.rank = row.Double(7);
    return f;
  });
}

Result<int64_t> Journal::LastSeq() {
  std::lock_guard<std::mutex> lock(mu_);
  return MaxSeq({db_.get(), path_, statements_.get()}, "transitions");
}

std::string JournalPathFor(const std::string& repo_root) {
  fs::path root(repo_root);
  if (std::optional<fs::path> git_dir = GitDirOf(root)) return (*git_dir / "specd" / "journal.db").string();
  return (root / ".agents" / ".specd" / "journal.db").string();
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t full = bytes.size() / 64;
  for (size_t i = 0; i < full; ++i) Sha256Block(h, p + 64 * i);
  // Padding: the rest, 0x80, zeros, then the length in bits (big-endian) in
  // the last 8 bytes of one block, or of two if the rest leaves no room.
  unsigned char tail[128] = {};
  size_t rest = bytes.size() % 64;
  if (rest) std::memcpy(tail, p + 64 * full, rest);
  tail[rest] = 0x80;
  size_t tail_size = rest < 56 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(bytes.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (size_t off = 0; off < tail_size; off += 64) Sha256Block(h, tail + off);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint32_t word : h) {
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(word >> shift) & 0xf];
  }
  return out;
}

}  // namespace specd
