//go:build linux

package thermosexec_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
	"github.com/nixrealis/nixrealis/auroratest/thermosexec"
	"github.com/nixrealis/nixrealis/internal/composeexample"
)

// sampleApp is a sample-app.tar.gz like the guide's, built here.
func sampleApp(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	body := "services:\n  web:\n    command: sleep 600\n"
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "sample-app/docker-compose.yml", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// standIn is a test's stand-in for the docker-compose executor: it checks
// the fetched compose file named by the fileName label, reports RUNNING
// and runs a command until killed.
type standIn struct {
	mu    sync.Mutex
	tasks []*thermosexec.CustomTask
	pids  []int
}

func (s *standIn) Run(ctx context.Context, t *thermosexec.CustomTask) error {
	var file string
	for _, m := range t.Config.Metadata {
		if m.Key == "fileName" {
			file = m.Value
		}
	}
	if _, err := os.Stat(filepath.Join(t.Sandbox, file)); err != nil {
		return fmt.Errorf("compose file %q: %w", file, err)
	}
	cmd := t.Command(ctx, "sleep", "600")
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.tasks = append(s.tasks, t)
	s.pids = append(s.pids, cmd.Process.Pid)
	s.mu.Unlock()
	t.Running("compose up")
	return cmd.Wait()
}

func (s *standIn) only(t *testing.T) (*thermosexec.CustomTask, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.tasks, 1)
	return s.tasks[0], s.pids[0]
}

// customWorld is auroratest with the guide's executor configuration, the
// fetcher on, and this executor with x standing in for the compose
// executor, set up further by configure.
func customWorld(t *testing.T, x thermosexec.CustomExecutor, configure ...func(*auroratest.Server)) (*thermosexec.Executor, realis.Realis) {
	t.Helper()
	e := newExecutor(t)
	e.RunAs = "" // custom tasks here run as their roles (www-data), who reach e.Root as nobody does
	e.ShutdownGracePeriod = 2 * time.Second
	if x != nil {
		e.Custom = map[string]thermosexec.CustomExecutor{"docker-compose-executor": x}
	}
	cfgs, err := auroratest.LoadExecutorConfig("../testdata/custom_executor_config.json")
	require.NoError(t, err)
	return e, gorealisClient(t, e, func(srv *auroratest.Server) {
		srv.Hosts = []string{"agent-1"}
		srv.CustomExecutors = cfgs
		srv.EnableMesosFetcher = true
		for _, c := range configure {
			c(srv)
		}
	})
}

// composeJob is the guide's compose job of role, fetching the sample app
// from uri.
func composeJob(role, uri string) realis.Job {
	return composeexample.GorealisJob(uri).Role(role)
}

