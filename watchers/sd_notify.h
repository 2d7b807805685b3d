// systemd's notify protocol, spoken directly (no libsystemd): when specd
// watch runs as a Type=notify unit, $NOTIFY_SOCKET names a datagram socket
// that is told READY=1 once the first reconcile is done, STATUS= lines,
// WATCHDOG=1 keep-alives (at half of $WATCHDOG_USEC) and STOPPING=1. Outside
// systemd every call does nothing.
#pragma once

#include <cstdint>
#include <string>

namespace specd {

class SdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (a watchdog meant
  // for another process is ignored), as sd_notify(3) does.
  static SdNotifier FromEnvironment();
  // The same from given values (nullptr: the variable is unset) and the
  // caller's pid; FromEnvironment is this with getenv() and getpid().
  // A socket that is neither an absolute path nor "@name", or too long for
  // sockaddr_un, disables the notifier; a WATCHDOG_USEC that is not a
  // positive decimal number, or a WATCHDOG_PID that is not `self_pid`,
  // disables the watchdog only.
  static SdNotifier FromValues(const char* notify_socket, const char* watchdog_usec, const char* watchdog_pid,
                               int64_t self_pid);

  bool enabled() const { return !socket_path_.empty(); }
  // How often Watchdog() must be called; 0 when systemd asks for none.
  int64_t watchdog_interval_ms() const { return watchdog_interval_ms_; }

  bool Ready(const std::string& status);  // READY=1 and STATUS=
  bool Status(const std::string& status);
  bool Watchdog();  // WATCHDOG=1
  bool Stopping();  // STOPPING=1
  // Sends `message` as one datagram; false when there is no socket or the
  // send failed (systemd gone: the watcher goes on regardless).
  bool Send(const std::string& message);

 private:
  std::string socket_path_;  // "@..." for the abstract namespace
  int64_t watchdog_interval_ms_ = 0;
};

}  // namespace specd
