//go:build linux

package composeexample_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
	"github.com/nixrealis/nixrealis/internal/testenv"
	"github.com/nixrealis/nixrealis/job"
)

// searchable makes dir and its parent searchable by the role's user.
func searchable(t *testing.T, dir string) string {
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	return dir
}

// The walk-through through nixrealis' Client: the guide's configuration
// loads, the compose job is created with the sample app served from a
// loopback URL, fetched and extracted into its sandbox, its port is
// allocated and the stand-in runs the sample app on it (with the compose-
// task prefix); a Thermos job runs beside it; both are killed.
func TestWalkThroughWithClient(t *testing.T) {
	root := searchable(t, t.TempDir())
	exec := &thermosexec.Executor{
		Root:                root,
		Custom:              map[string]thermosexec.CustomExecutor{composeexample.ExecutorName: composeexample.Executor{}},
		ShutdownGracePeriod: 2 * time.Second,
	}
	defer exec.Close()
	srv := auroratest.NewUnstartedServer(exec)
	srv.Hosts = []string{"agent-1"}
	srv.CustomExecutors = composeexample.Config()
	srv.EnableMesosFetcher = true
	srv.TimeScale = 100
	srv.Start()
	defer srv.Close()
	client, err := nixrealis.Dial(srv.ClientOptions())
	require.NoError(t, err)
	defer client.Close()

	apps := t.TempDir()
	_, err = composeexample.BuildSampleApp(apps)
	require.NoError(t, err)
	base, stop, err := composeexample.Serve(apps)
	require.NoError(t, err)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key := job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "docker-compose"}
	_, err = client.Create(ctx, composeexample.Job(key, base+"/"+composeexample.ArchiveName))
	require.NoError(t, err)
	st, err := client.Status(ctx, key)
	require.NoError(t, err)
	require.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 1)
	task := st.ByState[aurora.ScheduleStatus_RUNNING][0]
	port := task.Ports[job.GorealisPort(0)]
	require.NotZero(t, port, "the port is allocated")
	info, ok := exec.Task(task.TaskID)
	require.True(t, ok)
	assert.Equal(t, "compose-"+task.TaskID, filepath.Base(info.Sandbox), "the sandbox is named after the compose- executor id")
	gen, err := os.ReadFile(filepath.Join(info.Sandbox, composeexample.FileName+"-generated.yml"))
	require.NoError(t, err, "the compose file was fetched, extracted and its ports filled in")
	assert.Contains(t, string(gen), `"`+strconv.Itoa(int(port))+`:8080"`)

	greeting := get(t, ctx, "http://127.0.0.1:"+strconv.Itoa(int(port))+"/")
	assert.Contains(t, greeting, "Hello from the docker-compose executor (nixrealis stand-in), port "+strconv.Itoa(int(port)))

	hello := job.New(job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "hello"},
		job.NewTask("hello", job.NewProcess("hello", "while true; do echo hello world; sleep 10; done")).
			WithResources(job.NewResources(1, 128*job.MiB, 128*job.MiB))).WithService(true)
	_, err = client.Create(ctx, hello)
	require.NoError(t, err, "a Thermos job beside it on the same scheduler")

	require.NoError(t, client.Kill(ctx, key, nil))
	final, err := exec.Wait(ctx, task.TaskID)
	require.NoError(t, err)
	assert.Equal(t, aurora.ScheduleStatus_KILLED, final.Status)
	require.NoError(t, client.Kill(ctx, hello.Key(), nil))
}

func get(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	var body string
	// ctx bounds the wait: once it is done, the request's error ends it.
	testenv.Eventually(t, time.Hour, 20*time.Millisecond, func() (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return false, err
			}
			return false, nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return true, nil
	}, "the sample app never answered on %s", url)
	return body
}

// The client refuses nothing the scheduler would accept, and the
// scheduler's refusals come back with Aurora's messages.
func TestRefusalsThroughClient(t *testing.T) {
	plain := auroratest.NewServer(nil)
	defer plain.Close()
	noFetcher := auroratest.NewUnstartedServer(nil)
	noFetcher.CustomExecutors = composeexample.Config()
	noFetcher.Start()
	defer noFetcher.Close()
	key := job.Key{Cluster: "devcluster", Role: "www-data", Environment: "prod", Name: "docker-compose"}
	j := composeexample.Job(key, "file:///tmp/"+composeexample.ArchiveName)
	for _, tt := range []struct {
		srv  *auroratest.Server
		want string
	}{
		{plain, "Configuration for executor 'docker-compose-executor' doesn't exist."},
		{noFetcher, "Mesos Fetcher for individual jobs is disabled in this cluster."},
	} {
		c, err := nixrealis.Dial(tt.srv.ClientOptions())
		require.NoError(t, err)
		_, err = c.Create(context.Background(), j)
		c.Close()
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), tt.want), "%v", err)
	}
}
