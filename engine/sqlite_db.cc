#include "engine/sqlite_db.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace specd {

namespace fs = std::filesystem;

namespace {

// A row that refers to a missing one, a key that is taken, or a CHECK.
ErrorCode ConstraintCode(int extended) {
  switch (extended) {
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return ErrorCode::kNotFound;
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return ErrorCode::kAlreadyExists;
    default:
      return ErrorCode::kInvalid;
  }
}

// `path` as a file: URI (RFC 3986 percent-encoding of anything that could
// end the path or start a query), with `query` after it.
std::string FileUri(const std::string& path, const std::string& query) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (unsigned char c : path) {
    bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (plain || (c != 0 && std::strchr("/-._~", c))) {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + "?" + query;
}

// What errno says of a failed read or write, in words a user can act on.
std::string IoCause(int err) {
  switch (err) {
    case EFBIG:
      return "file too large (ulimit -f?)";
    case ENOSPC:
      return "no space left on device";
    case EDQUOT:
      return "disk quota exceeded";
    case EROFS:
      return "read-only file system";
    case EACCES:
    case EPERM:
      return "permission denied";
    case EIO:
      return "input/output error (a failing disk?)";
    default:
      return std::strerror(err);
  }
}

// Which way an extended SQLITE_IOERR code failed, and on which file: the
// WAL index (-shm) is named, the database or its WAL is the one in the label.
std::string IoVerb(int extended, const std::string& path) {
  switch (extended) {
    case SQLITE_IOERR_READ:
    case SQLITE_IOERR_SHORT_READ:
    case SQLITE_IOERR_FSTAT:
    case SQLITE_IOERR_ACCESS:
      return "cannot read";
    case SQLITE_IOERR_SHMOPEN:
    case SQLITE_IOERR_SHMSIZE:
    case SQLITE_IOERR_SHMMAP:
    case SQLITE_IOERR_SHMLOCK:
      return "cannot write " + path + "-shm";
    default:
      return "cannot write";
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// SqliteStmt

SqliteStmt::~SqliteStmt() {
  if (s_) Reset();
}

void SqliteStmt::BindText(int i, std::string_view v) {
  // A null data pointer would bind SQL NULL, not "".
  Check(sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC));
}

void SqliteStmt::BindInt(int i, int64_t v) {
  Check(sqlite3_bind_int64(s_, i, v));
}

int SqliteStmt::Step() {
  return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_);
}

void SqliteStmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  bind_rc_ = SQLITE_OK;
}

std::string SqliteStmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}

int64_t SqliteStmt::Int(int col) const {
  return sqlite3_column_int64(s_, col);
}

double SqliteStmt::Double(int col) const {
  return sqlite3_column_double(s_, col);
}

// ---------------------------------------------------------------------------
// SqliteDb

void SqliteDb::StmtFinalizer::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

SqliteDb::SqliteDb(std::string path, sqlite3* db, SqliteOptions options)
    : path_(std::move(path)), db_(db), options_(std::move(options)) {}

