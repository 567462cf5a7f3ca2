package auroratest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	bolt "go.etcd.io/bbolt"
)

// Aurora's storage admin calls, on the bbolt storage of storage.go.
// Backups are copies of the database, named as Aurora names them
// (scheduler-backup-yyyy-MM-dd-HH-mm, on the scheduler's clock, UTC) in
// DataDir/backups; Aurora keeps the newest 48.

const backupPrefix = "scheduler-backup-"

func (a *api) noStorage(method string) *aurora.Response {
	return a.respond(aurora.ResponseCode_ERROR, "auroratest: "+method+" needs storage: set Server.DataDir (devcluster -data_dir)")
}

func (a *api) backupDir() string { return filepath.Join(a.s.DataDir, backupsDir) }

// PerformBackup implements performBackup: a consistent copy of the
// database goes to the backup directory, the oldest backups beyond 48 are
// deleted.
func (a *api) PerformBackup(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if st.store == nil {
		return a.noStorage("performBackup"), nil
	}
	a.s.commit()
	dir := a.backupDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return a.respond(aurora.ResponseCode_ERROR, err.Error()), nil
	}
	name := backupPrefix + a.s.now().UTC().Format("2006-01-02-15-04")
	tmp := filepath.Join(dir, "temp_"+name)
	err = st.store.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(tmp, 0o600) })
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		a.s.logf("Failed to prepare backup %s: %v", name, err)
		return a.respond(aurora.ResponseCode_ERROR, err.Error()), nil
	}
	var backups []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), backupPrefix) {
			backups = append(backups, e.Name())
		}
	}
	sort.Strings(backups)
	for len(backups) > maxSavedBackups {
		os.Remove(filepath.Join(dir, backups[0]))
		backups = backups[1:]
	}
	return a.ok(nil), nil
}

// ListBackups implements listBackups: the names in the backup directory.
func (a *api) ListBackups(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if st.store == nil {
		return a.noStorage("listBackups"), nil
	}
	names := []string{}
	entries, _ := os.ReadDir(a.backupDir())
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return a.ok(&aurora.Result_{ListBackupsResult_: &aurora.ListBackupsResult_{Backups: names}}), nil
}

// StageRecovery implements stageRecovery: the backup is loaded into a
// staging area, to be queried, trimmed and committed.
func (a *api) StageRecovery(ctx context.Context, backupId string) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if st.store == nil {
		return a.noStorage("stageRecovery"), nil
	}
	path := filepath.Join(a.backupDir(), backupId)
	if _, err := os.Stat(path); err != nil || backupId == "" || filepath.Base(backupId) != backupId {
		return a.respond(aurora.ResponseCode_ERROR, "Backup "+path+" does not exist."), nil
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return a.respond(aurora.ResponseCode_ERROR, fmt.Sprintf("Failed to read backup %v", err)), nil
	}
	staged, _, _, err := a.s.readState(db)
	db.Close()
	if err != nil {
		return a.respond(aurora.ResponseCode_ERROR, fmt.Sprintf("Failed to decode backup %v", err)), nil
	}
	if a.s.staged != nil {
		return a.respond(aurora.ResponseCode_ERROR, "Another backup is already loaded."), nil
	}
	staged.store = nil
	a.s.staged = staged
	return a.ok(nil), nil
}

func (a *api) loaded() (*state, *aurora.Response) {
	if a.s.staged == nil {
		return nil, a.respond(aurora.ResponseCode_ERROR, "No backup loaded.")
	}
	return a.s.staged, nil
}

// QueryRecovery implements queryRecovery: the staged backup's tasks
// matching query.
func (a *api) QueryRecovery(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	a.lock()
	defer a.unlock()
	staged, bad := a.loaded()
	if bad != nil {
		return bad, nil
	}
	tasks := []*aurora.ScheduledTask{}
	for _, t := range staged.query(query) {
		tasks = append(tasks, t.scheduledTask(true))
	}
	return a.ok(&aurora.Result_{QueryRecoveryResult_: &aurora.QueryRecoveryResult_{Tasks: tasks}}), nil
}

// DeleteRecoveryTasks implements deleteRecoveryTasks: the staged
// backup's tasks matching query are deleted from it.
func (a *api) DeleteRecoveryTasks(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	a.lock()
	defer a.unlock()
	staged, bad := a.loaded()
	if bad != nil {
		return bad, nil
	}
	for _, t := range staged.query(query) {
		staged.delete(t)
	}
	return a.ok(nil), nil
}

