package auroraconfig_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroraconfig"
	"github.com/nixrealis/nixrealis/job"
)

const nixSrc = `
pkgs = NixPackages(file = 'nix/default.nix')
search = NixPackages(nix_path = 'nixpkgs')
hello = Process(name = 'hello', cmdline = 'hello', packages = [pkgs.hello, pkgs['ticker'], pkgs.hello])
py = Process(name = 'py', cmdline = 'python -c 1',
             packages = [search.python3Packages.requests, 'coreutils', '/nix/store/00000000000000000000000000000000-x'])
plain = Process(name = 'plain', cmdline = 'true')
jobs = [Job(cluster = 'c', role = 'r', environment = 'devel', name = 'x',
            task = SequentialTask(processes = [hello, py, plain], resources = Resources(cpu = 1, ram = MB, disk = MB)))]
`

// TestNixPackages: processes name their Nix packages next to their command
// lines; Config.Packages returns them and the payload does not change.
func TestNixPackages(t *testing.T) {
	dir := t.TempDir()
	var l auroraconfig.Loader
	cfg, err := l.LoadSource(filepath.Join(dir, "job.aurora"), []byte(nixSrc))
	require.NoError(t, err)
	pkgs, err := cfg.Packages(testKey)
	require.NoError(t, err)
	file := filepath.Join(dir, "nix", "default.nix")
	assert.Equal(t, map[string][]auroraconfig.Package{
		"hello": {
			{Set: auroraconfig.PackageSet{File: file}, Attr: []string{"hello"}},
			{Set: auroraconfig.PackageSet{File: file}, Attr: []string{"ticker"}},
		},
		"py": {
			{Set: auroraconfig.PackageSet{NixPath: "nixpkgs"}, Attr: []string{"python3Packages", "requests"}},
			{Attr: []string{"coreutils"}},
			{StorePath: "/nix/store/00000000000000000000000000000000-x"},
		},
	}, pkgs)
	assert.Equal(t, file+"#hello", pkgs["hello"][0].String())

	// Without the packages, the same payload.
	plain := strings.NewReplacer(", packages = [pkgs.hello, pkgs['ticker'], pkgs.hello]", "",
		",\n             packages = [search.python3Packages.requests, 'coreutils', '/nix/store/00000000000000000000000000000000-x']", "").Replace(nixSrc)
	require.NotContains(t, plain, "packages =")
	cfg2, err := l.LoadSource(filepath.Join(dir, "job.aurora"), []byte(plain))
	require.NoError(t, err)
	none, err := cfg2.Packages(testKey)
	require.NoError(t, err)
	assert.Nil(t, none, "a file naming no packages gets no sandbox")
	a, err := cfg.Build(testKey)
	require.NoError(t, err)
	b, err := cfg2.Build(testKey)
	require.NoError(t, err)
	da, _ := a.ExecutorData()
	db, _ := b.ExecutorData()
	assert.Equal(t, string(db), string(da))

	for _, bad := range []struct{ src, want string }{
		{"p = Process(name = 'p', cmdline = 'c', packages = [NixPackages()])", "is a package set: name a package in it"},
		{"p = Process(name = 'p', cmdline = 'c', packages = [3])", "want a Nix package"},
		{"NixPackages(file = 'a', expr = 'b')", "give one of file, nix_path or expr"},
	} {
		_, err := l.LoadSource("bad.aurora", []byte(bad.src))
		require.Error(t, err, bad.src)
		assert.Contains(t, err.Error(), bad.want)
		assert.True(t, strings.HasPrefix(err.Error(), "bad.aurora:1:"), "%v", err)
	}
}

// TestGoldenHaveNoPackages: the oracle's files name no Nix packages.
func TestGoldenHaveNoPackages(t *testing.T) {
	for _, c := range goldenCases(t) {
		if !c.success {
			continue
		}
		l := auroraconfig.Loader{LookupEnv: oracleEnv}
		cfg, err := l.Load(c.file)
		require.NoError(t, err, c.name)
		parts := strings.Split(c.meta.JobKey, "/")
		pkgs, err := cfg.Packages(job.Key{Cluster: parts[0], Role: parts[1], Environment: parts[2], Name: parts[3]}, c.meta.Bindings...)
		require.NoError(t, err, c.name)
		assert.Nil(t, pkgs, c.name)
	}
}
