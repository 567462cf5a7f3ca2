//go:build linux

package thermosexec_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A task runs as its role's user, or as the operator's Executor.RunAs; a
// role without a user on the agent fails the launch saying so, before any
// process runs; root runs a task only with UnsafeRunTasksAsRoot.
func TestTaskUser(t *testing.T) {
	testenv.NeedRoot(t)
	tests := []struct {
		name, role, runAs string
		unsafeRoot        bool
		wantUser          string // "id -un" of the task; empty: the launch fails
		wantMsg           string
	}{
		{name: "role user", role: "www-data", wantUser: "www-data"},
		{name: "operator mapping", role: "no-such-role-user", runAs: "nobody", wantUser: "nobody"},
		{name: "missing user", role: "no-such-role-user",
			wantMsg: `Failed to launch: user "no-such-role-user" does not exist on agent-1: a task runs as its role's user, so create it on the agent or use a role whose user exists`},
		{name: "missing RunAs user", role: "www-data", runAs: "no-such-run-as-user",
			wantMsg: `Failed to launch: user "no-such-run-as-user" does not exist on agent-1`},
		{name: "root refused", role: "root",
			wantMsg: `Failed to launch: role "root" is root (uid 0) on agent-1: tasks never run as root`},
		{name: "root allowed", role: "root", unsafeRoot: true, wantUser: "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExecutor(t)
			e.RunAs, e.UnsafeRunTasksAsRoot = tt.runAs, tt.unsafeRoot
			j := newJob(proc("who", `id -un > who.out; echo "$USER $LOGNAME" >> who.out`))
			j.Role = tt.role
			id, _ := launch(t, e, j, nil)
			u := wait(t, e, id, 20*time.Second)
			info, _ := e.Task(id)
			if tt.wantUser == "" {
				assert.Equal(t, FAILED, u.Status)
				assert.Contains(t, u.Message, tt.wantMsg)
				assert.Empty(t, info.Runs, "no process ran")
				return
			}
			require.Equal(t, FINISHED, u.Status, u.Message)
			b, err := os.ReadFile(filepath.Join(info.Sandbox, "who.out"))
			require.NoError(t, err)
			assert.Equal(t, tt.wantUser+"\n"+tt.wantUser+" "+tt.wantUser+"\n", string(b))
			fi, err := os.Stat(info.Sandbox)
			require.NoError(t, err)
			owner, err := user.Lookup(tt.wantUser)
			require.NoError(t, err)
			assert.Equal(t, owner.Uid, strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)), "the sandbox belongs to the task's user")
		})
	}
}
