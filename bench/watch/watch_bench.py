#!/usr/bin/env python3
"""Driver for bench/watch (standard library only).

1. Save latency. N draft specs are registered by a running `specd watch`;
   each is then saved as an editor does (a temp file renamed over it) with
   its status edited to review, and the clock runs from just before the
   rename until specd watch prints the committed transition (the line comes
   after the journal's COMMIT). The same renames, interleaved save by save,
   go to two peers on their own directories:
     floor     inotifywait -m -e moved_to: the kernel's event, nothing done
     watchman  Watchman 4.9, a subscription on the directory (its own settle
               of 20 ms included, as users get it)
   Targets: specd p50 <= 2 ms, p99 <= 10 ms, p50 <= watchman p50 / 10.

2. Burst. BURST new specs appear at once in a watched repository (written
   beforehand to a directory on the same file system and renamed in one
   after the other, as a checkout or an unpacked archive lands); the clock
   runs from the first rename until specd watch has printed every
   registration (so it includes the renames). Against `specd validate` of
   the same files afterwards.
   Target: <= 1.3 x validate.

3. Memory. SPECS specs: specd watch starts (registering them all), then a
   second start on the registered tree; resident memory when ready (VmRSS)
   and the peak (VmHWM). Target: <= 64 MB resident.
"""

