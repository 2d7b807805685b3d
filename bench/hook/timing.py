#!/usr/bin/env python3
"""Timing driver for bench/hook (standard library only); see bench/hook/run.

Each round runs every command once, in turn, so machine noise hits them
alike; medians are reported. Every run is checked: the hook and ajv must say
all changed files are valid, and each commit must succeed (it is undone with
`git reset --soft HEAD~1`, untimed, before the next).

Exit status: 0 all targets met, 1 a target missed, 2 a command misbehaved.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HOOK_TARGET_MS = 20.0
AJV_RATIO_TARGET = 10.0
HOOK_COMMIT_TARGET = 1.0  # issue 17: hook <= git commit --no-verify of the same change
VERSION_TARGET = 2.0  # issue 17: specd --version <= 2x git --version


def timed(argv, env=None, cwd=None):
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=cwd)
    wall = (time.perf_counter() - t0) * 1000.0
    return wall, proc


def fail(what, proc):
    sys.stderr.write(f"bench/hook: {what} failed (exit {proc.returncode}):\n"
                     f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}")
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser()
    for name in ("--specd", "--ajv", "--schema", "--repo", "--hooks", "--changed-dir"):
        ap.add_argument(name, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--changed", type=int, required=True)
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()

    env = dict(os.environ)
    hook_env = dict(env, GIT_INDEX_FILE=os.path.join(a.repo, ".git", "index"))
    changed = sorted(os.path.join(a.changed_dir, f) for f in os.listdir(a.changed_dir))
    ajv_argv = [a.ajv, "validate", "--spec=draft7", "-s", a.schema]
    for f in changed:
        ajv_argv += ["-d", f]

    def commit(hooks_path, *flags):
        return ["git", "-c", f"core.hooksPath={hooks_path}", "commit", *flags, "-q", "-m", "bench"]

    def run_commit(name, hooks_path, *flags):
        wall, proc = timed(commit(hooks_path, *flags), env, a.repo)
        if proc.returncode != 0:
            fail(name, proc)
        undo = subprocess.run(["git", "reset", "-q", "--soft", "HEAD~1"], cwd=a.repo, capture_output=True)
        if undo.returncode != 0:
            fail("git reset --soft", undo)
        return wall

    # The installed script, as git runs it (from the top of the work tree,
    # GIT_INDEX_FILE set): the shell, the script and the specd it starts.
    hook_script = os.path.join(a.hooks, "pre-commit")

    def run_hook():
        wall, proc = timed([hook_script], hook_env, a.repo)
        if proc.returncode != 0 or proc.stderr:
            fail("the pre-commit hook", proc)
        return wall

    def run_ajv():
        wall, proc = timed(ajv_argv, env)
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if proc.returncode != 0 or out.count(" valid") < len(changed):
            fail("ajv", proc)
        return wall

    def run_version(argv):
        wall, proc = timed(argv, env)
        if proc.returncode != 0 or not proc.stdout:
            fail(" ".join(argv), proc)
        return wall

    commands = {
        "hook": run_hook,
        "ajv": run_ajv,
        "commit": lambda: run_commit("git commit (no hook)", "/dev/null"),
        "commit+hook": lambda: run_commit("git commit (specd hook)", a.hooks),
        "no-verify": lambda: run_commit("git commit --no-verify", a.hooks, "--no-verify"),
        "specd-version": lambda: run_version([a.specd, "--version"]),
        "git-version": lambda: run_version(["git", "--version"]),
    }
    for fn in commands.values():  # warm-up: page cache, node's compile cache
        fn()
    samples = {k: [] for k in commands}
    for _ in range(a.runs):
        for k, fn in commands.items():
            samples[k].append(fn())
    med = {k: statistics.median(v) for k, v in samples.items()}

    print(f"bench/hook: {a.changed} changed specs staged in a repository of {a.count}; "
          f"{a.runs} interleaved rounds, medians (ms)")
    for k, label in (("hook", "the pre-commit hook"), ("ajv", "ajv-cli 5, same files"),
                     ("commit", "git commit, no hook"), ("commit+hook", "git commit, specd hook"),
                     ("no-verify", "git commit --no-verify"), ("specd-version", "specd --version"),
                     ("git-version", "git --version")):
        v = samples[k]
        print(f"  {label:<24} {med[k]:8.2f}   (min {min(v):.2f}, max {max(v):.2f})")
    in_commit = med["commit+hook"] - med["commit"]
    ratio = med["ajv"] / med["hook"] if med["hook"] > 0 else float("inf")
    print(f"  hook time inside a commit (commit+hook - commit): {in_commit:.2f}")
    ok_time = med["hook"] <= HOOK_TARGET_MS and in_commit <= HOOK_TARGET_MS
    ok_ratio = ratio >= AJV_RATIO_TARGET
    hook_commit = med["hook"] / med["no-verify"]
    version = med["specd-version"] / med["git-version"]
    print(f"  ratios: hook / git commit --no-verify {hook_commit:.2f}, "
          f"specd --version / git --version {version:.2f}")
    ok_commit = hook_commit <= HOOK_COMMIT_TARGET
    ok_version = version <= VERSION_TARGET
    print(f"  target hook <= {HOOK_TARGET_MS:.0f} ms: {'PASS' if ok_time else 'MISSED'} "
          f"({med['hook']:.2f} ms alone, {in_commit:.2f} ms inside git commit)")
    print(f"  target hook <= ajv/{AJV_RATIO_TARGET:.0f}: {'PASS' if ok_ratio else 'MISSED'} "
          f"(ajv takes {ratio:.1f}x the hook's time)")
    print(f"  target hook <= {HOOK_COMMIT_TARGET:.1f}x git commit --no-verify: "
          f"{'PASS' if ok_commit else 'MISSED'} ({hook_commit:.2f}x)")
    print(f"  target specd --version <= {VERSION_TARGET:.0f}x git --version: "
          f"{'PASS' if ok_version else 'MISSED'} ({version:.2f}x)")
    return 0 if ok_time and ok_ratio and ok_commit and ok_version else 1


if __name__ == "__main__":
    sys.exit(main())
