package auroratest

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// FuzzCreateJob decodes arbitrary Thrift binary as a JobConfiguration and
// sends it through createJob, populateJobConfig and startJobUpdate: every
// call must answer a Response with ServerInfo and never panic, whatever
// the configuration holds.
func FuzzCreateJob(f *testing.F) {
	ser := thrift.NewTSerializer()
	seed := func(j *aurora.JobConfiguration) {
		b, err := ser.Write(context.Background(), j)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cpu, ram, disk, port := 0.5, int64(64), int64(128), "http"
	key := &aurora.JobKey{Role: "vagrant", Environment: "prod", Name: "fuzz"}
	seed(&aurora.JobConfiguration{Key: key, InstanceCount: 2, Owner: &aurora.Identity{User: "vagrant"}, TaskConfig: &aurora.TaskConfig{
		Job: key, IsService: true, ExecutorConfig: &aurora.ExecutorConfig{Name: "AuroraExecutor", Data: "{}"},
		Container: &aurora.Container{Mesos: &aurora.MesosContainer{}},
		Resources: []*aurora.Resource{{NumCpus: &cpu}, {RamMb: &ram}, {DiskMb: &disk}, {NamedPort: &port}},
	}})
	seed(&aurora.JobConfiguration{Key: key, InstanceCount: 1, TaskConfig: &aurora.TaskConfig{Job: key,
		Container: &aurora.Container{Docker: &aurora.DockerContainer{Image: "x"}}}})

	srv := NewUnstartedServer(nil)
	srv.TimeScale = 1000
	srv.Start()
	defer srv.Close()
	a := &api{s: srv}
	f.Fuzz(func(t *testing.T, data []byte) {
		j := aurora.NewJobConfiguration()
		prot := limitedProtocol{TProtocol: thrift.NewTBinaryProtocolConf(thrift.NewStreamTransportR(bytes.NewReader(data)), nil), max: len(data)}
		if err := j.Read(context.Background(), prot); err != nil {
			return
		}
		// Start from an empty scheduler with few instances, so that
		// iterations stay independent and fast.
		j.InstanceCount %= 8
		srv.mu.Lock()
		agents, err := srv.parseAgents()
		if err != nil {
			t.Fatal(err)
		}
		srv.st = newState(srv, agents)
		srv.mu.Unlock()
		var responses []*aurora.Response
		check := func(call string, r *aurora.Response, err error) {
			responses = append(responses, r)
			if err != nil || r == nil || r.ServerInfo == nil {
				t.Fatalf("%s = %v, %v; want a Response with ServerInfo", call, r, err)
			}
		}
		r, err := a.CreateJob(context.Background(), j)
		check("createJob", r, err)
		r, err = a.PopulateJobConfig(context.Background(), j)
		check("populateJobConfig", r, err)
		r, err = a.StartJobUpdate(context.Background(), &aurora.JobUpdateRequest{TaskConfig: j.TaskConfig,
			InstanceCount: j.InstanceCount, Settings: &aurora.JobUpdateSettings{UpdateGroupSize: 1}}, "")
		check("startJobUpdate", r, err)
		for _, resp := range responses {
			if resp.ResponseCode == aurora.ResponseCode_ERROR && len(resp.Details) > 0 && len(resp.Details[0].Message) > 30 &&
				resp.Details[0].Message[:30] == "auroratest: internal error: pa" {
				t.Fatalf("internal error: %s", resp.Details[0].Message)
			}
		}
	})
}