import argparse
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SPEC = """id: {id}
version: 1.0.0
status: {status}
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


def spec_id(i):
    day, n = divmod(i, 900)
    return "spec-2026-%02d-%02d-%03d" % (1 + day // 28 % 12, 1 + day % 28, n + 1)


class Lines:
    """A child's stdout read line by line with a deadline."""

    def __init__(self, argv, cwd=None, env=None, stderr=subprocess.STDOUT):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr,
                                     stdin=subprocess.PIPE)
        self.buf = b""
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)

    def next_line(self, deadline):
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                return line.decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line in time; got so far: %r" % self.buf[-500:])
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise EOFError("child exited: %r" % self.buf[-2000:])
                self.buf += chunk

    def wait_for(self, needle, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(deadline)
            if needle in line:
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def mem_kb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def new_repo(base, name):
    repo = os.path.join(base, name)
    os.makedirs(os.path.join(repo, ".agents/specs/active"))
    subprocess.run(["git", "init", "-q", repo], check=True)
    return repo


def save(path, text):
    tmp = os.path.join(os.path.dirname(path), ".bench-save.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    t = time.monotonic()
    os.rename(tmp, path)
    return t


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latency(specd, base, n):
    # specd
    repo = new_repo(base, "latency-specd")
    active = os.path.join(repo, ".agents/specs/active")
    for i in range(n):
        with open(os.path.join(active, spec_id(i) + ".yaml"), "w") as f:
            f.write(SPEC.format(id=spec_id(i), status="draft"))
    w = Lines([specd, "watch", "--repo", repo])
    w.wait_for("ready in")
    # floor
    floor_dir = os.path.join(base, "latency-floor")
    os.makedirs(floor_dir)
    fl = Lines(["inotifywait", "-m", "-q", "-e", "moved_to", "--format", "%f", floor_dir], stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # inotifywait prints "Watches established" only without -q; give it a moment
    # watchman
    wm_dir = os.path.join(base, "latency-watchman")
    os.makedirs(wm_dir)
    wm_state = os.path.join(base, "watchman-state")
    os.makedirs(wm_state)
    sock = os.path.join(wm_state, "sock")
    server = subprocess.Popen(["watchman", "--sockname=" + sock, "--logfile=" + os.path.join(wm_state, "log"),
                               "--statefile=" + os.path.join(wm_state, "state"), "--foreground",
                               "--no-save-state"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    subprocess.run(["watchman", "--sockname=" + sock, "watch", wm_dir], check=True, stdout=subprocess.DEVNULL)
    wm = Lines(["watchman", "--sockname=" + sock, "-j", "-p", "--no-pretty"], stderr=subprocess.DEVNULL)
    wm.proc.stdin.write((json.dumps(["subscribe", wm_dir, "bench",
                                     {"expression": ["suffix", "yaml"], "fields": ["name"]}]) + "\n").encode())
    wm.proc.stdin.flush()
    wm.wait_for('"subscribe"')  # the subscription's answer (the directory is empty: no first result)

    res = {"specd": [], "floor": [], "watchman": []}
    for i in range(n):
        sid = spec_id(i)
        t0 = save(os.path.join(active, sid + ".yaml"), SPEC.format(id=sid, status="review"))
        w.wait_for(sid + ": draft -> review")
        res["specd"].append((time.monotonic() - t0) * 1000)

        name = "f%05d.yaml" % i
        t0 = save(os.path.join(floor_dir, name), "x")
        fl.wait_for(name)
        res["floor"].append((time.monotonic() - t0) * 1000)

        t0 = save(os.path.join(wm_dir, name), "x")
        wm.wait_for(name)
        res["watchman"].append((time.monotonic() - t0) * 1000)
    w.stop()
    fl.stop()
    wm.stop()
    server.terminate()
    server.wait()
    return res


def burst(specd, base, n):
    repo = new_repo(base, "burst-%d" % n)
    active = os.path.join(repo, ".agents/specs/active")
    staging = os.path.join(repo, "staging")  # same file system: a rename is the whole "write"
    os.makedirs(staging)
    names = [spec_id(i) + ".yaml" for i in range(n)]
    for name in names:
        with open(os.path.join(staging, name), "w") as f:
            f.write(SPEC.format(id=name[:-5], status="draft"))
    w = Lines([specd, "watch", "--repo", repo])
    w.wait_for("ready in")
    t0 = time.monotonic()
    # One `mv` of the whole burst: a folder of new specs renamed into active/.
    os.rename(staging, os.path.join(active, "burst"))
    moved = time.monotonic() - t0
    seen = 0
    deadline = time.monotonic() + 600
    while seen < n:
        if ": registered at draft" in w.next_line(deadline):
            seen += 1
    watch_s = time.monotonic() - t0
    w.stop()
    # the same files, validated
    runs = []
    for _ in range(3):
        t = time.monotonic()
        r = subprocess.run([specd, "validate", "--repo", repo], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        runs.append(time.monotonic() - t)
        if r.returncode != 0:
            raise RuntimeError("specd validate failed: " + r.stdout.decode()[-500:])
    return {"files": n, "write_s": moved, "watch_s": watch_s, "validate_s": statistics.median(runs)}


def memory(specd, root, base, n):
    repo = new_repo(base, "memory")
    subprocess.run([sys.executable, os.path.join(root, "bench/gen_corpus.py"), "--count", str(n), "--out", repo],
                   check=True, stdout=subprocess.DEVNULL)
    out = {}
    for label in ("first start (registers every spec)", "restart (journal up to date)"):
        t = time.monotonic()
        w = Lines([specd, "watch", "--repo", repo])
        w.wait_for("ready in", timeout=3600)
        ready_s = time.monotonic() - t
        time.sleep(1.0)  # settled
        m = mem_kb(w.proc.pid)
        w.stop()
        out[label] = {"ready_s": ready_s, "rss_kb": m["VmRSS"], "hwm_kb": m["VmHWM"]}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--specd", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--saves", type=int, default=1000)
    ap.add_argument("--burst", default="2000,10000", help="burst sizes, comma-separated")
    ap.add_argument("--specs", type=int, default=100000)
    a = ap.parse_args()
    # Under bench/.cache by default, not /tmp: on this machine creating a
    # file in /tmp costs 0.2 to 1 ms (a crowded ext4 block group), against
    # 0.01 ms elsewhere on the same disk, and specd's write-back creates one.
    parent = os.environ.get("BENCH_TMPDIR") or os.path.join(a.root, "bench/.cache")
    os.makedirs(parent, exist_ok=True)
    base = tempfile.mkdtemp(prefix="specd-bench-watch.", dir=parent)
    ok = True
    try:
        print("bench/watch: %d saves, bursts of %s, %d specs watched (%s, %d cores; in %s)" %
              (a.saves, a.burst, a.specs, os.uname().nodename, os.cpu_count(), base))
        lat = latency(a.specd, base, a.saves)
        print("\nsave -> transition committed (rename-save; ms):")
        print("  %-9s %8s %8s %8s" % ("", "p50", "p99", "max"))
        for k in ("specd", "floor", "watchman"):
            xs = lat[k]
            print("  %-9s %8.3f %8.3f %8.3f" % (k, pct(xs, 50), pct(xs, 99), max(xs)))
        p50, p99, wm50 = pct(lat["specd"], 50), pct(lat["specd"], 99), pct(lat["watchman"], 50)
        for name, good, text in (("p50 <= 2 ms", p50 <= 2, "%.3f ms" % p50),
                                 ("p99 <= 10 ms", p99 <= 10, "%.3f ms" % p99),
                                 ("p50 <= watchman p50 / 10", p50 <= wm50 / 10, "ratio %.3f" % (p50 / wm50))):
            print("  target %-26s %s (%s)" % (name + ":", "PASS" if good else "MISSED", text))
            ok = ok and good

        for size in (int(x) for x in a.burst.split(",")):
            b = burst(a.specd, base, size)
            ratio = b["watch_s"] / b["validate_s"]
            print("\nburst of %d new specs in one mv: all journaled %.2f s after the mv; "
                  "specd validate of the same files %.2f s" % (b["files"], b["watch_s"], b["validate_s"]))
            print("  target <= 1.3 x validate: %s (ratio %.2f)" % ("PASS" if ratio <= 1.3 else "MISSED", ratio))
            ok = ok and ratio <= 1.3

        m = memory(a.specd, a.root, base, a.specs)
        print("\n%d specs watched:" % a.specs)
        for label, v in m.items():
            print("  %-38s ready in %6.1f s, resident %6.1f MB, peak %6.1f MB" %
                  (label, v["ready_s"], v["rss_kb"] / 1024, v["hwm_kb"] / 1024))
        rss = max(v["rss_kb"] for v in m.values()) / 1024
        print("  target resident <= 64 MB: %s (%.1f MB)" % ("PASS" if rss <= 64 else "MISSED", rss))
        ok = ok and rss <= 64
    finally:
        if os.environ.get("BENCH_KEEP"):
            print("bench/watch: kept %s" % base, file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
