#include "cli/verb_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/journal.h"

namespace specd::cli {

namespace {

using Json = nlohmann::json;

// Header lines are small; bytes after them are counted by the header.
constexpr size_t kMaxHeader = 64 * 1024;
constexpr size_t kMaxBody = 64 * 1024 * 1024;

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("cannot write to the watcher's socket: ") + std::strerror(errno)};
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads up to the first '\n' (kept out of the header), keeping what came after it.
Result<std::string> ReadHeader(int fd, std::string* rest) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) {
      *rest = buf.substr(nl + 1);
      buf.resize(nl);
      return buf;
    }
    if (buf.size() > kMaxHeader) return Error{"the socket's header line is too long"};
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("cannot read the socket: ") + std::strerror(errno)};
    if (n == 0) return Error{"the connection closed before a whole header"};
    buf.append(chunk, static_cast<size_t>(n));
  }
}

Result<std::string> ReadBytes(int fd, size_t count, std::string* rest) {
  if (count > kMaxBody) return Error{"the socket's body is too large"};
  std::string out = std::move(*rest);
  rest->clear();
  if (out.size() > count) {
    *rest = out.substr(count);
    out.resize(count);
  }
  char chunk[65536];
  while (out.size() < count) {
    ssize_t n = ::recv(fd, chunk, std::min(sizeof chunk, count - out.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("cannot read the socket: ") + std::strerror(errno)};
    if (n == 0) return Error{"the connection closed mid-message"};
    out.append(chunk, static_cast<size_t>(n));
  }
  return out;
}

std::string Text(const Json& j, const char* key) {
  auto at = j.find(key);
  return at != j.end() && at->is_string() ? at->get<std::string>() : std::string();
}

size_t Count(const Json& j, const char* key) {
  auto at = j.find(key);
  return at != j.end() && at->is_number_unsigned() ? at->get<size_t>() : 0;
}

}  // namespace

std::string VerbSocketPath(const std::string& root) {
  std::string journal = JournalPathFor(root);
  return journal.substr(0, journal.rfind('/') + 1) + "verbs.sock";
}

Result<std::string> SocketAddressFor(const std::string& path, int* dir_fd) {
  *dir_fd = -1;
  if (path.size() < sizeof(sockaddr_un::sun_path)) return path;
  const size_t slash = path.rfind('/');
  *dir_fd = ::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dir_fd < 0) return Error{"cannot open " + path.substr(0, slash) + ": " + std::strerror(errno)};
  return "/proc/self/fd/" + std::to_string(*dir_fd) + path.substr(slash);
}

namespace {

// A watcher stopped by a signal (Ctrl-Z in its terminal, SIGSTOP) would take
// a connection and never answer: its pid, from the watch lock beside the
// journal, is looked up first, and a stopped one is passed by.
bool WatcherIsStopped(const std::string& root) {
  std::string journal = JournalPathFor(root);
  int fd = ::open((journal.substr(0, journal.rfind('/') + 1) + "watch.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[32];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const long pid = std::strtol(buf, nullptr, 10);
  if (pid <= 0) return false;
  char stat[512];
  int sfd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (sfd < 0) return false;
  ssize_t m = ::read(sfd, stat, sizeof stat - 1);
  ::close(sfd);
  if (m <= 0) return false;
  stat[m] = '\0';
  const char* paren = std::strrchr(stat, ')');  // the state follows the command name
  return paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
}

}  // namespace

int ConnectToWatcher(const std::string& root) {
  if (WatcherIsStopped(root)) return -1;
  int dir_fd = -1;
  Result<std::string> address = SocketAddressFor(VerbSocketPath(root), &dir_fd);
  if (!address.ok()) return -1;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, address->data(), address->size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    fd = -1;
  }
  if (dir_fd >= 0) ::close(dir_fd);
  return fd;
}

Result<VerbAnswer> AskWatcher(int fd, const VerbRequest& r) {
  Json header = {{"verb", r.verb},
                 {"root", r.root},
                 {"spec", r.spec},
                 {"task", r.task},
                 {"worker", r.worker},
                 {"lease", r.lease},
                 {"reason", r.reason},
                 {"json", r.json},
                 {"patchBytes", r.patch.size()},
                 {"logBytes", r.log_tail.size()}};
  std::string wire =
      header.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" + r.patch + r.log_tail;
  Status sent = WriteAll(fd, wire);
  std::string rest;
  Result<std::string> line = sent.ok() ? ReadHeader(fd, &rest) : Result<std::string>(sent.error());
  Result<VerbAnswer> answer = [&]() -> Result<VerbAnswer> {
    if (!line.ok()) return line.error();
    Json h = Json::parse(*line, nullptr, false);
    if (!h.is_object() || !h.contains("exit") || !h["exit"].is_number_integer())
      return Error{"the watcher's answer is not one"};
    VerbAnswer a;
    a.exit_code = h["exit"].get<int>();
    Result<std::string> out = ReadBytes(fd, Count(h, "outBytes"), &rest);
    if (!out.ok()) return out.error();
    Result<std::string> err = ReadBytes(fd, Count(h, "errBytes"), &rest);
    if (!err.ok()) return err.error();
    a.out = std::move(*out);
    a.err = std::move(*err);
    return a;
  }();
  ::close(fd);
  return answer;
}

Result<VerbRequest> ReadVerbRequest(int fd) {
  std::string rest;
  Result<std::string> line = ReadHeader(fd, &rest);
  if (!line.ok()) return line.error();
  Json h = Json::parse(*line, nullptr, false);
  if (!h.is_object()) return Error{"a request that is not JSON"};
  VerbRequest r;
  r.verb = Text(h, "verb");
  r.root = Text(h, "root");
  r.spec = Text(h, "spec");
  r.task = Text(h, "task");
  r.worker = Text(h, "worker");
  r.lease = Text(h, "lease");
  r.reason = Text(h, "reason");
  auto json = h.find("json");
  r.json = json != h.end() && json->is_boolean() && json->get<bool>();
  Result<std::string> patch = ReadBytes(fd, Count(h, "patchBytes"), &rest);
  if (!patch.ok()) return patch.error();
  Result<std::string> log = ReadBytes(fd, Count(h, "logBytes"), &rest);
  if (!log.ok()) return log.error();
  r.patch = std::move(*patch);
  r.log_tail = std::move(*log);
  return r;
}

Status WriteVerbAnswer(int fd, const VerbAnswer& a) {
  Json header = {{"exit", a.exit_code}, {"outBytes", a.out.size()}, {"errBytes", a.err.size()}};
  return WriteAll(fd, header.dump() + "\n" + a.out + a.err);
}

}  // namespace specd::cli
