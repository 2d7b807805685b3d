// The journal's queries: opening (engine/journal_schema.cc migrates),
// applying a batch (engine/journal_write.cc writes it), and every read.
#include "engine/journal.h"

#include <filesystem>
#include <set>
#include <utility>

#include "engine/journal_schema.h"
#include "engine/journal_write.h"
#include "engine/repo.h"
#include "engine/sqlite_db.h"

namespace specd {

namespace fs = std::filesystem;

namespace {

// A search uses at most this many distinct words: enough for any question,
// and a pasted log cannot turn into a query with thousands of terms.
constexpr size_t kMaxSearchWords = 64;

constexpr char kSpecColumns[] =
    "id, path, content_hash, size, mtime_ns, inode, status, generation, written_hash, trace_id, removed, "
    "errors, updated_ms, ctime_ns, waiting";

SpecRecord ReadSpec(const SqliteStmt& st) {
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

TransitionRecord ReadTransition(const SqliteStmt& st) {
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

RefusalRecord ReadRefusal(const SqliteStmt& st) {
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

FailureRecord ReadFailure(const SqliteStmt& st) {
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

constexpr char kEventColumns[] =
    "seq, at_ms, kind, spec_id, task_id, path, from_status, to_status, actor, reason, trace_id";

EventRecord ReadEvent(const SqliteStmt& st) {
  EventRecord e;
  e.seq = st.Int(0);
  e.at_ms = st.Int(1);
  e.kind = st.Text(2);
  e.spec_id = st.Text(3);
  e.task_id = st.Text(4);
  e.path = st.Text(5);
  e.from = st.Text(6);
  e.to = st.Text(7);
  e.actor = st.Text(8);
  e.reason = st.Text(9);
  e.trace_id = st.Text(10);
  return e;
}

// The highest seq in `table` (our own constant), 0 when it is empty.
Result<int64_t> MaxSeq(SqliteDb& c, const std::string& table) {
  return c.QueryInt("SELECT COALESCE(MAX(seq), 0) FROM " + table, "cannot read the last seq of " + table);
}

Result<std::optional<SpecRecord>> QueryOneSpec(SqliteDb& c, const std::string& sql, const std::string& key,
                                               const std::string& what) {
  Result<SqliteStmt> st = c.Prepare(sql);
  if (!st.ok()) return st.error();
  st->BindText(1, key);
  return FirstRow<SpecRecord>(c, *st, what, ReadSpec);
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

// The repository's own git directory, if it has a usable one.
std::optional<fs::path> GitDirOf(const fs::path& root) {
  std::optional<GitDirs> dirs = FindGitDirs(root.string());
  if (!dirs) return std::nullopt;
  fs::path dir = fs::path(dirs->git_dir).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

}  // namespace

Journal::Journal(std::unique_ptr<SqliteDb> db) : path_(db->path()), db_(std::move(db)) {}

Journal::~Journal() = default;

int Journal::SchemaVersion() {
  return JournalSchemaVersion();
}

namespace {

SqliteOptions JournalOptions(const std::string& path, bool read_only) {
  SqliteOptions options;
  options.label = "journal";
  options.read_only = read_only;
  options.damaged_hint =
      "the journal is damaged: move " + path + " aside and specd rebuilds it from the spec files";
  return options;
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, JournalOptions(path, false));
  if (!db.ok()) return db.error();
  if (Status s = PrepareJournalSchema(**db); !s.ok()) return s.error();
  return std::unique_ptr<Journal>(new Journal(std::move(*db)));
}

Result<std::unique_ptr<Journal>> Journal::OpenReadOnly(const std::string& path) {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, JournalOptions(path, true));
  if (!db.ok()) return db.error();
  if (Status s = CheckJournalSchemaForReading(**db); !s.ok()) return s.error();
  return std::unique_ptr<Journal>(new Journal(std::move(*db)));
}

bool Journal::read_only() const {
  return db_->ReadOnly();
}

Status Journal::Apply(const JournalBatch& batch, AppliedIds* applied) {
  std::lock_guard<std::mutex> lock(mu_);
  AppliedIds ids;
  auto body = [&] { return WriteJournalBatch(*db_, batch, &ids); };
  Status s = in_group_ ? db_->InSavepoint("a batch", body) : db_->InWriteTransaction("a batch", body);
  if (s.ok() && applied) *applied = std::move(ids);
  return s;
}

Result<std::optional<SpecRecord>> Journal::GetSpec(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryOneSpec(*db_, std::string("SELECT ") + kSpecColumns + " FROM specs WHERE id = ?1", id,
                      "cannot read spec " + id);
}

Result<std::optional<SpecRecord>> Journal::GetSpecByPath(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryOneSpec(*db_,
                      std::string("SELECT ") + kSpecColumns +
                          " FROM specs WHERE path = ?1 ORDER BY removed, updated_ms DESC LIMIT 1",
                      path, "cannot read the spec at " + path);
}

Result<std::vector<SpecRecord>> Journal::ListSpecs(bool include_removed) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  std::string sql = std::string("SELECT ") + kSpecColumns + " FROM specs WHERE removed = 0 OR ?1 ORDER BY id";
  Result<SqliteStmt> st = c.Prepare(sql);
  if (!st.ok()) return st.error();
  st->BindInt(1, include_removed ? 1 : 0);
  return CollectRows<SpecRecord>(c, *st, "cannot list specs", ReadSpec);
}

Result<std::vector<std::string>> Journal::SpecIdsIn(const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare("SELECT id FROM specs WHERE removed = 0 AND status = ?1 ORDER BY id");
  if (!st.ok()) return st.error();
  st->BindText(1, status);
  return CollectRows<std::string>(c, *st, "cannot list specs",
                                  [](const SqliteStmt& row) { return row.Text(0); });
}

Result<std::vector<PathStamp>> Journal::ListStamps() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st =
      c.Prepare("SELECT path, size, mtime_ns, inode, ctime_ns FROM specs WHERE removed = 0 ORDER BY path");
  if (!st.ok()) return st.error();
  return CollectRows<PathStamp>(c, *st, "cannot list spec stamps", [](const SqliteStmt& row) {
    return PathStamp{row.Text(0), static_cast<uint64_t>(row.Int(1)), row.Int(2),
                     static_cast<uint64_t>(row.Int(3)), row.Int(4)};
  });
}

Result<std::vector<WatchRecord>> Journal::WatchLog() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare("SELECT seq, at_ms, kind, detail FROM watch_log ORDER BY seq");
  if (!st.ok()) return st.error();
  return CollectRows<WatchRecord>(c, *st, "cannot read the watch log", [](const SqliteStmt& row) {
    return WatchRecord{row.Int(0), row.Int(1), row.Text(2), row.Text(3)};
  });
}

Status Journal::BeginGroup() {
  std::lock_guard<std::mutex> lock(mu_);
  if (in_group_) return db_->Failed("a group is already open", ErrorCode::kInvalid);
  if (Status s = db_->Begin("cannot begin a group of batches"); !s.ok()) return s;
  in_group_ = true;
  return Status::Ok();
}

Status Journal::Mark() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_group_) return db_->Failed("a mark needs a group", ErrorCode::kInvalid);
  return db_->Exec("SAVEPOINT change", "cannot mark the journal");
}

Status Journal::Unmark(bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!keep) {
    if (Status s = db_->Exec("ROLLBACK TO change", "cannot undo the journal's mark"); !s.ok()) return s;
  }
  return db_->Exec("RELEASE change", "cannot release the journal's mark");
}

