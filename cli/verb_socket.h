// The task verbs answered by a running `specd watch`, the way watchman's
// client asks its server: `specd next|claim|heartbeat|release|fail|submit`
// connects to the watcher's socket beside the journal and the watcher runs
// the verb on its own engine, already started (no second process, no
// libgit2 to load, no journal to open). The reply is the verb's exact
// output and exit code. With no watcher there, the verb runs in specd-git
// as before; the journal decides in both cases, so the outcome is the same.
//
// One connection carries one request: a JSON header line, then the patch's
// and the log tail's bytes as they are (a diff need not be UTF-8). The
// answer: a JSON header line with the exit code, then stdout's and
// stderr's bytes.
#pragma once

#include <sys/un.h>

#include <optional>
#include <string>

#include "schema/result.h"

namespace specd::cli {

struct VerbRequest {
  std::string verb, root, spec, task, worker, lease, reason;
  bool json = false;
  std::string patch, log_tail;
};

struct VerbAnswer {
  int exit_code = 2;
  std::string out, err;
};

// The watcher's socket for the repository at `root` (beside its journal).
std::string VerbSocketPath(const std::string& root);

// Connects to the watcher serving `root`; -1 when none is listening (no
// socket, or one left by a watcher that is gone).
int ConnectToWatcher(const std::string& root);

// Sends `request` on `fd` (closed after) and reads the answer. An error when
// the watcher went away mid-way: the verb may or may not have been done.
Result<VerbAnswer> AskWatcher(int fd, const VerbRequest& request);

// The server's side of the wire (verb_server.cc).
Result<VerbRequest> ReadVerbRequest(int fd);
Status WriteVerbAnswer(int fd, const VerbAnswer& answer);

// A socket address for `path` however long it is: a path too long for
// sockaddr_un goes through /proc/self/fd/N of its directory, opened in
// `dir_fd` (closed by the caller once bound or connected; -1 when not needed).
Result<sockaddr_un> SocketAddressFor(const std::string& path, int* dir_fd);

}  // namespace specd::cli
