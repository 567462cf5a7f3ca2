package nix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadDrvOutputs(t *testing.T) {
	const (
		out = "/nix/store/r7g2c1j0vjcqwh213339dl3ampn1mv36-multi"
		dev = "/nix/store/4nhxvp276hz26vmsgcchbzjr4lj1kxi9-multi-dev"
		bin = "/nix/store/cdn6s9ijc7kzs053n87d8wdyrz772rjp-multi-bin"
	)
	tests := []struct {
		name string
		drv  string
		want []StorePath // nil = not readable, ask the CLI
	}{
		{"one output", `Derive([("out","` + out + `","","")],[],[],"x86_64-linux","/bin/sh",[],[])`, []StorePath{out}},
		{"several outputs sorted by path", `Derive([("bin","` + bin + `","",""),("dev","` + dev + `","",""),("out","` + out + `","","")],[],[])`,
			[]StorePath{dev, bin, out}},
		{"fixed output", `Derive([("out","` + out + `","r:sha256","a61047152398c0e7a20b56acc3eb3bc410377d64594021e14a8ba64241488c97")],[])`, []StorePath{out}},
		{"floating content-addressed", `Derive([("out","","r:sha256","")],[])`, nil},
		{"escape in a string", `Derive([("out","/nix/store/r7g2c1j0vjcqwh213339dl3ampn1mv36-mul\"ti","","")],[])`, nil},
		{"not a derivation", `hello`, nil},
		{"truncated", `Derive([("out","` + out + `",""`, nil},
		{"empty list", `Derive([],[])`, nil},
		{"not a store path", `Derive([("out","/tmp/x","","")],[])`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "x.drv")
			if err := os.WriteFile(f, []byte(tt.drv), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := readDrvOutputs(f)
			assert.Equal(t, tt.want != nil, ok, "ok")
			assert.Equal(t, tt.want, got)
		})
	}
	_, ok := readDrvOutputs(filepath.Join(t.TempDir(), "missing.drv"))
	assert.False(t, ok)
}

func TestLocalDrvFile(t *testing.T) {
	const drv = StorePath("/nix/store/r7g2c1j0vjcqwh213339dl3ampn1mv36-multi.drv")
	t.Setenv("NIX_REMOTE", "")
	t.Setenv("NIX_STORE_DIR", "")
	tests := []struct {
		name string
		n    Nix
		want string
	}{
		{"default store", Nix{}, string(drv)},
		{"daemon", Nix{Store: "daemon"}, string(drv)},
		{"chroot store", Nix{Store: "/var/agent"}, "/var/agent" + string(drv)},
		{"store URL", Nix{Store: "ssh://host"}, ""},
		{"local with parameters", Nix{Store: "local?root=/x"}, ""},
		{"store option", Nix{Options: map[string]string{"store": "/x"}}, ""},
		{"NIX_REMOTE in Env", Nix{Env: []string{"NIX_REMOTE=ssh-ng://h"}}, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.n.localDrvFile(drv), tt.name)
	}
	t.Setenv("NIX_REMOTE", "ssh://elsewhere")
	assert.Equal(t, "", (&Nix{}).localDrvFile(drv), "NIX_REMOTE in the environment")
}

func FuzzParseDrvOutputs(f *testing.F) {
	f.Add([]byte(`Derive([("out","/nix/store/r7g2c1j0vjcqwh213339dl3ampn1mv36-multi","","")],[],[],"x86_64-linux","/bin/sh",[],[])`))
	f.Add([]byte(`Derive([("bin","/nix/store/cdn6s9ijc7kzs053n87d8wdyrz772rjp-multi-bin","",""),("out","/nix/store/r7g2c1j0vjcqwh213339dl3ampn1mv36-multi","r:sha256","00")],[])`))
	f.Add([]byte(`Derive([("out","","r:sha256","")],[])`))
	f.Fuzz(func(t *testing.T, data []byte) {
		paths, ok := parseDrvOutputs(data)
		if !ok {
			if paths != nil {
				t.Fatalf("parseDrvOutputs(%q) = %v, false", data, paths)
			}
			return
		}
		if len(paths) == 0 {
			t.Fatalf("parseDrvOutputs(%q): ok with no paths", data)
		}
		for _, p := range paths {
			if _, err := ParseStorePath(string(p)); err != nil {
				t.Fatalf("parseDrvOutputs(%q) gave %q: %v", data, p, err)
			}
		}
	})
}
