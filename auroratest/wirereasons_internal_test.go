package auroratest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeReply writes a getPendingReason reply carrying reasons as the
// generated processor does, through the protocol wrap makes of prot, with
// the handler's context ctx deciding what the Response carries.
func writeReply(t *testing.T, f thrift.TProtocolFactory, ctx context.Context, wrap func(thrift.TProtocol) thrift.TProtocol, reasons []*aurora.PendingReason) []byte {
	t.Helper()
	var buf bytes.Buffer
	tr := thrift.NewStreamTransportW(&buf)
	oprot := wrap(f.GetProtocol(tr))
	resp := &aurora.Response{ResponseCode: aurora.ResponseCode_OK, ServerInfo: &aurora.ServerInfo{ClusterName: "devcluster"},
		Details: []*aurora.ResponseDetail{{Message: "ok"}},
		Result_: &aurora.Result_{GetPendingReasonResult_: &aurora.GetPendingReasonResult_{Reasons: replyReasons(ctx, reasons)}}}
	require.NoError(t, oprot.WriteMessageBegin(ctx, "getPendingReason", thrift.REPLY, 7))
	require.NoError(t, (&aurora.ReadOnlySchedulerGetPendingReasonResult{Success: resp}).Write(ctx, oprot))
	require.NoError(t, oprot.WriteMessageEnd(ctx))
	require.NoError(t, oprot.Flush(ctx))
	return buf.Bytes()
}

// TestReasonsProtocolWritesGeneratedBytes: a getPendingReason reply whose
// reasons the protocol writes (the Response carrying an empty set) is,
// byte for byte, what the generated writer makes of the Response carrying
// them, in both protocols, for empty, single and several reasons; other
// messages' sets and a slot nobody filled pass through unchanged.
func TestReasonsProtocolWritesGeneratedBytes(t *testing.T) {
	t.Parallel()
	plain := func(p thrift.TProtocol) thrift.TProtocol { return p }
	for _, f := range []struct {
		name string
		f    thrift.TProtocolFactory
	}{
		{"json", thrift.NewTJSONProtocolFactory()},
		{"binary", thrift.NewTBinaryProtocolFactoryDefault()},
	} {
		for _, n := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/%d", f.name, n), func(t *testing.T) {
				var reasons []*aurora.PendingReason
				for i := range n {
					reasons = append(reasons, &aurora.PendingReason{TaskId: fmt.Sprintf("role-env-job-%d-x", i), Reason: "Insufficient: CPU,Insufficient: RAM"})
				}
				want := writeReply(t, f.f, context.Background(), plain, reasons)

				slot := &reasonsSlot{}
				ours := func(p thrift.TProtocol) thrift.TProtocol {
					return &unsetDataProtocol{TProtocol: &reasonsProtocol{TProtocol: p, slot: slot}}
				}
				got := writeReply(t, f.f, withReasonsSlot(context.Background(), slot), ours, reasons)
				assert.Equal(t, string(want), string(got))
				assert.False(t, slot.set, "the slot is used up")

				// A slot left unfilled (the handler was not asked) writes the
				// Response as it is.
				got = writeReply(t, f.f, context.Background(), ours, reasons)
				assert.Equal(t, string(want), string(got))
			})
		}
	}
}

// TestReplyReasons: the handler leaves the Response's set empty only when
// the call's protocol is to write the reasons.
func TestReplyReasons(t *testing.T) {
	t.Parallel()
	reasons := []*aurora.PendingReason{{TaskId: "a", Reason: "r"}}
	assert.Equal(t, reasons, replyReasons(context.Background(), reasons))
	slot := &reasonsSlot{}
	got := replyReasons(withReasonsSlot(context.Background(), slot), reasons)
	assert.NotNil(t, got)
	assert.Empty(t, got)
	assert.True(t, slot.set)
	assert.Equal(t, reasons, slot.reasons)
}