Status Journal::EndGroup(bool commit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_group_) return Status::Ok();
  in_group_ = false;
  return db_->End(commit, "a group of batches");
}

Result<std::vector<TransitionRecord>> Journal::Transitions(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "SELECT seq, spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash "
      "FROM transitions WHERE spec_id = ?1 ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<TransitionRecord>(c, *st, "cannot read the transitions of " + spec_id, ReadTransition);
}

Result<std::vector<RefusalRecord>> Journal::Refusals(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "SELECT seq, spec_id, actor, from_status, requested, reason, at_ms "
      "FROM refusals WHERE spec_id = ?1 ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<RefusalRecord>(c, *st, "cannot read the refusals of " + spec_id, ReadRefusal);
}

Result<std::vector<TransitionRecord>> Journal::TransitionsAfter(int64_t seq, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "SELECT seq, spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash "
      "FROM transitions WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindInt(1, seq);
  st->BindInt(2, limit);
  return CollectRows<TransitionRecord>(c, *st, "cannot read the transitions", ReadTransition);
}

Result<std::vector<RefusalRecord>> Journal::RefusalsAfter(int64_t seq, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "SELECT seq, spec_id, actor, from_status, requested, reason, at_ms "
      "FROM refusals WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindInt(1, seq);
  st->BindInt(2, limit);
  return CollectRows<RefusalRecord>(c, *st, "cannot read the refusals", ReadRefusal);
}

