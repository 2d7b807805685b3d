// A small wrapper over one SQLite connection, shared by every table specd
// keeps (the journal now; leases and queues later): opening in WAL mode with a
// busy timeout, prepared statements cached per connection, bind/step helpers,
// BEGIN IMMEDIATE transactions and savepoints, and errors that say which
// database, what failed and what a caller can do about it (ErrorCode).
//
// Not thread-safe: the owner serialises calls (Journal holds a mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "schema/result.h"

namespace specd {

// One use of a cached prepared statement. Going out of scope resets it and
// clears its bindings, so no statement keeps a read snapshot open between
// calls. Text is bound without a copy (SQLITE_STATIC): the caller keeps the
// bound strings alive until the next Reset or the end of the use.
class SqliteStmt {
 public:
  explicit SqliteStmt(sqlite3_stmt* s) : s_(s) {}
  SqliteStmt(SqliteStmt&& other) noexcept : s_(std::exchange(other.s_, nullptr)), bind_rc_(other.bind_rc_) {}
  SqliteStmt& operator=(SqliteStmt&&) = delete;
  ~SqliteStmt();

  void BindText(int i, std::string_view v);
  void BindInt(int i, int64_t v);

  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind is reported here).
  int Step();
  void Reset();

  std::string Text(int col) const;
  int64_t Int(int col) const;
  double Double(int col) const;

 private:
  void Check(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3_stmt* s_;  // owned by the SqliteDb's cache
  int bind_rc_ = SQLITE_OK;
};

struct SqliteOptions {
  int busy_timeout_ms = 5000;
  bool wal = true;  // journal_mode=WAL, synchronous=FULL
  bool foreign_keys = true;
  std::string label = "database";  // how errors name it: "<label> <path>: ..."
  // Open for reading only: never create or write anything. The file must
  // exist; when a WAL database's -shm cannot be made (a read-only folder, a
  // full disk) it is opened as SQLite documents for read-only media
  // (immutable=1: no locks; only when no -wal holds pages, which it would
  // pass over).
  bool read_only = false;
  // Added to the error when the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB).
  std::string damaged_hint = "the file is damaged; move it aside and specd starts a new one";
};

class SqliteDb {
 public:
  // Opens (creating the file and its directory) the database at `path` and
  // sets the busy timeout. Nothing is written yet: call Configure once the
  // caller has checked the file is one it can use.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, SqliteOptions options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // WAL (retried while another process creates the same file), synchronous
  // and foreign keys as the options say.
  Status Configure();

  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }
  // Writes are refused: opened read_only, or SQLite found the file
  // write-protected and opened it for reading (SQLITE_OPEN_READWRITE does).
  bool ReadOnly() const;

  // The error of the last failed call, as "<label> <path>: <what>: <sqlite
  // message>". SQLITE_BUSY/LOCKED is kBusy; a damaged file (SQLITE_CORRUPT,
  // SQLITE_NOTADB) says that moving it aside lets specd rebuild it; an I/O
  // error or a full disk names the cause from errno ("file too large
  // (ulimit -f?)", "no space left on device") instead of "disk I/O error".
  Error Fail(const std::string& what) const;
  Error Failed(const std::string& message,
               ErrorCode code = ErrorCode::kOther) const;  // "<label> <path>: ..."

  // For fixed SQL only: values are always bound through Prepare.
  Status Exec(const std::string& sql, const std::string& what);
  Result<SqliteStmt> Prepare(const std::string& sql);

  // Runs a statement that returns one row with one integer column.
  Result<int64_t> QueryInt(const std::string& sql, const std::string& what);

  int64_t LastInsertRowid() const;
  int Changes() const;
  bool InTransaction() const;  // a BEGIN is open

  // Runs `body` in one BEGIN IMMEDIATE transaction: BEGIN IMMEDIATE takes the
  // write lock up front (waiting up to the busy timeout), so a transaction
  // never fails half-way because another process wrote first.
  template <typename Body>
  Status InWriteTransaction(const std::string& what, Body body) {
    if (Status s = Exec("BEGIN IMMEDIATE", "cannot begin a write transaction to " + what); !s.ok()) return s;
    Status s = body();
    if (s.ok()) s = Exec("COMMIT", "cannot commit " + what);
    // Some errors (a full disk, I/O) already rolled back; ROLLBACK would fail.
    if (!s.ok()) RollbackQuietly();
    return s;
  }

  // Inside an open transaction: `body` runs in a savepoint of it, all of it
  // or none.
  template <typename Body>
  Status InSavepoint(const std::string& what, Body body) {
    if (Status s = Exec("SAVEPOINT batch", "cannot begin " + what); !s.ok()) return s;
    Status s = body();
    if (s.ok()) return Exec("RELEASE batch", "cannot end " + what);
    RollbackToSavepointQuietly();
    return s;
  }

  // Group commit: Begin opens a BEGIN IMMEDIATE that spans several bodies
  // (each in a savepoint); End commits or rolls it back.
  Status Begin(const std::string& what) { return Exec("BEGIN IMMEDIATE", what); }
  Status End(bool commit, const std::string& what);

 private:
  SqliteDb(std::string path, sqlite3* db, SqliteOptions options);
  static Result<std::unique_ptr<SqliteDb>> OpenReadOnly(const std::string& path, SqliteOptions options);
  void RollbackQuietly();
  void RollbackToSavepointQuietly();
  Status SwitchToWal();

  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const;
  };

  const std::string path_;
  sqlite3* db_;  // owned; closed after every statement is finalized
  const SqliteOptions options_;
  // Each SQL text is prepared once per connection and reused: preparing costs
  // more than running a lookup by key (about 9 of 14 us).
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtFinalizer>> statements_;
};

// Runs a query for one row (a lookup by key): the first row read with
// `read`, or nullopt when there is none.
template <typename T, typename Read>
Result<std::optional<T>> FirstRow(SqliteDb& db, SqliteStmt& st, const std::string& what, Read read) {
  int rc = st.Step();
  if (rc == SQLITE_ROW) return std::optional<T>(read(st));
  if (rc != SQLITE_DONE) return db.Fail(what);
  return std::optional<T>();
}

// Runs a query to completion, reading each row with `read`.
template <typename T, typename Read>
Result<std::vector<T>> CollectRows(SqliteDb& db, SqliteStmt& st, const std::string& what, Read read) {
  std::vector<T> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(read(st));
  if (rc != SQLITE_DONE) return db.Fail(what);
  return out;
}

}  // namespace specd
