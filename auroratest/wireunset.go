package auroratest

import (
	"context"

	"github.com/apache/thrift/lib/go/thrift"
)

// unsetDataProtocol writes a reply as its protocol does, except that in
// the reply to getTasksWithoutConfigs it leaves out every
// ExecutorConfig's data field: Aurora's ReadOnlySchedulerImpl unsets it
// (unsetData), so it is absent on the wire, which Go's generated code,
// whose Data is a plain string, cannot say by itself.
type unsetDataProtocol struct {
	thrift.TProtocol
	strip   bool     // the message is getTasksWithoutConfigs' reply
	structs []string // names of the structs being written
	skip    bool     // inside the left-out field
}

func (p *unsetDataProtocol) WriteMessageBegin(ctx context.Context, name string, typeID thrift.TMessageType, seqID int32) error {
	p.strip = name == "getTasksWithoutConfigs"
	p.structs = p.structs[:0]
	return p.TProtocol.WriteMessageBegin(ctx, name, typeID, seqID)
}

func (p *unsetDataProtocol) WriteStructBegin(ctx context.Context, name string) error {
	if p.strip {
		p.structs = append(p.structs, name)
	}
	return p.TProtocol.WriteStructBegin(ctx, name)
}

func (p *unsetDataProtocol) WriteStructEnd(ctx context.Context) error {
	if p.strip && len(p.structs) > 0 {
		p.structs = p.structs[:len(p.structs)-1]
	}
	return p.TProtocol.WriteStructEnd(ctx)
}

func (p *unsetDataProtocol) WriteFieldBegin(ctx context.Context, name string, typeID thrift.TType, id int16) error {
	if p.strip && id == 2 && typeID == thrift.STRING && len(p.structs) > 0 && p.structs[len(p.structs)-1] == "ExecutorConfig" {
		p.skip = true
		return nil
	}
	return p.TProtocol.WriteFieldBegin(ctx, name, typeID, id)
}

func (p *unsetDataProtocol) WriteString(ctx context.Context, s string) error {
	if p.skip {
		return nil
	}
	return p.TProtocol.WriteString(ctx, s)
}

func (p *unsetDataProtocol) WriteFieldEnd(ctx context.Context) error {
	if p.skip {
		p.skip = false
		return nil
	}
	return p.TProtocol.WriteFieldEnd(ctx)
}
