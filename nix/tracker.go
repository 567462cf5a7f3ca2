package nix

import (
	"fmt"
	"slices"
	"sync"
)

// A Tracker aggregates internal-json events into the totals a progress
// bar shows. Use its Update method as [Nix.Progress] (or call it from
// yours) and read [Tracker.Status] from any goroutine. The zero value is
// ready to use; one Tracker may follow several commands in turn.
type Tracker struct {
	mu       sync.Mutex
	acts     map[uint64]*trackedActivity
	order    []uint64 // start order of live activities
	builds   map[uint64][4]int64
	copies   map[uint64][4]int64
	narBytes map[uint64]int64               // ActRealise's expected NAR bytes, by activity
	bytes    struct{ done, expected int64 } // finished ActCopyPath activities
	copied   int64                          // finished ActCopyPath activities
}

type trackedActivity struct {
	typ            ActivityType
	text           string
	level          int
	done, expected int64
}

// Status is a snapshot of a [Tracker].
type Status struct {
	// Builds: derivations built, to build, building now, failed (from
	// ActBuilds progress).
	BuildsDone, BuildsExpected, BuildsRunning, BuildsFailed int64
	// Paths copied or substituted and to copy (from ActCopyPaths progress,
	// or counted from ActCopyPath activities when Nix reports no totals,
	// as nix copy does).
	PathsDone, PathsExpected int64
	// Bytes of NAR data copied and to copy (from ActCopyPath progress
	// and ActRealise's expected NAR size).
	BytesDone, BytesExpected int64
	// Running lists the texts of running activities Nix shows at info
	// level, oldest first ("building '/nix/store/...drv'", "copying path
	// '...' from '...'").
	Running []string
}

// Update records one event. It never blocks for long and is safe to call
// concurrently with Status.
func (t *Tracker) Update(ev Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.acts == nil {
		t.acts = make(map[uint64]*trackedActivity)
		t.builds = make(map[uint64][4]int64)
		t.copies = make(map[uint64][4]int64)
		t.narBytes = make(map[uint64]int64)
	}
	switch ev.Action {
	case ActionStart:
		if _, ok := t.acts[ev.ID]; !ok {
			t.order = append(t.order, ev.ID)
		}
		t.acts[ev.ID] = &trackedActivity{typ: ev.Activity, text: ev.Text, level: ev.Level}
		// nix copy gives no progress results, only "copying N paths".
		var n int64
		if ev.Activity == ActCopyPaths {
			if _, err := fmt.Sscanf(ev.Text, "copying %d paths", &n); err == nil {
				t.copies[ev.ID] = [4]int64{0, n, 0, 0}
			}
		}
	case ActionStop:
		a, ok := t.acts[ev.ID]
		if !ok {
			return
		}
		if a.typ == ActCopyPath {
			t.copied++
			t.bytes.done += max(a.done, a.expected)
			t.bytes.expected += a.expected
		}
		delete(t.acts, ev.ID)
		t.order = slices.DeleteFunc(t.order, func(id uint64) bool { return id == ev.ID })
	case ActionResult:
		a := t.acts[ev.ID]
		if a == nil {
			return
		}
		switch ev.Result {
		case ResProgress:
			p := [4]int64{ev.Done, ev.Expected, ev.Running, ev.Failed}
			switch a.typ {
			case ActBuilds:
				t.builds[ev.ID] = p
			case ActCopyPaths:
				t.copies[ev.ID] = p
			default:
				a.done, a.expected = ev.Done, ev.Expected
			}
		case ResSetExpected:
			if a.typ == ActRealise && ev.ExpectedOf == ActCopyPath {
				t.narBytes[ev.ID] = ev.Expected
			}
		}
	}
}

// Status returns the current totals.
func (t *Tracker) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	var s Status
	for _, p := range t.builds {
		s.BuildsDone += p[0]
		s.BuildsExpected += p[1]
		s.BuildsRunning += p[2]
		s.BuildsFailed += p[3]
	}
	for _, p := range t.copies {
		s.PathsDone += p[0]
		s.PathsExpected += p[1]
	}
	running := int64(0)
	s.BytesDone, s.BytesExpected = t.bytes.done, t.bytes.expected
	for _, id := range t.order {
		a := t.acts[id]
		if a.typ == ActCopyPath {
			running++
			s.BytesDone += a.done
			s.BytesExpected += a.expected
		}
		if a.text != "" && a.level <= levelInfo {
			s.Running = append(s.Running, a.text)
		}
	}
	var nar int64
	for _, b := range t.narBytes {
		nar += b
	}
	s.BytesExpected = max(s.BytesExpected, nar)
	s.PathsDone = max(s.PathsDone, t.copied)
	s.PathsExpected = max(s.PathsExpected, t.copied+running)
	if running == 0 && s.PathsExpected > 0 && s.PathsDone >= s.PathsExpected {
		// Nix reports no byte progress for small paths; when every path
		// is copied, so is every byte.
		s.BytesDone = max(s.BytesDone, s.BytesExpected)
	}
	return s
}
