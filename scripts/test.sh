#!/usr/bin/env bash
# test.sh is the project's one test command (README quick start, .ci/run):
# it installs what the tests need when missing, then checks formatting,
# vets, and runs every test with the race detector, every fuzz target for a
# fixed number of executions, and the benchmarks briefly.
#
# Environment: FUZZCOUNT=N runs every fuzz target N times instead of its
# count in scripts/fuzz-counts; BENCHTIME overrides the benchmarks' light
# -benchtime; NIXREALIS_BENCH_LARGE=1 adds the 500 MB init_sandbox case
# and the 100× sizes of auroratest's placement benchmarks
# (several minutes; never in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# A macOS Nix user builds everything but the Linux-only local executor
# (auroratest/thermosexec) and the programs and tests that use it.
GOOS=darwin go vet ./...
# -timeout is go test's default, spelled out: every package takes well under
# it on a loaded 2-core machine; a hang fails with every goroutine's stack.
go test -race -count=1 -timeout=10m ./...

# Fuzz targets: every target `go test -list` finds, each for a fixed number
# of executions (-fuzztime=Nx). A duration would trip Go 1.26's
# fuzz-coordinator race (golang/go#75804: "context deadline exceeded" with
# no crasher); a count has no deadline to race.
mod=$(go list -m)
listing=$(go test -list '^Fuzz' ./...) || { echo "test.sh: go test -list failed" >&2; exit 1; }
targets=$(awk -v mod="$mod" '
  /^Fuzz/ { names[++n] = $1; next }
  /^ok[ \t]/ {
    pkg = $2
    if (pkg == mod) pkg = "."; else sub("^" mod "/", "", pkg)
    for (i = 1; i <= n; i++) print pkg ":" names[i]
    n = 0
  }' <<<"$listing")
if [ -z "$targets" ]; then
  echo "test.sh: go test -list '^Fuzz' ./... found no fuzz targets" >&2
  exit 1
fi
counts=scripts/fuzz-counts
default=$(awk '$1 == "default" { print $2 }' "$counts")
for t in $(awk '!/^#/ && NF == 2 && $1 != "default" { print $1 }' "$counts"); do
  if ! grep -qxF "$t" <<<"$targets"; then
    echo "test.sh: $counts sizes $t, which is no fuzz target (renamed or removed? fix $counts)" >&2
    exit 1
  fi
done
for t in $targets; do
  n=${FUZZCOUNT:-$(awk -v t="$t" '$1 == t { print $2 }' "$counts")}
  n=${n:-$default}
  start=$SECONDS
  go test -run='^$' -fuzz="^${t#*:}\$" -fuzztime="${n}x" -timeout=10m "./${t%%:*}"
  echo "fuzz: $t: ${n} executions in $((SECONDS - start))s"
done

# Benchmarks, each run briefly so their figures show in the CI log: for
# 100ms, which is a single iteration of the ones that build, push and
# realise Nix closures (a few seconds each). The 500 MB init_sandbox case and
# auroratest's 100× placement sizes (a million tasks) are opt-in
# (NIXREALIS_BENCH_LARGE=1; .ci/run does not set it).
go test -run='^$' -bench=. -benchmem -benchtime="${BENCHTIME:-100ms}" -timeout=10m ./...
