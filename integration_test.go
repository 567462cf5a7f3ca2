package nixrealis_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/job"
	"github.com/nixrealis/nixrealis/sandbox"
)

// suiteTarget is a scheduler the integration suite runs against.
type suiteTarget struct {
	client  *nixrealis.Client
	key     job.Key
	watch   time.Duration // update_config.watch_secs for the suite's jobs
	timeout time.Duration
}

func (s suiteTarget) job(cmdline string, instances int) job.Job {
	task := job.NewTask(s.key.Name, job.NewProcess("main", cmdline)).
		WithResources(job.NewResources(0.1, 16*job.MiB, 16*job.MiB))
	u := job.DefaultUpdate()
	u.Watch = new(s.watch)
	return job.Service(s.key, task).WithInstances(instances).WithUpdate(u)
}

// runSuite is the integration suite: create, status, diff, update with a
// changed command line, rollback of a failing update, restart, inspect,
// kill. It leaves nothing behind.
func runSuite(t *testing.T, s suiteTarget) {
	ctx := ctxFor(t, s.timeout)
	c := s.client
	t.Cleanup(func() {
		// Best effort: never leave the job on a real cluster.
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.Kill(cctx, s.key, nil, nixrealis.AbortActiveUpdate())
	})

	_, err := c.Create(ctx, s.job("echo v1; sleep 3600", 2))
	require.NoError(t, err)

	st, err := c.Status(ctx, s.key)
	require.NoError(t, err)
	assert.Len(t, st.ByState[aurora.ScheduleStatus_RUNNING], 2)

	d, err := c.Diff(ctx, s.job("echo v1; sleep 3600", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	res, err := c.Update(ctx, s.job("echo v1; sleep 3600", 2))
	require.NoError(t, err)
	assert.True(t, res.NoOp, "an unchanged job is a no-op update")

	res, err = c.Update(ctx, s.job("echo v2; sleep 3600", 2))
	require.NoError(t, err)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_FORWARD, res.Status)
	d, err = c.Diff(ctx, s.job("echo v2; sleep 3600", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, d.Text)

	res, err = c.Update(ctx, s.job("exit 1", 2))
	require.ErrorIs(t, err, nixrealis.ErrUpdateFailed)
	require.NotNil(t, res)
	assert.Equal(t, aurora.JobUpdateStatus_ROLLED_BACK, res.Status)
	d, err = c.Diff(ctx, s.job("echo v2; sleep 3600", 2))
	require.NoError(t, err)
	assert.False(t, d.Changed, "the rollback restored v2: %s", d.Text)

	before, err := c.Status(ctx, s.key)
	require.NoError(t, err)
	require.NoError(t, c.Restart(ctx, s.key, nil))
	after, err := c.Status(ctx, s.key)
	require.NoError(t, err)
	old := map[string]bool{}
	for _, task := range before.ByState[aurora.ScheduleStatus_RUNNING] {
		old[task.TaskID] = true
	}
	require.Len(t, after.ByState[aurora.ScheduleStatus_RUNNING], 2)
	for _, task := range after.ByState[aurora.ScheduleStatus_RUNNING] {
		assert.False(t, old[task.TaskID], "instance %d restarted as a new task", task.Instance)
	}

	out, err := c.Inspect(ctx, s.job("echo v2; sleep 3600", 2))
	require.NoError(t, err)
	assert.Contains(t, out, "  name:       '"+s.key.Name+"'\n")
	assert.Contains(t, out, "    echo v2; sleep 3600\n")

	require.NoError(t, c.Kill(ctx, s.key, nil))
	st, err = c.Status(ctx, s.key)
	require.NoError(t, err)
	for _, task := range st.Tasks {
		assert.NotContains(t, []aurora.ScheduleStatus{aurora.ScheduleStatus_RUNNING, aurora.ScheduleStatus_PENDING}, task.Status)
	}
}

// TestIntegrationSuite runs the suite on auroratest and, when
// AURORA_SCHEDULER_URL or AURORA_ZK names one, on a real Aurora scheduler
// (with AURORA_USERNAME, AURORA_PASSWORD, AURORA_ROLE, AURORA_ENV, and
// AURORA_CACHE plus AURORA_CACHE_SECRET_KEY for the binary cache its agents
// trust: then the job's software comes from a Nix sandbox too).
func TestIntegrationSuite(t *testing.T) {
	t.Run("auroratest", func(t *testing.T) {
		srv := newServer(t)
		runSuite(t, suiteTarget{client: newClient(t, srv.ClientOptions()), key: testKey, watch: 5 * time.Second, timeout: time.Minute})
	})
	t.Run("aurora", func(t *testing.T) {
		url, zk := os.Getenv("AURORA_SCHEDULER_URL"), os.Getenv("AURORA_ZK")
		if url == "" && zk == "" {
			t.Skip("no real Aurora: set AURORA_SCHEDULER_URL or AURORA_ZK (and AURORA_USERNAME, AURORA_PASSWORD, AURORA_ROLE, AURORA_ENV, AURORA_CACHE, AURORA_CACHE_SECRET_KEY) to run the suite against one")
		}
		opts := []realis.ClientOption{realis.TimeoutMS(20000)}
		if url != "" {
			opts = append(opts, realis.SchedulerUrl(url))
		}
		if zk != "" {
			opts = append(opts, realis.ZKUrl(zk))
		}
		if u := os.Getenv("AURORA_USERNAME"); u != "" {
			opts = append(opts, realis.BasicAuth(u, os.Getenv("AURORA_PASSWORD")))
		}
		copts := []nixrealis.Option{nixrealis.WithPollInterval(time.Second)}
		if cache := os.Getenv("AURORA_CACHE"); cache != "" {
			secret := os.Getenv("AURORA_CACHE_SECRET_KEY")
			_, err := sandbox.ReadPublicKey(secret)
			require.NoError(t, err, "AURORA_CACHE needs AURORA_CACHE_SECRET_KEY, the key its agents trust")
			// The agents' nix.conf trusts the cache and its key; the
			// payload only names the cache.
			copts = append(copts, nixrealis.WithPreparer(nixrealis.Sandbox{
				Options: sandbox.Options{Agent: sandbox.Agent{Caches: []string{cache}}},
				Cache:   sandbox.Cache{URL: cache, SecretKeyFile: secret},
			}))
		}
		c, err := nixrealis.Dial(opts, copts...)
		require.NoError(t, err)
		t.Cleanup(c.Close)
		key := job.Key{Cluster: getenv("AURORA_CLUSTER", "devcluster"), Role: getenv("AURORA_ROLE", "vagrant"),
			Environment: getenv("AURORA_ENV", "devel"), Name: fmt.Sprintf("nixrealis_it_%d", time.Now().Unix())}
		runSuite(t, suiteTarget{client: c, key: key, watch: 15 * time.Second, timeout: 15 * time.Minute})
	})
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestConcurrentClients: one Client used by many goroutines at once, each
// with its own job.
func TestConcurrentClients(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.ClientOptions())
	ctx := ctxFor(t, time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := testKey
			k.Name = fmt.Sprintf("worker_%d", i)
			j := helloJob("sleep 1000", 2).WithKey(k)
			if _, err := c.Create(ctx, j); err != nil {
				errs <- err
				return
			}
			st, err := c.Status(ctx, k)
			if err != nil {
				errs <- err
				return
			}
			if n := len(st.ByState[aurora.ScheduleStatus_RUNNING]); n != 2 {
				errs <- fmt.Errorf("%s: %d RUNNING, want 2", k.Name, n)
				return
			}
			if err := c.Kill(ctx, k, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	var msgs []string
	for err := range errs {
		msgs = append(msgs, err.Error())
	}
	assert.Empty(t, msgs, strings.Join(msgs, "\n"))
}
