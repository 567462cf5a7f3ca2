package auroraconfig

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// ErrNoJob reports that the file defines no job matching the key asked for
// (errors.Is works on the *Error Config.Job returns).
var ErrNoJob = errors.New("no such job")

// Position is a place in a configuration file; Line and Col count from 1.
// A zero Line means the problem has no single place (for example a job
// that the file does not define).
type Position struct {
	File      string
	Line, Col int
}

// String returns "file:line:col", or just the file name without a line.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

func fromSyntax(p syntax.Position) Position {
	return Position{File: p.Filename(), Line: int(p.Line), Col: int(p.Col)}
}

// Error is a problem in a configuration file: where it is, what is wrong
// and, in Msg, how to fix it. Err, if not nil, is the underlying error (a
// job.Build error, ErrNoJob, a file system error) for errors.Is and
// errors.As.
type Error struct {
	Pos Position
	Msg string
	Err error
}

// Error returns "file:line:col: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// userError is returned by builtins: a message for the user, placed by the
// loader at the innermost .aurora frame of the call stack.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

func errorf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...)}
}

// fromEval turns what Starlark returned into an *Error at the innermost
// position in a configuration file.
func fromEval(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var serr syntax.Error
	if errors.As(err, &serr) {
		return &Error{Pos: fromSyntax(serr.Pos), Msg: pythonSyntaxMessage(serr.Msg)}
	}
	var list resolve.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return &Error{Pos: fromSyntax(list[0].Pos), Msg: pythonResolveMessage(list[0].Msg)}
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		pos := Position{}
		for i := len(ee.CallStack) - 1; i >= 0; i-- {
			fr := ee.CallStack[i]
			if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
				pos = fromSyntax(fr.Pos)
				break
			}
		}
		var inner *Error
		if errors.As(ee.Unwrap(), &inner) {
			return inner
		}
		msg := ee.Msg
		var ue *userError
		var cause error
		if errors.As(err, &ue) {
			msg, cause = ue.msg, ue.err
		} else {
			msg = pythonRuntimeMessage(msg)
		}
		return &Error{Pos: pos, Msg: msg, Err: cause}
	}
	return err
}

// pythonSyntaxMessage gives Starlark's syntax errors Python's wording where
// Python has one, keeping Starlark's detail.
func pythonSyntaxMessage(msg string) string {
	switch {
	case strings.Contains(msg, "unexpected newline in string"), strings.Contains(msg, "unexpected EOF in string"):
		return "EOL while scanning string literal: close the string on this line, or join lines with adjacent string literals"
	case strings.Contains(msg, "unindent does not match"):
		return "unindent does not match any outer indentation level"
	case strings.Contains(msg, "got indent"), strings.Contains(msg, "unexpected indent"):
		return "unexpected indent: this line is indented more than the statement it belongs to"
	case strings.Contains(msg, "got outdent"):
		return "unexpected unindent"
	}
	return "invalid syntax: " + msg
}

// pythonRuntimeMessage rewords Starlark's run-time errors as Python's.
func pythonRuntimeMessage(msg string) string {
	return msg
}

// pythonResolveMessage rewords the resolver's errors as Python's.
func pythonResolveMessage(msg string) string {
	if name, ok := strings.CutPrefix(msg, "undefined: "); ok {
		return fmt.Sprintf("name '%s' is not defined: define it before this line (or include() the file that does)", name)
	}
	return msg
}
