package nix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Action is the kind of an internal-json log event.
type Action string

// The actions Nix's internal-json logger writes.
const (
	ActionStart  Action = "start"  // an activity starts (ID, Activity, Text, Fields)
	ActionStop   Action = "stop"   // an activity stops (ID)
	ActionResult Action = "result" // an activity reports a result (ID, Result, Fields)
	ActionMsg    Action = "msg"    // a log message (Level, Text, position for errors)
)

// ActivityType is the type of a Nix activity (libutil/logging.hh).
type ActivityType int

// Activity types of Nix 2.8.
const (
	ActUnknown       ActivityType = 0
	ActCopyPath      ActivityType = 100 // fields [path, from, to]; ResProgress in bytes while substituting
	ActFileTransfer  ActivityType = 101 // fields [url]; ResProgress in bytes
	ActRealise       ActivityType = 102 // ResSetExpected totals (download and NAR bytes)
	ActCopyPaths     ActivityType = 103 // ResProgress in paths
	ActBuilds        ActivityType = 104 // ResProgress in derivations
	ActBuild         ActivityType = 105 // fields [drvPath, machine, round, nrRounds]; ResBuildLogLine
	ActOptimiseStore ActivityType = 106
	ActVerifyPaths   ActivityType = 107
	ActSubstitute    ActivityType = 108 // fields [path, substituter]
	ActQueryPathInfo ActivityType = 109
	ActPostBuildHook ActivityType = 110
	ActBuildWaiting  ActivityType = 111
)

// ResultType is the type of an activity's result (libutil/logging.hh).
type ResultType int

// Result types of Nix 2.8.
const (
	ResFileLinked       ResultType = 100
	ResBuildLogLine     ResultType = 101 // fields [line]
	ResUntrustedPath    ResultType = 102
	ResCorruptedPath    ResultType = 103
	ResSetPhase         ResultType = 104 // fields [phase]
	ResProgress         ResultType = 105 // fields [done, expected, running, failed]
	ResSetExpected      ResultType = 106 // fields [activity type, expected]
	ResPostBuildLogLine ResultType = 107
)

// Nix's verbosity levels (libutil/logging.hh) that this package tells
// apart; [Event.Level] holds any of 0 (error) to 7 (vomit).
const (
	levelError = 0
	levelWarn  = 1
	levelInfo  = 3
)

// An Event is one parsed "@nix {...}" line of Nix's --log-format
// internal-json output, with ANSI escapes removed from every text.
//
// Nix 2.8 has no parent activity: aggregate by Activity type. Results and
// stops carry only an ID in Nix's output; when events come through
// [Nix.Progress] the Activity of a result or stop event is filled in from
// its start event (ParseEvent alone cannot know it and leaves it 0).
type Event struct {
	Action   Action
	ID       uint64       // activity id (start, stop, result)
	Level    int          // start and msg: Nix's verbosity, 0 error, 1 warn, 2 notice, 3 info, 4 talkative, 5 chatty, 6 debug, 7 vomit
	Activity ActivityType // start; result and stop when known
	Result   ResultType   // result
	Text     string       // start: description; msg: the message; result: the first string field
	Fields   []any        // raw positional fields: string or int64 values

	// Done, Expected, Running and Failed come from a ResProgress result
	// (bytes for ActCopyPath/ActFileTransfer, paths or builds for
	// ActCopyPaths/ActBuilds). For ResSetExpected, Expected is the total
	// and ExpectedOf the activity type it counts.
	Done, Expected, Running, Failed int64
	ExpectedOf                      ActivityType

	// Path is the store path a start event names (ActCopyPath,
	// ActSubstitute, ActBuild's derivation), when it has one.
	Path string

	// Position of an error message, when Nix knows it.
	File         string
	Line, Column int
	RawMsg       string // msg: the message without the "error:" prefix and position
}

// ErrNotEvent is returned by [ParseEvent] for a line that is not an
// internal-json event ("@nix " followed by a JSON object).
var ErrNotEvent = errors.New("not an @nix event")

// eventPrefix starts every internal-json line.
const eventPrefix = "@nix "

type rawEvent struct {
	Action string            `json:"action"`
	ID     json.Number       `json:"id"`
	Level  *int              `json:"level"`
	Type   *int              `json:"type"`
	Text   string            `json:"text"`
	Msg    string            `json:"msg"`
	RawMsg string            `json:"raw_msg"`
	Fields []json.RawMessage `json:"fields"`
	File   *string           `json:"file"`
	Line   *int              `json:"line"`
	Column *int              `json:"column"`
	Phase  string            `json:"phase"`
}

