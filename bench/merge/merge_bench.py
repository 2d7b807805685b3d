#!/usr/bin/env python3
"""bench/merge: SquashMerge against the same squash with git's CLI in a fresh worktree.

Run through bench/merge/run (it documents the environment variables)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DRIVER = sys.argv[1]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
FILES = int(os.environ.get("BENCH_FILES", "5000"))
TASKS = int(os.environ.get("BENCH_TASKS", "10"))
CHECKED_OUT = os.environ.get("BENCH_CHECKED_OUT") == "1"
PER_DIR = 100


def git(repo, *args, stdin=None):
    r = subprocess.run(["git", "-C", repo, *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench/merge: git {' '.join(args)} failed: {r.stderr}")
    return r.stdout.strip()


def path_of(i):
    return f"src/d{i // PER_DIR:03d}/f{i:05d}.c"


def make_repo(work):
    repo = os.path.join(work, "repo")
    for i in range(FILES):
        path = os.path.join(repo, path_of(i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("".join(f"/* file {i}, line {k} */\n" for k in range(1, 21)))
    git(work, "init", "-q", "-b", "main", repo)
    for k, v in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false"),
                 ("core.hooksPath", "/dev/null"), ("gc.auto", "0")):
        git(repo, "config", k, v)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "5,000 files")
    if not CHECKED_OUT:
        git(repo, "checkout", "-q", "--detach")
    return repo


def make_stack(work, repo):
    """TASKS diffs over the tip, each on its own files: one changed, one new."""
    tip = git(repo, "rev-parse", "main")
    index = os.path.join(work, "index")
    env = dict(os.environ, GIT_INDEX_FILE=index)
    patches = []
    for t in range(TASKS):
        subprocess.run(["git", "-C", repo, "read-tree", tip], check=True, env=env)
        changed = path_of((t * 487 + 13) % FILES)
        old = git(repo, "show", f"{tip}:{changed}") + "\n"
        for path, text in ((changed, old.replace("line 10 ", f"line 10, task {t + 1} ")),
                           (f"src/new/task{t + 1:02d}.c", f"/* new in task {t + 1} */\n")):
            blob = subprocess.run(["git", "-C", repo, "hash-object", "-w", "--stdin"], input=text, check=True,
                                  capture_output=True, text=True).stdout.strip()
            subprocess.run(["git", "-C", repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"],
                           check=True, env=env)
        diff = subprocess.run(["git", "-C", repo, "diff", "--cached", tip], check=True, env=env,
                              capture_output=True, text=True).stdout
        patch = os.path.join(work, f"task{t + 1:02d}.diff")
        with open(patch, "w") as f:
            f.write(diff)
        patches.append(patch)
    return tip, patches


def reset(repo, tip):
    git(repo, "update-ref", "refs/heads/main", tip)
    if CHECKED_OUT:
        git(repo, "reset", "-q", "--hard", tip)


def time_specd(repo, tip, patches):
    t0 = time.perf_counter()
    r = subprocess.run([DRIVER, repo, "main", tip, *patches], capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"bench/merge: the driver failed: {r.stderr}")
    return t, r.stdout.strip()


def time_git(work, repo, tip, patches):
    wt = os.path.join(work, "wt")
    t0 = time.perf_counter()
    git(repo, "worktree", "add", "-q", "--detach", wt, tip)
    for p in patches:
        git(wt, "apply", "--index", p)
    git(wt, "commit", "-q", "-m", "spec-2026-11-29-001: Benchmark of the squash merge")
    made = git(wt, "rev-parse", "HEAD")
    git(repo, "update-ref", "-m", "squash", "refs/heads/main", made, tip)
    t = time.perf_counter() - t0
    git(repo, "worktree", "remove", "--force", wt)  # the benchmark's own worktree
    return t, made


def main():
    work = tempfile.mkdtemp(prefix="specd-bench-merge.")
    os.environ["HOME"] = work
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        repo = make_repo(work)
        tip, patches = make_stack(work, repo)
        specd_s, git_s = [], []
        for _ in range(RUNS + 1):  # the first round warms the caches, not counted
            reset(repo, tip)
            ts, ours = time_specd(repo, tip, patches)
            reset(repo, tip)
            tg, theirs = time_git(work, repo, tip, patches)
            if git(repo, "rev-parse", f"{ours}^{{tree}}") != git(repo, "rev-parse", f"{theirs}^{{tree}}"):
                sys.exit("bench/merge: specd's squash and git's have different trees")
            specd_s.append(ts)
            git_s.append(tg)
        specd_s, git_s = specd_s[1:], git_s[1:]
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"bench/merge: repository kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    s, g = statistics.median(specd_s), statistics.median(git_s)
    where = "main checked out" if CHECKED_OUT else "HEAD detached"
    print(f"repository   {FILES} files, {TASKS} diffs of 2 files each, {where}, {RUNS} rounds")
    print(f"specd        median {s * 1000:8.2f} ms  (min {min(specd_s) * 1000:.2f}, max {max(specd_s) * 1000:.2f})")
    print(f"git CLI      median {g * 1000:8.2f} ms  (min {min(git_s) * 1000:.2f}, max {max(git_s) * 1000:.2f})")
    ratio = s / g
    print(f"ratio        {ratio:.3f}   (target <= 0.50)")
    return 0 if ratio <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
