package nix_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

func feed(t *testing.T, tr *nix.Tracker, lines string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		ev, err := nix.ParseEvent([]byte(strings.TrimSpace(line)))
		require.NoError(t, err, line)
		tr.Update(ev)
	}
}

func TestTrackerCopy(t *testing.T) {
	// nix copy --to file://... of a two-path closure (Nix 2.8).
	var tr nix.Tracker
	feed(t, &tr, `
@nix {"action":"start","id":22527103467520,"level":0,"text":"","type":102}
@nix {"action":"start","id":22527103467522,"level":0,"text":"","type":103}
@nix {"action":"stop","id":22527103467522}
@nix {"action":"stop","id":22527103467520}
@nix {"action":"start","id":22527103467526,"level":3,"text":"copying 2 paths","type":103}
@nix {"action":"start","fields":["/nix/store/frs31p6sp8c0isrhv4ks80xb47a2h2ll-hello","local","file:///tmp/nt/c7"],"id":22527103467527,"level":3,"text":"copying path '/nix/store/frs31p6sp8c0isrhv4ks80xb47a2h2ll-hello' to 'file:///tmp/nt/c7'","type":100}
`)
	assert.Equal(t, nix.Status{PathsExpected: 2, Running: []string{
		"copying 2 paths",
		"copying path '/nix/store/frs31p6sp8c0isrhv4ks80xb47a2h2ll-hello' to 'file:///tmp/nt/c7'",
	}}, tr.Status())
	feed(t, &tr, `
@nix {"action":"stop","id":22527103467527}
@nix {"action":"start","fields":["/nix/store/dq87vybwnzpcgrzm22c461ydxj4bmfxs-greeter","local","file:///tmp/nt/c7"],"id":22527103467528,"level":3,"text":"copying path '/nix/store/dq87vybwnzpcgrzm22c461ydxj4bmfxs-greeter' to 'file:///tmp/nt/c7'","type":100}
@nix {"action":"stop","id":22527103467528}
@nix {"action":"stop","id":22527103467526}
`)
	assert.Equal(t, nix.Status{PathsDone: 2, PathsExpected: 2}, tr.Status())
}

func TestTrackerSubstitute(t *testing.T) {
	// nix-store -r of a 3 MB path from a file:// cache (Nix 2.8), shortened.
	var tr nix.Tracker
	feed(t, &tr, `
@nix {"action":"start","id":75754633166850,"level":0,"text":"","type":102}
@nix {"action":"start","id":75754633166851,"level":0,"text":"","type":104}
@nix {"action":"start","id":75754633166852,"level":0,"text":"","type":103}
@nix {"action":"result","fields":[0,0,0,0],"id":75754633166851,"type":105}
@nix {"action":"result","fields":[0,1,1,0],"id":75754633166852,"type":105}
@nix {"action":"result","fields":[101,3000660],"id":75754633166850,"type":106}
@nix {"action":"result","fields":[100,3000448],"id":75754633166850,"type":106}
@nix {"action":"start","fields":["/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob","file:///tmp/nt/c"],"id":75754633166854,"level":0,"text":"","type":108}
@nix {"action":"start","fields":["/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob","file:///tmp/nt/c","local"],"id":75754633166855,"level":3,"text":"copying path '/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob' from 'file:///tmp/nt/c'","type":100}
@nix {"action":"result","fields":[8192,3000448,0,0],"id":75754633166855,"type":105}
@nix {"action":"result","fields":[16384,3000448,0,0],"id":75754633166855,"type":105}
`)
	assert.Equal(t, nix.Status{
		PathsExpected: 1, BytesDone: 16384, BytesExpected: 3000448,
		Running: []string{"copying path '/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob' from 'file:///tmp/nt/c'"},
	}, tr.Status())
	feed(t, &tr, `
@nix {"action":"result","fields":[2990080,3000448,0,0],"id":75754633166855,"type":105}
@nix {"action":"stop","id":75754633166855}
@nix {"action":"stop","id":75754633166854}
@nix {"action":"result","fields":[1,1,0,0],"id":75754633166852,"type":105}
@nix {"action":"stop","id":75754633166852}
@nix {"action":"stop","id":75754633166851}
@nix {"action":"stop","id":75754633166850}
`)
	assert.Equal(t, nix.Status{PathsDone: 1, PathsExpected: 1, BytesDone: 3000448, BytesExpected: 3000448}, tr.Status())
}

func TestTrackerBuilds(t *testing.T) {
	var tr nix.Tracker
	feed(t, &tr, `
@nix {"action":"start","id":84228603641858,"level":0,"text":"","type":104}
@nix {"action":"start","fields":["/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv","",1,1],"id":84228603641861,"level":3,"text":"building '/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv'","type":105}
@nix {"action":"result","fields":[0,1,1,0],"id":84228603641858,"type":105}
@nix {"action":"result","fields":["about to fail"],"id":84228603641861,"type":101}
`)
	assert.Equal(t, nix.Status{BuildsExpected: 1, BuildsRunning: 1,
		Running: []string{"building '/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv'"}}, tr.Status())
	feed(t, &tr, `
@nix {"action":"result","fields":[0,0,0,1],"id":84228603641858,"type":105}
@nix {"action":"stop","id":84228603641861}
@nix {"action":"stop","id":84228603641858}
@nix {"action":"stop","id":1}
@nix {"action":"result","fields":[5,5,0,0],"id":2,"type":105}
`)
	assert.Equal(t, nix.Status{BuildsFailed: 1}, tr.Status(), "unknown ids are ignored")
}