// CommitRecovery implements commitRecovery: the staged backup replaces
// the scheduler's state and storage. Aurora then restarts the scheduler,
// which reconciles its tasks with Mesos; auroratest goes on in place:
// tasks running that the backup does not have are killed, and the
// backup's tasks on agents are reconciled with the executor (those it does
// not know are LOST).
func (a *api) CommitRecovery(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	old := a.lock()
	defer a.unlock()
	staged, bad := a.loaded()
	if bad != nil {
		return bad, nil
	}
	staged.store = old.store
	if err := old.store.rewrite(staged); err != nil {
		staged.store = nil
		return a.respond(aurora.ResponseCode_ERROR, "auroratest: writing the recovery to storage: "+err.Error()), nil
	}
	for _, t := range old.tasks {
		if !assignedStates[t.status] || terminalStates[t.status] {
			continue
		}
		if n := staged.byID[t.id]; n == nil || terminalStates[n.status] {
			staged.kills = append(staged.kills, t.id)
		}
	}
	staged.kills = append(staged.kills, old.kills...)
	staged.launches = append(staged.launches, old.launches...)
	staged.implicit = old.implicit
	a.s.st = staged
	a.s.staged = nil
	staged.queueReconcile(true)
	return a.ok(nil), nil
}

// UnloadRecovery implements unloadRecovery: the staged backup is dropped.
func (a *api) UnloadRecovery(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	a.lock()
	defer a.unlock()
	a.s.staged = nil
	return a.ok(nil), nil
}

// Snapshot implements snapshot: the state is written to a fresh
// database that replaces the scheduler's (snapshot.go), so that what was
// deleted no longer takes room, as Aurora's snapshot compacts its log. In
// memory it does nothing.
func (a *api) Snapshot(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if st.store != nil {
		if err := st.store.snapshot(st, a.s.DataDir); err != nil {
			return a.respond(aurora.ResponseCode_ERROR, "auroratest: snapshot: "+err.Error()), nil
		}
	}
	return a.ok(nil), nil
}

// ForceTaskState implements forceTaskState: the task moves to status if
// Aurora's state machine allows it, with Aurora's audit message. As in
// Aurora, nothing is sent to its agent: a task forced into a terminal
// state while it runs goes on running there until the agent reports it
// alive, which triggerImplicitTaskReconciliation makes it do, and is then
// killed (see Lister).
func (a *api) ForceTaskState(ctx context.Context, taskId string, status aurora.ScheduleStatus) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if strings.TrimSpace(taskId) == "" {
		return a.respond(aurora.ResponseCode_ERROR, "Argument cannot be blank"), nil
	}
	if t := st.byID[taskId]; t != nil {
		st.changeState(t, status, "Transition forced by "+userOf(ctx))
	}
	return a.ok(nil), nil
}

// PruneTasks implements pruneTasks: terminal tasks matching query (all
// terminal states when it names none; its offset ignored, as Aurora's
// is) are deleted, at most query.limit of them.
func (a *api) PruneTasks(ctx context.Context, query *aurora.TaskQuery) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if query == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	q := clone(query)
	for _, s := range q.Statuses {
		if activeStates[s] {
			return a.respond(aurora.ResponseCode_ERROR, "Tasks in non-terminal state cannot be pruned."), nil
		}
	}
	if len(q.Statuses) == 0 {
		q.Statuses = append([]aurora.ScheduleStatus(nil), aurora.TERMINAL_STATES...)
	}
	q.Offset, q.Limit = nil, nil
	tasks := st.query(q)
	if query.Limit != nil && int(*query.Limit) < len(tasks) {
		tasks = tasks[:max(*query.Limit, 0)]
	}
	for _, t := range tasks {
		st.delete(t)
	}
	return a.ok(nil), nil
}

// TriggerExplicitTaskReconciliation implements
// triggerExplicitTaskReconciliation: every task on an agent is checked
// with the executor (when it is a Recoverer); those it does not know go
// LOST, as Mesos answers for tasks its agents do not know.
func (a *api) TriggerExplicitTaskReconciliation(ctx context.Context, settings *aurora.ExplicitReconciliationSettings) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if settings == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil
	}
	if settings.BatchSize != nil && *settings.BatchSize <= 0 {
		return a.invalid("Batch size must be greater than zero."), nil
	}
	st.queueReconcile(false)
	return a.ok(nil), nil
}

// TriggerImplicitTaskReconciliation implements
// triggerImplicitTaskReconciliation: as Mesos answers it with the latest
// status of every task its agents know, the executor, when it is a
// Lister, lists the tasks it holds and the scheduler applies each status:
// a task whose report was lost takes the state it has on its agent, and a
// task still running there that the scheduler no longer wants (pruned,
// forced into a terminal state, missing from a recovered backup) is
// killed. With an executor that cannot list, nothing changes.
func (a *api) TriggerImplicitTaskReconciliation(ctx context.Context) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	st.implicit = true
	st.s.wake()
	return a.ok(nil), nil
}
