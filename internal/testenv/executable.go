package testenv

import (
	"bytes"
	"fmt"
	"os/exec"
	"sync"
	"testing"
)

// WriteExecutable writes data to path as an executable file (mode 0755)
// that the test can run at once.
//
// os.WriteFile followed by running the file is racy in a test binary
// whose other tests start processes: a process forked while the file is
// open for writing inherits the descriptor until it execs, and running the
// file meanwhile fails with "text file busy" (ETXTBSY, golang/go#22315).
// So the file is written by a child process (sh and cat, which start no
// other process while it is open) and this process never holds it open.
func WriteExecutable(path string, data []byte) error {
	cmd := exec.Command("/bin/sh", "-c", `cat > "$1" && chmod 755 "$1"`, "sh", path)
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("writing the executable %s: %w: %s", path, err, bytes.TrimSpace(out))
	}
	return nil
}

// ForkInBackground starts n goroutines that start /bin/true over and over
// until t ends, as the other tests of a package do: a file written for
// writing meanwhile is inherited by those children until they exec, which
// is what makes running it fail with "text file busy" (ETXTBSY).
func ForkInBackground(t testing.TB, n int) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = exec.Command("/bin/true").Run()
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}
