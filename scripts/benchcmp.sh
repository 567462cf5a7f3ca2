#!/usr/bin/env bash
# benchcmp.sh compares the Marshal, Unmarshal and Build benchmarks of the
# working tree with those of a base commit (default 852a13c, the last
# commit before the schema-driven thermos codec), for issue 13's
# before/after table:
#
#	scripts/benchcmp.sh [BASE [REGEX]]
#
# REGEX (an extended regexp, default all) picks benchmarks from the list
# below by their full name. For each benchmark it prints the instructions
# per op under callgrind (stable on a loaded machine, unlike ns/op) and the
# allocations and bytes allocated per op of a native run, both commits
# measured the same way: the same benchmark source (each package's
# bench_test.go of the working tree is copied over the base's when the base
# builds with it, so a benchmark added since has a "before" too), the same
# N, GOMAXPROCS=1 and no asynchronous preemption (callgrind loses track of
# Go's preemption signals).
#
# Instructions per op = (Ir of N ops - Ir of 1 op) / (N-1), which removes
# the setup and the runtime's start. What is left over is noise from the
# threads that run by the wall clock (sysmon, the garbage collector's
# workers and its pacing, so the assists charged to an op, depend on time):
# about 30 thousand instructions a run with the collector off, 100
# thousand with it on, and more as N grows, which moved hello_world's
# figures by several per cent between two runs of one binary. So the callgrind runs have GOGC=off unless BENCHCMP_GOGC
# says otherwise (what an op costs the collector shows in its allocs/op and
# B/op, counted natively), and a small benchmark wants a large N.
#
# N is the same for both commits. By default it is chosen from a native run
# of the head (about 0.2 s of work, 5 to 3000 ops), so it depends on the
# machine's load. BENCHCMP_N=N fixes it for every benchmark picked, with no
# timed run at all, so two runs of the script count the same iterations and
# their figures compare:
#
#	BENCHCMP_N=2000 scripts/benchcmp.sh 852a13c 'Build/hello_world'
#
# N must be at least 2; each row prints the N it used. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-852a13c}
filter=${2:-.}
fixedn=${BENCHCMP_N:-}
if [ -n "$fixedn" ] && ! [[ $fixedn =~ ^[0-9]+$ && $fixedn -ge 2 ]]; then
	echo "benchcmp.sh: BENCHCMP_N=$fixedn is not a whole number of at least 2" >&2
	exit 1
fi
gogc=${BENCHCMP_GOGC:-off}

# package|benchmark (top level/sub-benchmark)
benchmarks='
thermos|BenchmarkMarshal/hello_world
thermos|BenchmarkMarshal/large_500_processes
thermos|BenchmarkMarshal/1000_processes
thermos|BenchmarkUnmarshal/hello_world
thermos|BenchmarkUnmarshal/large_500_processes
job|BenchmarkBuild/hello_world
job|BenchmarkBuild/1000_processes
job|BenchmarkBuildMarshal/hello_world
job|BenchmarkBuildMarshal/1000_processes
job|BenchmarkBuildMarshal/processes_100
job|BenchmarkBuildMarshal/processes_1000
job|BenchmarkBuildMarshal/processes_10000
job|BenchmarkBuildMarshal/sequential_100
job|BenchmarkBuildMarshal/sequential_1000
job|BenchmarkBuildMarshal/sequential_10000
job|BenchmarkBuildMarshal/pairs_100
job|BenchmarkBuildMarshal/pairs_1000
job|BenchmarkBuildMarshal/pairs_10000
auroraconfig|BenchmarkLoadBuild/hello_world
auroraconfig|BenchmarkLoadBuild/processes=100
auroraconfig|BenchmarkLoadBuild/processes=1000
.|BenchmarkRenderJob/hello_world
.|BenchmarkRenderJob/large_500_processes
'

