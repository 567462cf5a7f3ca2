//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/nix"
)

// printer is the client's output: what it does, as lines on stdout, and
// Nix's progress, as a bar on stderr when stderr is a terminal (drawn by
// progressbar) or else as one line on stdout per Nix activity that says
// something, so that a pipe or a log gets no bar and no control
// characters. Writes to the printer go to stdout below the bar.
type printer struct {
	mu      sync.Mutex
	w       io.Writer // stdout
	bar     *nixBar   // nil when stderr is not a terminal
	tracker nix.Tracker
	last    string
	// sent is set once an operation's request went to the scheduler.
	sent bool
}

// newPrinter prints to stdout, with a progress bar on stderr if stderr is
// a terminal.
func newPrinter(stdout, stderr io.Writer) *printer {
	p := &printer{w: stdout}
	if isTerminal(stderr) {
		p.bar = &nixBar{w: stderr}
	}
	return p
}

// submitted reports whether a request went to the scheduler.
func (p *printer) submitted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// Write writes b to stdout, ending the bar's line first.
func (p *printer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.end()
	return p.w.Write(b)
}

func (p *printer) line(s string) {
	fmt.Fprintln(p, s)
}

// finish ends the bar's line, keeping its last state on screen.
func (p *printer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.end()
}

func (p *printer) progress(pr nixrealis.Progress) {
	if pr.Nix != nil {
		p.tracker.Update(*pr.Nix)
		st := p.tracker.Status()
		desc := fmt.Sprintf("nix: built %d/%d, copied %d/%d paths, %s/%s",
			st.BuildsDone, st.BuildsExpected, st.PathsDone, st.PathsExpected, size(st.BytesDone), size(st.BytesExpected))
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.bar != nil {
			p.bar.show(st, desc)
		} else if pr.Nix.Text != "" && desc != p.last {
			// Plain output: one line per Nix activity that says something.
			fmt.Fprintf(p.w, "nix: %s\n", pr.Nix.Text)
		}
		p.last = desc
		return
	}
	if pr.Stage == nixrealis.StageSubmit {
		p.mu.Lock()
		p.sent = true
		p.mu.Unlock()
	}
	if pr.Message == "" {
		return
	}
	s := fmt.Sprintf("%s: %s", pr.Stage, pr.Message)
	if pr.Total > 0 {
		s += fmt.Sprintf(" (%d/%d)", pr.Done, pr.Total)
	}
	p.line(s)
}

// nixBar draws Nix's progress with progressbar: a bar over the builds and
// path copies Nix announced, described by the tracker's totals. Nix
// announces its work as it goes (it builds, then copies what it built), so
// a bar that filled up stays on its line and the next work Nix announces
// gets a new bar on the next line, counting from there; so does the work
// after a printed line, counting on from where its bar was.
type nixBar struct {
	w   io.Writer
	bar *progressbar.ProgressBar // nil: no bar on screen
	// base is the steps done before the bar on screen (or the next one):
	// those of the bars that filled up.
	base int64
}

// newBar is a bar of total steps on w, drawn at once.
func newBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(20),
		// Nix's totals grow as it goes: a time left would be a guess.
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// show draws st, described by desc.
func (b *nixBar) show(st nix.Status, desc string) {
	done := st.BuildsDone + st.PathsDone
	total := max(st.BuildsExpected+st.PathsExpected, done)
	if b.bar != nil && b.bar.IsFinished() && total > b.base+b.bar.GetMax64() {
		b.end()
	}
	switch {
	case b.bar == nil && total <= b.base:
		// Nothing announced beyond what the last bar showed.
		return
	case b.bar == nil:
		b.bar = newBar(b.w, total-b.base, desc)
	case b.bar.IsFinished():
	case total <= b.base:
		// Nix took back what it announced (a build it then found already
		// done): no bar.
		b.bar.Exit()
		b.bar.Clear()
		b.bar = nil
		return
	case total-b.base != b.bar.GetMax64():
		b.bar.ChangeMax64(total - b.base)
	}
	b.bar.Set64(done - b.base)
	b.bar.Describe(desc)
}

// end leaves the bar on screen as it is and moves to the next line. A nil
// *nixBar (no terminal) has nothing to end.
func (b *nixBar) end() {
	if b == nil || b.bar == nil {
		return
	}
	if b.bar.IsFinished() {
		b.base += b.bar.GetMax64()
	}
	b.bar.Exit()
	fmt.Fprintln(b.w)
	b.bar = nil
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// isTerminal reports whether w is a terminal that can show a bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}
