package auroratest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	realis "github.com/paypal/gorealis"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coordinatorCall is one question the scheduler asked a coordinator.
type coordinatorCall struct {
	method, task string
	body         map[string]json.RawMessage
	answer       chan string // the JSON the coordinator answers
}

// TestSlaDrainHostsAsksTheCoordinator: a task with a Coordinator SLA
// policy drains only when its coordinator, asked by a POST to its URL
// (task key as the task query parameter; the ScheduledTask, the key and
// forceMaintenanceCountdownMs in the body), answers the policy's status
// key (default "drain") true; any other answer leaves it RUNNING and the
// host DRAINING until a later poll asks again.
func TestSlaDrainHostsAsksTheCoordinator(t *testing.T) {
	t.Parallel()
	for _, statusKey := range []string{"", "safe_to_drain"} {
		t.Run("statusKey="+statusKey, func(t *testing.T) {
			t.Parallel()
			calls := make(chan coordinatorCall)
			coord := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c := coordinatorCall{method: r.Method, task: r.URL.Query().Get("task"), answer: make(chan string, 1)}
				data, err := io.ReadAll(r.Body)
				if err == nil {
					err = json.Unmarshal(data, &c.body)
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				select {
				case calls <- c:
				case <-r.Context().Done():
					return
				}
				select {
				case a := <-c.answer:
					io.WriteString(w, a)
				case <-r.Context().Done():
				}
			}))
			defer coord.Close()

			srv, r := twoAgentsWithQuota(t, 20)
			policy := &aurora.SlaPolicy{CoordinatorSlaPolicy: &aurora.CoordinatorSlaPolicy{CoordinatorUrl: coord.URL + "/sla?cluster=test", StatusKey: statusKey}}
			// Tiers other than preferred take no SLA policy.
			onlyOn(t, r, newJob("coord", 2).Tier("preferred").SlaPolicy(policy), 2)
			ids := map[string]string{} // task key -> task id
			for _, task := range srv.Tasks(role, env, "coord") {
				ids[fmt.Sprintf("%s/%s/%s/coord/%d", srv.Cluster, role, env, task.AssignedTask.InstanceId)] = task.AssignedTask.TaskId
			}

			// The request's default policy is not used: the task has its own.
			_, err := r.SLADrainHosts(&aurora.SlaPolicy{CountSlaPolicy: &aurora.CountSlaPolicy{Count: 0}}, 3600, "a")
			require.NoError(t, err)
			want := statusKey
			if want == "" {
				want = "drain"
			}
			answers := []string{
				`{"other": true}`, // no status key
				fmt.Sprintf(`{%q: false, "x": true}`, want), // refused
				`not json`,
			}
			asked := map[string]bool{}
			for drained := 0; drained < 2; {
				c := <-calls
				assert.Equal(t, http.MethodPost, c.method)
				id, ok := ids[c.task]
				require.True(t, ok, "query parameter task=%q is a task key of %v", c.task, ids)
				var bodyTask string
				require.NoError(t, json.Unmarshal(c.body["task"], &bodyTask))
				assert.Equal(t, c.task, bodyTask)
				var st struct {
					AssignedTask struct {
						TaskID string `json:"taskId"`
					} `json:"assignedTask"`
				}
				require.NoError(t, json.Unmarshal(c.body["taskConfig"], &st))
				assert.Equal(t, id, st.AssignedTask.TaskID, "taskConfig is the ScheduledTask")
				var countdown string
				require.NoError(t, json.Unmarshal(c.body["forceMaintenanceCountdownMs"], &countdown))
				ms, err := strconv.ParseInt(countdown, 10, 64)
				require.NoError(t, err)
				assert.True(t, ms > 0 && ms <= 3600_000, "countdown %d ms", ms)

				if len(answers) > 0 {
					// Every earlier answer has been acted on: one
					// question at a time goes to a coordinator.
					for _, task := range srv.Tasks(role, env, "coord") {
						assert.Equal(t, aurora.ScheduleStatus_RUNNING, task.Status, "nothing drained before the coordinator allowed it")
					}
					_, status, err := r.MaintenanceStatus("a")
					require.NoError(t, err)
					assert.Equal(t, aurora.MaintenanceMode_DRAINING, status.Statuses[0].Mode)
					c.answer <- answers[0]
					answers = answers[1:]
					continue
				}
				c.answer <- fmt.Sprintf(`{%q: true}`, want)
				if !asked[c.task] {
					asked[c.task] = true
					drained++
				}
			}
			done, err := (&realis.Monitor{Client: r}).HostMaintenance([]string{"a"}, []aurora.MaintenanceMode{aurora.MaintenanceMode_DRAINED}, 1, 30)
			require.NoError(t, err)
			assert.Equal(t, map[string]bool{"a": true}, done)
			waitInstances(t, r, key("coord"), 2, aurora.ScheduleStatus_RUNNING)
			assert.Equal(t, []string{"b", "b"}, hostsOf(srv, "coord"))
			for _, task := range srv.Tasks(role, env, "coord") {
				if task.AssignedTask.SlaveHost == "a" {
					assert.Contains(t, messages(task), "Draining machine for maintenance.")
				}
			}
		})
	}
}
