package nixrealis_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsBelongToTheirMethods type-checks calls against the package:
// each option compiles with the methods it means something to, and a
// method given an option it does not understand does not compile.
func TestOptionsBelongToTheirMethods(t *testing.T) {
	calls := []struct {
		call string
		ok   bool
	}{
		{"c.Create(ctx, j)", true},
		{"c.Create(ctx, j, nixrealis.NoWait())", true},
		{"c.Create(ctx, j, nixrealis.Message(\"m\"))", false},
		{"c.Create(ctx, j, nixrealis.AbortActiveUpdate())", false},
		{"c.Update(ctx, j, nixrealis.NoWait(), nixrealis.Message(\"m\"))", true},
		{"c.Update(ctx, j, nixrealis.AbortActiveUpdate())", false},
		{"c.Kill(ctx, k, nil, nixrealis.NoWait(), nixrealis.AbortActiveUpdate())", true},
		{"c.Kill(ctx, k, nil, nixrealis.Message(\"m\"))", false},
		{"c.Restart(ctx, k, nil, nixrealis.NoWait())", true},
		{"c.Restart(ctx, k, nil, nixrealis.AbortActiveUpdate())", false},
		{"c.Pause(ctx, u, nixrealis.Message(\"m\"))", true},
		{"c.Resume(ctx, u, nixrealis.Message(\"m\"))", true},
		{"c.Rollback(ctx, u, nixrealis.Message(\"m\"))", true},
		{"c.Abort(ctx, u, nixrealis.Message(\"m\"))", true},
		{"c.Pause(ctx, u, nixrealis.NoWait())", false},
		{"c.Pause(ctx, u, \"m\")", false},
	}
	var b strings.Builder
	b.WriteString(`package p

import (
	"context"

	"github.com/nixrealis/nixrealis"
	"github.com/nixrealis/nixrealis/job"
)

func f(ctx context.Context, c *nixrealis.Client, j job.Job, k job.Key, u nixrealis.UpdateKey) {
`)
	for _, tt := range calls {
		b.WriteString("\t_ = func() { " + tt.call + " }\n")
	}
	b.WriteString("}\n")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", b.String(), 0)
	require.NoError(t, err)
	bad := map[int]string{} // line -> error
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil), Error: func(err error) {
		if te, ok := err.(types.Error); ok {
			bad[te.Fset.Position(te.Pos).Line] = te.Msg
		}
	}}
	conf.Check("p", fset, []*ast.File{f}, nil)
	for i, tt := range calls {
		line := 11 + i
		msg, failed := bad[line]
		if tt.ok {
			assert.False(t, failed, "%s does not compile: %s", tt.call, msg)
		} else {
			assert.True(t, failed, "%s compiles", tt.call)
		}
	}
}
