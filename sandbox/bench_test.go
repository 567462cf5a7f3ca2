package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/nix"
)

// largeBenchEnv opts in to the 500 MB / 50k-file init_sandbox benchmark
// (it takes a few minutes the first time: build, push, and one full
// realisation and copy per variant).
const largeBenchEnv = "NIXREALIS_BENCH_LARGE"

// BenchmarkPayload compares getting a job's payload by evaluation alone
// (Prepare: the sandbox path is known without building) with building the
// sandbox first, for a package that takes 3 s to build.
func BenchmarkPayload(b *testing.B) {
	testenv.NeedNix(b)
	ctx := context.Background()
	n := &nix.Nix{}
	pkgs := File("testdata/pkgs.nix")
	j := testJob(job.NewProcess("web", "slow --port {{thermos.ports[http]}}"))
	packages := Packages{"web": {pkgs.Attr("slow")}}
	opts := Options{Nix: n, Name: "aurora-sandbox-bench-payload"}
	payload := func(b *testing.B) Prepared {
		p, err := Prepare(ctx, j, packages, opts)
		if err != nil {
			b.Fatal(err)
		}
		spec, err := p.Job.Build()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := spec.ExecutorData(); err != nil {
			b.Fatal(err)
		}
		return p
	}
	b.Run("evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload(b)
		}
	})
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		p := payload(b)
		slow, err := n.Instantiate(ctx, nix.Expr{File: "testdata/pkgs.nix", Attr: "slow"})
		if err != nil {
			b.Fatal(err)
		}
		slowOut, err := n.OutputPaths(ctx, slow...)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			// Make the next build real: delete the slow package and
			// everything referring to it (unrooted sandboxes).
			refs, err := exec.Command("nix-store", "--query", "--referrers-closure", string(slowOut[0])).Output()
			if err == nil {
				out, err := exec.Command("nix-store", append([]string{"--delete"}, strings.Fields(string(refs))...)...).CombinedOutput()
				if err != nil {
					b.Fatalf("cannot delete %s to rebuild it: %v: %s", slowOut[0], err, out)
				}
			}
			b.StartTimer()
			p = payload(b)
			if _, err := n.Build(ctx, nix.BuildOptions{}, p.Paths.Drv); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchClosure is a sandbox pushed to a signed file:// cache that is kept
// between runs under the temporary directory, keyed by the sandbox path.
type benchClosure struct {
	out      nix.StorePath
	cacheURL string
	pub      string
	script   string
}

var (
	benchClosuresMu sync.Mutex
	benchClosures   = map[string]*benchClosure{}
)

func setupBenchClosure(b *testing.B, attr string) *benchClosure {
	benchClosuresMu.Lock()
	defer benchClosuresMu.Unlock()
	if c := benchClosures[attr]; c != nil {
		return c
	}
	ctx := context.Background()
	n := &nix.Nix{}
	paths, err := evaluate(ctx, n, Spec{Name: "aurora-sandbox-bench-" + attr, Packages: []Package{File("testdata/pkgs.nix").Attr(attr)}}, "")
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(paths.Out))
	dir := filepath.Join(os.TempDir(), "nixrealis-bench-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	secret := filepath.Join(dir, "key.sec")
	if _, err := os.Stat(secret); err != nil {
		if err := n.GenerateKey(ctx, "bench-1", secret, filepath.Join(dir, "key.pub")); err != nil {
			b.Fatal(err)
		}
	}
	pub, err := ReadPublicKey(secret)
	if err != nil {
		b.Fatal(err)
	}
	c := &benchClosure{out: paths.Out, cacheURL: "file://" + filepath.Join(dir, "cache"), pub: pub}
	// Build and push once; later runs find the closure in the cache.
	if nix.VerifyCache(ctx, c.cacheURL, pub, paths.Out) != nil {
		if err := Push(ctx, paths, Cache{URL: c.cacheURL, SecretKeyFile: secret}, PushOptions{Nix: n, GCRoot: filepath.Join(dir, "root")}); err != nil {
			b.Fatal(err)
		}
	} else if _, err := n.Build(ctx, nix.BuildOptions{AddRoot: filepath.Join(dir, "root")}, paths.Drv); err != nil {
		b.Fatal(err) // the cp -a -L variant copies from the client's store
	}
	c.script, err = InitCommand(string(paths.Out), Agent{Caches: []string{c.cacheURL}})
	if err != nil {
		b.Fatal(err)
	}
	benchClosures[attr] = c
	return c
}

