#!/usr/bin/env bash
# test.sh is the project's one test command (README quick start, .ci/run):
# it installs what the tests need when missing, then checks formatting,
# vets, and runs every test with the race detector, the fuzz targets
# briefly, and the benchmarks once each.
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
go test -race -count=1 ./...

# Fuzz targets, briefly (each listed as package:FuzzName).
for f in $(cat scripts/fuzz-targets 2>/dev/null); do
  go test -run='^$' -fuzz="^${f#*:}\$" -fuzztime="${FUZZTIME:-10s}" "./${f%%:*}"
done

# Benchmarks, each run briefly so their figures show in the CI log; the
# sandbox package's 500 MB init_sandbox case is included (set
# NIXREALIS_BENCH_LARGE=0 to leave it out).
export NIXREALIS_BENCH_LARGE="${NIXREALIS_BENCH_LARGE:-1}"
go test -run='^$' -bench=. -benchmem -benchtime="${BENCHTIME:-100ms}" ./...
