package auroratest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	bolt "go.etcd.io/bbolt"
)

// Storage: with Server.DataDir set, the scheduler's state lives in a bbolt
// database, DataDir/scheduler.db, one bucket per kind of record, each
// record a JSON value (Thrift structs inside it in Thrift's JSON
// protocol, so that they read back exactly). Every call that changes the
// state writes its changes in one transaction before it is answered, and
// the scheduling loop writes what executors reported; Start loads what is
// there. A field added to the state must be added to its record here to
// survive a restart.
//
// Without DataDir nothing of this runs: the state is in memory only.

const (
	dbFile          = "scheduler.db"
	backupsDir      = "backups"
	storageVersion  = 1
	maxSavedBackups = 48 // Aurora's -max_saved_backups
)

var (
	bucketMeta    = []byte("meta")
	bucketConfigs = []byte("configs")
	bucketTasks   = []byte("tasks")
	bucketCron    = []byte("cron")
	bucketQuotas  = []byte("quotas")
	bucketUpdates = []byte("updates")
	bucketHosts   = []byte("hosts")
	// bucketPartitions holds the partitioned agents, by agent id.
	bucketPartitions = []byte("partitions")
	allBuckets       = [][]byte{bucketMeta, bucketConfigs, bucketTasks, bucketCron, bucketQuotas, bucketUpdates, bucketHosts, bucketPartitions}
	keyClock         = []byte("clock")
	keyVersion       = []byte("version")
)

// store is the persistent side of a state: what was written, so that a
// commit writes only what changed.
type store struct {
	db *bolt.DB

	dirty    []*taskRec // tasks changed since the last commit, in order
	dirtySet map[*taskRec]bool
	gone     []string // tasks deleted since the last commit
	seq      map[*taskRec]uint64
	nextSeq  uint64

	useq     map[*update]uint64
	ufixed   map[*update]*updateFixed
	written  map[string]map[string]string // bucket -> key -> value last written
	configs  map[*config]string           // config -> its hash
	wrote    map[string]bool              // config hashes in the database
	lastTick int64
}

func newStore(db *bolt.DB) *store {
	return &store{
		db:       db,
		dirtySet: map[*taskRec]bool{},
		seq:      map[*taskRec]uint64{},
		useq:     map[*update]uint64{},
		ufixed:   map[*update]*updateFixed{},
		written:  map[string]map[string]string{},
		configs:  map[*config]string{},
		wrote:    map[string]bool{},
	}
}

// touch marks t as changed.
func (sto *store) touch(t *taskRec) {
	if sto == nil || sto.dirtySet[t] {
		return
	}
	sto.dirtySet[t] = true
	sto.dirty = append(sto.dirty, t)
	if _, ok := sto.seq[t]; !ok {
		sto.nextSeq++
		sto.seq[t] = sto.nextSeq
	}
}

// forget marks t as deleted.
func (sto *store) forget(t *taskRec) {
	if sto == nil {
		return
	}
	sto.gone = append(sto.gone, t.id)
	delete(sto.seq, t)
}

func toThrift(v thrift.TStruct) json.RawMessage {
	ser := thrift.NewTSerializer()
	ser.Protocol = thrift.NewTJSONProtocolFactory().GetProtocol(ser.Transport)
	b, err := ser.Write(context.Background(), v)
	if err != nil {
		panic(fmt.Sprintf("auroratest: encoding %T: %v", v, err))
	}
	return b
}

func fromThrift(b json.RawMessage, v thrift.TStruct) error {
	if len(b) == 0 {
		return nil
	}
	de := thrift.NewTDeserializer()
	de.Protocol = thrift.NewTJSONProtocolFactory().GetProtocol(de.Transport)
	return de.Read(context.Background(), v, b)
}

