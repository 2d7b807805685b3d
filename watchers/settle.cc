#include "watchers/settle.h"

#include <algorithm>

namespace specd {

void Settler::Note(const FsEvent& event, int64_t now_ms) {
  // The latest event decides: a modify after a close means a writer is back.
  const int64_t due = event.kind == FsEvent::Kind::kWritten ? now_ms : now_ms + settle_ms_;
  pending_[event.path] = Entry{due, false};
}

void Settler::Hold(const std::string& path, int64_t now_ms, int64_t held_since_ms, int64_t wait_ms) {
  const int64_t due = now_ms + (wait_ms < 0 ? settle_ms_ : wait_ms);
  auto [it, inserted] = pending_.try_emplace(path, Entry{due, true, held_since_ms});
  // Not inserted: an event came in meanwhile, so it is a first look again.
  if (!inserted) it->second.due_ms = std::max(it->second.due_ms, due);
}

void Settler::Retry(const std::string& path, int64_t due_ms) {
  auto [it, inserted] = pending_.try_emplace(path, Entry{due_ms, false});
  if (!inserted) it->second.due_ms = std::min(it->second.due_ms, due_ms);
}

std::vector<Settler::Due> Settler::Take(int64_t now_ms) {
  std::vector<Due> due;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.due_ms <= now_ms) {
      due.push_back(Due{it->first, it->second.last_look, it->second.held_since_ms});
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) { return a.path < b.path; });
  return due;
}

std::optional<int64_t> Settler::NextDue() const {
  std::optional<int64_t> next;
  for (const auto& [path, e] : pending_) {
    if (!next || e.due_ms < *next) next = e.due_ms;
  }
  return next;
}

}  // namespace specd
