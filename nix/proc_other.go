//go:build !linux

package nix

// killDescendants is a no-op without /proc: only nix's own process group
// is killed.
func killDescendants(pid int) {}
