package nix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A Nix runs the nix command-line tools. The zero value runs the binaries
// found on $PATH against the default store. Set the fields before the
// first call and do not change them while commands run.
type Nix struct {
	// Dir is the directory holding nix, nix-store and nix-instantiate,
	// e.g. /nix/var/nix/profiles/default/bin. Empty means $PATH.
	Dir string

	// Store is passed as --store: a store URL, or a directory for a
	// chroot store (how a second, "remote" store is simulated on one
	// machine). Empty means Nix's default store.
	Store string

	// Options are passed as --option name value, in name order.
	Options map[string]string

	// Env is added to the process environment (os.Environ()); later
	// entries win.
	Env []string

	// Stderr, when set, receives a human-readable copy of Nix's log: its
	// messages with ANSI escapes removed, build log lines and any stderr
	// line that is not an internal-json event. Writes happen on a reader
	// goroutine, one line at a time; commands running at the same time
	// write concurrently.
	Stderr io.Writer

	// Progress, when set, is called with every internal-json event, in
	// order, synchronously from the goroutine reading Nix's stderr. It must
	// not block: Nix blocks when its stderr pipe is full. Commands running
	// at the same time call it concurrently.
	Progress func(Event)

	// WaitDelay is how long a cancelled command may take to exit after
	// SIGINT before its process group is killed. Zero means
	// DefaultWaitDelay.
	WaitDelay time.Duration
}

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound means a nix binary is not installed (not in [Nix.Dir]
	// or on $PATH). errors.Is(err, exec.ErrNotFound) holds as well.
	ErrNotFound error = notFoundError{}

	// ErrBuildFailed means a builder failed: nix-store --realise exited
	// with 100-111 (the 2.8 build-failure codes).
	ErrBuildFailed = errors.New("build failed")

	// ErrBadSignature means Nix refused a path because it lacks a valid
	// signature by a trusted key, or [VerifyCache] found such a path.
	ErrBadSignature = errors.New("missing or untrusted signature")

	// ErrCacheUnreachable means a binary cache could not be read (Nix
	// could not download from it, or it is not a binary cache).
	ErrCacheUnreachable = errors.New("binary cache unreachable")

	// ErrNotInCache means no substituter could provide a path ("don't know
	// how to build these paths"), or [VerifyCache] found no narinfo for it.
	ErrNotInCache = errors.New("path not in any binary cache")
)

// notFoundError is ErrNotFound: it reads "nix not installed" and unwraps
// to exec.ErrNotFound.
type notFoundError struct{}

func (notFoundError) Error() string { return "nix not installed" }
func (notFoundError) Unwrap() error { return exec.ErrNotFound }

// An Error reports a failed nix command. It unwraps to the process error
// (*exec.ExitError, or the context's error after a cancellation), to
// [ErrNotFound] when a binary is missing, and to the sentinel that
// classifies Nix's messages ([ErrBuildFailed], [ErrBadSignature],
// [ErrCacheUnreachable], [ErrNotInCache]) when one applies.
type Error struct {
	Op       string   // the method: "instantiate", "eval", "build", ...
	Path     string   // the binary run
	Args     []string // its arguments
	ExitCode int      // -1 when it did not exit normally

	// Stderr is a bounded copy (head and tail) of Nix's log in the form
	// written to [Nix.Stderr].
	Stderr []byte

	// Msg is Nix's own error text: the level-0 messages, ANSI stripped,
	// without the "(use '--show-trace' ...)" hint. An evaluation error
	// keeps its "at file:line:column:" block and source excerpt.
	Msg string

	// File, Line and Column locate the first error message when Nix knows
	// its position (evaluation errors).
	File         string
	Line, Column int

	// Warnings holds Nix's level-1 messages (the cause of a failed
	// substitution is only a warning in Nix 2.8).
	Warnings []string

	// Err is the underlying error.
	Err error

	kind    error  // classification sentinel, or nil
	cause   string // the message that gave kind
	summary string // Nix's main error message
}

