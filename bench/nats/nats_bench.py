#!/usr/bin/env python3
"""Driver for bench/nats (standard library only): save -> event received.

A temporary git repository with .agents/specs/active/, a nats-server with
JetStream on a free port and a temporary store, and `specd watch --repo R
--nats URL` publishing every journaled event to the stream SPECD_EVENTS.
Two followers read the same events, each in its own process and each read
line by line in its own thread, which notes when every event arrives
(time.monotonic), keyed by (spec, kind):

  journal   specd events --repo R --follow --json --journal
            (the local SQLite journal, woken by inotify)
  nats      specd events --repo R --follow --json --nats URL
            (the JetStream stream)

Both paths end in a `specd events` process printing a JSON line, so the
comparison is like for like: what differs is only how the event gets from
specd watch to that process.

Then N saves, one at a time: each writes a new valid spec (a unique id
spec-2026-MM-DD-NNN) to a temporary file and renames it into active/, as an
editor does; the clock starts just before the rename, and the next save
waits until both followers have printed this spec's `registered` event (so
no latency is queueing behind the previous save). A few warm-up saves first
(not counted) make sure both followers are subscribed.

Target: p50(nats) / p50(journal) at most 2.0.

Second part (--verbs N, default 30): a claim + heartbeat + submit over NATS
against the same three verbs as local CLI calls. Two identical repositories
(verbs-cli, verbs-nats), each a git repository with one planning spec of N
ready tasks, each task changing its own file (committed, `specd reconcile`d);
one git-format patch per task, written beforehand. In verbs-cli, per task:
`specd next --worker W --json`, `specd heartbeat SPEC TASK --lease T`,
`specd submit SPEC TASK --lease T --diff FILE`, the wall clock around the
three process runs. In verbs-nats: a fresh nats-server, the coordinator
`specd watch --repo verbs-nats --nats URL`, then specd_nats_bench (bench/nats/
verbs_bench.cc), one process connected once, doing Next -> Heartbeat ->
Submit through RemoteTaskBroker per task and timing each triple.

Target: p50(nats) / p50(cli) at most 1.0.

--saves 0 or --verbs 0 skips that part.

Exit status: 0 every target met, 1 one missed, 2 setup failed, an event
never came or a verb was refused.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SPEC = """id: {id}
version: 1.0.0
status: draft
metadata:
  title: Benchmark spec {id}
  author: bench
requirements:
  - id: REQ-001
    description: Something must hold
    priority: high
    acceptanceCriteria:
      - it holds
    status: pending
