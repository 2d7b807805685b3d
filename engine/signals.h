// A thread started under SignalsBlocked keeps SIGTERM, SIGINT and the other
// asynchronous signals away: they stay with the thread that handles them
// (specd watch's signalfd) instead of killing the process from a helper
// thread (nats.c's threads, the task verbs' socket). A thread takes the
// mask of the thread that starts it.
#pragma once

#include <pthread.h>

#include <csignal>

namespace specd {

class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    for (int sync : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, sync);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

}  // namespace specd
