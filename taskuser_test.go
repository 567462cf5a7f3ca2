package nixrealis_test

import (
	"os"
	"path/filepath"
	"testing"
)

// taskUser is the unprivileged user the tests' agents run every task as
// (thermosexec.Executor.RunAs): their roles (vagrant, mallory) have no
// user on the test machine, and tasks never run as root.
const taskUser = "nobody"

// taskReachable makes dir, a t.TempDir, and its parent searchable by
// taskUser, who must reach the sandboxes and caches under it. It returns
// dir.
func taskReachable(t testing.TB, dir string) string {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
