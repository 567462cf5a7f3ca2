package auroratest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// Host maintenance follows Aurora's MaintenanceControllerImpl: hosts go
// SCHEDULED (startMaintenance), DRAINING (drainHosts, slaDrainHosts) and
// DRAINED once no active task is left on them, and back to NONE
// (endMaintenance). drainHosts drains every task at once; slaDrainHosts
// drains each task only when its SLA policy (or the request's default)
// allows, checked every maintenance polling interval, until the request's
// timeout forces the rest.

// Aurora's -host_maintenance_polling_interval default, and the message of
// drained tasks.
const (
	maintenancePollInterval = time.Minute
	drainingMessage         = "Draining machine for maintenance."
)

// maintRequest is Aurora's HostMaintenanceRequest.
type maintRequest struct {
	policy  *aurora.SlaPolicy // nil: drain at once
	timeout time.Duration
	created time.Time
}

// knownHost reports whether an agent runs on host.
func (st *state) knownHost(host string) bool {
	for _, a := range st.agents {
		if a.host == host {
			return true
		}
	}
	return false
}

// setMode sets the mode of the known hosts among hosts and returns their
// statuses, as setMaintenanceMode does.
func (st *state) setMode(hosts []string, mode aurora.MaintenanceMode) []*aurora.HostStatus {
	out := []*aurora.HostStatus{}
	for _, h := range dedupe(hosts) {
		if !st.knownHost(h) {
			continue
		}
		st.s.logf("Setting maintenance mode to %v for host %s", mode, h)
		st.modes[h] = mode
		out = append(out, &aurora.HostStatus{Host: h, Mode: mode})
	}
	st.dirty = true
	st.s.wake()
	return out
}