// Error returns "nix <op>: <first line of Nix's message> [at file:line:col]"
// followed by the process status.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nix ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	msg := e.summary
	if msg == "" {
		msg = firstLine(e.Msg)
	}
	if msg != "" {
		b.WriteString(msg)
		if e.File != "" && e.Line > 0 {
			fmt.Fprintf(&b, " at %s:%d:%d", e.File, e.Line, e.Column)
		}
		if c := strings.TrimSuffix(firstLine(e.cause), ":"); c != "" && c != msg {
			b.WriteString(": ")
			b.WriteString(c)
		}
		if e.kind != nil && !strings.Contains(msg, e.kind.Error()) {
			fmt.Fprintf(&b, " (%v)", e.kind)
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
		if drv := e.failedDrv(); drv != "" {
			store := ""
			if i := slices.Index(e.Args, "--store"); i >= 0 && i+1 < len(e.Args) {
				store = "--store " + e.Args[i+1] + " "
			}
			fmt.Fprintf(&b, "; read its build log with `nix-store %s-l %s` (or `nix %slog %s`)", store, drv, store, drv)
		}
		return b.String()
	}
	if e.kind != nil {
		fmt.Fprintf(&b, "%v: ", e.kind)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("failed")
	}
	return b.String()
}

// failedDrvRE finds the derivation in Nix's message for a failed builder.
var failedDrvRE = regexp.MustCompile(`builder for '(/nix/store/[^'\s]+\.drv)' failed`)

// failedDrv returns the derivation whose builder failed, "" if none did.
func (e *Error) failedDrv() string {
	if e.kind != ErrBuildFailed {
		return ""
	}
	for _, s := range []string{e.summary, e.cause, e.Msg} {
		if m := failedDrvRE.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}

// Unwrap returns the underlying error and the classifying sentinel.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	return errs
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "error: ")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// lookPath resolves a nix binary in n.Dir or $PATH.
func (n *Nix) lookPath(name string) (string, error) {
	if n.Dir == "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%w: %s not found in $PATH (install Nix, or set Nix.Dir to the directory holding it)", ErrNotFound, name)
		}
		return p, nil
	}
	p := filepath.Join(n.Dir, name)
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: no executable %s in %s (Nix.Dir; e.g. /nix/var/nix/profiles/default/bin)", ErrNotFound, name, n.Dir)
	}
	return p, nil
}

// commonArgs are the flags every command built by this package gets.
func (n *Nix) commonArgs() []string {
	args := []string{"--log-format", "internal-json"}
	if n.Store != "" {
		args = append(args, "--store", n.Store)
	}
	for _, k := range slices.Sorted(mapKeys(n.Options)) {
		args = append(args, "--option", k, n.Options[k])
	}
	return args
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// run executes name with pre (subcommand words), the common flags and
// args, returns its stdout, and turns any failure into an *Error.
func (n *Nix) run(ctx context.Context, op, name string, pre []string, args []string) ([]byte, error) {
	full := append(append(append([]string{}, pre...), n.commonArgs()...), args...)
	path, err := n.lookPath(name)
	if err != nil {
		return nil, &Error{Op: op, Path: name, Args: full, ExitCode: -1, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: op, Path: path, Args: full, ExitCode: -1, Err: err}
	}
	cmd, cancelled := n.command(ctx, path, full)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	lg := newLogReader(n)
	cmd.Stderr = lg
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, &Error{Op: op, Path: path, Args: full, ExitCode: -1, Err: err}
	}
	werr := cmd.Wait()
	lg.flush()
	if werr != nil && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		// nix succeeded: a cancellation raced with its exit, or something
		// it left behind kept stderr open past WaitDelay.
		werr = nil
	}

	if werr == nil {
		return stdout.Bytes(), nil
	}
	e := lg.error(op, path, full)
	e.ExitCode = -1
	if cmd.ProcessState != nil {
		e.ExitCode = cmd.ProcessState.ExitCode()
	}
	e.Err = werr
	if cancelled.Load() {
		e.Err = fmt.Errorf("%w: %w", ctx.Err(), werr)
		e.kind = nil
	} else if e.kind == nil && e.ExitCode >= 100 && e.ExitCode <= 111 {
		e.kind = ErrBuildFailed
	}
	return stdout.Bytes(), e
}

// stderrKeep bounds Error.Stderr: this much of the head and of the tail.
const stderrKeep = 16 << 10

// logReader consumes Nix's stderr: events to Progress, text to Stderr and
// to a bounded buffer, messages kept for the error.
type logReader struct {
	n        *Nix
	partial  []byte // an incomplete line
	acts     map[uint64]ActivityType
	head     []byte
	tail     []byte
	dropped  bool
	errs     []Event
	warnings []string
	infos    []string
}

func newLogReader(n *Nix) *logReader {
	return &logReader{n: n, acts: make(map[uint64]ActivityType)}
}

