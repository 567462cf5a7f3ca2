//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/nix"
)

// nixLog is Nix's --log-format internal-json output for a build of two
// derivations and a copy of three paths, as nix-store --realise and nix
// copy print it.
var nixLog = []string{
	`@nix {"action":"start","id":1,"level":0,"parent":0,"text":"","type":104}`,
	`@nix {"action":"result","fields":[0,2,1,0],"id":1,"type":105}`,
	`@nix {"action":"start","id":2,"level":3,"parent":0,"text":"building '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello.drv'","type":105}`,
	`@nix {"action":"result","fields":[1,2,1,0],"id":1,"type":105}`,
	`@nix {"action":"stop","id":2}`,
	`@nix {"action":"result","fields":[2,2,0,0],"id":1,"type":105}`,
	`@nix {"action":"stop","id":1}`,
	`@nix {"action":"start","id":3,"level":3,"parent":0,"text":"copying 3 paths","type":103}`,
	`@nix {"action":"result","fields":[1,3,0,0],"id":3,"type":105}`,
	`@nix {"action":"result","fields":[3,3,0,0],"id":3,"type":105}`,
	`@nix {"action":"stop","id":3}`,
}

// withdrawnLog is the README's run: Nix expects a build, then finds the
// outputs valid and expects none, then copies three paths.
var withdrawnLog = []string{
	`@nix {"action":"start","id":1,"level":0,"parent":0,"text":"","type":104}`,
	`@nix {"action":"result","fields":[0,1,0,0],"id":1,"type":105}`,
	`@nix {"action":"result","fields":[0,0,0,0],"id":1,"type":105}`,
	`@nix {"action":"stop","id":1}`,
	`@nix {"action":"start","id":3,"level":3,"parent":0,"text":"copying 3 paths","type":103}`,
	`@nix {"action":"result","fields":[3,3,0,0],"id":3,"type":105}`,
	`@nix {"action":"stop","id":3}`,
}

// feed reports log to p as the client's progress callback gets it, then
// a stage line.
func feed(t *testing.T, p *printer, log []string) {
	t.Helper()
	for _, l := range log {
		ev, err := nix.ParseEvent([]byte(l))
		require.NoError(t, err, l)
		p.progress(nixrealis.Progress{Op: "create", Stage: nixrealis.StagePrepare, Nix: &ev})
	}
	p.progress(nixrealis.Progress{Op: "create", Stage: nixrealis.StageSubmit, Message: "job created"})
	p.finish()
}

// screen is what a terminal shows for out: each line as the last carriage
// return left it (progressbar redraws its line with \r).
func screen(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		l = strings.TrimSuffix(l, "\r") // a pty's \r\n
		lines = append(lines, strings.TrimRight(l[strings.LastIndex(l, "\r")+1:], " "))
	}
	return lines
}

// controlRE matches control characters other than newline and escapes.
var controlRE = regexp.MustCompile(`[\x00-\x09\x0b-\x1f\x7f]`)

// TestBarDrawnByProgressbar: on a terminal, Nix's progress is
// progressbar's bar (percentage, |██  |), one bar per run of work Nix
// announces, each left on its line full when done.
func TestBarDrawnByProgressbar(t *testing.T) {
	full := " 100% |████████████████████|"
	tests := []struct {
		name string
		log  []string
		// screen is what the terminal shows at the end; during is a
		// state drawn on the way.
		screen []string
		during string
	}{
		{"build then copy", nixLog, []string{
			"nix: built 2/2, copied 0/0 paths, 0 B/0 B" + full,
			"nix: built 2/2, copied 3/3 paths, 0 B/0 B" + full,
		}, "nix: built 1/2, copied 0/0 paths, 0 B/0 B  50% |██████████          |"},
		{"a build taken back", withdrawnLog, []string{
			"nix: built 0/0, copied 3/3 paths, 0 B/0 B" + full,
		}, "nix: built 0/1, copied 0/0 paths, 0 B/0 B   0% |                    |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			p := &printer{w: &stdout, bar: &nixBar{w: &stderr}}
			feed(t, p, tt.log)
			assert.Equal(t, tt.screen, screen(stderr.String()), "%q", stderr.String())
			assert.Contains(t, stderr.String(), tt.during)
			// The bar replaces the plain Nix lines; the stage line goes
			// to stdout.
			assert.Equal(t, "submit: job created\n", stdout.String())
		})
	}
}

// TestQuietWithoutTerminal: when stderr is not a terminal (a pipe), there
// is no bar and no control character anywhere: plain lines on stdout.
func TestQuietWithoutTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	var stdout bytes.Buffer
	p := newPrinter(&stdout, w)
	assert.Nil(t, p.bar, "a pipe gets no bar")
	feed(t, p, nixLog)
	require.NoError(t, w.Close())
	errOut, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Empty(t, string(errOut))
	// One line per Nix activity that says something and changes the
	// totals (the build's start changes none).
	assert.Equal(t, "nix: copying 3 paths\nsubmit: job created\n", stdout.String())
	assert.False(t, controlRE.MatchString(stdout.String()), "%q", stdout.String())
}

// TestBarOnTerminal: with stderr a terminal (a pty), newPrinter draws the
// bar there and stdout stays plain.
func TestBarOnTerminal(t *testing.T) {
	t.Setenv("TERM", "xterm")
	master, tty, err := pty.Open()
	require.NoError(t, err)
	defer master.Close()
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(master) // until tty is closed
		got <- string(b)
	}()
	var stdout bytes.Buffer
	p := newPrinter(&stdout, tty)
	require.NotNil(t, p.bar, "a terminal gets the bar")
	feed(t, p, nixLog)
	require.NoError(t, tty.Close())
	out := <-got
	assert.Equal(t, []string{
		"nix: built 2/2, copied 0/0 paths, 0 B/0 B 100% |████████████████████|",
		"nix: built 2/2, copied 3/3 paths, 0 B/0 B 100% |████████████████████|",
	}, screen(out))
	assert.Equal(t, "submit: job created\n", stdout.String())
}
