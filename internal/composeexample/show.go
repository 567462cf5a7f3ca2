package composeexample

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SampleAppURI builds the sample app into dir (made readable by every
// agent user) and returns its file:// URL, which the agents of a
// scheduler on this machine fetch. An empty dir means a directory of its
// own under the system's temporary directory, which outlives one run of
// the example client.
func SampleAppURI(dir string) (string, error) {
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nixrealis-sample-app")
	}
	p, err := BuildSampleApp(dir)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return "file://" + p, nil
}

// Show prints where a running compose task is and what its sample app
// answers on its port: the sandbox, the generated compose file, and the
// greeting, waited for until ctx is done.
func Show(ctx context.Context, w io.Writer, taskID, host, sandbox string, port int32) error {
	url := "http://127.0.0.1:" + strconv.Itoa(int(port)) + "/"
	fmt.Fprintf(w, "task %s on %s, sandbox %s\n", taskID, host, sandbox)
	fmt.Fprintf(w, "  compose file with the port filled in: %s\n", filepath.Join(sandbox, FileName+"-generated.yml"))
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Fprintf(w, "  %s answers: %s\n", url, strings.TrimSpace(string(b)))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the sample app did not answer on %s: %w", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
