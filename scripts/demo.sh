#!/usr/bin/env bash
# Installs what is needed, builds specd, and runs it on the demo repository
# shipped in fixtures/demo: first the specs as they are, then a copy with a
# few mistakes, to show what specd says. Ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null  # the same build as scripts/test.sh
specd=$PWD/build/specd
export PATH="$PWD/build:$PATH"  # so the commands below read as a user would type them

echo "== specd validate --repo fixtures/demo"
"$specd" validate --repo fixtures/demo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/demo/. "$work"
first=$(ls "$work"/.agents/specs/active/*.yaml | head -n 1)
cp "$first" "$work/before.yaml"
# An agent's careless edit: a status that does not exist and a typo in a
# field name.
sed -i -e 's/^status: .*/status: complete/' -e '0,/^  author:/s//  autor:/' "$first"
echo
echo "== an agent edits $(basename "$first") carelessly:"
diff -u --label before --label after "$work/before.yaml" "$first" | sed -n '3,$p' || true
rm "$work/before.yaml"
echo
echo "== specd validate, from inside the repository"
(cd "$work" && "$specd" validate) || echo "(exit status $?: in CI or a git hook this stops the change)"

echo
echo "== the life of a new spec, in a scratch repository"
repo=$work/shop
mkdir -p "$repo" && git -C "$repo" init -q
cd "$repo"
export SPECD_ACTOR=alice
run() { echo "\$ $*"; "$@" || echo "(exit status $?)"; }
echo "\$ specd new --title \"Add CSV export to the reports page\""
path=$(specd new --title "Add CSV export to the reports page")
echo "$path"
id=$(basename "$path" .yaml)
run specd request-review "$id"
SPECD_ACTOR=bob run specd approve "$id"
echo "\$ # an agent edits the title (with a comment) and jumps the status to completed"
sed -i -e 's/^status: planning/status: completed  # all done!/' \
       -e 's/^  title: .*/  title: "Add CSV and XLSX export to the reports page"  # widened/' "$path"
run specd reconcile
echo "\$ grep -E '^status|^  title' $(basename "$path")"
grep -E '^status|^  title' "$path"
run specd log "$id"
