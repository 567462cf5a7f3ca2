//go:build linux

package thermosexec

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// runUser is the user a task's processes run as: its name (USER, LOGNAME,
// {{thermos.user}}) and, when the executor is root and so can switch
// users, the credential of that user. A nil cred means the processes run
// as the executor's own user.
type runUser struct {
	name string
	cred *syscall.Credential
}

// taskUser resolves the user a task of role runs as on host. It is the
// operator's Executor.RunAs when set, else the role's user, as Thermos runs
// a task as its role (its runner setuids to the role user). The user must
// exist on the agent; a user of uid 0 is refused unless the operator set
// UnsafeRunTasksAsRoot. An executor that is not root cannot switch users:
// its tasks run as its own (non-root) user, and the role is not looked up.
func (e *Executor) taskUser(role, host string) (runUser, error) {
	name, what := role, "role"
	if e.RunAs != "" {
		name, what = e.RunAs, "Executor.RunAs user"
	}
	if os.Geteuid() != 0 {
		return runUser{name: currentUser()}, nil
	}
	u, err := user.Lookup(name)
	if err != nil && e.RunAs != "" {
		return runUser{}, fmt.Errorf("Failed to launch: user %q does not exist on %s: the operator's RunAs maps every role to it, so create it on the agent or map the roles to a user that exists", name, host)
	}
	if err != nil {
		return runUser{}, fmt.Errorf("Failed to launch: user %q does not exist on %s: a task runs as its role's user, so create it on the agent or use a role whose user exists", name, host)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return runUser{}, fmt.Errorf("Failed to launch: user %q on %s has a non-numeric uid %q or gid %q", name, host, u.Uid, u.Gid)
	}
	if uid == 0 && !e.UnsafeRunTasksAsRoot {
		return runUser{}, fmt.Errorf("Failed to launch: %s %q is root (uid 0) on %s: tasks never run as root; use an unprivileged role, or set Executor.RunAs to an unprivileged user (the operator's UnsafeRunTasksAsRoot allows root)", what, name, host)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return runUser{name: u.Username, cred: cred}, nil
}

// setprivSpec is "uid:gid:groups" for the namespace wrapper, or "" when
// the processes run as the executor's user.
func (u runUser) setprivSpec() string {
	if u.cred == nil {
		return ""
	}
	gs := make([]string, 0, len(u.cred.Groups)+1)
	for _, g := range u.cred.Groups {
		gs = append(gs, strconv.FormatUint(uint64(g), 10))
	}
	if len(gs) == 0 {
		gs = append(gs, strconv.FormatUint(uint64(u.cred.Gid), 10))
	}
	return fmt.Sprintf("%d:%d:%s", u.cred.Uid, u.cred.Gid, strings.Join(gs, ","))
}
