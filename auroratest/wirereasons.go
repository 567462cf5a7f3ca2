package auroratest

import (
	"context"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/paypal/gorealis/gen-go/apache/aurora"
)

// The generated writer of GetPendingReasonResult checks that its set of
// reasons is unique by comparing every pair before writing them: with
// 100 000 pending tasks that takes minutes. Our reasons are unique by
// construction (one per task id), so the handler hands them to the reply's
// protocol (reasonsProtocol) through a reasonsSlot in the call's context
// and leaves the Response's set empty; the protocol writes them where the
// generated code writes the empty set's header, element by element with
// their generated Write, so the bytes are exactly the generated writer's.

// reasonsKey is the context key of a call's *reasonsSlot.
type reasonsKey struct{}

// reasonsSlot carries the reasons of one getPendingReason reply from the
// handler to reasonsProtocol.
type reasonsSlot struct {
	reasons []*aurora.PendingReason
	set     bool // the handler left the reply's set empty for reasons
}

// withReasonsSlot returns ctx carrying slot for the call's handler.
func withReasonsSlot(ctx context.Context, slot *reasonsSlot) context.Context {
	return context.WithValue(ctx, reasonsKey{}, slot)
}

// replyReasons returns what the handler puts in its Response's set of
// reasons: an empty set when the call's protocol writes reasons itself
// (the call came through apiHandler), reasons otherwise.
func replyReasons(ctx context.Context, reasons []*aurora.PendingReason) []*aurora.PendingReason {
	slot, ok := ctx.Value(reasonsKey{}).(*reasonsSlot)
	if !ok || slot == nil || len(reasons) == 0 {
		return reasons
	}
	slot.reasons, slot.set = reasons, true
	return []*aurora.PendingReason{}
}

// reasonsProtocol writes a reply as its protocol does; in the reply to
// getPendingReason whose handler filled slot, it writes slot's reasons as
// the elements of GetPendingReasonResult's set (field 1, reasons), which
// the Response itself carries empty.
type reasonsProtocol struct {
	thrift.TProtocol
	slot    *reasonsSlot
	reply   bool // the message is getPendingReason's reply
	inField bool // the reasons field has begun and its set not yet
}

func (p *reasonsProtocol) WriteMessageBegin(ctx context.Context, name string, typeID thrift.TMessageType, seqID int32) error {
	p.reply = name == "getPendingReason" && typeID == thrift.REPLY
	p.inField = false
	return p.TProtocol.WriteMessageBegin(ctx, name, typeID, seqID)
}

func (p *reasonsProtocol) WriteFieldBegin(ctx context.Context, name string, typeID thrift.TType, id int16) error {
	// The reply's only set: Response, Result_ and ServerInfo have none.
	p.inField = p.reply && name == "reasons" && typeID == thrift.SET && id == 1
	return p.TProtocol.WriteFieldBegin(ctx, name, typeID, id)
}

func (p *reasonsProtocol) WriteSetBegin(ctx context.Context, elemType thrift.TType, size int) error {
	if !p.inField || p.slot == nil || !p.slot.set || elemType != thrift.STRUCT || size != 0 {
		return p.TProtocol.WriteSetBegin(ctx, elemType, size)
	}
	p.inField = false
	reasons := p.slot.reasons
	p.slot.reasons, p.slot.set = nil, false
	if err := p.TProtocol.WriteSetBegin(ctx, elemType, len(reasons)); err != nil {
		return thrift.PrependError("error writing set begin: ", err)
	}
	for _, r := range reasons {
		if err := r.Write(ctx, p.TProtocol); err != nil {
			return thrift.PrependError("*aurora.PendingReason error writing struct: ", err)
		}
	}
	return nil
}
