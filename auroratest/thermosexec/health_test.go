//go:build linux

package thermosexec_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nixrealis/nixrealis/thermos"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthJob is a service whose process serves HTTP on the "health" port,
// answering /health with body after a delay.
func healthJob(t *testing.T, delay, body string) *thermos.Job {
	j := newJob(proc("web", "sleep "+delay+"; "+helperCmd(t, "{{thermos.ports[health]}}", body)))
	j.Service = true
	j.HealthCheckConfig.InitialIntervalSecs = 500 // 5 s at the test's scale: room to start
	j.HealthCheckConfig.IntervalSecs = 5          // 50 ms
	j.HealthCheckConfig.TimeoutSecs = 100         // 1 s
	j.Lifecycle.HTTP = thermos.DefaultHTTPLifecycle()
	j.Lifecycle.HTTP.GracefulShutdownWaitSecs = 300 // 3 s
	return j
}

// A task with an HTTP health check is reported RUNNING only once healthy.
func TestHTTPHealthCheckRunningOnceHealthy(t *testing.T) {
	e := newExecutor(t)
	id, r := launch(t, e, healthJob(t, "0.3", "ok"), freePorts(t, "health"))
	u := r.waitFor(t, RUNNING, 10*time.Second)
	assert.Equal(t, "Task is healthy.", u.Message)
	info, _ := e.Task(id)
	web := info.RunsOf("web")[0]
	running := r.at(RUNNING)
	assert.GreaterOrEqual(t, running.Sub(web.Start), 300*time.Millisecond, "RUNNING before the service was up")
	assert.Equal(t, []aurora.ScheduleStatus{STARTING, RUNNING}, r.statuses())

	// Kill goes through the HTTP lifecycle first: the service exits on
	// /quitquitquit, so /abortabortabort is never needed.
	e.Kill(id)
	assert.Equal(t, KILLED, wait(t, e, id, 10*time.Second).Status)
	b, err := os.ReadFile(filepath.Join(info.Sandbox, "lifecycle.log"))
	require.NoError(t, err)
	assert.Equal(t, "POST /quitquitquit\n", string(b))
	assert.Equal(t, thermos.DefaultHTTPLifecycle().GracefulShutdownEndpoint, "/quitquitquit")
}

// A failing HTTP health check fails the instance, after the initial
// interval, and the task is shut down through its lifecycle.
func TestHTTPHealthCheckFails(t *testing.T) {
	e := newExecutor(t)
	j := healthJob(t, "0", "sick")
	j.HealthCheckConfig.InitialIntervalSecs = 300 // 3 s: the service is up by then
	id, r := launch(t, e, j, freePorts(t, "health"))
	u := wait(t, e, id, 10*time.Second)
	assert.Equal(t, FAILED, u.Status)
	assert.Equal(t, `Failed health check! Response differs from expected response (expected "ok", got "sick")`, u.Message)
	assert.Equal(t, []aurora.ScheduleStatus{STARTING, FAILED}, r.statuses())
	info, _ := e.Task(id)
	b, err := os.ReadFile(filepath.Join(info.Sandbox, "lifecycle.log"))
	require.NoError(t, err)
	assert.Equal(t, "POST /quitquitquit\n", string(b))
	assert.Empty(t, procsIn(info.Sandbox))
}

func TestShellHealthCheck(t *testing.T) {
	tests := []struct {
		name     string
		command  string
		interval float64 // interval_secs
		timeout  float64 // timeout_secs
		want     []aurora.ScheduleStatus
		message  string
	}{
		{"healthy", "test -f {{thermos.task_id}}.up", 5, 100, []aurora.ScheduleStatus{STARTING, RUNNING}, "Task is healthy."},
		{"unhealthy", "echo not yet; exit 2", 5, 100, []aurora.ScheduleStatus{STARTING, FAILED},
			"Failed health check! Command 'echo not yet; exit 2' returned non-zero exit status 2 with output 'not yet'"},
		// Each check lasts its whole timeout: keep the attempts few.
		{"timeout", "sleep 5", 30, 15, []aurora.ScheduleStatus{STARTING, FAILED}, "Failed health check! Health check timed out."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newExecutor(t)
			j := newJob(proc("svc", `touch "$(basename "$PWD").up"; exec sleep 60`))
			j.Service = true
			j.HealthCheckConfig = thermos.HealthCheckConfig{
				HealthChecker:       thermos.HealthCheckerConfig{Shell: &thermos.ShellHealthChecker{ShellCommand: tc.command}},
				InitialIntervalSecs: 300, IntervalSecs: tc.interval, TimeoutSecs: tc.timeout, MinConsecutiveSuccesses: 1,
			}
			id, r := launch(t, e, j, nil)
			want := tc.want[len(tc.want)-1]
			u := r.waitFor(t, want, 20*time.Second)
			assert.Equal(t, tc.message, u.Message)
			if want == RUNNING {
				e.Kill(id)
				assert.Equal(t, KILLED, wait(t, e, id, 10*time.Second).Status)
			} else {
				wait(t, e, id, 10*time.Second)
			}
			assert.Equal(t, tc.want, r.statuses()[:len(tc.want)])
		})
	}
}

// Aurora's snooze file turns health checks off: a failing check then
// passes.
func TestHealthCheckSnooze(t *testing.T) {
	e := newExecutor(t)
	j := newJob(proc("svc", "touch .healthchecksnooze; exec sleep 60"))
	j.Service = true
	j.HealthCheckConfig = thermos.HealthCheckConfig{
		HealthChecker:       thermos.HealthCheckerConfig{Shell: &thermos.ShellHealthChecker{ShellCommand: "exit 1"}},
		InitialIntervalSecs: 300, IntervalSecs: 5, TimeoutSecs: 20, MinConsecutiveSuccesses: 1,
	}
	id, r := launch(t, e, j, nil)
	r.waitFor(t, RUNNING, 10*time.Second)
	e.Kill(id)
	assert.Equal(t, KILLED, wait(t, e, id, 10*time.Second).Status)
}