// BenchmarkInitSandbox measures bringing a sandbox's closure into a task
// sandbox on an agent (a chroot store): the first task on an agent
// (realise from the signed file:// cache), later tasks (already in the
// agent's store), a dereferencing per-task copy (cp -a -L, what
// nix-aurora's cp -Lavr meant), and a raw nix copy from the cache for
// reference. sandbox-bytes/op is what each task adds to its sandbox.
func BenchmarkInitSandbox(b *testing.B) {
	testenv.NeedNix(b)
	sizes := []struct{ name, attr string }{
		{"10MB-1k", "closure10m"},
		{"100MB-10k", "closure100m"},
		{"500MB-50k", "closure500m"},
	}
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			if size.attr == "closure500m" && (os.Getenv(largeBenchEnv) == "" || os.Getenv(largeBenchEnv) == "0") {
				b.Skipf("set %s=1 to run the 500 MB case (several minutes)", largeBenchEnv)
			}
			c := setupBenchClosure(b, size.attr)
			work := b.TempDir()
			newDir := func(kind string, i int) string {
				d := filepath.Join(work, fmt.Sprintf("%s-%d", kind, i))
				os.RemoveAll(d)
				if err := os.MkdirAll(d, 0o755); err != nil {
					b.Fatal(err)
				}
				return d
			}
			newAgent := func(i int) string {
				a := newDir("agent", i%2)
				if out, err := exec.Command("nix-store", "--store", a, "--init").CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				configureAgent(b, a, AgentNixConfFor(b, []string{c.cacheURL}, []string{c.pub}))
				return a
			}
			runScript := func(b *testing.B, sbx, agent string) {
				r := runInit(b, c.script, sbx, agent)
				if r.code != 0 {
					b.Fatalf("init_sandbox: exit %d: %s", r.code, r.stderr)
				}
			}
			b.Run("first-task", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					agent := newAgent(i)
					sbx := newDir("sandbox", i)
					b.StartTimer()
					runScript(b, sbx, agent)
				}
				b.StopTimer()
			})
			b.Run("later-task", func(b *testing.B) {
				agent := newAgent(0)
				runScript(b, newDir("sandbox", 0), agent)
				var grown int64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					sbx := newDir("sandbox", i+1)
					b.StartTimer()
					runScript(b, sbx, agent)
					b.StopTimer()
					grown += diskUsage(b, sbx)
					b.StartTimer()
				}
				b.ReportMetric(float64(grown)/float64(b.N), "sandbox-bytes/op")
			})
			b.Run("cp-a-L", func(b *testing.B) {
				var grown int64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					sbx := newDir("copy", i%2)
					b.StartTimer()
					if out, err := exec.Command("cp", "-a", "-L", string(c.out)+"/.", sbx).CombinedOutput(); err != nil {
						b.Fatalf("cp: %v: %s", err, out)
					}
					b.StopTimer()
					grown += diskUsage(b, sbx)
					exec.Command("chmod", "-R", "u+w", sbx).Run()
					b.StartTimer()
				}
				b.ReportMetric(float64(grown)/float64(b.N), "sandbox-bytes/op")
			})
			b.Run("nix-copy", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					agent := newAgent(i)
					b.StartTimer()
					cmd := exec.Command("nix", "copy", "--from", c.cacheURL, "--store", agent,
						"--option", "trusted-public-keys", c.pub, string(c.out))
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					if err := cmd.Run(); err != nil {
						b.Fatalf("nix copy: %v: %s", err, stderr.String())
					}
				}
				b.StopTimer()
			})
		})
	}
}

// diskUsage returns the bytes of regular files under dir.
func diskUsage(b *testing.B, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}
