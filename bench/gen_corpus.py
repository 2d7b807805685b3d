#!/usr/bin/env python3
"""Generate a corpus of valid spec files for the specd benchmarks.

    python3 bench/gen_corpus.py --count N --out DIR [--seed S]

writes N spec files into DIR/.agents/specs/active/<id>.yaml. Every file is
meant to be valid against schema/spec.schema.json (see
/work/shared/SPEC_FORMAT.md for the contract). Output is deterministic for a
given seed, and file i depends only on (seed, i), so a smaller --count gives a
prefix of a larger corpus.

Variety, on purpose: 1 to 40 tasks (most 5 to 15), comments, unicode text
(accents, CJK, emoji), ~10% CRLF line endings, ~5% anchors and aliases, a few
`x-` extension fields, literal and folded block scalars, flow and block
sequences, an occasional leading `---` and UTF-8 BOM.

Standard library only.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import sys

SPEC_STATES = [
    "draft", "review", "approved", "planning", "in-progress",
    "diff-submitted", "reviewed", "completed", "blocked", "failed",
    "cancelled",
]
# Rough share of each state in a working repository.
SPEC_STATE_WEIGHTS = [10, 6, 4, 6, 30, 10, 6, 10, 8, 4, 6]

# The happy path; used to write a plausible changeLog.
HAPPY_PATH = ["draft", "review", "approved", "planning", "in-progress",
              "diff-submitted", "reviewed", "completed"]

PRIORITIES = ["low", "medium", "high", "critical"]
PRIORITY_WEIGHTS = [2, 5, 3, 1]
TASK_TYPES = ["feature", "fix", "refactor", "test", "docs", "chore"]
TASK_TYPE_WEIGHTS = [6, 4, 3, 3, 1, 1]
REQ_STATUSES = ["pending", "met", "unmet"]

BASE_DATE = dt.date(2026, 1, 5)
PER_DAY = 900  # NNN stays 3 digits: 001..900

# ---------------------------------------------------------------- vocabulary

VERBS = ["Add", "Fix", "Refactor", "Speed up", "Document", "Harden", "Remove",
         "Replace", "Split", "Migrate", "Cache", "Validate", "Retry", "Stream",
         "Batch", "Instrument", "Simplify", "Rename", "Deprecate", "Support"]
OBJECTS = ["the lease renewal loop", "journal compaction", "diff application",
           "the file watcher", "schema error messages", "atomic write-back",
           "the review gate", "task claiming", "the archive mover",
           "configuration loading", "the CLI parser", "progress reporting",
           "the SQLite journal", "worker heartbeats", "path allow-lists",
           "the dependency graph check", "squash commits", "YAML anchors",
           "metrics export", "the planner prompt", "trace propagation",
           "the settle timer", "rescan on overflow", "log rotation",
           "the template loader", "spec archiving", "exit codes",
           "the HTTP status endpoint", "cancellation", "rate limits"]
QUALIFIERS = ["for large repositories", "on slow disks", "under load",
              "when the lease expires", "across restarts", "in CI",
              "for Windows line endings", "behind a feature flag",
              "without blocking the watcher", "with clear errors",
              "for multi-byte file names", "in the dry-run mode", ""]
UNICODE_BITS = [
    "café", "naïve", "résumé", "Größe", "Ærø", "señal", "façade", "crème brûlée",
    "Zürich", "São Paulo", "Kraków", "Ελληνικά", "русский текст",
    "配置文件", "日本語のテスト", "데이터 검증", "中文路径", "ログ出力",
    "🚀", "✅", "🐛", "⚡", "🔒", "📦", "🧪", "✨", "→", "—", "…", "½", "±", "µs",
]
PEOPLE = ["alice", "bob", "carol", "dmitri", "María García", "Jürgen Weiß",
          "李伟", "田中 花子", "Zoë Ølsen", "planner-agent", "author-agent",
          "o'brien", "sam.k", "priya", "Łukasz"]
ACTORS = ["engine", "planner-agent", "reviewer-agent", "alice", "bob",
          "git-manager", "carol", "worker-01", "worker-02", "cli"]
TAGS = ["backend", "cli", "watcher", "journal", "perf", "security", "ux",
        "docs", "tests", "refactor", "infra", "ci", "yaml", "schema", "git",
        "release", "tech-debt", "p0", "observability", "windows", "linux"]
REASONS = ["schema valid", "approved in review", "plan is sound",
           "first task claimed", "all diffs submitted", "gates passed",
           "squash-committed on main", "waiting on spec-2026-01-05-003",
           "check command failed: ctest", "reviewer asked for rework",
           "lease expired twice", "reopened by alice", "no longer needed",
           "dependency cleared", "attempts used up"]
DIRS = ["src/engine", "src/schema", "src/watchers", "src/pipeline", "src/cli",
        "src/util", "include/specd", "tests", "tests/fixtures", "docs",
        "tools", "src/engine/state", "src/pipeline/gates", "bench",
        "third_party/patches", "scripts", ".github/workflows", "schema"]
STEMS = ["lease", "journal", "watcher", "inotify", "atomic_file", "diff",
         "review", "planner", "config", "main", "spec", "task", "graph",
         "yaml_loader", "errors", "clock", "fs", "git_repo", "archive",
         "progress", "metrics", "trace", "template", "limits", "path_rules"]
EXTS = {"src": [".cc", ".h"], "include": [".h"], "tests": ["_test.cc", ".yaml"],
        "docs": [".md"], "tools": [".py", ".sh"], "bench": [".py"],
        "third_party": [".patch"], "scripts": [".sh"], ".github": [".yml"],
        "schema": [".json"]}
TOP_FILES = ["CMakeLists.txt", "README.md", "ARCHITECTURE.md", ".clang-format",
             ".gitignore", "CHANGELOG.md"]
COMMENTS = ["TODO: split this once the journal lands",
            "keep in sync with docs/states.md", "owner: platform team",
            "see the design note in docs/", "NB: order matters here",
            "agreed in the Tuesday review", "planner suggested this grouping",
            "revisit after the 1.0 release", "ça marche — à revoir",
            "要确认 with the team", "⚠ touches the hot path",
            "generated by the planner, edited by hand"]
SENTENCES = [
    "The engine must keep every byte of the file it does not own.",
    "Errors name the file, line and column, and the JSON pointer of the field.",
    "A write is atomic: a reader sees the old file or the new one.",
    "This must not regress the p99 latency of the watcher loop.",
    "Workers renew their lease with heartbeats; an expired lease counts an attempt.",
    "Paths are relative to the repository root and never under .git/.",
    "The change is behind a flag until the migration has run everywhere.",
    "We measured a 3× slowdown on repositories with 10k files.",
    "Users on Windows see CRLF files; those must round-trip unchanged.",
    "Keep the public CLI output stable: scripts parse it.",
    "The SQLite journal is local to one clone and never committed.",
    "A repeated key is an error, not last-wins.",
    "Ticket: ENG-4711 (reported by the São Paulo team).",
    "Benchmarks live in bench/ and run on the 2-core CI box.",
    "設定ファイルの読み込みを高速化する。",
    "Die Größe der Datei ist begrenzt (1 MiB per default).",
    "Le résumé doit rester lisible — même avec des émojis 🎉.",
    "파일 감시자가 이벤트를 놓치지 않아야 한다.",
]
CRITERIA = [
    "`specd validate` exits 0 on every file in the corpus",
    "an invalid file reports file, line and column",
    "the p50 latency stays under 50 ms",
    "no file outside the task's files list is touched",
    "CRLF files keep their line endings after write-back",
    "comments and key order survive a status change",
    "a second document in the file is rejected",
    "the error message names the JSON pointer",
    "the lease is renewed before it expires",
    "unit tests cover the new branch",
    "docs/README.md describes the new flag",
    "a repeated key is reported at its second occurrence",
    "cancelling a spec archives it under archive/YYYY-MM/",
    "works with paths containing spaces and ünïcödé",
    "memory stays below 64 MiB on 2,000 specs",
]

# YAML 1.1 / 1.2 words and shapes that a plain scalar must not look like.
RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
            ""}
PLAIN_OK = re.compile(r"^[A-Za-z_\u00c0-\U0010ffff][^:#\n\r\t\"'`{}\[\],&*!|>%@]*$")
NUMBERISH = re.compile(r"^[-+.]?[0-9]|^\.(inf|nan)$", re.I)


def scalar(s, rng=None):
    """Render s as a YAML scalar: plain when unambiguous, else quoted."""
    if (PLAIN_OK.match(s) and s.lower() not in RESERVED
            and not NUMBERISH.match(s) and not s.endswith(" ")
            and not s.startswith(("- ", "? ")) and "\u2028" not in s):
        return s
    if rng is not None and "'" not in s and rng.random() < 0.3:
        return "'" + s + "'"
    return json.dumps(s, ensure_ascii=False)


def dq(s):
    """Always double-quoted (dates, versions: never left to the resolver)."""
    return json.dumps(s, ensure_ascii=False)


def rfc3339(t, rng=None):
    """Mostly `2026-02-18T10:00:00Z`; sometimes fractions or an offset."""
    r = rng.random() if rng else 1.0
    if r < 0.05:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if r < 0.10:
        return t.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(["+02:00", "-05:00", "+05:30"])
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def weighted(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def duration(rng, big=False):
    if big and rng.random() < 0.05:
        return rng.choice(["1.5d", "2w", "0.5h", "1w"])
    unit = weighted(rng, ["m", "h", "d"], [3, 6, 2] if not big else [0, 3, 4])
    n = {"m": rng.choice([15, 20, 30, 45, 90]), "h": rng.randint(1, 16),
         "d": rng.randint(1, 10)}[unit]
    return f"{n}{unit}"


def sprinkle_unicode(rng, text, p):
    if rng.random() < p:
        bit = rng.choice(UNICODE_BITS)
        return f"{text} {bit}" if rng.random() < 0.7 else f"{bit} {text}"
    return text


CJK_TITLES = ["配置文件加载加速", "日本語のエラー表示", "监视器事件丢失修复", "데이터 검증 오류 수정",
              "ログ出力の改善と整理", "作業ツリーの差分を適用"]


def title(rng, lo=10, hi=200, unicode_p=0.3):
    # Now and then a title at the edge of the schema's 10..200 range, counted
    # in code points (not bytes, not UTF-16 units).
    r = rng.random()
    if r < 0.01:
        t = rng.choice(CJK_TITLES)
        return (t + "修正完了確認作業")[:max(lo, len(t))]
    if r < 0.02:
        t = ""
        while len(t) < hi:
            t += rng.choice(UNICODE_BITS[:12]) + " "
        return t[: rng.randint(hi - 5, hi)].rstrip()
    q = rng.choice(QUALIFIERS)
    t = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}" + (f" {q}" if q else "")
    if rng.random() < 0.15:
        t += f" ({rng.choice(['ENG', 'OPS', 'SEC'])}-{rng.randint(100, 9999)})"
    if rng.random() < 0.1:
        t += ": " + rng.choice(SENTENCES).rstrip(".")
    t = sprinkle_unicode(rng, t, unicode_p)
    # Lengths are counted in code points by the schema; stay well inside.
    t = t[: hi - 20].rstrip()
    while len(t) < lo:
        t += " " + rng.choice(OBJECTS)
    return t


def path(rng):
    if rng.random() < 0.06:
        return rng.choice(TOP_FILES)
    d = rng.choice(DIRS)
    top = d.split("/")[0]
    ext = rng.choice(EXTS.get(top, [".cc"]))
    if top == ".github":
        return f"{d}/{rng.choice(['ci', 'release', 'bench'])}{ext}"
    return f"{d}/{rng.choice(STEMS)}{ext}"


# ---------------------------------------------------------------- the spec


class Writer:
    def __init__(self, rng):
        self.rng = rng
        self.lines = []

    def add(self, line):
        self.lines.append(line)

    def comment(self, indent, p):
        if self.rng.random() < p:
            self.add(" " * indent + "# " + self.rng.choice(COMMENTS))

    def inline(self, p):
        """An end-of-line comment, sometimes."""
        if self.rng.random() < p:
            return "  # " + self.rng.choice(COMMENTS)
        return ""

    def seq(self, indent, key, items, flow_p=0.5, anchor=None, render=None):
        render = render or (lambda s: scalar(s, self.rng))
        pad = " " * indent
        a = f" &{anchor}" if anchor else ""
        if not items:
            self.add(f"{pad}{key}:{a} []")
        elif self.rng.random() < flow_p and sum(len(x) for x in items) < 100:
            self.add(f"{pad}{key}:{a} [" + ", ".join(render(x) for x in items) + "]")
        else:
            self.add(f"{pad}{key}:{a}")
            # Both styles of block sequence indentation are common.
            ind = pad + ("  " if self.rng.random() < 0.6 else "")
            for x in items:
                self.add(f"{ind}- {render(x)}")

    def text(self, indent, key, value):
        """A long text: plain/quoted one-liner, or a literal/folded block."""
        pad = " " * indent
        if "\n" in value:
            style = "|" if self.rng.random() < 0.75 else ">"
            self.add(f"{pad}{key}: {style}")
            for ln in value.split("\n"):
                self.add(f"{pad}  {ln}" if ln else "")
        else:
            self.add(f"{pad}{key}: {scalar(value, self.rng)}")


def task_count(rng):
    n = int(round(rng.lognormvariate(math.log(9), 0.55)))
    if rng.random() < 0.03:
        n = rng.randint(30, 40)
    return max(1, min(40, n))


def task_status(rng, spec_status, i, n):
    if spec_status in ("draft", "review", "approved", "planning"):
        return "pending"
    if spec_status == "completed":
        return "done"
    if spec_status == "reviewed":
        return weighted(rng, ["reviewed", "done"], [4, 1])
    if spec_status == "diff-submitted":
        return weighted(rng, ["diff-submitted", "reviewed", "done"], [6, 1, 2])
    if spec_status == "blocked":
        return weighted(rng, ["blocked", "pending", "in-progress", "done"],
                        [3, 3, 1, 2]) if i else "blocked"
    if spec_status == "failed":
        return weighted(rng, ["failed", "pending", "done", "diff-submitted"],
                        [2, 3, 2, 1]) if i else "failed"
    if spec_status == "cancelled":
        return weighted(rng, ["pending", "done", "in-progress", "blocked"],
                        [5, 2, 1, 1])
    # in-progress: earlier tasks tend to be further along.
    frac = i / max(1, n - 1)
    return weighted(rng, ["done", "diff-submitted", "in-progress", "pending",
                          "reviewed", "blocked"],
                    [max(0.1, 4 - 4 * frac), 2, 2, 1 + 4 * frac, 0.5, 0.3])


def history(spec_status):
    """States visited from draft to spec_status, as (from, to) pairs."""
    if spec_status in HAPPY_PATH:
        path_ = HAPPY_PATH[: HAPPY_PATH.index(spec_status) + 1]
    elif spec_status == "blocked":
        path_ = HAPPY_PATH[:5] + ["blocked"]
    elif spec_status == "failed":
        path_ = HAPPY_PATH[:6] + ["failed"]
    else:  # cancelled
        path_ = HAPPY_PATH[:3] + ["cancelled"]
    return list(zip(path_, path_[1:]))


def make_spec(seed, index):
    rng = random.Random(f"{seed}:{index}")
    day = BASE_DATE + dt.timedelta(days=index // PER_DAY)
    spec_id = f"spec-{day.isoformat()}-{index % PER_DAY + 1:03d}"
    status = weighted(rng, SPEC_STATES, SPEC_STATE_WEIGHTS)
    n_tasks = task_count(rng)
    created = dt.datetime(day.year, day.month, day.day, rng.randint(7, 19),
                          rng.randint(0, 59), rng.randint(0, 59))
    updated = created + dt.timedelta(minutes=rng.randint(5, 60 * 24 * 14))
    # Verbosity shrinks as tasks grow so files stay roughly 2-15 KB.
    verbose = 1.0 if n_tasks <= 15 else 0.5 if n_tasks <= 25 else 0.2

    w = Writer(rng)
    if rng.random() < 0.15:
        w.add("---")
    if rng.random() < 0.7:
        w.add(f"# {spec_id}: {rng.choice(['feature', 'fix', 'refactor'])} spec")
        w.comment(0, 0.3)
    ext_first = rng.random() < 0.02
    if ext_first:
        w.add(f"x-owner: {scalar(rng.choice(['team-platform', 'team-dx', 'Ana Souza']), rng)}")
    w.add(f"id: {spec_id}")
    w.add(f"version: {dq(f'{rng.randint(0, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 20)}')}")
    w.add(f"status: {status}{w.inline(0.1)}")
    w.comment(0, 0.2)

    # metadata
    w.add("metadata:")
    w.add(f"  title: {scalar(title(rng), rng)}")
    r = rng.random()
    if r < 0.35:
        paras = []
        for _ in range(rng.randint(1, 3)):
            para = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 3)))
            paras.append(sprinkle_unicode(rng, para, 0.2))
        if rng.random() < 0.4:
            paras.append("\n".join("- " + rng.choice(CRITERIA)
                                   for _ in range(rng.randint(2, 4))))
        w.text(2, "description", "\n\n".join(paras))
    elif r < 0.8:
        w.text(2, "description", sprinkle_unicode(rng, rng.choice(SENTENCES), 0.2))
    w.add(f"  author: {scalar(rng.choice(PEOPLE), rng)}")
    w.add(f"  createdAt: {dq(rfc3339(created, rng))}")
    w.add(f"  updatedAt: {dq(rfc3339(updated, rng))}{w.inline(0.05)}")
    w.add(f"  priority: {weighted(rng, PRIORITIES, PRIORITY_WEIGHTS)}")
    w.seq(2, "tags", rng.sample(TAGS, rng.randint(0, 4)), flow_p=0.7)
    w.add(f"  estimatedDuration: {duration(rng, big=True)}")

    # requirements
    n_req = rng.randint(1, 6)
    req_ids = [f"REQ-{k + 1:03d}" for k in range(n_req)]
    w.comment(0, 0.3)
    w.add("requirements:")
    done_like = status in ("completed", "reviewed")
    for rid in req_ids:
        w.comment(2, 0.1)
        w.add(f"  - id: {rid}")
        desc = sprinkle_unicode(rng, rng.choice(SENTENCES), 0.15 * verbose)
        w.add(f"    description: {scalar(desc, rng)}")
        w.add(f"    priority: {weighted(rng, PRIORITIES, PRIORITY_WEIGHTS)}")
        crit = rng.sample(CRITERIA, rng.randint(1, 4 if verbose == 1.0 else 2))
        w.add("    acceptanceCriteria:")
        for c in crit:
            w.add(f"      - {scalar(c, rng)}")
        rst = "met" if done_like else weighted(rng, REQ_STATUSES, [6, 2, 1])
        w.add(f"    status: {rst}{w.inline(0.05)}")

    # tasks
    alias_file = rng.random() < 0.05 and n_tasks >= 2
    anchor_at = rng.randrange(n_tasks - 1) if alias_file else -1
    alias_at = (set(rng.sample(range(anchor_at + 1, n_tasks),
                               min(n_tasks - anchor_at - 1, rng.randint(1, 3))))
                if alias_file else set())
    w.comment(0, 0.4)
    w.add("tasks:")
    for i in range(n_tasks):
        tid = f"TASK-{i + 1:03d}"
        ts = task_status(rng, status, i, n_tasks)
        if i and rng.random() < 0.12 * verbose:
            w.add("")
        w.comment(2, 0.12 * verbose)
        w.add(f"  - id: {tid}{w.inline(0.05 * verbose)}")
        w.add(f"    title: {scalar(title(rng, unicode_p=0.15 * verbose), rng)}")
        w.add(f"    type: {weighted(rng, TASK_TYPES, TASK_TYPE_WEIGHTS)}")
        w.add(f"    status: {ts}")
        w.add(f"    priority: {weighted(rng, PRIORITIES, PRIORITY_WEIGHTS)}")
        if ts == "pending" or (ts in ("blocked", "failed") and rng.random() < 0.5):
            # The three spellings of null in YAML 1.2's core schema.
            null = weighted(rng, [" null", " ~", ""], [8, 1, 1])
            w.add(f"    assignedTo:{null}")
        else:
            w.add(f"    assignedTo: worker-{rng.randint(1, 12):02d}")
        w.add(f"    estimatedTime: {duration(rng)}")
        deps = sorted(rng.sample(range(i), min(i, rng.choice([0, 0, 1, 1, 2, 3]))))
        w.seq(4, "dependencies", [f"TASK-{d + 1:03d}" for d in deps], flow_p=0.8)
        if i in alias_at:
            w.add("    files: *common")
        else:
            files = sorted({path(rng) for _ in range(rng.randint(1, 5))})
            w.seq(4, "files", files, flow_p=0.4,
                  anchor="common" if i == anchor_at else None)
        reqs = sorted(rng.sample(req_ids, rng.randint(1, min(2, n_req))))
        w.seq(4, "requirements", reqs, flow_p=0.8)
        if ts in ("diff-submitted", "reviewed", "done"):
            w.add(f"    diffPath: .agents/diffs/{spec_id}.{tid}.diff")

    # changeLog
    if status != "draft" and rng.random() < 0.7:
        w.comment(0, 0.3)
        w.add("changeLog:")
        t = created
        steps = history(status)
        span = (updated - created) / (len(steps) + 1)
        for frm, to in steps:
            t = t + span
            w.add(f"  - at: {dq(rfc3339(t, rng))}")
            w.add(f"    actor: {scalar(rng.choice(ACTORS), rng)}")
            w.add(f"    from: {frm}")
            w.add(f"    to: {to}")
            w.add(f"    reason: {scalar(rng.choice(REASONS), rng)}")
            w.add(f"    trace: {dq('%032x' % rng.getrandbits(128))}")

    if not ext_first and rng.random() < 0.03:
        w.add(f"x-owner: {scalar(rng.choice(['team-platform', 'team-dx', 'Ana Souza']), rng)}")
    if rng.random() < 0.02:
        w.add("x-ticket: " + dq(f"ENG-{rng.randint(100, 9999)}"))

    text = "\n".join(w.lines) + "\n"
    if rng.random() < 0.10:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if rng.random() < 0.01:
        data = b"\xef\xbb\xbf" + data
    return spec_id, data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", default="1")
    args = ap.parse_args(argv)
    if not 0 < args.count <= PER_DAY * 365:
        ap.error("--count out of range")
    dest = os.path.join(args.out, ".agents", "specs", "active")
    os.makedirs(dest, exist_ok=True)
    total = 0
    for i in range(args.count):
        spec_id, data = make_spec(args.seed, i)
        with open(os.path.join(dest, spec_id + ".yaml"), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"wrote {args.count} specs ({total / 1024:.0f} KiB) to {dest}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
