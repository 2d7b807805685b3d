#include "engine/journal_changes.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace specd {

namespace {

constexpr int64_t kFirstRelookMs = 2;
constexpr int64_t kLastRelookMs = 128;

}  // namespace

JournalChanges::~JournalChanges() {
  if (fd_ >= 0) ::close(fd_);
}

Status JournalChanges::Start(const std::string& journal_path) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return Error{std::string("inotify_init1: ") + std::strerror(errno)};
  const size_t slash = journal_path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : journal_path.substr(0, slash);
  name_ = slash == std::string::npos ? journal_path : journal_path.substr(slash + 1);
  if (::inotify_add_watch(fd_, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
    return Error{"cannot watch " + dir + ": " + std::strerror(errno)};
  return Status::Ok();
}

bool JournalChanges::Wait(int64_t max_ms, int extra_fd) {
  const bool relook = relook_ms_ > 0;
  const int64_t wait = relook && relook_ms_ < max_ms ? relook_ms_ : max_ms;
  struct pollfd fds[2] = {{fd_, POLLIN, 0}, {extra_fd, POLLIN, 0}};
  const int n = ::poll(fds, extra_fd >= 0 ? 2 : 1, static_cast<int>(wait));
  if (n > 0 && extra_fd >= 0 && (fds[1].revents & POLLIN)) return false;
  bool changed = false;
  if (n > 0 && (fds[0].revents & POLLIN)) {
    alignas(inotify_event) char buf[16384];
    ssize_t got;
    while ((got = ::read(fd_, buf, sizeof buf)) > 0) {
      for (char* at = buf; at < buf + got;) {
        const auto* e = reinterpret_cast<const inotify_event*>(at);
        if (e->len > 0 && std::string_view(e->name).substr(0, name_.size()) == name_) changed = true;
        if (e->mask & IN_Q_OVERFLOW) changed = true;
        at += sizeof(inotify_event) + e->len;
      }
    }
  }
  if (changed) {
    by_change_ = true;
    return true;
  }
  if (relook && n == 0) {  // the short wait ran out: look again
    relook_ms_ = relook_ms_ * 2 > kLastRelookMs ? 0 : relook_ms_ * 2;
    by_change_ = false;
    return true;
  }
  return false;
}

void JournalChanges::Found(bool something) {
  if (something) {
    relook_ms_ = 0;
  } else if (by_change_) {
    relook_ms_ = kFirstRelookMs;  // woken by the WAL's first write: the commit may be on its way
  }
}

}  // namespace specd
