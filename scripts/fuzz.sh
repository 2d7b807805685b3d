#!/usr/bin/env bash
# Builds the libFuzzer target over parse + validate (clang, ASan + UBSan) in
# build-fuzz/ and runs it on a work corpus seeded from fixtures/.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]   (default 300 s)
#
# The work corpus is fuzz-corpus/validate/ (gitignored); it grows between runs.
# Crashes, leaks and timeouts land in fuzz-corpus/artifacts/; save a minimized
# reproducer under fixtures/fuzz-regressions/ (see tests/fuzz/validate_fuzzer.cc).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B build-fuzz -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPECD_FUZZ=ON >/dev/null
ninja -C build-fuzz validate_fuzzer

corpus=fuzz-corpus/validate
artifacts=fuzz-corpus/artifacts
mkdir -p "$corpus" "$artifacts"
# Seeds: every fixture and template. Each is copied under its content hash,
# so reruns add nothing twice. A copy with a 0x01 first byte seeds the
# --syntax-only path of the target.
seed() {
  local f=$1 h
  h=$(sha1sum "$f" | cut -c1-16)
  cp "$f" "$corpus/seed-$h"
  { printf '\001'; cat "$f"; } >"$corpus/seed-syntax-$h"
}
n=0
while IFS= read -r -d '' f; do
  seed "$f"
  n=$((n + 1))
done < <(find fixtures specs/templates -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
echo "fuzz.sh: $n seed files; corpus $(find "$corpus" -type f | wc -l) inputs; running ${seconds}s"

# ASan holds freed memory in a quarantine (256 MB by default) that counts
# toward -rss_limit_mb; a smaller one keeps the limit about specd's memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32:detect_leaks=1}

log=fuzz-corpus/last-run.log
set +e
# Run inside fuzz-corpus/ so that the job log (fuzz-0.log, which libFuzzer
# writes to the current directory and echoes when the job ends) stays there.
(cd fuzz-corpus && ../build-fuzz/validate_fuzzer validate \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=512 -timeout=5 \
  -jobs=1 -workers=1 -print_final_stats=1 -artifact_prefix=artifacts/ "$@") 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "--- final stats ---"
grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1
grep -E '^(stat::|Done [0-9]+ runs)' "$log" | tail -n 6
ls "$artifacts" | sed 's/^/artifact: fuzz-corpus\/artifacts\//'
echo "log: $log"
exit "$status"
