#!/usr/bin/env bash
# Installs what is needed, builds specd, and runs its main job on the demo
# repository shipped in fixtures/demo: `specd watch` on a scratch copy,
# while a short scenario plays: a spec created, sent to review by an edit,
# approved, an illegal edit refused and put back; the tasks done by a
# scripted agent under `specd worker`, each in a worktree of its own; the
# gates run by the watcher (one fails, the agent's second attempt passes);
# approved, squash-merged onto master, archived.
# The watcher's lines are marked "watch |" and appear as it acts. Ends by
# itself when standard input is not a terminal; on a terminal the watcher
# keeps running until you press Enter, so you can edit the specs yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null  # the same build as scripts/test.sh
src=$PWD
export PATH="$PWD/build:$PATH"  # so the commands below read as a user would type them

work=$(mktemp -d)
watcher=""
cleanup() {
  [[ -n $watcher ]] && kill -TERM "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

repo=$work/shop
mkdir -p "$repo"
cp -r fixtures/demo/. "$repo"
git -C "$repo" init -q
cd "$repo"
active=.agents/specs/active
log=$work/watch.log
: >"$log"

step() { printf '\n== %s\n' "$*"; }
run() { echo "\$ $*"; "$@" || echo "(exit status $?)"; }
# Waits until the watcher has printed a line containing $1 (the watcher's
# own output is the sync point, as in the tests).
wait_for() {  # text [tries of 50 ms; 200 unless given]
  for _ in $(seq 1 "${2:-200}"); do
    grep -qF -- "$1" "$log" && return 0
    sleep 0.05
  done
  echo "(the watcher did not say \"$1\"; its output is above)" >&2
  return 1
}

step "specd watch, on a scratch copy of fixtures/demo ($repo)"
echo "\$ specd watch &"
specd watch >>"$log" 2>&1 &
watcher=$!
tail -n +1 -f "$log" --pid="$watcher" | sed -u 's/^/   watch | /' &
wait_for "ready in"

export SPECD_ACTOR=alice
step "alice writes a new spec"
echo "\$ specd new --title \"Add CSV export to the reports page\""
path=$(specd new --title "Add CSV export to the reports page")
id=$(basename "$path" .yaml)
wait_for "$id: registered at draft"

step "she sends it to review by editing its status in her editor (a rename-save)"
echo "\$ sed 's/^status: draft/status: review/' $id.yaml > .$id.yaml.tmp && mv .$id.yaml.tmp $id.yaml"
sed 's/^status: draft/status: review/' "$path" >"$active/.$id.yaml.tmp" && mv "$active/.$id.yaml.tmp" "$path"
wait_for "$id: draft -> review"

step "bob, a reviewer, approves it; the engine moves it to planning at once"
SPECD_ACTOR=bob run specd approve "$id"
wait_for "$id: approved -> planning"

step "an agent jumps it to completed by editing the file (and widens the title)"
sed -i -e 's/^status: planning/status: completed  # all done!/' \
       -e 's/^  title: .*/  title: "Add CSV and XLSX export to the reports page"  # widened/' "$path"
wait_for "$id: refused planning -> completed"
echo "\$ grep -E '^status|^  title' $id.yaml   # status put back, the title edit kept"
grep -E '^status|^  title' "$path"

step "a half-written file is not an error: the watcher waits for the writer"
half=$active/spec-2026-02-18-002.yaml
sed 's/spec-2026-02-18-001/spec-2026-02-18-002/' "$active/spec-2026-02-18-001.yaml" >"$work/full.yaml"
echo "\$ (head -c 200 full.yaml; sleep 0.3; tail -c +201 full.yaml) > spec-2026-02-18-002.yaml"
(head -c 200 "$work/full.yaml"; sleep 0.3; tail -c +201 "$work/full.yaml") >"$half"
wait_for "spec-2026-02-18-002: registered at draft"

step "a planner adds two tasks and commits"
mkdir -p src/reports docs
printf 'def export(rows):\n    raise NotImplementedError\n' >src/reports/export.py
printf '# Reports\n' >docs/reports.md
cat >.agents/specd.yaml <<'SETTINGS'
# The gates every spec's work must pass before review (run on the candidate)
gates:
  - name: compiles
    run: python3 -m py_compile src/reports/export.py
  - name: documented
    run: grep -q 'export(rows, out)' docs/reports.md
SETTINGS
cat >>"$path" <<'TASKS'
tasks:
  - id: TASK-001
    title: Write the CSV export
    type: feature
    status: pending
    assignedTo: null
    files: [src/reports/export.py]
  - id: TASK-002
    title: Document the export
    type: docs
    status: pending
    assignedTo: null
    dependencies: [TASK-001]
    files: [docs/reports.md]
TASKS
git -c user.name=planner -c user.email=planner@example.com add -A
git -c user.name=planner -c user.email=planner@example.com commit -q -m "Plan the CSV export"
echo "\$ git commit -m 'Plan the CSV export'   # the spec with its tasks, and the sources"
step "alice keeps editing in her checkout while the agents work in worktrees of their own"
echo "\$ echo 'Export notes: CSV first.' >> README.md"
echo 'Export notes: CSV first.' >>README.md
mine() { git rev-parse HEAD; git diff -- README.md src docs; }  # her HEAD and her edits
before=$(mine)
# The agent: a script standing in for a coding agent (fixtures/agents/).
agent=$src/fixtures/agents/demo-reports.sh
worker() {
  echo "\$ specd worker --exec fixtures/agents/demo-reports.sh --spec $id --workers 4 --once --name agents"
  specd worker --exec "$agent" --spec "$id" --workers 4 --once --name agents
}
worker
wait_for "$id: in-progress -> diff-submitted"
echo "\$ git status --short   # her edit is there; the spec and the diffs are specd's"
git status --short
[[ "$(mine)" == "$before" ]] || { echo "the worker changed her checkout" >&2; exit 1; }

step "the watcher runs the gates by itself, on master's tip with both diffs applied: 'documented' fails"
wait_for "$id: diff-submitted -> in-progress" 600
run specd failures --like "gate documented"

step "the second attempt: the agent reads SPECD_SIMILAR_FAILURES and names the signature"
worker
wait_for "every gate passed on" 600

step "bob approves (the gates passed on what would land); the watcher merges it: one squash commit"
SPECD_ACTOR=bob run specd approve "$id"
wait_for "$id: reviewed -> completed" 600
run git log --stat -1
echo "\$ ls .agents/specs/archive/*/"
ls .agents/specs/archive/*/

step "the journal remembers"
run specd log "$id"

if [[ -t 0 ]]; then
  step "the watcher is still running on $repo: edit the specs there from another terminal; press Enter to stop"
  read -r _
fi
kill -TERM "$watcher"
wait "$watcher" || true
watcher=""
sleep 0.1  # let tail print the watcher's last line
