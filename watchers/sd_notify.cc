#include "watchers/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace specd {
namespace {

// A non-negative decimal number with nothing around it, as systemd writes them.
std::optional<uint64_t> ParseUnsigned(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  std::string_view s = text;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// The keep-alive period for a watchdog of `usec`: half of it, as sd_notify(3)
// advises, and at least 1 ms so that a tiny watchdog is not read as none.
int64_t KeepAliveMillis(uint64_t usec) {
  uint64_t ms = usec / 2 / 1000;
  return static_cast<int64_t>(ms == 0 ? 1 : ms);
}

// Fills `addr` for `path` ("/..." or "@abstract") and returns the address
// length to pass to sendto: for the abstract namespace the name's exact
// length (its bytes are not NUL-terminated and every byte counts).
socklen_t FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  if (path[0] == '@') {
    addr->sun_path[0] = '\0';
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  }
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
}

}  // namespace

SdNotifier SdNotifier::FromEnvironment() {
  return FromValues(std::getenv("NOTIFY_SOCKET"), std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"),
                    static_cast<int64_t>(::getpid()));
}

SdNotifier SdNotifier::FromValues(const char* notify_socket, const char* watchdog_usec,
                                  const char* watchdog_pid, int64_t self_pid) {
  SdNotifier n;
  std::string_view socket = notify_socket ? notify_socket : "";
  // An abstract name may hold any byte but NUL; a path must also leave room
  // for its terminating NUL.
  bool usable = (socket.size() >= 2 && socket[0] == '@' && socket.size() <= sizeof(sockaddr_un::sun_path)) ||
                (socket.size() >= 2 && socket[0] == '/' && socket.size() < sizeof(sockaddr_un::sun_path));
  if (!usable) return n;
  n.socket_path_ = std::string(socket);
  std::optional<uint64_t> usec = ParseUnsigned(watchdog_usec);
  if (!usec || *usec == 0) return n;
  if (watchdog_pid != nullptr) {
    std::optional<uint64_t> pid = ParseUnsigned(watchdog_pid);
    if (!pid || static_cast<int64_t>(*pid) != self_pid) return n;
  }
  n.watchdog_interval_ms_ = KeepAliveMillis(*usec);
  return n;
}

bool SdNotifier::Ready(const std::string& status) {
  return Send("READY=1\nSTATUS=" + status);
}
bool SdNotifier::Status(const std::string& status) {
  return Send("STATUS=" + status);
}
bool SdNotifier::Watchdog() {
  return Send("WATCHDOG=1");
}
bool SdNotifier::Stopping() {
  return Send("STOPPING=1");
}

bool SdNotifier::Send(const std::string& message) {
  if (!enabled()) return false;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr;
  socklen_t len = FillAddress(socket_path_, &addr);
  ssize_t sent;
  do {
    sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
  return sent == static_cast<ssize_t>(message.size());
}

}  // namespace specd
