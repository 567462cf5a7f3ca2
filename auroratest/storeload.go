package auroratest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/paypal/gorealis/gen-go/apache/aurora"
	bolt "go.etcd.io/bbolt"
)

// readState builds a new state, on fresh agents, from the database db
// (the scheduler's own or a backup), and returns it with its store
// bookkeeping and the scheduler clock it last recorded.
func (s *Server) readState(db *bolt.DB) (*state, *store, time.Time, error) {
	agents, err := s.parseAgents()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	st := newState(s, agents)
	sto := newStore(db)
	var clock time.Time
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("no %s bucket: not a scheduler database", b)
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keyClock); v != nil {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return fmt.Errorf("meta clock %q: %w", v, err)
			}
			clock = time.Unix(0, n)
		}
		configs := map[string]*config{}
		err := tx.Bucket(bucketConfigs).ForEach(func(k, v []byte) error {
			tc := aurora.NewTaskConfig()
			if err := fromThrift(v, tc); err != nil {
				return fmt.Errorf("config %s: %w", k, err)
			}
			c := newConfig(tc)
			configs[string(k)] = c
			sto.configs[c] = string(k)
			sto.wrote[string(k)] = true
			return nil
		})
		if err != nil {
			return err
		}
		cfgOf := func(h, what string) (*config, error) {
			c := configs[h]
			if c == nil {
				return nil, fmt.Errorf("%s: no config %s", what, h)
			}
			return c, nil
		}
		if err := readTasks(tx, st, sto, cfgOf); err != nil {
			return err
		}
		if err := readUpdates(tx, st, sto, cfgOf); err != nil {
			return err
		}
		err = tx.Bucket(bucketCron).ForEach(func(k, v []byte) error {
			job := aurora.NewJobConfiguration()
			if err := fromThrift(v, job); err != nil {
				return fmt.Errorf("cron %s: %w", k, err)
			}
			st.cron[keyOf(job.Key)] = job
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketQuotas).ForEach(func(k, v []byte) error {
			q := aurora.NewResourceAggregate()
			if err := fromThrift(v, q); err != nil {
				return fmt.Errorf("quota %s: %w", k, err)
			}
			st.quotas[string(k)] = q
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketPartitions).ForEach(func(k, v []byte) error { return st.loadPartition(string(k), v) })
		if err != nil {
			return err
		}
		return tx.Bucket(bucketHosts).ForEach(func(k, v []byte) error {
			var r hostRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("host %s: %w", k, err)
			}
			h := string(k)
			st.modes[h] = r.Mode
			if r.Maint != nil {
				req := &maintRequest{timeout: r.Maint.Timeout, created: fromNano(r.Maint.Created)}
				if len(r.Maint.Policy) > 0 {
					req.policy = aurora.NewSlaPolicy()
					if err := fromThrift(r.Maint.Policy, req.policy); err != nil {
						return fmt.Errorf("host %s: %w", k, err)
					}
				}
				st.maint[h] = req
			}
			return nil
		})
	})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	sto.written = sto.smallBuckets(st, map[string][]byte{})
	st.store = sto
	st.dirty = true
	return st, sto, clock, nil
}

func readTasks(tx *bolt.Tx, st *state, sto *store, cfgOf func(h, what string) (*config, error)) error {
	agents := map[string]*agent{}
	for _, a := range st.agents {
		agents[a.id] = a
	}
	recs, err := jsonRecords[taskRecord](tx, bucketTasks, "task")
	if err != nil {
		return err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	for _, r := range recs {
		cfg, err := cfgOf(r.Config, "task "+r.ID)
		if err != nil {
			return err
		}
		t := &taskRec{
			id: r.ID, job: jobKey{r.Role, r.Env, r.Name}, instance: r.Instance, cfg: cfg, status: r.Status,
			host: r.Host, slaveID: r.SlaveID, agent: agents[r.SlaveID],
			req:   resources{cpus: r.Req.CPUs, ram: r.Req.RAM, disk: r.Req.Disk, gpus: r.Req.GPUs, ports: r.Req.Ports},
			ports: r.Ports, failures: r.Failures, partition: r.Partition, ancestor: r.Ancestor,
			killing: r.Killing, throttle: fromNano(r.Throttle), reason: r.Reason,
		}
		if t.events, err = fromThriftList(r.Events, aurora.NewTaskEvent); err != nil {
			return fmt.Errorf("task %s: %w", r.ID, err)
		}
		if r.Holds && t.agent != nil {
			t.holds = true
			t.agent.used = t.agent.used.add(t.req)
			t.agent.tasks[t] = true
		}
		if !terminalStates[t.status] {
			for _, p := range t.ports {
				st.ports[p] = true
				if t.agent != nil {
					t.agent.ports[p] = true
				}
			}
		}
		st.tasks = append(st.tasks, t)
		st.byID[t.id] = t
		st.byJob[t.job] = append(st.byJob[t.job], t)
		st.indexNew(t)
		sto.seq[t] = r.Seq
		sto.nextSeq = max(sto.nextSeq, r.Seq)
	}
	return nil
}

func readUpdates(tx *bolt.Tx, st *state, sto *store, cfgOf func(h, what string) (*config, error)) error {
	recs, err := jsonRecords[updateRecord](tx, bucketUpdates, "update")
	if err != nil {
		return err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	for _, r := range recs {
		what := "update " + r.ID
		u := &update{
			st: st, job: jobKey{r.Role, r.Env, r.Name}, id: r.ID, user: r.User, status: r.Status,
			settings: aurora.NewJobUpdateSettings(), instr: aurora.NewJobUpdateInstructions(),
			initial: map[int32]*config{}, desired: map[int32]*config{}, instances: r.Instances,
			forward: r.Forward, inst: map[int32]*instState{}, group: r.Group, failed: r.Failed,
			lastPulse: fromNano(r.LastPulse), recorded: map[int32]map[aurora.JobUpdateAction]bool{},
			lastFailure: r.LastFailure,
		}
		if err := fromThrift(r.Settings, u.settings); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fromThrift(r.Instr, u.instr); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if u.metadata, err = fromThriftList(r.Metadata, aurora.NewMetadata); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if u.events, err = fromThriftList(r.Events, aurora.NewJobUpdateEvent); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if u.ievents, err = fromThriftList(r.IEvents, aurora.NewJobInstanceUpdateEvent); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for i, h := range r.Initial {
			c, err := cfgOf(h, what)
			if err != nil {
				return err
			}
			u.initial[i] = c
		}
		for i, h := range r.Desired {
			c, err := cfgOf(h, what)
			if err != nil {
				return err
			}
			u.desired[i] = c
		}
		for i, s := range r.Inst {
			u.inst[i] = &instState{phase: s.Phase, failures: s.Failures}
		}
		for i, acts := range r.Recorded {
			m := map[aurora.JobUpdateAction]bool{}
			for _, a := range acts {
				m[a] = true
			}
			u.recorded[i] = m
		}
		st.updates = append(st.updates, u)
		sto.useq[u] = r.Seq
		sto.nextSeq = max(sto.nextSeq, r.Seq)
	}
	return nil
}

// jsonRecords decodes every value of the bucket named b as a T, in key
// order; what names the kind of record in errors, with its key.
func jsonRecords[T any](tx *bolt.Tx, b []byte, what string) ([]T, error) {
	var recs []T
	err := tx.Bucket(b).ForEach(func(k, v []byte) error {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%s %s: %w", what, k, err)
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}
