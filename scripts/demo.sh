#!/usr/bin/env bash
# Installs what is needed, builds specd, and runs it on the demo repository
# shipped in fixtures/demo: first the specs as they are, then a copy with a
# few mistakes, to show what specd says. Ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=Release >/dev/null
specd=$PWD/build/specd

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
