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
#include "engine/proc_stat.h"

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

// Both directions carry one message: a JSON header line that names the sizes
// of two bodies (under `sizes`), then the bodies' bytes as they are.
Status SendMessage(int fd, Json header, const char* const (&sizes)[2], const std::string& first,
                   const std::string& second) {
  header[sizes[0]] = first.size();
  header[sizes[1]] = second.size();
  return WriteAll(fd, header.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" + first + second);
}

Result<Json> ReceiveMessage(int fd, const char* const (&sizes)[2], std::string* first, std::string* second) {
  std::string rest;
  Result<std::string> line = ReadHeader(fd, &rest);
  if (!line.ok()) return line.error();
  Json header = Json::parse(*line, nullptr, false);
  if (!header.is_object()) return Error{"a message whose header is not a JSON object"};
  Result<std::string> a = ReadBytes(fd, Count(header, sizes[0]), &rest);
  if (!a.ok()) return a.error();
  Result<std::string> b = ReadBytes(fd, Count(header, sizes[1]), &rest);
  if (!b.ok()) return b.error();
  *first = std::move(*a);
  *second = std::move(*b);
  return header;
}

constexpr const char* kRequestSizes[2] = {"patchBytes", "logBytes"};
constexpr const char* kAnswerSizes[2] = {"outBytes", "errBytes"};

}  // namespace

std::string VerbSocketPath(const std::string& root) {
  return BesideJournal(JournalPathFor(root), "verbs.sock");
}

Result<sockaddr_un> SocketAddressFor(const std::string& path, int* dir_fd) {
  *dir_fd = -1;
  std::string address = path;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    const size_t slash = path.rfind('/');
    *dir_fd = ::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dir_fd < 0) return Error{"cannot open " + path.substr(0, slash) + ": " + std::strerror(errno)};
    address = "/proc/self/fd/" + std::to_string(*dir_fd) + path.substr(slash);
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, address.data(), address.size());
  return sa;
}

namespace {

// A watcher stopped by a signal (Ctrl-Z in its terminal, SIGSTOP) would take
// a connection and never answer: its pid, from the watch lock beside the
// journal, is looked up first, and a stopped one is passed by.
bool WatcherIsStopped(const std::string& root) {
  const std::string lock = ReadProcFile(WatchLockPathFor(JournalPathFor(root)));  // its pid
  const long pid = std::strtol(lock.c_str(), nullptr, 10);
  ProcSample watcher;
  return pid > 0 && ReadProcStat(static_cast<pid_t>(pid), &watcher) &&
         (watcher.state == 'T' || watcher.state == 't');
}

}  // namespace

int ConnectToWatcher(const std::string& root) {
  if (WatcherIsStopped(root)) return -1;
  int dir_fd = -1;
  Result<sockaddr_un> sa = SocketAddressFor(VerbSocketPath(root), &dir_fd);
  if (!sa.ok()) return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) != 0) {
    ::close(fd);
    fd = -1;
  }
  if (dir_fd >= 0) ::close(dir_fd);
  return fd;
}

Result<VerbAnswer> AskWatcher(int fd, const VerbRequest& r) {
  Json header = {{"verb", r.verb},     {"root", r.root},   {"spec", r.spec},     {"task", r.task},
                 {"worker", r.worker}, {"lease", r.lease}, {"reason", r.reason}, {"json", r.json}};
  VerbAnswer a;
  Status sent = SendMessage(fd, std::move(header), kRequestSizes, r.patch, r.log_tail);
  Result<Json> h = sent.ok() ? ReceiveMessage(fd, kAnswerSizes, &a.out, &a.err) : Result<Json>(sent.error());
  ::close(fd);
  if (!h.ok()) return h.error();
  auto exit = h->find("exit");
  if (exit == h->end() || !exit->is_number_integer()) return Error{"the watcher's answer is not one"};
  a.exit_code = exit->get<int>();
  return a;
}

Result<VerbRequest> ReadVerbRequest(int fd) {
  VerbRequest r;
  Result<Json> h = ReceiveMessage(fd, kRequestSizes, &r.patch, &r.log_tail);
  if (!h.ok()) return h.error();
  r.verb = Text(*h, "verb");
  r.root = Text(*h, "root");
  r.spec = Text(*h, "spec");
  r.task = Text(*h, "task");
  r.worker = Text(*h, "worker");
  r.lease = Text(*h, "lease");
  r.reason = Text(*h, "reason");
  auto json = h->find("json");
  r.json = json != h->end() && json->is_boolean() && json->get<bool>();
  return r;
}

Status WriteVerbAnswer(int fd, const VerbAnswer& a) {
  return SendMessage(fd, Json{{"exit", a.exit_code}}, kAnswerSizes, a.out, a.err);
}

}  // namespace specd::cli