// Write receives nix's stderr (from os/exec's copying goroutine) and
// handles every complete line.
func (l *logReader) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i+1])
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) == 0 {
		l.partial = nil // let a large buffer go
	}
	return len(p), nil
}

// flush handles a last line without a newline.
func (l *logReader) flush() {
	if len(l.partial) > 0 {
		l.line(l.partial)
		l.partial = nil
	}
}

func (l *logReader) line(line []byte) {
	ev, err := ParseEvent(line)
	if err != nil {
		text := stripANSI(string(bytes.TrimRight(line, "\r\n")))
		l.text(text)
		return
	}
	switch ev.Action {
	case ActionStart:
		l.acts[ev.ID] = ev.Activity
	case ActionStop:
		ev.Activity = l.acts[ev.ID]
		delete(l.acts, ev.ID)
	case ActionResult:
		ev.Activity = l.acts[ev.ID]
		if ev.Result == ResBuildLogLine || ev.Result == ResPostBuildLogLine {
			l.text(ev.Text)
		}
	case ActionMsg:
		switch {
		case ev.Level == levelError:
			if !strings.HasPrefix(ev.Text, "(use '--show-trace'") {
				l.errs = append(l.errs, ev)
			}
		case ev.Level == levelWarn:
			l.warnings = append(l.warnings, strings.TrimPrefix(ev.Text, "warning: "))
		case ev.Level <= levelInfo:
			l.infos = append(l.infos, ev.Text)
		}
		l.text(ev.Text)
	}
	if l.n.Progress != nil {
		l.n.Progress(ev)
	}
}

func (l *logReader) text(s string) {
	s += "\n"
	if l.n.Stderr != nil {
		_, _ = io.WriteString(l.n.Stderr, s)
	}
	if len(l.head) < stderrKeep {
		k := min(stderrKeep-len(l.head), len(s))
		l.head = append(l.head, s[:k]...)
		s = s[k:]
	}
	if s == "" {
		return
	}
	l.tail = append(l.tail, s...)
	if len(l.tail) > 2*stderrKeep {
		l.tail = append(l.tail[:0], l.tail[len(l.tail)-stderrKeep:]...)
		l.dropped = true
	}
}

// error builds the *Error from what was read.
func (l *logReader) error(op, path string, args []string) *Error {
	e := &Error{Op: op, Path: path, Args: args, Warnings: l.warnings}
	tail := l.tail
	if len(tail) > stderrKeep {
		tail = tail[len(tail)-stderrKeep:]
		l.dropped = true
	}
	e.Stderr = append([]byte{}, l.head...)
	if l.dropped {
		e.Stderr = append(e.Stderr, "\n...omitted...\n"...)
	}
	e.Stderr = append(e.Stderr, tail...)
	var msgs []string
	for _, ev := range l.errs {
		msgs = append(msgs, ev.Text)
		if e.File == "" && ev.File != "" {
			e.File, e.Line, e.Column = ev.File, ev.Line, ev.Column
		}
		// Errors proper have a raw_msg; other level-0 lines are context
		// ("don't know how to build these paths:" and the paths).
		if e.summary == "" && ev.RawMsg != "" {
			e.summary = firstLine(ev.RawMsg)
		}
	}
	e.Msg = strings.Join(msgs, "\n")
	e.kind, e.cause = classify(msgs, l.warnings, l.infos)
	return e
}

// classify names the cause of a failure from Nix's messages, most specific
// first: an unreachable cache also ends in "don't know how to build".
func classify(errs, warnings, infos []string) (kind error, cause string) {
	all := slices.Concat(errs, warnings, infos)
	find := func(subs ...string) string {
		for _, m := range all {
			for _, s := range subs {
				if strings.Contains(m, s) {
					return m
				}
			}
		}
		return ""
	}
	for _, c := range []struct {
		kind error
		subs []string
	}{
		{ErrBadSignature, []string{"lacks a valid signature", "is not signed by any of the keys", "lacks a signature by a trusted key"}},
		{ErrCacheUnreachable, []string{"unable to download", "does not appear to be a binary cache", "Couldn't connect to server", "Could not resolve host"}},
		{ErrNotInCache, []string{"don't know how to build these paths", "there is no substituter that can build it"}},
		{ErrBuildFailed, []string{"failed with exit code"}},
	} {
		if m := find(c.subs...); m != "" {
			return c.kind, m
		}
	}
	return nil, ""
}
