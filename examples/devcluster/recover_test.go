//go:build linux

package main

import (
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

func pidsOf(ps []proc.Process) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	slices.Sort(out)
	return out
}

// TestSIGKILLRecoversAndAdopts SIGKILLs a devcluster running a job of two
// instances with -data_dir, kills one instance's processes while it is
// away, and starts it again on the same directories: the job is still
// there, the instance whose processes survived is the same task, RUNNING,
// with the same processes (checked in /proc), and the other is LOST and
// replaced. Stopped cleanly, the devcluster kills the adopted task too.
func TestSIGKILLRecoversAndAdopts(t *testing.T) {
	if _, err := proc.List(); err != nil {
		testenv.Unavailable(t, "needs Linux /proc: %v", err)
	}
	bin := buildDevcluster(t)
	dir := sandboxDir(t)
	data := t.TempDir()
	task := job.NewTask("hello", job.NewProcess("main", "sleep 1000")).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	j := job.New(job.Key{Cluster: "devcluster", Role: "vagrant", Environment: "devel", Name: "survivor"}, task).WithInstances(2)
	jobKey := &aurora.JobKey{Role: "vagrant", Environment: "devel", Name: "survivor"}

	d := startDevcluster(t, bin, dir, "-data_dir", data)
	c, err := nixrealis.Dial(nixrealisOptions(d.url), nixrealis.WithPollInterval(20*time.Millisecond))
	require.NoError(t, err)
	_, err = c.Create(t.Context(), j)
	c.Close()
	require.NoError(t, err)
	waitSleeps(t, dir, 2)

	gr := func(d *devcluster) realis.Realis {
		r, err := realis.NewRealisClient(append(nixrealisOptions(d.url), realis.SetLogger(realis.NoopLogger{}))...)
		require.NoError(t, err)
		t.Cleanup(r.Close)
		return r
	}
	r := gr(d)
	tasks, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{jobKey}, Statuses: []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING}})
	require.NoError(t, err)
	require.Len(t, tasks, 2)
	byInstance := map[int32]*aurora.AssignedTask{}
	for _, tk := range tasks {
		byInstance[tk.AssignedTask.InstanceId] = tk.AssignedTask
	}
	sandbox := func(a *aurora.AssignedTask) string {
		return filepath.Join(dir, a.SlaveHost, "sandboxes", a.TaskId)
	}
	keep, lose := byInstance[0], byInstance[1]
	kept := pidsOf(processesUnder(t, sandbox(keep)))
	require.NotEmpty(t, kept)

	// SIGKILL: nothing of the devcluster's shutdown runs; the tasks'
	// processes, in their own process groups, outlive it.
	require.NoError(t, d.cmd.Process.Kill())
	<-d.done
	assert.Equal(t, kept, pidsOf(processesUnder(t, sandbox(keep))))
	lost := processesUnder(t, sandbox(lose))
	require.NotEmpty(t, lost)
	for _, p := range lost {
		require.NoError(t, syscall.Kill(p.PID, syscall.SIGKILL))
	}
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		return len(processesUnder(t, sandbox(lose))) == 0, nil
	}, "instance 1's processes are gone")

	d = startDevcluster(t, bin, dir, "-data_dir", data)
	r = gr(d)
	status := func(id string) *aurora.ScheduledTask {
		got, err := r.GetTaskStatus(&aurora.TaskQuery{TaskIds: []string{id}})
		require.NoError(t, err)
		require.Len(t, got, 1, "task %s is still known", id)
		return got[0]
	}
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		return status(lose.TaskId).Status == aurora.ScheduleStatus_LOST, nil
	}, "the task whose processes are gone is LOST")
	ev := status(lose.TaskId).TaskEvents
	assert.Equal(t, "Reconciliation: Task is unknown to the agent", ev[len(ev)-1].GetMessage())
	// Aurora reschedules it.
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		ids, err := r.GetInstanceIds(jobKey, []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING})
		return len(ids) == 2, err
	}, "instance 1 runs again")
	waitSleeps(t, dir, 2)

	// The survivor is the same task, RUNNING, with the same processes.
	assert.Equal(t, aurora.ScheduleStatus_RUNNING, status(keep.TaskId).Status)
	assert.Equal(t, kept, pidsOf(processesUnder(t, sandbox(keep))))
	for _, pid := range kept {
		assert.True(t, proc.Alive(pid), "adopted process %d runs", pid)
	}

	// Stopped cleanly, the devcluster kills every task, the adopted one
	// included.
	d.stop(t, syscall.SIGTERM)
	assert.Empty(t, processesUnder(t, dir), "no task process outlives the devcluster")
}

// TestSIGKILLKeepsState: with -executor nop and -data_dir, a job, a quota
// and host maintenance survive SIGKILL; the job's tasks are the same
// tasks, RUNNING.
func TestSIGKILLKeepsState(t *testing.T) {
	bin := buildDevcluster(t)
	dir, data := t.TempDir(), t.TempDir()
	args := []string{"-executor", "nop", "-data_dir", data}
	gr := func(d *devcluster) realis.Realis {
		r, err := realis.NewRealisClient(append(nixrealisOptions(d.url), realis.SetLogger(realis.NoopLogger{}))...)
		require.NoError(t, err)
		t.Cleanup(r.Close)
		return r
	}
	d := startDevcluster(t, bin, dir, args...)
	r := gr(d)
	j := realis.NewJob().Environment("devel").Role("vagrant").Name("kept").
		ExecutorName(aurora.AURORA_EXECUTOR_NAME).ExecutorData(`{"name": "kept"}`).
		CPU(0.25).RAM(64).Disk(100).IsService(true).InstanceCount(2)
	_, err := r.CreateJob(j)
	require.NoError(t, err)
	jobKey := &aurora.JobKey{Role: "vagrant", Environment: "devel", Name: "kept"}
	testenv.Eventually(t, time.Minute, 5*time.Millisecond, func() (bool, error) {
		ids, err := r.GetInstanceIds(jobKey, []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING})
		return len(ids) == 2, err
	}, "the job runs")
	cpu, ram, disk := 4.0, int64(4096), int64(4096)
	_, err = r.SetQuota("vagrant", &cpu, &ram, &disk)
	require.NoError(t, err)
	_, _, err = r.StartMaintenance("agent-three")
	require.NoError(t, err)
	before, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{jobKey}})
	require.NoError(t, err)

	require.NoError(t, d.cmd.Process.Kill())
	<-d.done
	d = startDevcluster(t, bin, dir, args...)
	r = gr(d)
	after, err := r.GetTaskStatus(&aurora.TaskQuery{JobKeys: []*aurora.JobKey{jobKey}})
	require.NoError(t, err)
	assert.ElementsMatch(t, before, after)
	resp, err := r.GetQuota("vagrant")
	require.NoError(t, err)
	assert.Contains(t, resp.Result_.GetQuotaResult_.Quota.Resources, &aurora.Resource{NumCpus: &cpu})
	_, hs, err := r.MaintenanceStatus("agent-three")
	require.NoError(t, err)
	require.Len(t, hs.Statuses, 1)
	assert.Equal(t, aurora.MaintenanceMode_SCHEDULED, hs.Statuses[0].Mode)
	d.stop(t, syscall.SIGTERM)
}
