// SdNotifier against real AF_UNIX datagram sockets, bound where systemd
// would put them (a path, or an abstract "@name"): each call's exact
// datagram is received right after it is sent (datagrams on a local socket
// are queued by sendto itself, so no waiting).
#include "watchers/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "tests/test_util.h"

namespace specd {
namespace {

using ::specd::testing::TempDir;

// A bound datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  // `name`: a path, or "@..." for the abstract namespace (bound with the
  // name's exact length, as systemd does: a sender that pads the address
  // with NULs names another socket and is refused).
  explicit NotifySocket(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  // The next queued datagram; nullopt when none is queued.
  std::optional<std::string> Next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

// Sets (or unsets, for nullptr) an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void ExpectEveryMessage(SdNotifier& n, NotifySocket& socket) {
  ASSERT_TRUE(n.enabled());
  EXPECT_TRUE(n.Ready("watching 3 specs"));
  EXPECT_EQ(socket.Next(), "READY=1\nSTATUS=watching 3 specs");
  EXPECT_TRUE(n.Status("reconciled spec-2026-01-01-001"));
  EXPECT_EQ(socket.Next(), "STATUS=reconciled spec-2026-01-01-001");
  EXPECT_TRUE(n.Watchdog());
  EXPECT_EQ(socket.Next(), "WATCHDOG=1");
  EXPECT_TRUE(n.Stopping());
  EXPECT_EQ(socket.Next(), "STOPPING=1");
  EXPECT_EQ(socket.Next(), std::nullopt);
}

TEST(SdNotifyTest, SendsEachMessageToAPathSocket) {
  TempDir dir("specd-notify");
  NotifySocket socket(dir / "notify");
  ASSERT_TRUE(socket.bound());
  ScopedEnv env("NOTIFY_SOCKET", (dir / "notify").c_str());
  SdNotifier n = SdNotifier::FromEnvironment();
  ExpectEveryMessage(n, socket);
}

TEST(SdNotifyTest, SendsEachMessageToAnAbstractSocketWithItsExactLength) {
  std::string name = "@specd-notify-test-" + std::to_string(::getpid());
  NotifySocket socket(name);
  ASSERT_TRUE(socket.bound());
  ScopedEnv env("NOTIFY_SOCKET", name.c_str());
  SdNotifier n = SdNotifier::FromEnvironment();
  ExpectEveryMessage(n, socket);
}

TEST(SdNotifyTest, WithoutAUsableSocketEveryCallIsANoOp) {
  for (const char* socket : {static_cast<const char*>(nullptr), "", "relative/notify", "@", "vsock:2:1234"}) {
    SdNotifier n = SdNotifier::FromValues(socket, "30000000", nullptr, 7);
    EXPECT_FALSE(n.enabled()) << (socket ? socket : "(unset)");
    EXPECT_EQ(n.watchdog_interval_ms(), 0);
    EXPECT_FALSE(n.Ready("x"));
    EXPECT_FALSE(n.Watchdog());
  }
  std::string too_long = "/" + std::string(sizeof(sockaddr_un::sun_path), 'a');
  EXPECT_FALSE(SdNotifier::FromValues(too_long.c_str(), nullptr, nullptr, 7).enabled());
}

TEST(SdNotifyTest, ASocketNobodyListensOnFailsWithoutThrowing) {
  TempDir dir("specd-notify");
  SdNotifier n = SdNotifier::FromValues((dir / "gone").c_str(), nullptr, nullptr, 7);
  EXPECT_TRUE(n.enabled());
  EXPECT_FALSE(n.Ready("x"));
  EXPECT_FALSE(n.Stopping());
}

TEST(SdNotifyTest, WatchdogIntervalIsHalfOfWatchdogUsec) {
  auto interval = [](const char* usec, const char* pid) {
    return SdNotifier::FromValues("/run/user/1000/systemd/notify", usec, pid, 4242).watchdog_interval_ms();
  };
  EXPECT_EQ(interval("30000000", nullptr), 15000);
  EXPECT_EQ(interval("30000000", "4242"), 15000);  // meant for us
  EXPECT_EQ(interval("30000000", "4243"), 0);      // meant for another process
  EXPECT_EQ(interval("30000000", "x"), 0);
  EXPECT_EQ(interval("1500", nullptr), 1);  // tiny, but still a watchdog
  EXPECT_EQ(interval(nullptr, nullptr), 0);
  EXPECT_EQ(interval("0", nullptr), 0);
  EXPECT_EQ(interval("-30000000", nullptr), 0);
  EXPECT_EQ(interval("30s", nullptr), 0);
  EXPECT_EQ(interval("", nullptr), 0);
}

TEST(SdNotifyTest, FromEnvironmentHonoursWatchdogPid) {
  ScopedEnv socket("NOTIFY_SOCKET", "@specd-unused");
  ScopedEnv usec("WATCHDOG_USEC", "20000000");
  {
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid()).c_str());
    EXPECT_EQ(SdNotifier::FromEnvironment().watchdog_interval_ms(), 10000);
  }
  {
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str());
    EXPECT_EQ(SdNotifier::FromEnvironment().watchdog_interval_ms(), 0);
  }
  ScopedEnv pid("WATCHDOG_PID", nullptr);
  EXPECT_EQ(SdNotifier::FromEnvironment().watchdog_interval_ms(), 10000);
}

}  // namespace
}  // namespace specd
