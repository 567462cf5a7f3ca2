package nix_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/nix"
)

func TestParseEvent(t *testing.T) {
	// Lines captured from Nix 2.8 (nix-build, nix-store -r, nix-instantiate --eval).
	tests := []struct {
		name string
		line string
		want nix.Event
	}{
		{
			name: "start build",
			line: `@nix {"action":"start","fields":["/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv","",1,1],"id":84228603641861,"level":3,"text":"building '/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv'","type":105}`,
			want: nix.Event{Action: nix.ActionStart, ID: 84228603641861, Level: 3, Activity: nix.ActBuild,
				Text:   "building '/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv'",
				Fields: []any{"/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv", "", int64(1), int64(1)},
				Path:   "/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv"},
		},
		{
			name: "start copy path",
			line: `@nix {"action":"start","fields":["/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob","file:///tmp/nt/c","local"],"id":75754633166855,"level":3,"text":"copying path '/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob' from 'file:///tmp/nt/c'","type":100}`,
			want: nix.Event{Action: nix.ActionStart, ID: 75754633166855, Level: 3, Activity: nix.ActCopyPath,
				Text:   "copying path '/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob' from 'file:///tmp/nt/c'",
				Fields: []any{"/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob", "file:///tmp/nt/c", "local"},
				Path:   "/nix/store/4j1d37dq84m5kzpw13mqjvzi94457ia0-blob"},
		},
		{
			name: "start without fields",
			line: `@nix {"action":"start","id":84228603641857,"level":0,"text":"","type":102}`,
			want: nix.Event{Action: nix.ActionStart, ID: 84228603641857, Activity: nix.ActRealise},
		},
		{
			name: "stop",
			line: `@nix {"action":"stop","id":84228603641861}`,
			want: nix.Event{Action: nix.ActionStop, ID: 84228603641861},
		},
		{
			name: "progress bytes",
			line: `@nix {"action":"result","fields":[8192,3000448,0,0],"id":75754633166855,"type":105}`,
			want: nix.Event{Action: nix.ActionResult, ID: 75754633166855, Result: nix.ResProgress,
				Fields: []any{int64(8192), int64(3000448), int64(0), int64(0)}, Done: 8192, Expected: 3000448},
		},
		{
			name: "progress builds with a failure",
			line: `@nix {"action":"result","fields":[0,1,1,1],"id":84228603641858,"type":105}`,
			want: nix.Event{Action: nix.ActionResult, ID: 84228603641858, Result: nix.ResProgress,
				Fields: []any{int64(0), int64(1), int64(1), int64(1)}, Expected: 1, Running: 1, Failed: 1},
		},
		{
			name: "set expected",
			line: `@nix {"action":"result","fields":[101,3000660],"id":75754633166850,"type":106}`,
			want: nix.Event{Action: nix.ActionResult, ID: 75754633166850, Result: nix.ResSetExpected,
				Fields: []any{int64(101), int64(3000660)}, ExpectedOf: nix.ActFileTransfer, Expected: 3000660},
		},
		{
			name: "build log line",
			line: `@nix {"action":"result","fields":["about to fail"],"id":84228603641861,"type":101}`,
			want: nix.Event{Action: nix.ActionResult, ID: 84228603641861, Result: nix.ResBuildLogLine,
				Fields: []any{"about to fail"}, Text: "about to fail"},
		},
		{
			name: "info message",
			line: `@nix {"action":"msg","level":3,"msg":"this derivation will be built:"}`,
			want: nix.Event{Action: nix.ActionMsg, Level: 3, Text: "this derivation will be built:"},
		},
		{
			name: "evaluation error with position and ANSI escapes",
			line: `@nix {"action":"msg","column":7,"file":"/tmp/nt/bad.nix","level":0,"line":2,"msg":"\u001b[31;1merror:\u001b[0m undefined variable '\u001b[35;1mb\u001b[0m'\n\n       \u001b[34;1mat \u001b[35;1m/tmp/nt/bad.nix:2:7\u001b[0m:","raw_msg":"undefined variable '\u001b[35;1mb\u001b[0m'"}`,
			want: nix.Event{Action: nix.ActionMsg, Level: 0,
				Text:   "error: undefined variable 'b'\n\n       at /tmp/nt/bad.nix:2:7:",
				RawMsg: "undefined variable 'b'", File: "/tmp/nt/bad.nix", Line: 2, Column: 7},
		},
		{
			name: "error without position",
			line: `@nix {"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\u001b[31;1merror:\u001b[0m job hello_world: cluster must be set","raw_msg":"job hello_world: cluster must be set"}` + "\n",
			want: nix.Event{Action: nix.ActionMsg, Text: "error: job hello_world: cluster must be set", RawMsg: "job hello_world: cluster must be set"},
		},
		{
			name: "parent (Nix 2.18+) is ignored",
			line: `@nix {"action":"start","id":5,"parent":4,"level":0,"text":"","type":104}`,
			want: nix.Event{Action: nix.ActionStart, ID: 5, Activity: nix.ActBuilds},
		},
		{
			name: "set phase from a builder",
			line: `@nix {"action":"setPhase","phase":"buildPhase"}`,
			want: nix.Event{Action: "setPhase", Text: "buildPhase"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nix.ParseEvent([]byte(tt.line))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseEventErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"plain line", "copying path '/nix/store/x' to 'file:///c'...", "not an @nix event"},
		{"empty", "", "not an @nix event"},
		{"prefix only", "@nix ", "malformed"},
		{"truncated json", `@nix {"action":"start","id":1`, "malformed"},
		{"not an object", `@nix [1,2]`, "malformed"},
		{"no action", `@nix {"id":1}`, `no "action"`},
		{"negative id", `@nix {"action":"stop","id":-1}`, "id -1"},
		{"object field", `@nix {"action":"result","id":1,"type":105,"fields":[{}]}`, "field 0"},
		{"string level", `@nix {"action":"msg","level":"x"}`, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nix.ParseEvent([]byte(tt.line))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := nix.ParseEvent([]byte("hello"))
	assert.ErrorIs(t, err, nix.ErrNotEvent)
}

func TestStripANSI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[31;1merror:\x1b[0m x", "error: x"},
		{"a\x1b[35;1mb\x1b[0mc", "abc"},
		{"\x1b[Kline", "line"},
		{"trailing \x1b[", "trailing "},
		{"trailing \x1b", "trailing "},
		{"two-byte \x1bcreset", "two-byte reset"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nix.StripANSI(tt.in), "StripANSI(%q)", tt.in)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`@nix {"action":"start","fields":["/nix/store/ka6avlr5wgfawm4ra9v7avv8cs2nni02-broken.drv","",1,1],"id":84228603641861,"level":3,"text":"building","type":105}`))
	f.Add([]byte(`@nix {"action":"result","fields":[8192,3000448,0,0],"id":75754633166855,"type":105}`))
	f.Add([]byte(`@nix {"action":"result","fields":[101,3000660],"id":1,"type":106}`))
	f.Add([]byte(`@nix {"action":"msg","column":7,"file":"/x.nix","level":0,"line":2,"msg":"\u001b[31;1merror:\u001b[0m x","raw_msg":"x"}`))
	f.Add([]byte(`@nix {"action":"stop","id":1}`))
	f.Add([]byte("plain line"))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := nix.ParseEvent(line)
		if err != nil {
			return
		}
		for _, s := range []string{ev.Text, ev.RawMsg, ev.Path} {
			if nix.StripANSI(s) != s {
				t.Fatalf("ParseEvent(%q) left an escape in %q", line, s)
			}
		}
		for _, f := range ev.Fields {
			switch f.(type) {
			case string, int64:
			default:
				t.Fatalf("ParseEvent(%q) field %T", line, f)
			}
		}
	})
}

func BenchmarkParseEvent(b *testing.B) {
	line := []byte(`@nix {"action":"result","fields":[8192,3000448,0,0],"id":75754633166855,"type":105}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nix.ParseEvent(line); err != nil {
			b.Fatal(err)
		}
	}
}
