// What the journal tests share: a raw SQLite connection (to build old or
// foreign journals and look at what the journal wrote), records with every
// field set, and a fixture with a fresh journal in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/test_util.h"

namespace specd::testing {

// A raw connection, to build old or foreign journals by hand and to look at
// what the journal wrote without going through its API.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db_);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }
  // The first column of the first row, as text ("" when there is no row).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_);
      return "";
    }
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

inline  // A spec record with every field set to something other than its default.
    SpecRecord
    FullSpec(const std::string& id) {
  SpecRecord r;
  r.id = id;
  r.path = ".agents/specs/active/" + id + ".yaml";
  r.content_hash = ContentHash(id);
  r.size = 0xFFFF'FFFF'0000'1234ull;  // above INT64_MAX: stored bit for bit
  r.mtime_ns = -1'234'567'890;        // before 1970
  r.inode = 0xFFFF'FFFF'FFFF'FFF0ull;
  r.status = "in-progress";
  r.generation = 7;
  r.written_hash = ContentHash("written " + id);
  r.trace_id = "trace-" + id;
  r.removed = false;
  r.errors = "spec.yaml:3:9: /status: must be one of ...\nspec.yaml:9:1: /tasks: required\n";
  r.updated_ms = 1'771'400'000'123;
  return r;
}

inline TransitionRecord Transition(const std::string& spec_id, const std::string& from,
                                   const std::string& to) {
  TransitionRecord t;
  t.spec_id = spec_id;
  t.trace_id = "trace-" + spec_id;
  t.actor = "engine";
  t.from = from;
  t.to = to;
  t.reason = "because " + to;
  t.at_ms = 1'771'400'000'000;
  t.content_hash = ContentHash(to);
  return t;
}

inline FailureRecord Failure(const std::string& summary, const std::string& details,
                             const std::string& resolution) {
  FailureRecord f;
  f.spec_id = "spec-2026-01-01-001";
  f.task_id = "TASK-001";
  f.summary = summary;
  f.details = details;
  f.resolution = resolution;
  f.at_ms = 1'771'400'000'999;
  return f;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "git/specd/journal.db";  // the directories do not exist yet
    Result<std::unique_ptr<Journal>> j = Journal::Open(path_);
    ASSERT_TRUE(j.ok()) << j.error().message;
    journal_ = std::move(*j);
  }

  void MustApply(const JournalBatch& batch) {
    Status s = journal_->Apply(batch);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  std::vector<SpecRecord> List(bool include_removed = false) {
    Result<std::vector<SpecRecord>> specs = journal_->ListSpecs(include_removed);
    EXPECT_TRUE(specs.ok()) << specs.error().message;
    return specs.ok() ? *specs : std::vector<SpecRecord>();
  }

  std::vector<FailureRecord> Search(const std::string& text, int limit = 10) {
    Result<std::vector<FailureRecord>> found = journal_->SearchFailures(text, limit);
    EXPECT_TRUE(found.ok()) << text << ": " << found.error().message;
    return found.ok() ? *found : std::vector<FailureRecord>();
  }

  std::vector<std::string> SearchSummaries(const std::string& text) {
    std::vector<std::string> out;
    for (const FailureRecord& f : Search(text)) out.push_back(f.summary);
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Journal> journal_;
};

}  // namespace specd::testing
