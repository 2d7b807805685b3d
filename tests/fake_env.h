// The one shared fake for engine tests: an Env that delegates every call to
// a real Env (Env::Default(), real files in a temporary directory) and adds
// only what a real file system cannot produce on demand:
//  - a clock the test sets (NowMillis), and the files' clock moved by a
//    set amount (FileClockNanos: "the files were written long ago");
//  - a stamp pinned for a path (what a write in the same clock tick as the
//    last one looks like to stat);
//  - call counters per operation (how many ReadFile calls a pass made);
//  - injected failures: "fail the Nth Sync from now with this message";
//  - hooks run right before an operation (to edit a file between the
//    engine's read and its write, or to end the process at a chosen point).
// Like leveldb's ErrorEnv and FaultInjectionTestEnv, it wraps, it does not
// reimplement.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/env.h"

namespace specd {

class FakeEnv : public Env {
 public:
  // Every operation the engine can ask for, file by file.
  enum class Op {
    kReadFile,
    kStat,
    kExists,
    kListDir,
    kMakeDirs,
    kNewTempFile,
    kAppend,
    kSync,
    kClose,
    kRenameFile,
    kRemoveFile,
    kLinkNoReplace,
    kSyncDir,
    kOpenForWriting,
  };
  static constexpr int kOpCount = 14;

  static const char* OpName(Op op) {
    static constexpr std::array<const char*, kOpCount> kNames = {
        "ReadFile", "Stat",  "Exists", "ListDir",    "MakeDirs",      "NewTempFile", "Append",
        "Sync",     "Close", "Rename", "RemoveFile", "LinkNoReplace", "SyncDir",     "OpenForWriting"};
    return kNames[static_cast<size_t>(op)];
  }

  // Called before an operation with the path it concerns (the temp file's
  // path for Append, Sync and Close; `from` for Rename and LinkNoReplace).
  // Lstat and RealPath count as kStat; ExchangeFiles counts as kRenameFile
  // (both put a file at a name: one injected failure covers either way).
  using Hook = std::function<void(Op op, const std::string& path)>;

  explicit FakeEnv(int64_t now_ms, Env* base = Env::Default()) : base_(base), now_ms_(now_ms) {}

  // --- the clock
  void SetNowMillis(int64_t ms) { now_ms_ = ms; }
  void AdvanceMillis(int64_t ms) { now_ms_ += ms; }
  int64_t NowMillis() override { return now_ms_; }
  // FileClockNanos is the real one plus `ns`.
  void SkewFileClock(int64_t ns) { file_clock_skew_ns_ = ns; }
  int64_t FileClockNanos() override { return base_->FileClockNanos() + file_clock_skew_ns_; }

  // --- stat(2) of `path` says `stamp` until unpinned (std::nullopt).
  void PinStamp(const std::string& path, std::optional<FileStamp> stamp) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (stamp)
      pinned_[path] = *stamp;
    else
      pinned_.erase(path);
  }

  // --- counters
  int Count(Op op) const { return counts_[static_cast<size_t>(op)]; }
  // Zeroes the counters and forgets reads() and temp_files(). Failures
  // already scheduled keep their absolute call numbers: schedule after.
  void ResetCounts() {
    counts_.fill(0);
    reads_.clear();
    temp_files_.clear();
  }
  // Paths given to ReadFile, in order (since the last ResetCounts).
  const std::vector<std::string>& reads() const { return reads_; }

  // --- failures: the `nth` call of `op` from now (1 = the next one) fails
  // with `message` and does nothing.
  void FailNth(Op op, int nth, std::string message) {
    failures_[static_cast<size_t>(op)].push_back({Count(op) + nth, std::move(message)});
  }

  // --- a file system without RENAME_EXCHANGE: ExchangeFiles says it cannot.
  void DisableExchange() { exchange_disabled_ = true; }

  // --- hooks, run before the operation (and before a failure is injected)
  void SetHook(Hook hook) { hook_ = std::move(hook); }