// ParseEvent parses one stderr line of Nix's internal-json log. A line
// without the "@nix " prefix gives an error wrapping [ErrNotEvent]; a
// malformed event gives a descriptive error. It never panics.
func ParseEvent(line []byte) (Event, error) {
	line = bytes.TrimRight(line, "\r\n")
	body, ok := bytes.CutPrefix(line, []byte(eventPrefix))
	if !ok {
		return Event{}, ErrNotEvent
	}
	var raw rawEvent
	if err := json.Unmarshal(body, &raw); err != nil {
		return Event{}, fmt.Errorf("nix: malformed @nix event: %w", err)
	}
	ev := Event{Action: Action(raw.Action)}
	if raw.ID != "" {
		id, err := strconv.ParseUint(raw.ID.String(), 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("nix: malformed @nix event: id %s: %w", raw.ID, err)
		}
		ev.ID = id
	}
	if raw.Level != nil {
		ev.Level = *raw.Level
	}
	fields, err := normFields(raw.Fields)
	if err != nil {
		return Event{}, fmt.Errorf("nix: malformed @nix event: %w", err)
	}
	ev.Fields = fields
	switch ev.Action {
	case ActionStart:
		if raw.Type != nil {
			ev.Activity = ActivityType(*raw.Type)
		}
		ev.Text = stripANSI(raw.Text)
		switch ev.Activity {
		case ActCopyPath, ActSubstitute, ActBuild, ActQueryPathInfo:
			ev.Path = ev.stringField(0)
		}
	case ActionStop:
	case ActionResult:
		if raw.Type != nil {
			ev.Result = ResultType(*raw.Type)
		}
		switch ev.Result {
		case ResProgress:
			ev.Done, ev.Expected = ev.intField(0), ev.intField(1)
			ev.Running, ev.Failed = ev.intField(2), ev.intField(3)
		case ResSetExpected:
			ev.ExpectedOf, ev.Expected = ActivityType(ev.intField(0)), ev.intField(1)
		default:
			ev.Text = stripANSI(ev.stringField(0))
		}
	case ActionMsg:
		ev.Text = stripANSI(raw.Msg)
		ev.RawMsg = stripANSI(raw.RawMsg)
		if raw.File != nil {
			ev.File = *raw.File
		}
		if raw.Line != nil {
			ev.Line = *raw.Line
		}
		if raw.Column != nil {
			ev.Column = *raw.Column
		}
	case "setPhase":
		ev.Text = stripANSI(raw.Phase)
	case "":
		return Event{}, errors.New(`nix: malformed @nix event: no "action"`)
	}
	return ev, nil
}

// normFields turns JSON numbers into int64 and strings into strings with
// ANSI escapes removed; anything else is an error (Nix writes only these
// two kinds).
func normFields(in []json.RawMessage) ([]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]any, len(in))
	for i, f := range in {
		if len(f) == 0 {
			return nil, fmt.Errorf("field %d: empty", i)
		}
		switch c := f[0]; {
		case c == '"':
			var s string
			if bytes.IndexByte(f, '\\') < 0 {
				s = string(f[1 : len(f)-1]) // validated by json.Unmarshal
			} else if err := json.Unmarshal(f, &s); err != nil {
				return nil, fmt.Errorf("field %d: %w", i, err)
			}
			out[i] = stripANSI(s)
		case c == '-' || ('0' <= c && c <= '9'):
			n, err := strconv.ParseInt(string(f), 10, 64)
			if err != nil {
				fl, ferr := strconv.ParseFloat(string(f), 64)
				if ferr != nil {
					return nil, fmt.Errorf("field %d: %w", i, err)
				}
				n = int64(fl)
			}
			out[i] = n
		default:
			return nil, fmt.Errorf("field %d: unexpected %s", i, f)
		}
	}
	return out, nil
}

func (ev *Event) intField(i int) int64 {
	if i < len(ev.Fields) {
		if n, ok := ev.Fields[i].(int64); ok {
			return n
		}
	}
	return 0
}

func (ev *Event) stringField(i int) string {
	if i < len(ev.Fields) {
		if s, ok := ev.Fields[i].(string); ok {
			return s
		}
	}
	return ""
}

// stripANSI removes ANSI escape sequences (CSI "ESC [ ... letter" and
// two-byte "ESC x") from s. Nix 2.8 embeds them in every message even
// without a terminal.
func stripANSI(s string) string {
	i := strings.IndexByte(s, 0x1b)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+1:]
		switch {
		case len(s) > 0 && s[0] == '[':
			j := 1
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if j < len(s) {
				j++
			}
			s = s[j:]
		case len(s) > 0:
			s = s[1:]
		}
		i = strings.IndexByte(s, 0x1b)
	}
	b.WriteString(s)
	return b.String()
}