command -v valgrind >/dev/null || { echo "benchcmp.sh: valgrind not found; install it (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive "$base" | tar -x -C "$work" --one-top-level=base
mkdir -p "$work/bin"

# build TREE PKG NAME builds PKG's test binary of TREE as bin/NAME.
build() {
	(cd "$1/$2" && go test -c -o "$work/bin/$3" .)
}

pkgs=$(echo "$benchmarks" | grep -E "$filter" | cut -d'|' -f1 | sort -u || true)
[ -n "$pkgs" ] || { echo "benchcmp.sh: no benchmark matches $filter" >&2; exit 1; }
declare -A srcnote
for p in $pkgs; do
	id=${p//\//_}; [ "$id" = . ] && id=root
	build . "$p" "head-$id.test"
	srcnote[$p]="base's"
	if [ -f "$p/bench_test.go" ] && [ -f "$work/base/$p/bench_test.go" ]; then
		cp "$work/base/$p/bench_test.go" "$work/base-bench.go"
		cp "$p/bench_test.go" "$work/base/$p/bench_test.go"
		if build "$work/base" "$p" "base-$id.test" 2>/dev/null; then
			srcnote[$p]="working tree's"
			continue
		fi
		cp "$work/base-bench.go" "$work/base/$p/bench_test.go"
	fi
	build "$work/base" "$p" "base-$id.test"
done

# run BIN DIR NAME ARGS... runs one benchmark natively in DIR (the
# package's directory in its tree, for its testdata).
run() {
	local bin=$1 dir=$2 name=$3
	shift 3
	(cd "$dir" && GOMAXPROCS=1 "$bin" -test.run='^$' -test.bench="^${name%%/*}\$/^${name#*/}\$" "$@")
}

# ir BIN DIR NAME N prints the instructions callgrind counts for N ops.
ir() {
	(cd "$2" && GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 GOGC=$gogc valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$1" -test.run='^$' -test.bench="^${3%%/*}\$/^${3#*/}\$" -test.benchtime="$4x" 2>&1 |
		sed -n 's/.*Collected : //p')
}

printf '%-44s %6s %14s %14s %8s %12s %12s %12s %12s\n' benchmark N "base instr/op" "head instr/op" delta "base allocs" "head allocs" "base B/op" "head B/op"
echo "$benchmarks" | grep -E "$filter" | grep . | while IFS='|' read -r pkg name; do
	id=${pkg//\//_}; [ "$id" = . ] && id=root
	headbin=$work/bin/head-$id.test basebin=$work/bin/base-$id.test
	headdir=$pkg basedir=$work/base/$pkg
	if [ -n "$fixedn" ]; then
		n=$fixedn
	else
		# N: about 0.2 s of native work, at least 5 and at most 3000 ops.
		ns=$(run "$headbin" "$headdir" "$name" -test.benchtime=100ms | awk '/ns\/op/ {for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i}')
		if [ -z "$ns" ]; then
			echo "benchcmp.sh: $pkg $name did not run" >&2
			continue
		fi
		n=$(awk -v ns="$ns" 'BEGIN {n = int(2e8 / ns); if (n < 5) n = 5; if (n > 3000) n = 3000; print n}')
	fi
	# mem BIN DIR prints allocs/op and B/op of N ops.
	mem() {
		run "$1" "$2" "$name" -test.benchtime="${n}x" -test.benchmem |
			awk '/allocs\/op/ {for (i = 1; i < NF; i++) if ($(i+1) == "allocs/op" || $(i+1) == "B/op") v[$(i+1)] = $i; print v["allocs/op"], v["B/op"]}'
	}
	if [[ $(run "$basebin" "$basedir" "$name" -test.benchtime=1x) != *ns/op* ]]; then
		printf '%-44s %6s %14s\n' "$name" "$n" "(not in base)"
		continue
	fi
	b1=$(ir "$basebin" "$basedir" "$name" 1) bn=$(ir "$basebin" "$basedir" "$name" "$n")
	h1=$(ir "$headbin" "$headdir" "$name" 1) hn=$(ir "$headbin" "$headdir" "$name" "$n")
	read -r ba bb < <(mem "$basebin" "$basedir")
	read -r ha hb < <(mem "$headbin" "$headdir")
	awk -v name="$name" -v n="$n" -v b1="${b1//,/}" -v bn="${bn//,/}" -v h1="${h1//,/}" -v hn="${hn//,/}" \
		-v ba="$ba" -v ha="$ha" -v bb="$bb" -v hb="$hb" 'BEGIN {
		b = (bn - b1) / (n - 1); h = (hn - h1) / (n - 1)
		printf "%-44s %6d %14.0f %14.0f %+7.1f%% %12s %12s %12s %12s\n", name, n, b, h, (h / b - 1) * 100, ba, ha, bb, hb
	}'
done
echo "(N ops per callgrind run: ${fixedn:-chosen per benchmark from a native run}; GOGC=$gogc under callgrind; bench_test.go in base: $(for p in $pkgs; do printf '%s %s; ' "$p" "${srcnote[$p]}"; done))"