// fromThriftList decodes every record of bs into a new struct from mk.
func fromThriftList[T thrift.TStruct](bs []json.RawMessage, mk func() T) ([]T, error) {
	var out []T
	for _, b := range bs {
		v := mk()
		if err := fromThrift(b, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

type resRecord struct {
	CPUs, RAM, Disk, GPUs float64
	Ports                 int
}

type taskRecord struct {
	Seq                 uint64
	ID                  string
	Role, Env, Name     string
	Instance            int32
	Config              string
	Status              aurora.ScheduleStatus
	Events              []json.RawMessage
	Host, SlaveID       string
	Req                 resRecord
	Holds               bool
	Ports               map[string]int32
	Failures, Partition int32
	Ancestor            string
	Killing             bool
	Throttle            int64 // UnixNano on the scheduler's clock; 0: none
	Reason              string
}

// updateFixed are the parts of an update that never change once it is
// started, encoded once.
type updateFixed struct {
	Metadata []json.RawMessage
	Settings json.RawMessage
	Instr    json.RawMessage
}

type instRecord struct {
	Phase    int
	Failures int32
}

type updateRecord struct {
	Seq             uint64
	Role, Env, Name string
	ID, User        string
	updateFixed
	Events      []json.RawMessage
	IEvents     []json.RawMessage
	Status      aurora.JobUpdateStatus
	Initial     map[int32]string
	Desired     map[int32]string
	Instances   []int32
	Forward     bool
	Inst        map[int32]instRecord
	Group       int
	Failed      int
	LastPulse   int64
	Recorded    map[int32][]aurora.JobUpdateAction
	LastFailure string
}

type maintRecord struct {
	Policy  json.RawMessage
	Timeout time.Duration
	Created int64
}

type hostRecord struct {
	Mode  aurora.MaintenanceMode
	Maint *maintRecord
}

func timeNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// configHash names cfg in the configs bucket, adding it to puts when it
// is not written yet.
func (sto *store) configHash(cfg *config, puts map[string][]byte) string {
	if h, ok := sto.configs[cfg]; ok {
		return h
	}
	sum := sha256.Sum256([]byte(cfg.key))
	h := hex.EncodeToString(sum[:16])
	sto.configs[cfg] = h
	if !sto.wrote[h] {
		puts[h] = toThrift(cfg.tc)
		sto.wrote[h] = true
	}
	return h
}

func (sto *store) taskRecord(t *taskRec, cfgs map[string][]byte) taskRecord {
	r := taskRecord{
		Seq: sto.seq[t], ID: t.id, Role: t.job.role, Env: t.job.env, Name: t.job.name,
		Instance: t.instance, Config: sto.configHash(t.cfg, cfgs), Status: t.status,
		Host: t.host, SlaveID: t.slaveID,
		Req:   resRecord{CPUs: t.req.cpus, RAM: t.req.ram, Disk: t.req.disk, GPUs: t.req.gpus, Ports: t.req.ports},
		Holds: t.holds, Ports: t.ports, Failures: t.failures, Partition: t.partition,
		Ancestor: t.ancestor, Killing: t.killing, Throttle: timeNano(t.throttle), Reason: t.reason,
	}
	for _, e := range t.events {
		r.Events = append(r.Events, toThrift(e))
	}
	return r
}

func (sto *store) updateRecord(u *update, cfgs map[string][]byte) updateRecord {
	fixed := sto.ufixed[u]
	if fixed == nil {
		fixed = &updateFixed{Settings: toThrift(u.settings), Instr: toThrift(u.instr)}
		for _, m := range u.metadata {
			fixed.Metadata = append(fixed.Metadata, toThrift(m))
		}
		sto.ufixed[u] = fixed
	}
	if _, ok := sto.useq[u]; !ok {
		sto.nextSeq++
		sto.useq[u] = sto.nextSeq
	}
	r := updateRecord{
		Seq: sto.useq[u], Role: u.job.role, Env: u.job.env, Name: u.job.name, ID: u.id, User: u.user,
		updateFixed: *fixed, Status: u.status, Initial: map[int32]string{}, Desired: map[int32]string{},
		Instances: u.instances, Forward: u.forward, Inst: map[int32]instRecord{}, Group: u.group,
		Failed: u.failed, LastPulse: timeNano(u.lastPulse), Recorded: map[int32][]aurora.JobUpdateAction{},
		LastFailure: u.lastFailure,
	}
	for _, e := range u.events {
		r.Events = append(r.Events, toThrift(e))
	}
	for _, e := range u.ievents {
		r.IEvents = append(r.IEvents, toThrift(e))
	}
	for i, c := range u.initial {
		r.Initial[i] = sto.configHash(c, cfgs)
	}
	for i, c := range u.desired {
		r.Desired[i] = sto.configHash(c, cfgs)
	}
	for i, s := range u.inst {
		r.Inst[i] = instRecord{Phase: s.phase, Failures: s.failures}
	}
	for i, m := range u.recorded {
		var acts []aurora.JobUpdateAction
		for a, ok := range m {
			if ok {
				acts = append(acts, a)
			}
		}
		sort.Slice(acts, func(i, j int) bool { return acts[i] < acts[j] })
		r.Recorded[i] = acts
	}
	return r
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("auroratest: encoding %T: %v", v, err))
	}
	return string(b)
}

// smallBuckets encodes the records that are rewritten whole on every
// commit (compared with what was written): cron templates, quotas,
// updates and hosts.
func (sto *store) smallBuckets(st *state, cfgs map[string][]byte) map[string]map[string]string {
	out := map[string]map[string]string{
		string(bucketCron): {}, string(bucketQuotas): {}, string(bucketUpdates): {}, string(bucketHosts): {},
		string(bucketPartitions): st.partitionRecords(),
	}
	for k, job := range st.cron {
		out[string(bucketCron)][k.String()] = string(toThrift(job))
	}
	for role, q := range st.quotas {
		out[string(bucketQuotas)][role] = string(toThrift(q))
	}
	for _, u := range st.updates {
		out[string(bucketUpdates)][u.id] = mustJSON(sto.updateRecord(u, cfgs))
	}
	hosts := map[string]*hostRecord{}
	for h, m := range st.modes {
		hosts[h] = &hostRecord{Mode: m}
	}
	for h, req := range st.maint {
		r := hosts[h]
		if r == nil {
			r = &hostRecord{Mode: st.hostMode(h)}
			hosts[h] = r
		}
		mr := &maintRecord{Timeout: req.timeout, Created: timeNano(req.created)}
		if req.policy != nil {
			mr.Policy = toThrift(req.policy)
		}
		r.Maint = mr
	}
	for h, r := range hosts {
		out[string(bucketHosts)][h] = mustJSON(r)
	}
	return out
}

// changes are what a commit writes.
type changes struct {
	cfgs, tasks map[string][]byte
	gone        []string
	small       map[string]map[string]string
}

// prepare encodes what changed in st since the last commit; nil when
// nothing did.
func (sto *store) prepare(st *state) *changes {
	ch := &changes{cfgs: map[string][]byte{}, tasks: map[string][]byte{}, gone: sto.gone}
	for _, t := range sto.dirty {
		if st.byID[t.id] == t {
			ch.tasks[t.id] = []byte(mustJSON(sto.taskRecord(t, ch.cfgs)))
		}
	}
	ch.small = sto.smallBuckets(st, ch.cfgs)
	if len(ch.tasks) > 0 || len(ch.gone) > 0 || len(ch.cfgs) > 0 {
		return ch
	}
	for b, recs := range ch.small {
		old := sto.written[b]
		if len(old) != len(recs) {
			return ch
		}
		for k, v := range recs {
			if ov, ok := old[k]; !ok || ov != v {
				return ch
			}
		}
	}
	return nil
}

// apply writes ch in tx.
func (sto *store) apply(tx *bolt.Tx, st *state, ch *changes) error {
	for h, v := range ch.cfgs {
		if err := tx.Bucket(bucketConfigs).Put([]byte(h), v); err != nil {
			return err
		}
	}
	tb := tx.Bucket(bucketTasks)
	for _, id := range ch.gone {
		if _, still := ch.tasks[id]; !still {
			if err := tb.Delete([]byte(id)); err != nil {
				return err
			}
		}
	}
	for id, v := range ch.tasks {
		if err := tb.Put([]byte(id), v); err != nil {
			return err
		}
	}
	for b, recs := range ch.small {
		bk := tx.Bucket([]byte(b))
		old := sto.written[b]
		for k := range old {
			if _, ok := recs[k]; !ok {
				if err := bk.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
		for k, v := range recs {
			if ov, ok := old[k]; !ok || ov != v {
				if err := bk.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
	}
	return tx.Bucket(bucketMeta).Put(keyClock, []byte(fmt.Sprint(st.s.now().UnixNano())))
}

// finish records that ch was written.
func (sto *store) finish(ch *changes) {
	sto.written = ch.small
	sto.dirty, sto.gone = nil, nil
	clear(sto.dirtySet)
}

// commit writes what changed in st since the last commit in one
// transaction.
func (sto *store) commit(st *state) error {
	ch := sto.prepare(st)
	if ch == nil {
		return nil
	}
	if err := sto.db.Update(func(tx *bolt.Tx) error { return sto.apply(tx, st, ch) }); err != nil {
		return err
	}
	sto.finish(ch)
	return nil
}

// full returns new bookkeeping for st on db, and all of st's records for
// writeAll: tasks and updates numbered afresh, and only the configs
// something refers to.
func full(st *state, db *bolt.DB) (*store, *changes) {
	fresh := newStore(db)
	for _, t := range st.tasks {
		fresh.touch(t)
	}
	ch := fresh.prepare(st)
	if ch == nil {
		ch = &changes{small: map[string]map[string]string{}}
	}
	return fresh, ch
}

// writeAll replaces everything in tx with ch, st's records from full.
func (sto *store) writeAll(tx *bolt.Tx, st *state, ch *changes) error {
	for _, b := range allBuckets {
		if err := tx.DeleteBucket(b); err != nil && err != bolt.ErrBucketNotFound {
			return err
		}
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	if err := sto.apply(tx, st, ch); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyVersion, []byte(fmt.Sprint(storageVersion)))
}

// rewrite replaces the whole database with st (commitRecovery) in one
// transaction, dropping configs nothing refers to any more. On an error
// the database and sto are as they were.
func (sto *store) rewrite(st *state) error {
	fresh, ch := full(st, sto.db)
	if err := sto.db.Update(func(tx *bolt.Tx) error { return fresh.writeAll(tx, st, ch) }); err != nil {
		return err
	}
	fresh.finish(ch)
	*sto = *fresh
	return nil
}

// openDB opens (creating) the scheduler's database in dir.
func openDB(dir string) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("DataDir %s: %w", dir, err)
	}
	if err := removeSnapshotTmp(dir); err != nil {
		return nil, fmt.Errorf("DataDir %s: %w", dir, err)
	}
	path := filepath.Join(dir, dbFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("DataDir: opening %s: %w (is another scheduler using it?)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		if v := m.Get(keyVersion); v != nil && string(v) != fmt.Sprint(storageVersion) {
			return fmt.Errorf("storage version %s, want %d: use a new DataDir", v, storageVersion)
		}
		return m.Put(keyVersion, []byte(fmt.Sprint(storageVersion)))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("DataDir %s: %w", dir, err)
	}
	return db, nil
}