// The guide's walk-through: the compose job's archive is fetched from a
// loopback URL and extracted in a sandbox named after its compose-
// executor id, its port is allocated, the stand-in runs it (as the role's
// user), a Thermos job runs beside it and fetches a URI of its own, and
// killing the compose job kills its process.
func TestComposeJobUnderStandIn(t *testing.T) {
	app := sampleApp(t)
	srvApp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(app) }))
	defer srvApp.Close()
	x := &standIn{}
	e, r := customWorld(t, x)

	job := composeJob("www-data", srvApp.URL+"/sample-app.tar.gz")
	_, err := r.CreateJob(job)
	require.NoError(t, err)
	tasks := activeTasks(t, r, job.JobKey(), 1, aurora.ScheduleStatus_RUNNING)
	at := tasks[0].AssignedTask
	ct, pid := x.only(t)
	assert.Equal(t, "compose-"+at.TaskId, ct.ExecutorID)
	assert.Equal(t, "compose-"+at.TaskId, filepath.Base(ct.Sandbox), "the sandbox is named after the executor id")
	assert.Equal(t, at.AssignedPorts, ct.Ports)
	assert.NotZero(t, at.AssignedPorts["org.apache.aurora.port.0"])
	compose, err := os.ReadFile(filepath.Join(ct.Sandbox, "sample-app", "docker-compose.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(compose), "command: sleep 600")
	require.Len(t, ct.Fetched, 1)
	assert.Equal(t, []string{"sample-app"}, ct.Fetched[0].Extracted)
	assert.Equal(t, "www-data", ct.User)
	if os.Geteuid() == 0 {
		www, err := user.Lookup("www-data")
		require.NoError(t, err)
		fi, err := os.Stat("/proc/" + strconv.Itoa(pid))
		require.NoError(t, err)
		assert.Equal(t, www.Uid, strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)), "the stand-in's command runs as the role's user")
	}
	info, ok := e.Task(at.TaskId)
	require.True(t, ok)
	assert.Equal(t, "RUNNING", info.State)
	assert.Equal(t, ct.Sandbox, info.Sandbox)

	// A Thermos job beside it, fetching a file:// URI into its sandbox.
	motd := filepath.Join(t.TempDir(), "motd.txt")
	require.NoError(t, os.WriteFile(motd, []byte("hello from the fetcher\n"), 0o644))
	require.NoError(t, os.Chmod(filepath.Dir(motd), 0o755))
	th := newJob(proc("show", "cat motd.txt"))
	th.Name = "hello"
	tj := realisJob(t, th, 1).AddURIs(false, false, "file://"+motd)
	_, err = r.CreateJob(tj)
	require.NoError(t, err)
	done := activeTasks(t, r, tj.JobKey(), 1, aurora.ScheduleStatus_FINISHED)
	tinfo, ok := e.Task(done[0].AssignedTask.TaskId)
	require.True(t, ok)
	assert.Equal(t, "hello from the fetcher\n", readLog(t, tinfo.Sandbox, "show", 0, "stdout"))

	_, err = r.KillJob(job.JobKey())
	require.NoError(t, err)
	activeTasks(t, r, job.JobKey(), 1, aurora.ScheduleStatus_KILLED)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	final, err := e.Wait(ctx, at.TaskId)
	require.NoError(t, err)
	assert.Equal(t, aurora.ScheduleStatus_KILLED, final.Status)
	assert.Empty(t, liveInGroup(pid), "the stand-in's process group is gone")
}

// A second compose task with cache set gets its archive from the agent's
// fetcher cache.
func TestComposeURICache(t *testing.T) {
	app := sampleApp(t)
	var hits sync.Map
	srvApp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hits.LoadOrStore("n", new(int))
		*n.(*int)++
		w.Write(app)
	}))
	defer srvApp.Close()
	x := &standIn{}
	_, r := customWorld(t, x)
	job := composeJob("www-data", srvApp.URL+"/sample-app.tar.gz").InstanceCount(2)
	_, err := r.CreateJob(job)
	require.NoError(t, err)
	activeTasks(t, r, job.JobKey(), 2, aurora.ScheduleStatus_RUNNING)
	n, _ := hits.Load("n")
	assert.Equal(t, 1, *n.(*int), "two tasks, one download")
	x.mu.Lock()
	defer x.mu.Unlock()
	fromCache := 0
	for _, ct := range x.tasks {
		if ct.Fetched[0].FromCache {
			fromCache++
		}
	}
	assert.Equal(t, 1, fromCache)
}

func TestCustomLaunchFailures(t *testing.T) {
	app := sampleApp(t)
	srvApp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sample-app.tar.gz") {
			w.Write(app)
			return
		}
		http.NotFound(w, r)
	}))
	defer srvApp.Close()
	tests := []struct {
		name, role, uri string
		standIn         bool
		want            string
	}{
		{"no stand-in", "www-data", "/sample-app.tar.gz", false, `Failed to launch executor "docker-compose-executor": no stand-in for it is registered on agent-1`},
		{"missing user", "nosuchuser", "/sample-app.tar.gz", true, `Failed to launch: user "nosuchuser" does not exist on agent-1`},
		{"fetch fails", "www-data", "/missing.tar.gz", true, "Failed to fetch all URIs for the task: " + srvApp.URL + "/missing.tar.gz: HTTP 404"},
		{"compose file missing", "www-data", "/sample-app.tar.gz?", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x thermosexec.CustomExecutor
			if tt.standIn {
				x = &standIn{}
			}
			_, r := customWorld(t, x)
			job := composeJob(tt.role, srvApp.URL+tt.uri)
			if tt.want == "" {
				job = job.AddLabel("fileName", "sample-app/other.yml")
				tt.want = `compose file "sample-app/other.yml"`
			}
			_, err := r.CreateJob(job)
			require.NoError(t, err)
			tasks := activeTasks(t, r, job.JobKey(), 1, aurora.ScheduleStatus_FAILED)
			ev := tasks[0].TaskEvents
			assert.Contains(t, ev[len(ev)-1].GetMessage(), tt.want)
		})
	}
}
