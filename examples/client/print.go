//go:build linux

package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"

	"github.com/nixrealis/nixrealis"
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
