#include "watchers/sd_notify.h"

// Placeholder until the notify protocol lands on the service branch: no
// socket, every call a no-op returning false.
namespace specd {

SdNotifier SdNotifier::FromEnvironment() { return SdNotifier{}; }
bool SdNotifier::Ready(const std::string& status) { return Send("READY=1\nSTATUS=" + status); }
bool SdNotifier::Status(const std::string& status) { return Send("STATUS=" + status); }
bool SdNotifier::Watchdog() { return Send("WATCHDOG=1"); }
bool SdNotifier::Stopping() { return Send("STOPPING=1"); }
bool SdNotifier::Send(const std::string& message) { return false; }

}  // namespace specd