func dedupe(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// tasksOnHost returns the active tasks on the agents of host.
func (st *state) tasksOnHost(host string) []*taskRec {
	var out []*taskRec
	for _, a := range st.agents {
		if a.host != host {
			continue
		}
		for t := range a.tasks {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// maybeDrained moves a DRAINING host without active tasks to DRAINED.
func (st *state) maybeDrained(host string) {
	if st.hostMode(host) != aurora.MaintenanceMode_DRAINING || len(st.tasksOnHost(host)) > 0 {
		return
	}
	st.s.logf("Moving host %s into DRAINED", host)
	st.modes[host] = aurora.MaintenanceMode_DRAINED
	delete(st.maint, host)
}

// drain records a maintenance request for hosts and drains what the
// request allows now; empty hosts go DRAINED at once.
func (st *state) drain(hosts []string, req *maintRequest) []*aurora.HostStatus {
	var known []string
	for _, h := range dedupe(hosts) {
		if st.knownHost(h) {
			known = append(known, h)
			r := *req
			st.maint[h] = &r
		}
	}
	if req.policy != nil {
		return st.setMode(known, aurora.MaintenanceMode_DRAINING)
	}
	var empty, busy []string
	for _, h := range known {
		if st.drainHost(h) == 0 {
			empty = append(empty, h)
		} else {
			busy = append(busy, h)
		}
	}
	out := st.setMode(empty, aurora.MaintenanceMode_DRAINED)
	for _, h := range empty {
		delete(st.maint, h)
	}
	return append(out, st.setMode(busy, aurora.MaintenanceMode_DRAINING)...)
}

// drainHost drains the tasks of host its request allows and returns how
// many active tasks the host has.
func (st *state) drainHost(host string) int {
	tasks := st.tasksOnHost(host)
	req := st.maint[host]
	for _, t := range tasks {
		if req == nil {
			break // Aurora: no request, SLA assumed not satisfied
		}
		force := req.policy == nil || (req.timeout >= 0 && !st.s.now().Before(req.created.Add(req.timeout)))
		policy := t.cfg.tc.SlaPolicy
		if policy == nil {
			policy = req.policy
		}
		switch {
		case force || policy == nil:
			st.changeState(t, aurora.ScheduleStatus_DRAINING, drainingMessage)
		case policy.CoordinatorSlaPolicy != nil:
			st.askCoordinator(t, policy.CoordinatorSlaPolicy, req)
		case st.checkSLA(t, policy):
			st.changeState(t, aurora.ScheduleStatus_DRAINING, drainingMessage)
		}
	}
	return len(tasks)
}

// pollMaintenance is MaintenanceControllerImpl.runOneIteration, every
// maintenance polling interval: DRAINING hosts drain what their SLA
// allows. It reports whether hosts are still draining. The interval runs
// from the end of the last poll, not from the round's start: on a scaled
// clock one round can take seconds of scheduler time, and what a poll
// drains must be stamped at least an interval before what the next one
// drains.
func (st *state) pollMaintenance(now time.Time) bool {
	draining := false
	for _, m := range st.modes {
		if m == aurora.MaintenanceMode_DRAINING {
			draining = true
		}
	}
	if !draining || now.Sub(st.lastMaintPoll) < maintenancePollInterval {
		return draining
	}
	var hosts []string
	for h, m := range st.modes {
		if m == aurora.MaintenanceMode_DRAINING {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		if st.drainHost(h) == 0 {
			st.modes[h] = aurora.MaintenanceMode_DRAINED
			delete(st.maint, h)
		}
	}
	st.lastMaintPoll = st.s.now()
	return true
}

// checkSLA is SlaManager.checkSla for count and percentage policies.
func (st *state) checkSLA(t *taskRec, policy *aurora.SlaPolicy) bool {
	active := st.activeTasks(t.job)
	total := int64(len(active))
	prod := !st.s.Tiers[t.cfg.tc.GetTier()].Preemptible && !st.s.Tiers[t.cfg.tc.GetTier()].Revocable
	if !(st.s.SLAAwareKillNonProd || prod) || total < int64(st.s.MinRequiredInstancesForSLA) {
		return true // skipSla
	}
	var duration time.Duration
	switch {
	case policy.PercentageSlaPolicy != nil:
		duration = time.Duration(policy.PercentageSlaPolicy.DurationSecs) * time.Second
	case policy.CountSlaPolicy != nil:
		duration = time.Duration(policy.CountSlaPolicy.DurationSecs) * time.Second
	default:
		return false
	}
	now := st.s.now().UnixMilli()
	var running int64
	for _, o := range active {
		if o == t || o.status != aurora.ScheduleStatus_RUNNING {
			continue
		}
		var last int64 = -1
		for _, e := range o.events {
			if e.Status == aurora.ScheduleStatus_RUNNING {
				last = max(last, e.Timestamp)
			}
		}
		if last >= 0 && now-last > duration.Milliseconds() {
			running++
		}
	}
	if p := policy.PercentageSlaPolicy; p != nil {
		required := p.Percentage
		if int64((1-required/100)*float64(total)) < 1 {
			required = float64(total-1) / float64(total) * 100
		}
		return float64(running)/float64(total)*100 >= required
	}
	required := policy.CountSlaPolicy.Count
	if total-required < 1 {
		required = total - 1
	}
	return running >= required
}

// askCoordinator asks a coordinator, outside the lock, whether t may be
// drained (SlaManager.askCoordinatorThenAct) and drains it if so. As in
// Aurora, one question at a time goes to a coordinator URL: while one is
// outstanding, other tasks of that coordinator wait for a later poll.
// The coordinator gets a POST to its URL with the task's key as the query
// parameter task and, as the JSON body, the whole ScheduledTask
// (taskConfig, in Thrift's simple JSON), the key (task) and the time left
// before the drain is forced (forceMaintenanceCountdownMs); it answers
// 200 with a JSON object of booleans, and the task drains only when the
// policy's statusKey (default "drain") is true.
func (st *state) askCoordinator(t *taskRec, c *aurora.CoordinatorSlaPolicy, req *maintRequest) {
	target := c.CoordinatorUrl
	if st.asking[target] {
		return
	}
	st.asking[target] = true
	key := fmt.Sprintf("%s/%s/%s/%s/%d", st.s.Cluster, t.job.role, t.job.env, t.job.name, t.instance)
	tr := thrift.NewTMemoryBufferLen(1024)
	ser := &thrift.TSerializer{Transport: tr, Protocol: thrift.NewTSimpleJSONProtocolFactory().GetProtocol(tr)}
	taskJSON, err := ser.Write(context.Background(), t.scheduledTask(true))
	if err != nil {
		taskJSON = []byte("{}")
	}
	remaining := req.created.Add(req.timeout).Sub(st.s.now()).Milliseconds()
	body, _ := json.Marshal(map[string]any{
		"taskConfig":                  json.RawMessage(taskJSON),
		"task":                        key,
		"forceMaintenanceCountdownMs": fmt.Sprint(remaining),
	})
	id, statusKey := t.id, c.StatusKey
	if statusKey == "" {
		statusKey = "drain"
	}
	go func() {
		allowed := false
		u, err := url.Parse(target)
		if err == nil {
			q := u.Query()
			q.Set("task", key)
			u.RawQuery = q.Encode()
			var resp *http.Response
			cl := &http.Client{Timeout: 10 * time.Second}
			resp, err = cl.Post(u.String(), "application/json", bytes.NewReader(body))
			if err == nil {
				var m map[string]bool
				if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&m) == nil {
					allowed = m[statusKey]
				}
				resp.Body.Close()
			}
		}
		st.s.mu.Lock()
		defer st.s.mu.Unlock()
		delete(st.asking, target)
		if t := st.byID[id]; allowed && t != nil && activeStates[t.status] {
			st.changeState(t, aurora.ScheduleStatus_DRAINING, drainingMessage)
		}
	}()
}

func hostList(h *aurora.Hosts) []string {
	if h == nil {
		return nil
	}
	return h.HostNames
}

// StartMaintenance implements startMaintenance.
func (a *api) StartMaintenance(ctx context.Context, hosts *aurora.Hosts) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	return a.ok(&aurora.Result_{StartMaintenanceResult_: &aurora.StartMaintenanceResult_{
		Statuses: st.setMode(hostList(hosts), aurora.MaintenanceMode_SCHEDULED)}}), nil
}

// DrainHosts implements drainHosts: the hosts' tasks go DRAINING at once
// and are rescheduled elsewhere; hosts without tasks are DRAINED.
func (a *api) DrainHosts(ctx context.Context, hosts *aurora.Hosts) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	statuses := st.drain(hostList(hosts), &maintRequest{created: a.s.now()})
	return a.ok(&aurora.Result_{DrainHostsResult_: &aurora.DrainHostsResult_{Statuses: statuses}}), nil
}

// SlaDrainHosts implements slaDrainHosts: the hosts go DRAINING and their
// tasks are drained as their SLA policies allow, or defaultSlaPolicy for
// tasks without one, until timeoutSecs has passed.
func (a *api) SlaDrainHosts(ctx context.Context, hosts *aurora.Hosts, defaultSlaPolicy *aurora.SlaPolicy, timeoutSecs int64) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	if defaultSlaPolicy == nil {
		return a.respond(aurora.ResponseCode_ERROR, ""), nil // Aurora: NullPointerException
	}
	st.lastMaintPoll = time.Time{} // drain what is allowed at once
	statuses := st.drain(hostList(hosts), &maintRequest{
		policy:  clone(defaultSlaPolicy),
		timeout: time.Duration(timeoutSecs) * time.Second,
		created: a.s.now(),
	})
	return a.ok(&aurora.Result_{DrainHostsResult_: &aurora.DrainHostsResult_{Statuses: statuses}}), nil
}

// MaintenanceStatus implements maintenanceStatus: the modes of the known
// hosts among those asked for.
func (a *api) MaintenanceStatus(ctx context.Context, hosts *aurora.Hosts) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	out := []*aurora.HostStatus{}
	for _, h := range dedupe(hostList(hosts)) {
		if st.knownHost(h) {
			out = append(out, &aurora.HostStatus{Host: h, Mode: st.hostMode(h)})
		}
	}
	return a.ok(&aurora.Result_{MaintenanceStatusResult_: &aurora.MaintenanceStatusResult_{Statuses: out}}), nil
}

// EndMaintenance implements endMaintenance.
func (a *api) EndMaintenance(ctx context.Context, hosts *aurora.Hosts) (r *aurora.Response, err error) {
	defer a.guard(&r, &err)
	st := a.lock()
	defer a.unlock()
	for _, h := range hostList(hosts) {
		delete(st.maint, h)
	}
	return a.ok(&aurora.Result_{EndMaintenanceResult_: &aurora.EndMaintenanceResult_{
		Statuses: st.setMode(hostList(hosts), aurora.MaintenanceMode_NONE)}}), nil
}
