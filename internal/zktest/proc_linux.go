package zktest

import "syscall"

// sysProcAttr puts the JVM in its own process group, so Close can kill the
// whole group, and has the kernel kill it if the test binary dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