Result<int64_t> Journal::LastRefusalSeq() {
  std::lock_guard<std::mutex> lock(mu_);
  return MaxSeq(*db_, "refusals");
}

Result<std::vector<FailureRecord>> Journal::Failures(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "SELECT id, spec_id, task_id, summary, details, resolution, at_ms "
      "FROM failures WHERE spec_id = ?1 ORDER BY id");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<FailureRecord>(c, *st, "cannot read the failures of " + spec_id, ReadFailure);
}

Result<std::vector<FailureRecord>> Journal::SearchFailures(const std::string& text, int limit) {
  std::string query = FtsQuery(text);
  if (query.empty() || limit <= 0) return std::vector<FailureRecord>();
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  // Weights: summary 2, details 1, resolution 1. Ties: the newest first.
  Result<SqliteStmt> st = c.Prepare(
      "SELECT f.id, f.spec_id, f.task_id, f.summary, f.details, f.resolution, f.at_ms, "
      "bm25(failures_fts, 2.0, 1.0, 1.0) AS rank "
      "FROM failures_fts JOIN failures AS f ON f.id = failures_fts.rowid "
      "WHERE failures_fts MATCH ?1 ORDER BY rank, f.id DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindText(1, query);
  st->BindInt(2, limit);
  return CollectRows<FailureRecord>(c, *st, "cannot search failures for \"" + text + "\"",
                                    [](const SqliteStmt& row) {
                                      FailureRecord f = ReadFailure(row);
                                      f.rank = row.Double(7);
                                      return f;
                                    });
}

Result<int64_t> Journal::LastSeq() {
  std::lock_guard<std::mutex> lock(mu_);
  return MaxSeq(*db_, "transitions");
}

Result<std::vector<EventRecord>> Journal::EventsAfter(int64_t seq, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st =
      c.Prepare(std::string("SELECT ") + kEventColumns + " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.ok()) return st.error();
  st->BindInt(1, seq);
  st->BindInt(2, limit);
  return CollectRows<EventRecord>(c, *st, "cannot read the events", ReadEvent);
}

Result<std::vector<EventRecord>> Journal::SpecEvents(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st =
      c.Prepare(std::string("SELECT ") + kEventColumns + " FROM events WHERE spec_id = ?1 ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<EventRecord>(c, *st, "cannot read the events of " + spec_id, ReadEvent);
}

Result<int64_t> Journal::LastEventSeq() {
  std::lock_guard<std::mutex> lock(mu_);
  return MaxSeq(*db_, "events");
}

std::string BesideJournal(const std::string& journal_path, const char* name) {
  size_t slash = journal_path.find_last_of('/');
  return (slash == std::string::npos ? std::string(".") : journal_path.substr(0, slash)) + "/" + name;
}

std::string JournalPathFor(const std::string& repo_root) {
  fs::path root(repo_root);
  if (std::optional<fs::path> git_dir = GitDirOf(root)) return (*git_dir / "specd" / "journal.db").string();
  return (root / ".agents" / ".specd" / "journal.db").string();
}

}  // namespace specd
