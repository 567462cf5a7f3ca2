//go:build linux

package thermosexec

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/internal/proc"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An agent's nix-daemon listens on its store's socket, forks a worker per
// client, and Close leaves neither the daemon nor a worker behind.
func TestCloseStopsNixDaemon(t *testing.T) {
	testenv.NeedNix(t)
	testenv.NeedCommand(t, "nix-daemon")
	testenv.NeedRoot(t)
	e := &Executor{Root: t.TempDir()}
	store := filepath.Join(t.TempDir(), "store")
	require.NoError(t, prepareStore(store))
	require.NoError(t, e.writeAgentNixConf(store))
	require.NoError(t, e.startDaemon(store))
	require.NoError(t, e.startDaemon(store), "a second start reuses the running daemon")
	pids := e.daemonPIDs()
	require.Len(t, pids, 1)

	// A client connection: the daemon forks a worker for it.
	dir, err := os.Open(filepath.Join(store, "nix", filepath.Dir(daemonSocket)))
	require.NoError(t, err)
	defer dir.Close()
	c, err := net.Dial("unix", fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(daemonSocket)))
	require.NoError(t, err)
	defer c.Close()
	var kids []proc.Process
	testenv.Eventually(t, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
		kids, err = proc.Descendants(pids[0])
		return len(kids) > 0, err
	}, "the nix-daemon forks no worker for a client")

	e.Close()
	assert.Empty(t, e.daemonPIDs())
	for _, p := range append(kids, proc.Process{PID: pids[0]}) {
		s, err := proc.Stat(p.PID)
		assert.True(t, err != nil || !s.Live() || (p.StartTime != 0 && s.StartTime != p.StartTime), "process %d (%s) of the nix-daemon is left after Close", p.PID, p.Comm)
	}
}