  // --- Env
  Result<std::string> ReadFile(const std::string& path) override {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      reads_.push_back(path);
    }
    if (auto e = Enter(Op::kReadFile, path)) return *e;
    return base_->ReadFile(path);
  }
  Result<FileStamp> Stat(const std::string& path) override {
    if (auto e = Enter(Op::kStat, path)) return *e;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (auto p = pinned_.find(path); p != pinned_.end()) return p->second;
    }
    return base_->Stat(path);
  }
  Result<FileInfo> Lstat(const std::string& path) override {
    if (auto e = Enter(Op::kStat, path)) return *e;
    return base_->Lstat(path);
  }
  Result<std::string> RealPath(const std::string& path) override {
    if (auto e = Enter(Op::kStat, path)) return *e;
    return base_->RealPath(path);
  }
  bool Exists(const std::string& path) override {
    if (Enter(Op::kExists, path)) return false;
    return base_->Exists(path);
  }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    if (auto e = Enter(Op::kListDir, dir)) return *e;
    return base_->ListDir(dir);
  }
  Status MakeDirs(const std::string& dir) override {
    if (auto e = Enter(Op::kMakeDirs, dir)) return *e;
    return base_->MakeDirs(dir);
  }
  Result<std::unique_ptr<WritableFile>> NewTempFile(const std::string& dir, const std::string& prefix,
                                                    std::string* path) override {
    if (auto e = Enter(Op::kNewTempFile, dir)) return *e;
    Result<std::unique_ptr<WritableFile>> file = base_->NewTempFile(dir, prefix, path);
    if (!file.ok()) return file.error();
    temp_files_.push_back(*path);
    return std::unique_ptr<WritableFile>(new File(this, std::move(*file), *path));
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (auto e = Enter(Op::kRenameFile, from)) return *e;
    return base_->RenameFile(from, to);
  }
  Status RemoveFile(const std::string& path) override {
    if (auto e = Enter(Op::kRemoveFile, path)) return *e;
    return base_->RemoveFile(path);
  }
  Result<bool> ExchangeFiles(const std::string& a, const std::string& b) override {
    if (auto e = Enter(Op::kRenameFile, a)) return *e;
    if (exchange_disabled_) return false;
    return base_->ExchangeFiles(a, b);
  }
  Result<bool> OpenForWriting(const std::string& path) override {
    if (auto e = Enter(Op::kOpenForWriting, path)) return *e;
    return base_->OpenForWriting(path);
  }
  Status LinkNoReplace(const std::string& from, const std::string& to) override {
    if (auto e = Enter(Op::kLinkNoReplace, from)) return *e;
    return base_->LinkNoReplace(from, to);
  }
  Status SyncDir(const std::string& dir) override {
    if (auto e = Enter(Op::kSyncDir, dir)) return *e;
    return base_->SyncDir(dir);
  }

  // Every temp file NewTempFile handed out since the last ResetCounts (to
  // check none is left behind).
  const std::vector<std::string>& temp_files() const { return temp_files_; }

 private:
  class File : public WritableFile {
   public:
    File(FakeEnv* env, std::unique_ptr<WritableFile> base, std::string path)
        : env_(env), base_(std::move(base)), path_(std::move(path)) {}
    Status Append(std::string_view data) override {
      if (auto e = env_->Enter(Op::kAppend, path_)) return *e;
      return base_->Append(data);
    }
    Status Sync() override {
      if (auto e = env_->Enter(Op::kSync, path_)) return *e;
      return base_->Sync();
    }
    Status SetOwnerAndMode(uint32_t mode, uint32_t uid, uint32_t gid) override {
      return base_->SetOwnerAndMode(mode, uid, gid);
    }
    Status Close() override {
      if (auto e = env_->Enter(Op::kClose, path_)) {
        base_->Close();  // the descriptor is released either way, as close(2) does
        return *e;
      }
      return base_->Close();
    }

   private:
    FakeEnv* env_;
    std::unique_ptr<WritableFile> base_;
    std::string path_;
  };

  struct Failure {
    int at;  // the call number (1-based, counted since the last ResetCounts) that fails
    std::string message;
  };

  // Counts the call, runs the hook, and returns the injected Error if this
  // call is one to fail.
  // The engine reads files on several threads at once (a burst is preloaded
  // in parallel): the bookkeeping is serialised; the hook runs under the
  // lock too, so a test's hook sees one operation at a time.
  std::optional<Error> Enter(Op op, const std::string& path) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    const size_t i = static_cast<size_t>(op);
    const int n = ++counts_[i];
    if (hook_) hook_(op, path);
    for (auto it = failures_[i].begin(); it != failures_[i].end(); ++it) {
      if (it->at == n) {
        Error e{it->message};
        failures_[i].erase(it);
        return e;
      }
    }
    return std::nullopt;
  }

  std::recursive_mutex mu_;
  Env* base_;
  int64_t now_ms_;
  int64_t file_clock_skew_ns_ = 0;
  std::map<std::string, FileStamp> pinned_;
  std::array<int, kOpCount> counts_{};
  std::array<std::vector<Failure>, kOpCount> failures_;
  std::vector<std::string> reads_;
  std::vector<std::string> temp_files_;
  Hook hook_;
  bool exchange_disabled_ = false;
};

}  // namespace specd
