package auroratest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldRecorder reads as its protocol does and records the path of field
// ids of every field read ("0/3/3/1/1/4/25/2": reply success, result,
// scheduleStatusResult, tasks, assignedTask, task, executorConfig, data).
type fieldRecorder struct {
	thrift.TProtocol
	path []int16
	seen map[string]bool
}

func (p *fieldRecorder) ReadStructBegin(ctx context.Context) (string, error) {
	p.path = append(p.path, -1)
	return p.TProtocol.ReadStructBegin(ctx)
}

func (p *fieldRecorder) ReadStructEnd(ctx context.Context) error {
	p.path = p.path[:len(p.path)-1]
	return p.TProtocol.ReadStructEnd(ctx)
}

func (p *fieldRecorder) ReadFieldBegin(ctx context.Context) (string, thrift.TType, int16, error) {
	name, typ, id, err := p.TProtocol.ReadFieldBegin(ctx)
	if err == nil && typ != thrift.STOP && len(p.path) > 0 {
		p.path[len(p.path)-1] = id
		var parts []string
		for _, i := range p.path {
			parts = append(parts, strconv.Itoa(int(i)))
		}
		p.seen[strings.Join(parts, "/")] = true
	}
	return name, typ, id, err
}

// TestGetTasksWithoutConfigsUnsetsExecutorData: on the wire, in either
// protocol, getTasksWithoutConfigs' tasks have an executorConfig with its
// name and no data field at all (Aurora unsets it), where getTasksStatus'
// have both.
func TestGetTasksWithoutConfigsUnsetsExecutorData(t *testing.T) {
	t.Parallel()
	srv := fastServer(nil)
	defer srv.Close()
	r := client(t, srv)
	_, err := r.CreateJob(newJob("wire", 1))
	require.NoError(t, err)
	waitInstances(t, r, key("wire"), 1, aurora.ScheduleStatus_RUNNING)
	tasks, err := r.GetTasksWithoutConfigs(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("wire")}})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.Equal(t, aurora.AURORA_EXECUTOR_NAME, tasks[0].AssignedTask.Task.ExecutorConfig.Name)
	assert.Empty(t, tasks[0].AssignedTask.Task.ExecutorConfig.Data)

	const (
		name = "0/3/3/1/1/4/25/1"
		data = "0/3/3/1/1/4/25/2"
	)
	for _, f := range []struct {
		name string
		f    thrift.TProtocolFactory
	}{
		{"json", thrift.NewTJSONProtocolFactory()},
		{"binary", thrift.NewTBinaryProtocolFactoryDefault()},
	} {
		t.Run(f.name, func(t *testing.T) {
			tr, err := thrift.NewTHttpClient(srv.URL + "/api")
			require.NoError(t, err)
			defer tr.Close()
			if f.name == "binary" {
				h := tr.(*thrift.THttpClient)
				h.DelHeader("Content-Type") // SetHeader adds to the default
				h.SetHeader("Content-Type", "application/vnd.apache.thrift.binary")
				h.SetHeader("Accept", "application/vnd.apache.thrift.binary")
			}
			in := &fieldRecorder{TProtocol: f.f.GetProtocol(tr), seen: map[string]bool{}}
			c := aurora.NewReadOnlySchedulerClient(thrift.NewTStandardClient(in, f.f.GetProtocol(tr)))
			q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("wire")}}

			resp, err := c.GetTasksStatus(context.Background(), q)
			require.NoError(t, err)
			require.Len(t, resp.Result_.ScheduleStatusResult_.Tasks, 1)
			assert.True(t, in.seen[name] && in.seen[data], "getTasksStatus has executorConfig name and data: %v", in.seen)

			in.seen = map[string]bool{}
			resp, err = c.GetTasksWithoutConfigs(context.Background(), q)
			require.NoError(t, err)
			require.Len(t, resp.Result_.ScheduleStatusResult_.Tasks, 1)
			assert.True(t, in.seen[name], "getTasksWithoutConfigs has executorConfig name: %v", in.seen)
			assert.False(t, in.seen[data], "getTasksWithoutConfigs leaves executorConfig data unset")
		})
	}
}