SqliteDb::~SqliteDb() {
  statements_.clear();  // every statement is finalized before the connection closes
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, SqliteOptions options) {
  if (options.read_only) return OpenReadOnly(path, std::move(options));
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) {
    return Error{options.label + " " + path + ": cannot create " + dir.string() + ": " + ec.message(),
                 ec == std::errc::permission_denied ? ErrorCode::kPermission : ErrorCode::kOther};
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // Even a failed open returns a handle, which holds the message.
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw, std::move(options)));
  if (rc != SQLITE_OK) return db->Fail("cannot open");
  sqlite3_busy_timeout(raw, db->options_.busy_timeout_ms);
  return db;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::OpenReadOnly(const std::string& path, SqliteOptions options) {
  std::unique_ptr<SqliteDb> db;
  for (bool immutable : {false, true}) {
    sqlite3* raw = nullptr;
    const std::string name = immutable ? FileUri(path, "immutable=1") : path;
    int rc = sqlite3_open_v2(name.c_str(), &raw, SQLITE_OPEN_READONLY | (immutable ? SQLITE_OPEN_URI : 0),
                             nullptr);
    db.reset(new SqliteDb(path, raw, options));
    if (rc != SQLITE_OK) return db->Fail("cannot open");
    sqlite3_busy_timeout(raw, db->options_.busy_timeout_ms);
    // Opening reads nothing: the first read finds whether the WAL index
    // (-shm) can be had.
    rc = sqlite3_exec(raw, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    const int primary = sqlite3_errcode(raw) & 0xff;
    if (rc == SQLITE_OK || immutable ||
        (primary != SQLITE_CANTOPEN && primary != SQLITE_READONLY && primary != SQLITE_IOERR &&
         primary != SQLITE_FULL)) {
      break;
    }
    // immutable=1 reads the database file alone: a WAL that holds pages
    // (a writer that crashed or is running) would be passed over. Then the
    // error stands.
    std::error_code ec;
    if (fs::file_size(path + "-wal", ec) > 0 && !ec) break;
  }
  return db;
}

bool SqliteDb::ReadOnly() const {
  return sqlite3_db_readonly(db_, "main") == 1;
}

Status SqliteDb::Configure() {
  if (options_.wal) {
    if (Status s = SwitchToWal(); !s.ok()) return s;
    if (Status s = Exec("PRAGMA synchronous = FULL", "cannot set synchronous=FULL"); !s.ok()) return s;
  }
  if (options_.foreign_keys) return Exec("PRAGMA foreign_keys = ON", "cannot enable foreign keys");
  return Status::Ok();
}

// Turning a new (rollback-journal) database into WAL needs an exclusive lock,
// and SQLite reports "database is locked" (or keeps the old mode) at once
// instead of calling the busy handler: two processes creating the file
// together would fail. So retry, for as long as the busy timeout.
Status SqliteDb::SwitchToWal() {
  constexpr int kRetryMs = 5;
  Result<SqliteStmt> st = Prepare("PRAGMA journal_mode = WAL");
  if (!st.ok()) return st.error();
  for (int waited_ms = 0;; waited_ms += kRetryMs) {
    int rc = st->Step();
    std::string mode = rc == SQLITE_ROW ? st->Text(0) : "";
    st->Reset();
    if (mode == "wal") return Status::Ok();
    if (waited_ms >= options_.busy_timeout_ms || (rc != SQLITE_ROW && rc != SQLITE_BUSY)) {
      return rc == SQLITE_ROW ? Failed("cannot switch to WAL mode (still " + mode + ")", ErrorCode::kBusy)
                              : Fail("cannot switch to WAL mode");
    }
    sqlite3_sleep(kRetryMs);
  }
}

Error SqliteDb::Failed(const std::string& message, ErrorCode code) const {
  return Error{options_.label + " " + path_ + ": " + message, code};
}

Error SqliteDb::Fail(const std::string& what) const {
  std::string message = what + ": " + sqlite3_errmsg(db_);
  switch (sqlite3_errcode(db_) & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Failed(message, ErrorCode::kBusy);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Failed(message + " (" + options_.damaged_hint + ")");
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return Failed(message,
                    sqlite3_system_errno(db_) == EACCES ? ErrorCode::kPermission : ErrorCode::kOther);
    case SQLITE_IOERR:
    case SQLITE_FULL:
      // SQLite says "disk I/O error" or "database or disk is full"; errno
      // says why (a `ulimit -f`, a full disk, a quota).
      if (int err = sqlite3_system_errno(db_); err != 0) {
        return Failed(
            what + ": " + IoVerb(sqlite3_extended_errcode(db_), path_) + ": " + IoCause(err),
            err == EACCES || err == EPERM || err == EROFS ? ErrorCode::kPermission : ErrorCode::kOther);
      }
      return Failed(message);
    case SQLITE_CONSTRAINT:
      return Failed(message, ConstraintCode(sqlite3_extended_errcode(db_)));
    default:
      return Failed(message);
  }
}

Status SqliteDb::Exec(const std::string& sql, const std::string& what) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(what);
  return Status::Ok();
}

Result<SqliteStmt> SqliteDb::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      return Fail("cannot prepare \"" + sql + "\"");
    }
    it = statements_.emplace(sql, s).first;
  }
  return SqliteStmt(it->second.get());
}

Result<int64_t> SqliteDb::QueryInt(const std::string& sql, const std::string& what) {
  Result<SqliteStmt> st = Prepare(sql);
  if (!st.ok()) return st.error();
  if (st->Step() != SQLITE_ROW) return Fail(what);
  return st->Int(0);
}

int64_t SqliteDb::LastInsertRowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int SqliteDb::Changes() const {
  return sqlite3_changes(db_);
}

bool SqliteDb::InTransaction() const {
  return !sqlite3_get_autocommit(db_);
}

void SqliteDb::RollbackQuietly() {
  if (InTransaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteDb::RollbackToSavepointQuietly() {
  if (!InTransaction()) return;  // an I/O error or a full disk already rolled everything back
  sqlite3_exec(db_, "ROLLBACK TO batch", nullptr, nullptr, nullptr);
  sqlite3_exec(db_, "RELEASE batch", nullptr, nullptr, nullptr);
}

Status SqliteDb::End(bool commit, const std::string& what) {
  if (!InTransaction()) {
    return commit ? Fail("the transaction of " + what + " was rolled back") : Status::Ok();
  }
  if (!commit) return Exec("ROLLBACK", "cannot roll back " + what);
  Status s = Exec("COMMIT", "cannot commit " + what);
  if (!s.ok()) RollbackQuietly();
  return s;
}

}  // namespace specd
