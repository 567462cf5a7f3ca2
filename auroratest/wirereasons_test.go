package auroratest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// TestGetPendingReasonWire: getPendingReason's reply, in either protocol,
// is byte for byte what gorealis' generated writer makes of the reply it
// decodes to, and gorealis' client reads one reason per pending task back.
func TestGetPendingReasonWire(t *testing.T) {
	t.Parallel()
	srv := agentServer(t, auroratest.Agent{Host: "small", Resources: "cpus:1;mem:1024;disk:10000"})
	r := client(t, srv)
	const n = 5
	_, err := r.CreateJob(newJob("wirepending", n).CPU(4))
	require.NoError(t, err)
	waitReasons(t, r, key("wirepending"), n)

	q := &aurora.TaskQuery{JobKeys: []*aurora.JobKey{key("wirepending")}}
	got, err := r.GetPendingReason(q)
	require.NoError(t, err)
	require.Len(t, got, n)
	ids := map[string]bool{}
	for _, p := range got {
		assert.Equal(t, "Insufficient: CPU", p.Reason)
		ids[p.TaskId] = true
	}
	assert.Len(t, ids, n, "one reason per task")

	for _, f := range []struct {
		name, media string
		f           thrift.TProtocolFactory
	}{
		{"json", "application/vnd.apache.thrift.json", thrift.NewTJSONProtocolFactory()},
		{"binary", "application/vnd.apache.thrift.binary", thrift.NewTBinaryProtocolFactoryDefault()},
	} {
		t.Run(f.name, func(t *testing.T) {
			ctx := context.Background()
			var req bytes.Buffer
			p := f.f.GetProtocol(thrift.NewStreamTransportW(&req))
			require.NoError(t, p.WriteMessageBegin(ctx, "getPendingReason", thrift.CALL, 1))
			require.NoError(t, (&aurora.ReadOnlySchedulerGetPendingReasonArgs{Query: q}).Write(ctx, p))
			require.NoError(t, p.WriteMessageEnd(ctx))
			require.NoError(t, p.Flush(ctx))
			hr, err := http.NewRequest(http.MethodPost, srv.URL+"/api", &req)
			require.NoError(t, err)
			hr.Header.Set("Content-Type", f.media)
			hr.Header.Set("Accept", f.media)
			resp, err := http.DefaultClient.Do(hr)
			require.NoError(t, err)
			wire, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(wire))

			in := f.f.GetProtocol(thrift.NewStreamTransportR(bytes.NewReader(wire)))
			name, typ, seq, err := in.ReadMessageBegin(ctx)
			require.NoError(t, err)
			require.Equal(t, "getPendingReason", name)
			require.Equal(t, thrift.REPLY, typ)
			var res aurora.ReadOnlySchedulerGetPendingReasonResult
			require.NoError(t, res.Read(ctx, in))
			require.NoError(t, in.ReadMessageEnd(ctx))
			require.Len(t, res.GetSuccess().GetResult_().GetGetPendingReasonResult_().GetReasons(), n)

			var again bytes.Buffer
			out := f.f.GetProtocol(thrift.NewStreamTransportW(&again))
			require.NoError(t, out.WriteMessageBegin(ctx, name, typ, seq))
			require.NoError(t, res.Write(ctx, out))
			require.NoError(t, out.WriteMessageEnd(ctx))
			require.NoError(t, out.Flush(ctx))
			assert.Equal(t, again.String(), string(wire))
		})
	}
}
