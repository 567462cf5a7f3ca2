package auroratest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/internal/testenv"
)

// storedDB is what a stopped scheduler's database holds: the file's size,
// its free pages and its task and config records (buckets "tasks" and
// "configs" of storage.go).
type storedDB struct {
	size           int64
	free           int
	tasks, configs int
}

func readStoredDB(t *testing.T, dir string) storedDB {
	t.Helper()
	path := filepath.Join(dir, "scheduler.db")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	require.NoError(t, err)
	defer db.Close()
	out := storedDB{size: fi.Size(), free: db.Stats().FreePageN}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		out.tasks = tx.Bucket([]byte("tasks")).Stats().KeyN
		out.configs = tx.Bucket([]byte("configs")).Stats().KeyN
		return nil
	}))
	return out
}

func fileSize(t *testing.T, dir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "scheduler.db"))
	require.NoError(t, err)
	return fi.Size()
}

// waitTasks waits until the role's tasks in states number want.
func waitTasks(t *testing.T, r realis.Realis, want int, states ...aurora.ScheduleStatus) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, 2*time.Millisecond, func() (bool, error) {
		tasks, err := r.GetTaskStatus(&aurora.TaskQuery{Role: ptr(role), Statuses: states})
		return len(tasks) == want, err
	}, "%d tasks of %s in %v", want, role, states)
}

// fillThenPrune gives the scheduler in dir a service "web" (2 instances,
// kept), a quota and a host in maintenance, and jobs × instances batch
// tasks, each job its own config, which it kills and prunes.
func fillThenPrune(t *testing.T, r realis.Realis, srv *auroratest.Server, jobs, instances int) {
	t.Helper()
	_, err := r.CreateJob(newJob("web", 2))
	require.NoError(t, err)
	_, err = r.SetQuota(role, ptr(8.0), ptr(int64(8192)), ptr(int64(8192)))
	require.NoError(t, err)
	_, _, err = r.StartMaintenance("agent-three")
	require.NoError(t, err)
	for i := range jobs {
		_, err := r.CreateJob(newJob(fmt.Sprintf("batch-%02d", i), int32(instances)))
		require.NoError(t, err)
	}
	waitTasks(t, r, 2+jobs*instances, aurora.ScheduleStatus_RUNNING)
	for i := range jobs {
		_, err := r.KillJob(key(fmt.Sprintf("batch-%02d", i)))
		require.NoError(t, err)
	}
	waitTasks(t, r, jobs*instances, aurora.ScheduleStatus_KILLED)
	resp, err := adminClient(t, srv.URL).PruneTasks(context.Background(), &aurora.TaskQuery{Role: ptr(role)})
	require.NoError(t, err)
	require.Equal(t, aurora.ResponseCode_OK, resp.ResponseCode, errorMessage(resp))
	waitTasks(t, r, 2)
}

// TestSnapshotCompactsStorage: pruneTasks deletes the task records but
// the file keeps its size, their pages free; snapshot writes the state to
// a fresh file, without the configs nothing refers to any more, and the
// file shrinks to the state's size.
func TestSnapshotCompactsStorage(t *testing.T) {
	t.Parallel()
	const jobs, instances = 15, 20 // 302 tasks fit the default agents
	dir := t.TempDir()
	srv := startOn(nil, dir)
	r := client(t, srv)
	fillThenPrune(t, r, srv, jobs, instances)
	srv.Close()
	pruned := readStoredDB(t, dir)
	assert.Equal(t, 2, pruned.tasks, "pruneTasks deletes the task records")
	assert.Equal(t, jobs+1, pruned.configs, "configs stay until a snapshot")

	srv2 := startOn(nil, dir)
	r2 := client(t, srv2)
	before := viewOf(t, r2)
	grown := fileSize(t, dir)
	require.NoError(t, r2.Snapshot())
	assert.Less(t, fileSize(t, dir), grown, "snapshot shrinks the file in place")
	assert.Equal(t, before, viewOf(t, r2), "snapshot changes nothing a client sees")
	srv2.Close()
	snap := readStoredDB(t, dir)
	t.Logf("scheduler.db after pruneTasks: %d bytes, %d free pages, %d configs; after snapshot: %d bytes, %d free pages, %d configs",
		pruned.size, pruned.free, pruned.configs, snap.size, snap.free, snap.configs)
	assert.Less(t, snap.size, pruned.size)
	assert.Less(t, snap.free, pruned.free)
	assert.Equal(t, 2, snap.tasks)
	assert.Equal(t, 1, snap.configs, "only web's config is left")
}

