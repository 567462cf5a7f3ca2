//go:build !linux

package zktest

import "syscall"

// sysProcAttr puts the JVM in its own process group, so Close can kill the
// whole group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
