#include "cli/verb_server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/signals.h"

namespace specd::cli {

namespace {

// A client that connects and then says nothing is not waited on forever.
constexpr int kClientTimeoutS = 10;

}  // namespace

Result<std::unique_ptr<VerbServer>> VerbServer::Start(const std::string& root, Answer answer) {
  const std::string path = VerbSocketPath(root);
  int dir_fd = -1;
  Result<sockaddr_un> sa = SocketAddressFor(path, &dir_fd);
  if (!sa.ok()) return sa.error();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // The watch lock is held: a socket file there is a dead watcher's.
  ::unlink(sa->sun_path);
  // Only this user may connect: the socket is made 0600 from the start.
  const mode_t old_mask = ::umask(0177);
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) == 0;
  ::umask(old_mask);
  const int bind_errno = errno;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!bound || ::listen(fd, 64) != 0) {
    const int err = bound ? errno : bind_errno;
    if (fd >= 0) ::close(fd);
    return Error{"cannot listen on " + path + ": " + std::strerror(err)};
  }
  int stop_fd = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    ::close(fd);
    return Error{std::string("cannot make an eventfd: ") + std::strerror(errno)};
  }
  return std::unique_ptr<VerbServer>(new VerbServer(path, fd, stop_fd, std::move(answer)));
}

VerbServer::VerbServer(std::string path, int listen_fd, int stop_fd, Answer answer)
    : path_(std::move(path)), listen_fd_(listen_fd), stop_fd_(stop_fd), answer_(std::move(answer)) {
  SignalsBlocked blocked;  // the watcher's signalfd takes SIGTERM, not this thread
  thread_ = std::thread([this] { Loop(); });
}

VerbServer::~VerbServer() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  // The file first: a client that finds no file asks specd-git, not a
  // socket that no longer answers.
  ::unlink(path_.c_str());
  ::close(listen_fd_);
  ::close(stop_fd_);
}

void VerbServer::Loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("the task verbs' socket: poll: {}; the verbs run in specd-git from now on",
                    std::strerror(errno));
      ::unlink(path_.c_str());  // so that no client waits on a socket nobody answers
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) ::poll(nullptr, 0, 100);  // out of descriptors: no spin
      continue;
    }
    Serve(fd);
    ::close(fd);
  }
}

void VerbServer::Serve(int fd) {
  timeval timeout{kClientTimeoutS, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  Result<VerbRequest> request = ReadVerbRequest(fd);
  if (!request.ok()) {
    spdlog::warn("the task verbs' socket: {}", request.error().message);
    return;
  }
  VerbAnswer answer = answer_(*request);  // `answer` catches what the verb throws
  if (Status s = WriteVerbAnswer(fd, answer); !s.ok()) {
    spdlog::warn("the task verbs' socket: {} (the {} was done; its answer is lost)", s.error().message,
                 request->verb);
  }
}

}  // namespace specd::cli
