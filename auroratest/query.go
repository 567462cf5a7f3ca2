package auroratest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// scheduledTask renders t for the API. withData false strips the
// executor data, as getTasksWithoutConfigs does.
func (t *taskRec) scheduledTask(withData bool) *aurora.ScheduledTask {
	tc := clone(t.cfg.tc)
	if !withData && tc.ExecutorConfig != nil {
		tc.ExecutorConfig.Data = ""
	}
	events := make([]*aurora.TaskEvent, len(t.events))
	for i, e := range t.events {
		events[i] = clone(e)
	}
	ports := clonePorts(t.ports)
	return &aurora.ScheduledTask{
		AssignedTask: &aurora.AssignedTask{
			TaskId:        t.id,
			SlaveId:       t.slaveID,
			SlaveHost:     t.host,
			Task:          tc,
			AssignedPorts: ports,
			InstanceId:    t.instance,
		},
		Status:           t.status,
		FailureCount:     t.failures,
		TaskEvents:       events,
		AncestorId:       t.ancestor,
		TimesPartitioned: t.partition,
	}
}

// roleMatches is the role test of Aurora's TaskStore query filter: a
// blank query role (empty or all whitespace) matches every role.
func roleMatches(query, role string) bool {
	return strings.TrimSpace(query) == "" || query == role
}

// matches is Aurora's TaskStore query filter.
func (t *taskRec) matches(q *aurora.TaskQuery) bool {
	if q == nil {
		return true
	}
	if q.Role != nil && !roleMatches(*q.Role, t.job.role) {
		return false
	}
	if q.Environment != nil && *q.Environment != t.job.env {
		return false
	}
	if q.JobName != nil && *q.JobName != t.job.name {
		return false
	}
	if len(q.JobKeys) > 0 {
		ok := false
		for _, k := range q.JobKeys {
			if keyOf(k) == t.job {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(q.TaskIds) > 0 && !contains(q.TaskIds, t.id) {
		return false
	}
	if len(q.Statuses) > 0 && !contains(q.Statuses, t.status) {
		return false
	}
	if len(q.SlaveHosts) > 0 && !contains(q.SlaveHosts, t.host) {
		return false
	}
	if len(q.InstanceIds) > 0 && !contains(q.InstanceIds, t.instance) {
		return false
	}
	return true
}

func contains[T comparable](l []T, v T) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// query returns the tasks matching q, with offset and limit applied.
func (st *state) query(q *aurora.TaskQuery) []*taskRec {
	var out []*taskRec
	for _, t := range st.tasks {
		if t.matches(q) {
			out = append(out, t)
		}
	}
	if q != nil && q.Offset != nil && *q.Offset > 0 {
		if int(*q.Offset) >= len(out) {
			out = nil
		} else {
			out = out[*q.Offset:]
		}
	}
	if q != nil && q.Limit != nil && *q.Limit > 0 && int(*q.Limit) < len(out) {
		out = out[:*q.Limit]
	}
	return out
}

// canonical returns the order-insensitive identity of a populated task
// config: sets (resources, constraints, metadata, URIs, values) are
// sorted, empty collections treated as absent.
func canonical(tc *aurora.TaskConfig) string {
	c := clone(tc)
	ser := thrift.NewTSerializer()
	sortBy := func(n int, less func(i, j int) bool, swap func(i, j int)) {
		sort.Sort(sorter{n, less, swap})
	}
	keyOfStruct := func(v thrift.TStruct) string {
		b, _ := ser.Write(context.Background(), v)
		return string(b)
	}
	for _, con := range c.Constraints {
		if con.Constraint != nil && con.Constraint.Value != nil {
			sort.Strings(con.Constraint.Value.Values)
		}
	}
	sortStructs(c.Resources, keyOfStruct, sortBy)
	sortStructs(c.Constraints, keyOfStruct, sortBy)
	sortStructs(c.Metadata, keyOfStruct, sortBy)
	sortStructs(c.MesosFetcherUris, keyOfStruct, sortBy)
	if len(c.TaskLinks) == 0 {
		c.TaskLinks = nil
	}
	b, err := ser.Write(context.Background(), c)
	if err != nil {
		// Configs are validated before they get here; a config that
		// cannot be written still gets a unique identity.
		return "unserialisable:" + newUUID()
	}
	return string(b)
}

type sorter struct {
	n    int
	less func(i, j int) bool
	swap func(i, j int)
}

func (s sorter) Len() int           { return s.n }
func (s sorter) Less(i, j int) bool { return s.less(i, j) }
func (s sorter) Swap(i, j int)      { s.swap(i, j) }

func sortStructs[T thrift.TStruct](l []T, key func(thrift.TStruct) string, sortBy func(int, func(i, j int) bool, func(i, j int))) {
	keys := make([]string, len(l))
	for i, v := range l {
		keys[i] = key(v)
	}
	sortBy(len(l), func(i, j int) bool { return keys[i] < keys[j] }, func(i, j int) {
		keys[i], keys[j] = keys[j], keys[i]
		l[i], l[j] = l[j], l[i]
	})
}

// newConfig wraps a populated task config.
func newConfig(tc *aurora.TaskConfig) *config {
	return &config{tc: tc, key: canonical(tc)}
}

// toRanges turns sorted instance ids into Aurora ranges.
func toRanges(ids []int32) []*aurora.Range {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []*aurora.Range
	for _, id := range ids {
		if n := len(out); n > 0 && out[n-1].Last+1 == id {
			out[n-1].Last = id
			continue
		}
		out = append(out, &aurora.Range{First: id, Last: id})
	}
	return out
}

// javaSet formats instance ids as Java prints a sorted set: [1, 2, 3].
func javaSet(ids []int32) string {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