"""

WARMUP = 5
EVENT_TIMEOUT = 15.0  # seconds a save may wait for its events before the bench gives up


def spec_id(i):
    day, n = divmod(i, 900)
    return "spec-2026-%02d-%02d-%03d" % (1 + day // 28 % 12, 1 + day % 28, n + 1)


class Setup(Exception):
    pass


class Follower:
    """A child's stdout read line by line in a thread; arrival times by key."""

    def __init__(self, name, argv, parse, cond):
        self.name = name
        self.parse = parse  # line -> (key, seq) or None
        self.cond = cond
        self.seen = {}  # key -> (monotonic time, seq)
        self.tail = []  # the last lines, for error messages
        self.eof = False
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.thread = threading.Thread(target=self._read, name=name, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            t = time.monotonic()
            line = raw.decode(errors="replace").rstrip("\n")
            got = self.parse(line)
            with self.cond:
                self.tail = (self.tail + [line])[-20:]
                if got is not None and got[0] not in self.seen:
                    self.seen[got[0]] = (t, got[1])
                    self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()


def parse_json(line):
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    if not isinstance(ev, dict) or "spec" not in ev or "kind" not in ev:
        return None
    return (ev["spec"], ev["kind"]), ev.get("seq")


def parse_watch(line):
    # "HH:MM:SS.mmm  spec-...: registered at draft"
    if ": registered at " not in line:
        return None
    head = line.split(": registered at ")[0].split()
    return ((head[-1], "registered"), None) if head else None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Setup("nats-server exited with status %d" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(4096).startswith(b"INFO"):
                    return
        except OSError:
            time.sleep(0.05)
    raise Setup("nats-server did not listen on port %d in %d s" % (port, timeout))


def wait_line(path, proc, needle, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            text = f.read()
        if needle in text:
            return [l for l in text.splitlines() if needle in l][0]
        if proc.poll() is not None:
            raise Setup("specd watch exited with status %d:\n%s" % (proc.returncode, text[-2000:]))
        time.sleep(0.02)
    raise Setup("specd watch did not print %r in %d s" % (needle, timeout))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def tool_version(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        return r.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def run(a, base, procs):
    repo = os.path.join(base, "repo")
    active = os.path.join(repo, ".agents/specs/active")
    os.makedirs(active)
    subprocess.run(["git", "init", "-q", repo], check=True)
    store = os.path.join(base, "nats-store")
    os.makedirs(store)

    port = free_port()
    url = "nats://127.0.0.1:%d" % port
    nats_log = open(os.path.join(base, "nats-server.log"), "w")
    nats = subprocess.Popen([a.nats_server, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                            stdout=nats_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    procs.append(nats)
    wait_port(port, nats)

    # specd watch's output goes to a file (read for "ready in"; never fills a pipe), and a
    # third reader follows its stdout for the moment it printed each registration (the
    # journal's COMMIT is behind it): a reference for what the followers add.
    cond = threading.Condition()
    watch_log = os.path.join(base, "watch.log")
    wl = open(watch_log, "a")
    watch = subprocess.Popen([a.specd, "watch", "--repo", repo, "--nats", url],
                             stdout=subprocess.PIPE, stderr=wl, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    procs.append(watch)
    watch_seen = {}
    threading.Thread(target=tee_watch, args=(watch, wl, cond, watch_seen), daemon=True).start()
    wait_line(watch_log, watch, "ready in")

    followers = {
        "journal": Follower("journal", [a.specd, "events", "--repo", repo, "--follow", "--json", "--journal"],
                            parse_json, cond),
        "nats": Follower("nats", [a.specd, "events", "--repo", repo, "--follow", "--json", "--nats", url],
                         parse_json, cond),
    }
    procs.extend(f.proc for f in followers.values())

    lat = {"watch": [], "journal": [], "nats": []}
    tmp = os.path.join(active, ".bench-save.tmp")
    for i in range(WARMUP + a.saves):
        sid = spec_id(i)
        key = (sid, "registered")
        with open(tmp, "w") as f:
            f.write(SPEC.format(id=sid))
        t0 = time.monotonic()
        os.rename(tmp, os.path.join(active, sid + ".yaml"))
        deadline = t0 + (60 if i == 0 else EVENT_TIMEOUT)  # the first waits for the followers to subscribe
        with cond:
            while not all(key in f.seen for f in followers.values()):
                left = deadline - time.monotonic()
                dead = [f.name for f in followers.values() if f.eof]
                if left <= 0 or dead:
                    msg = ["save %d (%s): no registered event %s" % (i, sid, "after %.0f s" % (
                        time.monotonic() - t0) if not dead else "; follower exited: " + ", ".join(dead))]
                    for f in followers.values():
                        msg.append("  %s follower %s; last lines:\n    %s" % (
                            f.name, "has it" if key in f.seen else "does not",
                            "\n    ".join(f.tail[-5:]) or "(none)"))
                    raise Setup("\n".join(msg))
                cond.wait(left)
            if i < WARMUP:
                continue
            for name, f in followers.items():
                lat[name].append((f.seen[key][0] - t0) * 1000)
            if key in watch_seen:
                lat["watch"].append((watch_seen[key] - t0) * 1000)

    # Same events, same numbers on both paths?
    with cond:
        keys = set(followers["journal"].seen) & set(followers["nats"].seen)
        mismatched = [k for k in keys if followers["journal"].seen[k][1] != followers["nats"].seen[k][1]]
    return {"url": url, "lat": lat, "events": len(keys), "mismatched": mismatched}


def tee_watch(watch, log, cond, seen):
    for raw in watch.stdout:
        t = time.monotonic()
        line = raw.decode(errors="replace")
        log.write(line)
        log.flush()
        got = parse_watch(line.rstrip("\n"))
        if got is not None:
            with cond:
                seen.setdefault(got[0], t)


def stop_all(procs):
    # The children run in sessions of their own, so a Ctrl-C reaches this process only and
    # they stop here, in reverse order of start: the followers, specd watch, the server last
    # (specd watch stops cleanly while its server is still there).
    for p in reversed(procs):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# --- Second part: claim + heartbeat + submit, over NATS against the local CLI ----------------

VERBS_SPEC = "spec-2026-11-29-001"
VERBS_WORKER = "bench-worker"
VERB_TIMEOUT = 120  # seconds one CLI verb or the whole NATS run may take before the bench gives up


def verbs_spec_text(n):
    lines = [
        "id: " + VERBS_SPEC, "version: 1.0.0", "status: planning", "metadata:",
        "  title: Benchmark of the task verbs", "  author: bench", "requirements:",
        "  - id: REQ-001", "    description: The benchmark runs", "    priority: high",
        "    acceptanceCriteria:", "      - it runs", "    status: pending", "tasks:"]
    for i in range(1, n + 1):
        lines += ["  - id: TASK-%03d" % i, "    title: Task number %d" % i, "    type: chore",
                  "    status: pending", "    assignedTo: null", "    files: [src/f%03d.txt]" % i]
    return "\n".join(lines) + "\n"


def checked(argv, env, what, **kw):
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=VERB_TIMEOUT, **kw)
    if r.returncode != 0:
        raise Setup("%s failed (exit %d): %s\n%s" % (what, r.returncode, " ".join(argv),
                                                     r.stderr.decode(errors="replace").strip()))
    return r.stdout.decode(errors="replace")


def make_verbs_repo(a, base, name, n, env):
    """A git repository with one planning spec of n ready tasks, task i owning src/fNNN.txt
    (as bench/tasks does it): committed, then `specd reconcile`d."""
    repo = os.path.join(base, name)
    os.makedirs(os.path.join(repo, ".agents/specs/active"))
    os.makedirs(os.path.join(repo, "src"))
    for i in range(1, n + 1):
        with open(os.path.join(repo, "src/f%03d.txt" % i), "w") as f:
            f.write("line one of file %d\nline two\n" % i)
    with open(os.path.join(repo, ".agents/specs/active/%s.yaml" % VERBS_SPEC), "w") as f:
        f.write(verbs_spec_text(n))
    git = ["git", "-C", repo]
    checked(git + ["init", "-q", "-b", "main"], env, "git init")
    for k, v in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false"),
                 ("core.hooksPath", "/dev/null")):
        checked(git + ["config", k, v], env, "git config")
    checked(git + ["add", "-A"], env, "git add")
    checked(git + ["commit", "-q", "-m", "tasks"], env, "git commit")
    checked([a.specd, "reconcile", "--repo", repo], env, "specd reconcile")
    return repo


def write_patches(repo, n, out, env):
    """One git-format patch per task (its own file's second line changed), named by task id;
    the working tree is left as committed."""
    os.makedirs(out)
    for i in range(1, n + 1):
        rel = "src/f%03d.txt" % i
        path = os.path.join(repo, rel)
        with open(path) as f:
            old = f.read()
        with open(path, "w") as f:
            f.write(old.replace("line two", "line two, changed by task %d" % i))
        diff = checked(["git", "-C", repo, "diff", "--", rel], env, "git diff")
        with open(path, "w") as f:
            f.write(old)
        if not diff:
            raise Setup("git diff gave no patch for " + rel)
        with open(os.path.join(out, "TASK-%03d" % i), "w") as f:
            f.write(diff)


def cli_triples(a, repo, n, patches, env):
    """Per task: specd next --json, specd heartbeat, specd submit --diff FILE; ms per triple
    (and per verb, in the same keys as specd_nats_bench prints)."""
    ms = {"ms": [], "next_ms": [], "heartbeat_ms": [], "submit_ms": []}
    tasks = []
    for k in range(n):
        t0 = time.perf_counter()
        out = checked([a.specd, "next", "--worker", VERBS_WORKER, "--json", "--repo", repo], env,
                      "specd next (triple %d)" % (k + 1))
        t1 = time.perf_counter()
        lease = json.loads(out)
        spec, task, token = lease["spec"], lease["task"], lease["lease"]
        checked([a.specd, "heartbeat", spec, task, "--lease", token, "--repo", repo], env,
                "specd heartbeat (triple %d)" % (k + 1))
        t2 = time.perf_counter()
        checked([a.specd, "submit", spec, task, "--lease", token, "--diff", os.path.join(patches, task),
                 "--repo", repo], env, "specd submit (triple %d)" % (k + 1))
        t3 = time.perf_counter()
        for key, d in (("ms", t3 - t0), ("next_ms", t1 - t0), ("heartbeat_ms", t2 - t1), ("submit_ms", t3 - t2)):
            ms[key].append(d * 1000)
        tasks.append(task)
    return ms, tasks


def start_nats(a, base, name, procs):
    store = os.path.join(base, name + "-store")
    os.makedirs(store)
    port = free_port()
    log = open(os.path.join(base, name + ".log"), "w")
    nats = subprocess.Popen([a.nats_server, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    procs.append(nats)
    wait_port(port, nats)
    return "nats://127.0.0.1:%d" % port


def run_verbs(a, base, procs):
    n = a.verbs
    # git and specd see no user's or system's git configuration (as in bench/tasks).
    env = dict(os.environ, HOME=base, GIT_CONFIG_NOSYSTEM="1")
    cli_repo = make_verbs_repo(a, base, "verbs-cli", n, env)
    nats_repo = make_verbs_repo(a, base, "verbs-nats", n, env)
    patches = os.path.join(base, "verbs-patches")
    write_patches(nats_repo, n, patches, env)

    # The local CLI first, with nothing else of the bench running.
    cli_ms, cli_tasks = cli_triples(a, cli_repo, n, patches, env)

    # Then the coordinator of the second repository and the remote worker's side.
    url = start_nats(a, base, "verbs-nats-server", procs)
    watch_log = os.path.join(base, "verbs-watch.log")
    with open(watch_log, "w") as wl:
        watch = subprocess.Popen([a.specd, "watch", "--repo", nats_repo, "--nats", url], stdout=wl,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                 start_new_session=True)
    procs.append(watch)
    wait_line(watch_log, watch, "ready in")
    serving = wait_line(watch_log, watch, "serving tasks to remote workers on", 5)
    # "... on <prefix.>specd.<repo id>.*": the repo id specd watch chose (RepoIdOf(root), or repoId).
    subject = serving.split(" on ")[-1].strip()
    parts = subject.split(".")
    if len(parts) < 3 or parts[-1] != "*" or parts[-3] != "specd":
        raise Setup("cannot read the coordinator's subject from: " + serving)
    repo_id, prefix = parts[-2], ".".join(parts[:-3])
    argv = [a.nats_bench, "--url", url, "--repo-id", repo_id, "--worker", VERBS_WORKER,
            "--patches", patches, "--count", str(n)]
    if prefix:
        argv += ["--subject-prefix", prefix]
    bench = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             env=env, start_new_session=True)
    procs.append(bench)
    try:
        out, err = bench.communicate(timeout=VERB_TIMEOUT + n * 10)
    except subprocess.TimeoutExpired:
        raise Setup("specd_nats_bench did not finish in %d s (specd watch's log: %s)" %
                    (VERB_TIMEOUT + n * 10, watch_log))
    if bench.returncode != 0:
        with open(watch_log, errors="replace") as f:
            tail = f.read()[-2000:]
        raise Setup("specd_nats_bench failed (exit %d): %s\nspecd watch's log ends:\n%s" %
                    (bench.returncode, err.decode(errors="replace").strip(), tail))
    got = json.loads(out)
    if sorted(got["tasks"]) != sorted(cli_tasks) or len(set(cli_tasks)) != n:
        raise Setup("the two runs did not claim the same %d tasks: cli %s, nats %s" %
                    (n, cli_tasks, got["tasks"]))
    # Both repositories end the same: every task diff-submitted at epoch 1, the spec too.
    for name, repo in (("verbs-cli", cli_repo), ("verbs-nats", nats_repo)):
        shown = json.loads(checked([a.specd, "show", VERBS_SPEC, "--json", "--repo", repo], env, "specd show"))
        odd = ["%s %s at epoch %s" % (t["id"], t["status"], t.get("epoch")) for t in shown.get("tasks", [])
               if t["status"] != "diff-submitted" or t.get("epoch") != 1]
        if shown.get("status") != "diff-submitted" or odd or len(shown.get("tasks", [])) != n:
            raise Setup("%s does not end with its %d tasks submitted once: the spec is %s; %s" %
                        (name, n, shown.get("status"), ", ".join(odd) or "%d tasks" % len(shown.get("tasks", []))))
    return {"url": url, "repo_id": repo_id, "cli": cli_ms, "nats": got}


def report_latency(a, r):
    lat = r["lat"]
    print("\nsave (rename into active/) -> `registered` event received (ms; %d saves, one at a time):" % a.saves)
    print("  %-28s %8s %8s %8s" % ("", "p50", "p99", "max"))
    rows = (("specd watch printed it", "watch"),
            ("journal follower", "journal"),
            ("nats follower", "nats"))
    for label, k in rows:
        xs = lat[k]
        if xs:
            print("  %-28s %8.3f %8.3f %8.3f" % (label, pct(xs, 50), pct(xs, 99), max(xs)))
    print("  journal follower: specd events --follow --json --journal   (SQLite journal, woken by inotify)")
    print("  nats follower:    specd events --follow --json --nats %s   (JetStream SPECD_EVENTS)" % r["url"])
    print("  Both followers are a `specd events` process printing one JSON line per event, so the two")
    print("  rows compare like for like; `specd watch printed it` is the commit to the journal, for reference.")
    if r["mismatched"]:
        print("  ERROR: %d events had a different seq on the two paths, e.g. %s" %
              (len(r["mismatched"]), r["mismatched"][0]))
        return 2

    j50, n50 = pct(lat["journal"], 50), pct(lat["nats"], 50)
    if lat["watch"]:
        w50 = pct(lat["watch"], 50)
        print("  p50 after specd watch printed it: journal follower %+.3f ms, nats follower %+.3f ms" %
              (j50 - w50, n50 - w50))
    slow = [name for name in ("journal", "nats") if pct(lat[name], 99) >= 500]
    if slow:
        print("  NOTE: %s: some saves took about 1 s (p99 >= 500 ms). The journal's readers (specd events\n"
              "  --journal, and the publisher in specd watch) wait on inotify with a 1 s fallback: those\n"
              "  commits did not wake them and the fallback delivered the event. Read p99 with the ratio."
              % " and ".join(name + " follower" for name in slow))
    ratio = n50 / j50 if j50 > 0 else float("inf")
    good = ratio <= 2.0
    print("\nratio (lower is better)")
    print("  p50(nats) / p50(journal)   %.3f  target <= 2.0  %s" % (ratio, "PASS" if good else "MISSED"),
          flush=True)
    return 0 if good else 1


def report_verbs(a, v):
    cli, nats = v["cli"], v["nats"]
    print("\nclaim + heartbeat + submit, one task at a time (ms per triple; %d tasks each):" % a.verbs)
    print("  %-40s %8s %8s %8s" % ("", "p50", "p99", "max"))
    for label, run in (("local CLI (3 specd processes)", cli), ("NATS (RemoteTaskBroker -> specd watch)", nats)):
        print("  %-40s %8.3f %8.3f %8.3f" % (label, pct(run["ms"], 50), pct(run["ms"], 99), max(run["ms"])))
        for verb in ("next", "heartbeat", "submit"):
            xs = run[verb + "_ms"]
            print("  %-40s %8.3f %8.3f %8.3f" % ("  " + verb, pct(xs, 50), pct(xs, 99), max(xs)))
    print("  local CLI: specd next --json, specd heartbeat, specd submit --diff FILE (wall clock around the three)")
    print("  NATS:      specd_nats_bench, connected once to %s; the coordinator is" % v["url"])
    print("             specd watch --nats on the twin repository (repo id %s)" % v["repo_id"])
    c50, n50 = pct(cli["ms"], 50), pct(nats["ms"], 50)
    ratio = n50 / c50 if c50 > 0 else float("inf")
    good = ratio <= 1.0
    print("\nratio (lower is better)")
    print("  p50(nats) / p50(cli)       %.3f  target <= 1.0  %s" % (ratio, "PASS" if good else "MISSED"),
          flush=True)
    return 0 if good else 1


def main():
    ap = argparse.ArgumentParser(description="bench/nats: save -> event received, journal follower against NATS "
                                             "follower; claim + heartbeat + submit, NATS against the local CLI")
    ap.add_argument("--specd", required=True)
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "/usr/sbin/nats-server")
    ap.add_argument("--nats-bench", help="specd_nats_bench (default: beside --specd)")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--saves", type=int, default=1000, help="saves of the first part (0: skip it)")
    ap.add_argument("--verbs", type=int, default=30, help="tasks of the second part (0: skip it)")
    a = ap.parse_args()
    if a.saves < 0 or a.verbs < 0 or a.saves + a.verbs == 0:
        ap.error("--saves and --verbs must be at least 0, and one of them at least 1")
    if a.verbs > 999:
        ap.error("--verbs must be at most 999 (task ids TASK-001..TASK-999)")
    if a.nats_bench is None:
        a.nats_bench = os.path.join(os.path.dirname(os.path.abspath(a.specd)), "specd_nats_bench")
    if a.verbs and not os.access(a.nats_bench, os.X_OK):
        print("bench/nats: no specd_nats_bench at %s" % a.nats_bench, file=sys.stderr)
        return 2

    # SIGTERM (and SIGHUP) end the run like Ctrl-C does: through the finally below.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    # Under bench/.cache by default, like bench/watch (creating files in /tmp is slow here).
    parent = os.environ.get("BENCH_TMPDIR") or os.path.join(a.root, "bench/.cache")
    os.makedirs(parent, exist_ok=True)
    base = tempfile.mkdtemp(prefix="specd-bench-nats.", dir=parent)
    procs = []
    status = 0
    try:
        parts = (["%d saves, save -> `registered` event printed by a follower" % a.saves] if a.saves else []) + \
                (["%d tasks, claim + heartbeat + submit" % a.verbs] if a.verbs else [])
        print("bench/nats: %s (%s, %d cores; %s; in %s)" %
              ("; ".join(parts), os.uname().nodename, os.cpu_count(), tool_version([a.nats_server, "--version"]),
               base), flush=True)
        if a.saves:
            r = run(a, base, procs)
            stop_all(procs)  # nothing of the first part runs during the second
            procs.clear()
            status = max(status, report_latency(a, r))
        if a.verbs:
            v = run_verbs(a, base, procs)
            stop_all(procs)
            procs.clear()
            status = max(status, report_verbs(a, v))
    except Setup as e:
        print("bench/nats: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench/nats: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_all(procs)
        if os.environ.get("BENCH_KEEP"):
            print("bench/nats: kept %s" % base, file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
