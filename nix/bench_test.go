package nix_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/nix"
)

// BenchmarkOutputPathsVsBuild compares getting a package's output path by
// evaluation (Instantiate + OutputPaths, what a payload needs) with
// building it, for a derivation whose builder takes a few seconds
// (pkgs.slow, seconds=3). Every iteration uses a fresh nonce, so nothing
// is cached; at -benchtime=100ms the build runs once. eval-outPath is the
// one-process alternative: the outPath string from nix-instantiate --eval.
func BenchmarkOutputPathsVsBuild(b *testing.B) {
	testenv.NeedNix(b)
	var n nix.Nix
	file := pkgsFile(b)
	i := 0
	expr := func(b *testing.B) nix.Expr {
		i++
		return nix.Expr{File: file, Attr: "slow", ArgStr: map[string]string{
			"seconds": "3",
			"nonce":   "bench-" + strconv.Itoa(os.Getpid()) + "-" + b.Name() + "-" + strconv.Itoa(i),
		}}
	}
	b.Run("evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			drvs, err := n.Instantiate(b.Context(), expr(b))
			if err != nil {
				b.Fatal(err)
			}
			outs, err := n.OutputPaths(b.Context(), drvs...)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := os.Stat(string(outs[0])); err == nil {
				b.Fatalf("%s exists: evaluation must not build", outs[0])
			}
		}
	})
	// One process: the output path as an evaluated string (no .drv written).
	b.Run("eval-outPath", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := expr(b)
			var out string
			err := n.Eval(b.Context(), nix.Expr{
				Expr:   "{ file, nonce, seconds }: (import file { inherit nonce seconds; }).slow.outPath",
				ArgStr: map[string]string{"file": e.File, "nonce": e.ArgStr["nonce"], "seconds": e.ArgStr["seconds"]},
			}, &out)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := os.Stat(out); err == nil {
				b.Fatalf("%s exists: evaluation must not build", out)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			drvs, err := n.Instantiate(b.Context(), expr(b))
			if err != nil {
				b.Fatal(err)
			}
			outs, err := n.Build(b.Context(), nix.BuildOptions{}, drvs...)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := os.Stat(string(outs[0])); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOutputPaths compares reading output paths from the local .drv
// file with asking nix-store --query --outputs (forced by NIX_REMOTE).
func BenchmarkOutputPaths(b *testing.B) {
	testenv.NeedNix(b)
	var n nix.Nix
	drvs, err := n.Instantiate(b.Context(), nix.Expr{File: pkgsFile(b), Attr: "greeter", ArgStr: map[string]string{"nonce": "bench-output-paths"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		n    nix.Nix
	}{
		{"drv-file", nix.Nix{}},
		{"nix-store", nix.Nix{Env: []string{"NIX_REMOTE=local"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				outs, err := bc.n.OutputPaths(b.Context(), drvs...)
				if err != nil || len(outs) != 1 {
					b.Fatal(outs, err)
				}
			}
		})
	}
}
