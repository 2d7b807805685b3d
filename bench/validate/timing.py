#!/usr/bin/env python3
"""Timing driver for bench/validate (standard library only).

Times three commands on a large and a small corpus, interleaved round-robin
so that machine noise hits all of them alike, and reports medians:

  specd        specd validate DIR
  specd -j 1   specd validate -j 1 DIR                (one core: per-core speed)
  syntax-only  specd validate --syntax-only DIR   (parse + YAML rules, no schema)
  parse-yamlcpp  the same with --reference-parser (yaml-cpp for every file)
  ajv          ajv validate --spec=draft7 -s SCHEMA -d "DIR/*.yaml"

Every run is checked: exit status 0 and every file reported valid. Peak RSS
and CPU time come from wait4(2) on each child, so they are the child's own.

Exit status: 0 all targets met, 1 a target missed, 2 a command misbehaved.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

SUMMARY = re.compile(r"^(\d+) files?: (\d+) valid, (\d+) invalid\s*$")


class BenchError(Exception):
    pass


class Run:
    def __init__(self, wall, cpu, maxrss_kib):
        self.wall, self.cpu, self.maxrss_kib = wall, cpu, maxrss_kib


def run_once(argv, check, out, err):
    """Run argv once; return a Run. `check(stdout) -> problem or None`."""
    for f in (out, err):
        f.seek(0)
        f.truncate()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode("utf-8", "replace")
    problem = None
    if proc.returncode != 0:
        problem = f"exit status {proc.returncode}"
    else:
        problem = check(stdout)
    if problem:
        stderr = err.read().decode("utf-8", "replace")
        tail = lambda s: "\n".join(s.rstrip().splitlines()[-15:])  # noqa: E731
        raise BenchError(f"{' '.join(argv)}\n  -> {problem}\n"
                         f"--- stdout (tail) ---\n{tail(stdout)}\n"
                         f"--- stderr (tail) ---\n{tail(stderr)}")
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss)


def specd_check(n):
    def check(stdout):
        lines = [ln for ln in stdout.splitlines() if ln.strip()]
        m = SUMMARY.match(lines[-1]) if lines else None
        if not m:
            return f"last stdout line is not '<N> files: <V> valid, <I> invalid'"
        total, valid, invalid = map(int, m.groups())
        if (total, valid, invalid) != (n, n, 0):
            return f"expected '{n} files: {n} valid, 0 invalid', got '{lines[-1]}'"
        return None
    return check


def ajv_check(n):
    def check(stdout):
        valid = sum(1 for ln in stdout.splitlines() if ln.endswith(" valid"))
        if valid != n:
            return f"ajv reported {valid} of {n} files valid"
        return None
    return check


def commands(args, directory, n):
    return {
        "specd": ([args.specd, "validate", directory], specd_check(n)),
        # One worker thread: what specd does per core, against ajv's one.
        "specd -j 1": ([args.specd, "validate", "-j", "1", directory], specd_check(n)),
        "syntax-only": ([args.specd, "validate", "--syntax-only", directory],
                        specd_check(n)),
        # yaml-cpp alone, the stack's own parser: what a plain parse costs.
        "parse-yamlcpp": ([args.specd, "validate", "--syntax-only", "--reference-parser", directory],
                          specd_check(n)),
        "ajv": ([args.ajv, "validate", "--spec=draft7", "-s", args.schema,
                 "-d", os.path.join(directory, "*.yaml")], ajv_check(n)),
    }


def measure(cmds, runs, out, err, label):
    """Warm up once, then `runs` rounds; each round runs every command once,
    rotating the order so no command always goes first."""
    names = list(cmds)
    results = {name: [] for name in names}
    for name in names:
        run_once(*cmds[name], out, err)
    for r in range(runs):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            results[name].append(run_once(*cmds[name], out, err))
        if sys.stderr.isatty():
            print(f"  {label}: round {r + 1}/{runs}", end="\r", file=sys.stderr,
                  flush=True)
    if sys.stderr.isatty():
        print(" " * 40, end="\r", file=sys.stderr)
    return results


def summarize(runs):
    walls = [r.wall for r in runs]
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_per_wall": statistics.median(r.cpu / r.wall for r in runs),
        "peak_rss_mib": max(r.maxrss_kib for r in runs) / 1024,
        "runs": len(runs),
    }


def count_files(directory):
    names = [n for n in os.listdir(directory) if n.endswith(".yaml")]
    size = crlf = 0
    for n in names:
        with open(os.path.join(directory, n), "rb") as f:
            data = f.read()
        size += len(data)
        crlf += b"\r\n" in data
    return len(names), size, crlf


def first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            return f"unknown ({' '.join(argv[1:])} exited {p.returncode})"
        text = (p.stdout or p.stderr).strip()
        return text.splitlines()[0] if text else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_version(ajv_bin, package):
    # .bin/ajv links to node_modules/ajv-cli/dist/index.js.
    modules = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.realpath(ajv_bin))))
    try:
        with open(os.path.join(modules, package, "package.json")) as f:
            return json.load(f).get("version", "unknown")
    except (OSError, ValueError):
        return "unknown"


def same_schema(specd, schema_path):
    """specd builds the schema in; ajv reads the file. Insist they agree."""
    try:
        p = subprocess.run([specd, "schema"], capture_output=True, timeout=30)
        built_in = json.loads(p.stdout)
        with open(schema_path, "rb") as f:
            on_disk = json.load(f)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        return False, f"cannot compare `specd schema` with {schema_path}: {e}"
    if built_in != on_disk:
        return False, (f"`specd schema` differs from {schema_path}; "
                       "rebuild specd")
    return True, ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--specd", required=True)
    ap.add_argument("--ajv", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--big", required=True, help="directory of the large corpus")
    ap.add_argument("--small", required=True, help="directory of the small corpus")
    ap.add_argument("--runs-big", type=int, default=5)
    ap.add_argument("--runs-small", type=int, default=30)
    ap.add_argument("--json", help="also write the results here as JSON")
    args = ap.parse_args()

    same, why = same_schema(args.specd, args.schema)
    if not same:
        print(f"bench/validate: specd and ajv would not use the same schema: {why}",
              file=sys.stderr)
        return 2
    n_big, bytes_big, crlf_big = count_files(args.big)
    n_small, _, _ = count_files(args.small)
    facts = {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "specd": first_line([args.specd, "--version"]),
        "ajv-cli": package_version(args.ajv, "ajv-cli"),
        "ajv": package_version(args.ajv, "ajv"),
        "js-yaml": package_version(args.ajv, "js-yaml"),
        "node": first_line(["node", "--version"]),
    }
    print("machine and tools")
    print(f"  nproc {facts['nproc']} (usable {facts['usable_cpus']}), {facts['cpu']}, "
          f"Linux {facts['kernel']}")
    print(f"  specd: {facts['specd']}")
    print(f"  ajv-cli {facts['ajv-cli']} (ajv {facts['ajv']}, js-yaml "
          f"{facts['js-yaml']}), node {facts['node']}")
    print(f"  corpus: {n_big} files, {bytes_big / 2**20:.1f} MiB, {crlf_big} CRLF; "
          f"subset: {n_small} files")
    print(f"  runs: {args.runs_big} x {n_big} files, {args.runs_small} x "
          f"{n_small} files, interleaved, after one warm-up each")
    print()

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            big = measure(commands(args, args.big, n_big), args.runs_big,
                          out, err, f"{n_big} files")
            small = measure(commands(args, args.small, n_small), args.runs_small,
                            out, err, f"{n_small} files")
        except BenchError as e:
            print(f"bench/validate: a command failed its check:\n{e}", file=sys.stderr)
            return 2
    big = {k: summarize(v) for k, v in big.items()}
    small = {k: summarize(v) for k, v in small.items()}

    hdr = (f"{'command':<14} {f'{n_big} files':>12} {'cpu/wall':>9} "
           f"{'peak RSS':>10}   {f'{n_small} files':>10} {'cpu/wall':>9}")
    print("median wall time")
    print(hdr)
    print("-" * len(hdr))
    for name in ("specd", "specd -j 1", "syntax-only", "parse-yamlcpp", "ajv"):
        b, s = big[name], small[name]
        print(f"{name:<14} {b['median_s'] * 1000:>9.1f} ms {b['cpu_per_wall']:>9.2f} "
              f"{b['peak_rss_mib']:>6.1f} MiB   {s['median_s'] * 1000:>7.1f} ms "
              f"{s['cpu_per_wall']:>9.2f}")
    print()

    checks = [
        (f"specd / ajv, {n_big} files", big["specd"]["median_s"] / big["ajv"]["median_s"], 0.25),
        (f"specd -j 1 / ajv, {n_big} files",
         big["specd -j 1"]["median_s"] / big["ajv"]["median_s"], 0.5),
        (f"specd / ajv, {n_small} files", small["specd"]["median_s"] / small["ajv"]["median_s"], 0.1),
        (f"validate / syntax-only, {n_big} files",
         big["specd"]["median_s"] / big["syntax-only"]["median_s"], 1.2),
    ]
    info = [
        (f"(info) validate / yaml-cpp parse-only, {n_big} files",
         big["specd"]["median_s"] / big["parse-yamlcpp"]["median_s"], ""),
        (f"(info) validate / syntax-only, {n_small} files",
         small["specd"]["median_s"] / small["syntax-only"]["median_s"], ""),
        (f"(info) specd cpu/wall, {n_big} files", big["specd"]["cpu_per_wall"],
         "(above 1: more than one core busy)"),
    ]
    width = max(len(c[0]) for c in checks + info)
    print("ratios (lower is better)")
    ok = True
    for label, ratio, target in checks:
        verdict = "PASS" if ratio <= target else "FAIL"
        ok &= verdict == "PASS"
        print(f"  {label:<{width}}  {ratio:6.3f}  target <= {target:<4}  {verdict}")
    for label, value, note in info:
        print(f"  {label:<{width}}  {value:6.3f}  {note}".rstrip())

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "big": big, "small": small,
                       "checks": [{"label": l, "ratio": r, "target": t, "pass": r <= t}
                                  for l, r, t in checks]}, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