// TestSnapshotThenRestart: after a snapshot a scheduler started again on
// its directory, also after a crash mid-snapshot (simulated: the server is
// stopped and the temporary file a crash before the rename leaves is put
// in place), has the same state, and the temporary file is gone.
func TestSnapshotThenRestart(t *testing.T) {
	t.Parallel()
	tmpFile := func(dir string) string { return filepath.Join(dir, "scheduler.db.snapshot-tmp") }
	tests := []struct {
		name  string
		crash func(t *testing.T, dir string) // nil: a clean stop
	}{
		{name: "clean stop"},
		{name: "torn temporary file", crash: func(t *testing.T, dir string) {
			data, err := os.ReadFile(filepath.Join(dir, "scheduler.db"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(tmpFile(dir), data[:len(data)/3], 0o600))
		}},
		{name: "complete temporary file of another state", crash: func(t *testing.T, dir string) {
			db, err := bolt.Open(tmpFile(dir), 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("tasks"))
				return err
			}))
			require.NoError(t, db.Close())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv := startOn(nil, dir)
			r := client(t, srv)
			fillThenPrune(t, r, srv, 4, 5)
			require.NoError(t, r.Snapshot())
			before := viewOf(t, r)
			srv.Close()
			if tc.crash != nil {
				tc.crash(t, dir)
			}

			srv2 := startOn(nil, dir)
			defer srv2.Close()
			_, err := os.Stat(tmpFile(dir))
			assert.True(t, errors.Is(err, fs.ErrNotExist), "the temporary file is removed on start: %v", err)
			r2 := client(t, srv2)
			after := viewOf(t, r2)
			assert.Equal(t, before, after)
			require.Len(t, after.tasks, 2)
			assert.Contains(t, after.hosts, &aurora.HostStatus{Host: "agent-three", Mode: aurora.MaintenanceMode_SCHEDULED})
			// The restarted scheduler goes on writing to the snapshot.
			_, err = r2.SetQuota(role, ptr(4.0), ptr(int64(4096)), ptr(int64(4096)))
			require.NoError(t, err)
			require.NoError(t, r2.Snapshot())
		})
	}
}

// TestSnapshotDuringCalls: snapshots taken while other clients change the
// state fail no call, and lose nothing they wrote.
func TestSnapshotDuringCalls(t *testing.T) {
	t.Parallel()
	const n = 15
	dir := t.TempDir()
	srv := startOn(nil, dir)
	calls := []func(r realis.Realis, i int) error{
		func(r realis.Realis, i int) error { return r.Snapshot() },
		func(r realis.Realis, i int) error {
			_, err := r.SetQuota(fmt.Sprintf("role-%d", i), ptr(1.0), ptr(int64(1024)), ptr(int64(1024)))
			return err
		},
		func(r realis.Realis, i int) error {
			_, err := r.CreateJob(newJob(fmt.Sprintf("job-%d", i), 1))
			return err
		},
	}
	errs := make(chan error, n*len(calls))
	var wg sync.WaitGroup
	for _, call := range calls {
		r := client(t, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				errs <- call(r, i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	srv.Close()

	srv2 := startOn(nil, dir)
	defer srv2.Close()
	r := client(t, srv2)
	_, jobs, err := r.GetJobs(role)
	require.NoError(t, err)
	assert.Len(t, jobs.Configs, n)
	for i := range n {
		resp, err := r.GetQuota(fmt.Sprintf("role-%d", i))
		require.NoError(t, err)
		var ram int64
		for _, res := range resp.Result_.GetQuotaResult_.Quota.Resources {
			if res.RamMb != nil {
				ram = *res.RamMb
			}
		}
		assert.Equal(t, int64(1024), ram, "role-%d", i)
	}
}
