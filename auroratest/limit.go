package auroratest

import (
	"context"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

// limitedProtocol rejects containers that claim more elements than the
// request has bytes: every element takes at least one byte in both
// protocols, and thrift 0.14 would otherwise allocate whatever a garbled
// header asks for.
type limitedProtocol struct {
	thrift.TProtocol
	max int
}

func (p limitedProtocol) check(size int) error {
	if size > p.max {
		return thrift.NewTProtocolExceptionWithType(thrift.SIZE_LIMIT,
			fmt.Errorf("container of %d elements in a request of %d bytes", size, p.max))
	}
	return nil
}

func (p limitedProtocol) ReadListBegin(ctx context.Context) (thrift.TType, int, error) {
	t, n, err := p.TProtocol.ReadListBegin(ctx)
	if err == nil {
		err = p.check(n)
	}
	return t, n, err
}

func (p limitedProtocol) ReadSetBegin(ctx context.Context) (thrift.TType, int, error) {
	t, n, err := p.TProtocol.ReadSetBegin(ctx)
	if err == nil {
		err = p.check(n)
	}
	return t, n, err
}

func (p limitedProtocol) ReadMapBegin(ctx context.Context) (thrift.TType, thrift.TType, int, error) {
	k, v, n, err := p.TProtocol.ReadMapBegin(ctx)
	if err == nil {
		err = p.check(n)
	}
	return k, v, n, err
}

// Skip skips a value through p, so that the size checks apply to skipped
// containers too.
func (p limitedProtocol) Skip(ctx context.Context, fieldType thrift.TType) error {
	return thrift.SkipDefaultDepth(ctx, p, fieldType)
}
