// What /proc says about a gate's processes: which they are (the session its
// shell made with setsid, and every descendant of one, even one that left
// the session), whether they used CPU between two looks, what the idle ones
// wait on, and who else holds the gate's output pipe. Linux only; a process
// that vanished between listing and reading is simply left out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/proc_stat.h"  // ProcSample

namespace specd::pipeline {

// The gate whose shell is `leader` (a session leader): the live processes of
// that session and their descendants, sorted by pid. Zombies are left out:
// they use nothing and hold nothing.
std::vector<ProcSample> GateProcesses(pid_t leader);

// True when `later` shows no work since `earlier`: the same processes, none
// running at either look, none with more CPU time.
bool Idle(const std::vector<ProcSample>& earlier, const std::vector<ProcSample>& later);

// What idle processes wait on, for a "blocked" reason: "waiting on a read
// (pid 4242 sh: pipe_read)" when one of them is in a read (or opening a fifo
// for reading), else "using no CPU (pid 7 sleep: hrtimer_nanosleep)". A shell
// waiting for its children is named only when nothing else is there.
std::string DescribeWait(const std::vector<ProcSample>& procs);

// Every process but this one whose working directory is `dir` or below it
// (a killed worker's agent, still at work in a worktree about to go).
std::vector<pid_t> ProcessesWorkingIn(const std::string& dir);

// Every process but this one with a descriptor on the pipe whose inode is
// `pipe_inode` (a gate's daemon that left the session still holds its output).
std::vector<pid_t> PipeHolders(ino_t pipe_inode);

}  // namespace specd::pipeline
