#!/usr/bin/env python3
"""bench/worker: specd worker's cost per task against git worktree add/remove by hand.

Run through bench/worker/run (it documents the environment variables)."""
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SPECD, AGENT = sys.argv[1], sys.argv[2]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FILES = int(os.environ.get("BENCH_FILES", "5000"))
TASKS = int(os.environ.get("BENCH_TASKS", "20"))
WORKER = "bench"


def file_of(n):
    return f"src/d{n // 100:03d}/f{n:05d}.txt"


def spec_text(spec_id, first):
    lines = [
        f"id: {spec_id}", "version: 1.0.0", "status: planning", "metadata:",
        "  title: Benchmark of the worker", "  author: bench", "requirements:",
        "  - id: REQ-001", "    description: The benchmark runs", "    priority: high",
        "    acceptanceCriteria:", "      - it runs", "    status: pending", "tasks:"]
    for i in range(1, TASKS + 1):
        lines += [f"  - id: TASK-{i:03d}", f"    title: Task number {i}", "    type: chore",
                  "    status: pending", "    assignedTo: null", f"    files: [{file_of(first + i)}]"]
    return "\n".join(lines) + "\n"


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.DEVNULL)


def make_repo(work):
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, ".agents/specs/active"))
    for n in range(FILES):
        path = os.path.join(repo, file_of(n))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(f"file {n}\nline two\n")
    git(repo, "init", "-q", "-b", "main")
    for k, v in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false"),
                 ("core.hooksPath", "/dev/null")):
        git(repo, "config", k, v)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "sources")
    return repo


def add_spec(repo, rnd):
    """A new spec of TASKS tasks, committed and registered (not timed); its id."""
    spec_id = f"spec-2026-11-30-{100 + rnd:03d}"
    with open(os.path.join(repo, f".agents/specs/active/{spec_id}.yaml"), "w") as f:
        f.write(spec_text(spec_id, rnd * TASKS))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"spec for round {rnd}")
    subprocess.run([SPECD, "reconcile", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    return spec_id


def run_worker(repo, spec_id):
    t0 = time.perf_counter()
    r = subprocess.run([SPECD, "worker", "--exec", AGENT, "--spec", spec_id, "--once", "--name", WORKER,
                        "--repo", repo], capture_output=True, text=True)
    took = time.perf_counter() - t0
    last = r.stdout.strip().splitlines()[-1:] if r.stdout.strip() else []
    want = f"worker {WORKER}: {TASKS} claimed, {TASKS} submitted, 0 failed"
    if r.returncode != 0 or last != [want]:
        sys.exit(f"bench/worker: specd worker exited {r.returncode}, not with '{want}':\n{r.stdout}{r.stderr}")
    return took / TASKS


def shell_loop(work, repo, rnd, by_hand):
    """A bash loop over the round's tasks; by_hand: a worktree added and removed per task."""
    files = os.path.join(work, f"files-{rnd}")
    os.makedirs(files, exist_ok=True)
    for i in range(1, TASKS + 1):
        with open(os.path.join(files, f"TASK-{i:03d}"), "w") as f:
            f.write(file_of(rnd * TASKS + i) + "\n")
    wt = os.path.join(work, "wt")
    lines = ["set -e", f"cd {shlex.quote(work)}"]
    if not by_hand:
        lines.append(f"git -C {shlex.quote(repo)} worktree add -q --detach {shlex.quote(wt)} HEAD")
        lines.append("t0=$(date +%s%N)")
    lines.append(f"for t in $(ls {shlex.quote(files)}); do")
    if by_hand:
        lines.append(f"  git -C {shlex.quote(repo)} worktree add -q --detach {shlex.quote(wt)} HEAD")
    lines.append(f"  (cd {shlex.quote(wt)} && SPECD_TASK=$t SPECD_TASK_FILES={shlex.quote(files)}/$t "
                 f"/bin/sh -c {shlex.quote(shlex.quote(AGENT))} </dev/null)")
    if by_hand:
        lines.append(f"  git -C {shlex.quote(repo)} worktree remove --force {shlex.quote(wt)}")
    lines.append("done")
    if not by_hand:
        lines.append("echo $(( $(date +%s%N) - t0 ))")
        lines.append(f"git -C {shlex.quote(repo)} worktree remove --force {shlex.quote(wt)}")
    script = os.path.join(work, "loop.sh")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    r = subprocess.run(["bash", script], capture_output=True, text=True)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"bench/worker: the shell loop failed:\n{r.stdout}{r.stderr}")
    if not by_hand:
        took = int(r.stdout.split()[-1]) / 1e9  # the agents only, not the worktree around them
    return took / TASKS


def main():
    work = tempfile.mkdtemp(prefix="specd-bench-worker.")
    os.environ["HOME"] = work
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    worker, by_hand, agent = [], [], []
    try:
        repo = make_repo(work)
        shell_loop(work, repo, RUNS, True)  # warm-up: the file cache, git's first start
        for rnd in range(RUNS):
            spec_id = add_spec(repo, rnd)
            # Rotate the order, so machine noise hits all three alike.
            steps = [lambda: worker.append(run_worker(repo, spec_id)),
                     lambda: by_hand.append(shell_loop(work, repo, rnd, True)),
                     lambda: agent.append(shell_loop(work, repo, rnd, False))]
            for k in range(3):
                steps[(rnd + k) % 3]()
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"bench/worker: repository kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    w, h, a = statistics.median(worker), statistics.median(by_hand), statistics.median(agent)
    ratio, own = w / h, (w - a) * 1000
    print(f"worker       median {w * 1000:7.2f} ms per task ({TASKS} tasks x {RUNS} rounds, {FILES} files)")
    print(f"by hand      median {h * 1000:7.2f} ms per task (git worktree add + agent + git worktree remove)")
    print(f"agent alone  median {a * 1000:7.2f} ms per task")
    print(f"ratio        {ratio:.2f}   (target <= 1.00)")
    print(f"specd's own  {own:7.2f} ms per task (worker minus agent alone; target <= 50)")
    print(f"  of which   {(h - a) * 1000:7.2f} ms git's own worktree add + remove by hand (by hand minus agent alone),"
          f" {(w - h) * 1000:.2f} ms the rest (claim, patch, submit)")
    return 0 if ratio <= 1.0 and own <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
