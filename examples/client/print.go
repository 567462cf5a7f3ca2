//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/nix"
)

func printStatus(w io.Writer, st *nixrealis.JobStatus) {
	fmt.Fprintf(w, "%s: %d task(s)\n", st.Key, len(st.Tasks))
	states := make([]aurora.ScheduleStatus, 0, len(st.ByState))
	for s := range st.ByState {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].String() < states[j].String() })
	for _, s := range states {
		fmt.Fprintf(w, "  %s:", s)
		for _, t := range st.ByState[s] {
			fmt.Fprintf(w, " %d", t.Instance)
		}
		fmt.Fprintln(w)
	}
	for _, t := range st.ByState[aurora.ScheduleStatus_PENDING] {
		if t.PendingReason != "" {
			fmt.Fprintf(w, "  instance %d is PENDING: %s\n", t.Instance, t.PendingReason)
		}
	}
	if st.ActiveUpdate != nil {
		fmt.Fprintf(w, "  active update: %s\n", st.ActiveUpdate.ID)
	}
}

func printUpdate(w io.Writer, d *aurora.JobUpdateDetails) {
	if d == nil || d.Update == nil || d.Update.Summary == nil {
		fmt.Fprintln(w, "no such update")
		return
	}
	s := d.Update.Summary
	status := "?"
	if s.State != nil {
		status = s.State.Status.String()
	}
	fmt.Fprintf(w, "update %s of %s/%s/%s: %s\n", s.Key.ID, s.Key.Job.Role, s.Key.Job.Environment, s.Key.Job.Name, status)
	for _, ev := range d.UpdateEvents {
		m := ""
		if ev.Message != nil {
			m = " " + *ev.Message
		}
		fmt.Fprintf(w, "  %s %s%s\n", time.UnixMilli(ev.TimestampMs).UTC().Format(time.RFC3339), ev.Status, m)
	}
}

// printer shows progress: a one-line bar rewritten in place on a
// terminal, plain lines otherwise.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	tracker nix.Tracker
	open    bool // a bar line is on screen
	last    string
	// sent is set once an operation's request went to the scheduler.
	sent bool
}

// submitted reports whether a request went to the scheduler.
func (p *printer) submitted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

func (p *printer) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.w, s)
}

// clear ends the bar's line, keeping its last state on screen.
func (p *printer) clear() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func (p *printer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func (p *printer) progress(pr nixrealis.Progress) {
	if pr.Nix != nil {
		p.tracker.Update(*pr.Nix)
		st := p.tracker.Status()
		bar := fmt.Sprintf("nix: built %d/%d, copied %d/%d paths, %s/%s",
			st.BuildsDone, st.BuildsExpected, st.PathsDone, st.PathsExpected, size(st.BytesDone), size(st.BytesExpected))
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s", bar)
			p.open = true
		} else if pr.Nix.Text != "" && bar != p.last {
			// Plain output: one line per Nix activity that says something.
			fmt.Fprintf(p.w, "nix: %s\n", pr.Nix.Text)
		}
		p.last = bar
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

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
