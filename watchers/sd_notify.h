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
