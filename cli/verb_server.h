// specd watch's side of cli/verb_socket.h: a thread that listens on the
// socket beside the journal and answers one task verb per connection, one
// connection at a time, through `answer` (the verb run on an engine of the
// server's own; it must not throw). The socket goes when the server does. Only the watcher
// (holding the watch lock, so one per repository) starts one.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cli/verb_socket.h"

namespace specd::cli {

class VerbServer {
 public:
  using Answer = std::function<VerbAnswer(const VerbRequest&)>;
  // Binds the socket for `root` (a socket left by a watcher that died is
  // replaced) and starts answering.
  static Result<std::unique_ptr<VerbServer>> Start(const std::string& root, Answer answer);
  ~VerbServer();
  VerbServer(const VerbServer&) = delete;
  VerbServer& operator=(const VerbServer&) = delete;

  const std::string& path() const { return path_; }

 private:
  VerbServer(std::string path, int listen_fd, int stop_fd, Answer answer);
  void Loop();
  void Serve(int fd);

  std::string path_;
  int listen_fd_, stop_fd_;
  Answer answer_;
  std::thread thread_;
};

}  // namespace specd::cli
