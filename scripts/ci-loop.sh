#!/usr/bin/env bash
# ci-loop.sh [N] runs CI (.ci/run) N times (default 5), one after another,
# each in a fresh clone of the current commit, while a second full test run
# (go test -race -count=1 ./... with CI=true, in another fresh clone, over
# and over) loads the machine. It prints pass/fail and seconds for every
# run, stops at the first failure (of a CI run or of a load run), keeps the
# failing run's log, and exits non-zero on any failure.
#
# Only committed work is tested (the clones are of HEAD). A copy of the
# repository's ../shared, when there is one, sits read-only beside the
# clones, as in CI.
set -euo pipefail

n=${1:-5}
case $n in '' | *[!0-9]* | 0) echo "usage: $0 [N] (N >= 1 CI runs; default 5)" >&2; exit 2 ;; esac

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "ci-loop: uncommitted changes in $repo are not tested (clones are of HEAD)" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nixrealis-ci-loop.XXXXXX")
load_pid=
keep=false
cleanup() {
  if [ -n "$load_pid" ]; then
    kill -- "-$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  if $keep; then
    echo "ci-loop: logs kept in $work" >&2
  else
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -d "$repo/../shared" ]; then
  cp -a "$repo/../shared" "$work/shared"
  chmod -R a-w "$work/shared"
fi

clone() { # clone DIR: a fresh clone of $head in DIR
  git clone -q "$repo" "$1"
  git -C "$1" checkout -q --detach "$head"
}

echo "ci-loop: $n CI run(s) of $(git -C "$repo" log -1 --format='%h %s' "$head") under load, in $work"

# The load: full test runs in their own clone, in their own process group
# (setsid) so that cleanup can stop all of it.
clone "$work/load"
setsid bash -c '
  cd "$1"
  i=0
  while :; do
    i=$((i + 1)); start=$SECONDS
    if CI=true go test -race -count=1 ./... > "../load-$i.log" 2>&1; then
      echo "load run $i: PASS in $((SECONDS - start))s" >> ../load.results
      rm -f "../load-$i.log"
    else
      echo "load run $i: FAIL in $((SECONDS - start))s (log: $2/load-$i.log)" >> ../load.results
      exit 1
    fi
  done
' ci-loop-load "$work/load" "$work" &
load_pid=$!
touch "$work/load.results"

status=0
for i in $(seq 1 "$n"); do
  dir="$work/ci-$i"
  clone "$dir"
  start=$SECONDS
  if (cd "$dir" && bash .ci/run) > "$work/ci-$i.log" 2>&1; then
    echo "CI run $i/$n: PASS in $((SECONDS - start))s"
    rm -rf "$dir" "$work/ci-$i.log"
  else
    echo "CI run $i/$n: FAIL in $((SECONDS - start))s (log: $work/ci-$i.log); its last lines:"
    tail -n 40 "$work/ci-$i.log" | sed 's/^/  | /'
    status=1
  fi
  if grep -q FAIL "$work/load.results"; then
    status=1
  fi
  [ "$status" -eq 0 ] || break
done

echo "ci-loop: load runs completed meanwhile:"
if [ -s "$work/load.results" ]; then sed 's/^/  /' "$work/load.results"; else echo "  none (the first was still running)"; fi
if grep -q FAIL "$work/load.results"; then
  f=$(sed -n 's/.*(log: \(.*\))$/\1/p' "$work/load.results" | tail -n 1)
  echo "ci-loop: a load run failed; its last lines:"
  tail -n 40 "$f" | sed 's/^/  | /'
fi
if [ "$status" -ne 0 ]; then
  keep=true
  echo "ci-loop: FAIL"
  exit 1
fi
echo "ci-loop: PASS ($n of $n CI runs green)"
