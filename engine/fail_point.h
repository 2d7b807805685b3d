// Named points where a test kills the process, to show what a crash there
// leaves (the merge's steps, issue 13): with SPECD_FAIL_POINT=NAME in the
// environment, FailPoint("NAME") sends the process SIGKILL, as an OOM
// killer or a power cut would stop it. Without the variable it costs one
// getenv. Names: squash:before-commit, squash:before-ref, squash:after-ref,
// merge:after-land.
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace specd {

inline void FailPoint(const char* name) {
  const char* want = std::getenv("SPECD_FAIL_POINT");
  if (want && std::strcmp(want, name) == 0) std::raise(SIGKILL);
}

}  // namespace specd
