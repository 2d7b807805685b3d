#!/usr/bin/env python3
"""bench/tasks: specd next + submit per task against git commit; concurrent claims.

Run through bench/tasks/run (it documents the environment variables)."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SPECD = sys.argv[1]
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
TASKS = int(os.environ.get("BENCH_TASKS", "400"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
SPEC_ID = "spec-2026-11-29-001"


def spec_text(n, files_of):
    lines = [
        f"id: {SPEC_ID}", "version: 1.0.0", "status: planning", "metadata:",
        "  title: Benchmark of tasks under leases", "  author: bench", "requirements:",
        "  - id: REQ-001", "    description: The benchmark runs", "    priority: high",
        "    acceptanceCriteria:", "      - it runs", "    status: pending", "tasks:"]
    for i in range(1, n + 1):
        lines += [f"  - id: TASK-{i:03d}", f"    title: Task number {i}", "    type: chore",
                  "    status: pending", "    assignedTo: null", f"    files: [{files_of(i)}]"]
    return "\n".join(lines) + "\n"


def git(repo, *args, env=None):
    subprocess.run(["git", "-C", repo, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def make_repo(work, name, n):
    repo = os.path.join(work, name)
    os.makedirs(os.path.join(repo, ".agents/specs/active"))
    os.makedirs(os.path.join(repo, "src"))
    for i in range(1, n + 1):
        with open(os.path.join(repo, f"src/f{i:03d}.txt"), "w") as f:
            f.write(f"line one of file {i}\nline two\n")
    with open(os.path.join(repo, f".agents/specs/active/{SPEC_ID}.yaml"), "w") as f:
        f.write(spec_text(n, lambda i: f"src/f{i:03d}.txt"))
    git(repo, "init", "-q", "-b", "main")
    for k, v in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false"),
                 ("core.hooksPath", "/dev/null")):
        git(repo, "config", k, v)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    subprocess.run([SPECD, "reconcile", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    return repo


def patch_for(repo, i):
    path = os.path.join(repo, f"src/f{i:03d}.txt")
    with open(path) as f:
        old = f.read()
    with open(path, "w") as f:
        f.write(old.replace("line two", f"line two, changed by task {i}"))
    diff = subprocess.run(["git", "-C", repo, "diff", "--", path], check=True, capture_output=True, text=True).stdout
    with open(path, "w") as f:
        f.write(old)
    return diff


def next_and_submit(repo, i):
    """`specd next` then `specd submit` of task i's one-line change: seconds."""
    diff = patch_for(repo, i)
    t0 = time.perf_counter()
    out = subprocess.run([SPECD, "next", "--worker", "w", "--json", "--repo", repo],
                         check=True, capture_output=True, text=True).stdout
    lease = json.loads(out)
    r = subprocess.run([SPECD, "submit", SPEC_ID, lease["task"], "--lease", lease["lease"], "--diff", "-",
                        "--repo", repo], input=diff, capture_output=True, text=True)
    t1 = time.perf_counter()
    if r.returncode != 0:
        sys.exit(f"bench/tasks: submit failed: {r.stderr}")
    return t1 - t0


def start_watch(repo):
    """specd watch on repo, once its task verbs' socket is there."""
    proc = subprocess.Popen([SPECD, "watch", "--repo", repo], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = os.path.join(repo, ".git/specd/verbs.sock")
    deadline = time.time() + 30
    while not os.path.exists(sock):
        if proc.poll() is not None or time.time() > deadline:
            sys.exit("bench/tasks: specd watch did not start")
        time.sleep(0.01)
    return proc


def per_task(work):
    """Round-robin, so noise hits all three alike: next+submit with no
    watcher (specd-git runs each verb), with `specd watch` running (it
    answers the verbs), and git commit of the same change."""
    alone = make_repo(work, "serial", RUNS)
    watched = make_repo(work, "watched", RUNS)
    twin = make_repo(work, "twin", RUNS)
    watcher = start_watch(watched)
    alone_s, watched_s, commit_s = [], [], []
    try:
        for i in range(1, RUNS + 1):
            alone_s.append(next_and_submit(alone, i))
            watched_s.append(next_and_submit(watched, i))
            # The same change through git: staged first (not timed), then committed.
            path = os.path.join(twin, f"src/f{i:03d}.txt")
            with open(path) as f:
                old = f.read()
            with open(path, "w") as f:
                f.write(old.replace("line two", f"line two, changed by task {i}"))
            git(twin, "add", path)
            t0 = time.perf_counter()
            git(twin, "commit", "-q", "-m", f"task {i}")
            commit_s.append(time.perf_counter() - t0)
    finally:
        watcher.terminate()
        watcher.wait()
    return statistics.median(alone_s), statistics.median(watched_s), statistics.median(commit_s)


def concurrent(work):
    repo = make_repo(work, "race", TASKS)
    script = (
        "import json,subprocess,sys,time\n"
        "specd,repo,w=sys.argv[1:4]\n"
        "while True:\n"
        "  t0=time.perf_counter()\n"
        "  r=subprocess.run([specd,'next','--worker',w,'--json','--repo',repo],capture_output=True,text=True)\n"
        "  t=time.perf_counter()-t0\n"
        "  if r.returncode==3: break\n"
        "  if r.returncode!=0: sys.exit('next failed: '+r.stderr)\n"
        "  print(json.loads(r.stdout)['task'], t, flush=True)\n")
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", script, SPECD, repo, f"w{k}"], stdout=subprocess.PIPE,
                              text=True) for k in range(WORKERS)]
    outs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - t0
    if any(p.returncode != 0 for p in procs):
        sys.exit("bench/tasks: a worker failed")
    claims = [line.split() for out in outs for line in out.splitlines()]
    tasks = [c[0] for c in claims]
    lat = sorted(float(c[1]) for c in claims)
    if len(tasks) != TASKS or len(set(tasks)) != TASKS:
        sys.exit(f"bench/tasks: {len(tasks)} claims of {len(set(tasks))} tasks, {TASKS} expected")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return len(tasks) / wall, p99


def main():
    work = tempfile.mkdtemp(prefix="specd-bench-tasks.")
    os.environ["HOME"] = work
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        alone_t, watched_t, commit_t = per_task(work)
        rate, p99 = concurrent(work)
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"bench/tasks: repositories kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"next+submit, specd watch running  median {watched_t * 1000:7.2f} ms per task ({RUNS} tasks)")
    print(f"next+submit, no watcher           median {alone_t * 1000:7.2f} ms per task")
    print(f"git commit                        median {commit_t * 1000:7.2f} ms per commit")
    ratio = watched_t / commit_t
    print(f"ratio, watch running  {ratio:.2f}   (target <= 1.00: specd as it runs, beside its watcher)")
    print(f"ratio, no watcher     {alone_t / commit_t:.2f}   (reported: two specd-git starts per task)")
    print(f"claims       {rate:.1f} per second with {WORKERS} workers, p99 {p99 * 1000:.1f} ms "
          f"({TASKS} tasks, each claimed once, no watcher)")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
