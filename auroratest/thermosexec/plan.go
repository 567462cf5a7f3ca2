//go:build linux

package thermosexec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
)

// ErrInvalidTask reports a payload Thermos refuses to run: a bad process
// name, an order constraint naming an unknown process or forming a cycle,
// and the other checks of Thermos' task validator.
var ErrInvalidTask = errors.New("invalid task")

// planner decides which processes of one plan (the regular processes or the
// final ones) may run, as Thermos' TaskPlanner does: order constraints, a
// min_duration gate after each termination, max_failures (0 = unlimited),
// daemons restarted on success, ephemerals not waited for.
type planner struct {
	order    []string // payload order, for deterministic launches
	attrs    map[string]procAttrs
	deps     map[string][]string
	running  map[string]bool
	finished map[string]bool
	failed   map[string]bool
	last     map[string]time.Time // last terminal time
	failures map[string]int
}

type procAttrs struct {
	minDuration time.Duration
	maxFailures int
	daemon      bool
	ephemeral   bool
}

// newPlanner builds the plan of the processes whose final bit is final.
func newPlanner(t *thermos.Task, final bool, scale float64) (*planner, error) {
	p := &planner{
		attrs:    map[string]procAttrs{},
		deps:     map[string][]string{},
		running:  map[string]bool{},
		finished: map[string]bool{},
		failed:   map[string]bool{},
		last:     map[string]time.Time{},
		failures: map[string]int{},
	}
	byName := map[string]*thermos.Process{}
	for i := range t.Processes {
		pr := &t.Processes[i]
		if pr.Final != final {
			continue
		}
		byName[pr.Name] = pr
		p.order = append(p.order, pr.Name)
		p.attrs[pr.Name] = procAttrs{
			minDuration: scaled(float64(pr.MinDuration), scale),
			maxFailures: pr.MaxFailures,
			daemon:      pr.Daemon,
			ephemeral:   pr.Ephemeral,
		}
	}
	for ci, c := range t.Constraints {
		in := 0
		for _, n := range c.Order {
			if byName[n] != nil {
				in++
			}
		}
		if in == 0 {
			continue
		}
		if in != len(c.Order) {
			return nil, fmt.Errorf("%w: task.constraints[%d].order %q mixes processes of different plans or names unknown processes (an order may only name processes of the task, all final or all not final)",
				ErrInvalidTask, ci, c.Order)
		}
		for k := 1; k < len(c.Order); k++ {
			prev, cur := byName[c.Order[k-1]], byName[c.Order[k]]
			if prev.Daemon {
				return nil, fmt.Errorf("%w: task.constraints[%d]: process %q may not depend upon daemon process %q", ErrInvalidTask, ci, cur.Name, prev.Name)
			}
			if !cur.Ephemeral && prev.Ephemeral {
				return nil, fmt.Errorf("%w: task.constraints[%d]: non-ephemeral process %q may not depend upon ephemeral process %q", ErrInvalidTask, ci, cur.Name, prev.Name)
			}
			p.deps[cur.Name] = append(p.deps[cur.Name], prev.Name)
		}
	}
	if cyc := p.cycle(); cyc != nil {
		return nil, fmt.Errorf("%w: task.constraints: cycle in the process order: %s", ErrInvalidTask, strings.Join(cyc, " -> "))
	}
	return p, nil
}

// cycle returns the processes on a cycle of the dependency graph, or nil.
func (p *planner) cycle() []string {
	state := map[string]int{} // 0 new, 1 on stack, 2 done
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = 1
		stack = append(stack, n)
		for _, d := range p.deps[n] {
			switch state[d] {
			case 1:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				found = append(append([]string{}, stack[i:]...), d)
				return true
			case 0:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return false
	}
	for _, n := range p.order {
		if state[n] == 0 && visit(n) {
			return found
		}
	}
	return nil
}

func (p *planner) empty() bool { return len(p.order) == 0 }

// candidates are the processes not running, finished or failed whose
// dependencies have all finished.
func (p *planner) candidates() []string {
	var out []string
outer:
	for _, n := range p.order {
		if p.running[n] || p.finished[n] || p.failed[n] {
			continue
		}
		for _, d := range p.deps[n] {
			if !p.finished[d] {
				continue outer
			}
		}
		out = append(out, n)
	}
	return out
}

// wait is how long n must still wait before it may run again.
func (p *planner) wait(n string, now time.Time) time.Duration {
	last, ok := p.last[n]
	if !ok {
		return 0
	}
	return p.attrs[n].minDuration - now.Sub(last)
}

// runnable are the candidates whose min_duration gate is open.
func (p *planner) runnable(now time.Time) []string {
	var out []string
	for _, n := range p.candidates() {
		if p.wait(n, now) <= 0 {
			out = append(out, n)
		}
	}
	return out
}

// minWait is the time until the next waiting candidate becomes runnable:
// 0 if one is runnable now, and ok false when there is none.
func (p *planner) minWait(now time.Time) (time.Duration, bool) {
	best, ok := time.Duration(0), false
	for _, n := range p.candidates() {
		w := max(p.wait(n, now), 0)
		if !ok || w < best {
			best, ok = w, true
		}
	}
	return best, ok
}

func (p *planner) setRunning(n string) { p.running[n] = true }

// success records a successful exit: daemons become runnable again.
func (p *planner) success(n string, now time.Time) {
	delete(p.running, n)
	p.last[n] = now
	if !p.attrs[n].daemon {
		p.finished[n] = true
	}
}

// failure records a failed exit; it reports whether the process is now
// failed for good (past its max_failures).
func (p *planner) failure(n string, now time.Time) bool {
	delete(p.running, n)
	p.last[n] = now
	p.failures[n]++
	a := p.attrs[n]
	switch {
	case a.maxFailures == 0 || p.failures[n] < a.maxFailures:
		return false
	case a.ephemeral:
		p.finished[n] = true
		return false
	default:
		p.failed[n] = true
		return true
	}
}

// lost records a run that ended by a signal the runner did not send: it
// runs again (after min_duration) without counting as a failure.
func (p *planner) lost(n string, now time.Time) {
	delete(p.running, n)
	p.last[n] = now
}

// complete reports whether every non-ephemeral process has finished or
// failed.
func (p *planner) complete() bool {
	for _, n := range p.order {
		if !p.finished[n] && !p.failed[n] && !p.attrs[n].ephemeral {
			return false
		}
	}
	return true
}

// deadlocked reports a plan that is not complete and has nothing running,
// runnable or waiting.
func (p *planner) deadlocked() bool {
	return len(p.running) == 0 && len(p.candidates()) == 0 && !p.complete()
}

// scaled converts seconds to a duration multiplied by scale.
func scaled(secs, scale float64) time.Duration {
	return time.Duration(secs * scale * float64(time.Second))
}
