package auroraconfig

import (
	"math"
	"math/big"
	"strconv"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// rewrite adapts a parsed file to Python's semantics where Starlark's
// differ, before it is compiled:
//
//   - a translated class (def Name(__base__=Base): body) becomes
//     Name = __class__("Name", Base, field=decl, ...);
//   - x % y becomes __mod__(x, y), which formats strings as Python's %
//     does (width, precision and flags, which Starlark lacks);
//   - x / y becomes __div__(x, y): Python 2's division, which floors when
//     both operands are integers.
type rewriter struct {
	classes map[int]bool
	synth   map[synthPos]string
	err     *Error
}

func (r *rewriter) synthAt(p syntax.Position) string {
	if r.synth == nil {
		return ""
	}
	return r.synth[synthPos{p.Line, p.Col}]
}

// tightBinary reports whether e is an operation that binds tighter than Python's
// implicit string concatenation and ** (so the translation's + or * must
// move inside it).
func tightBinary(e syntax.Expr) (*syntax.BinaryExpr, bool) {
	b, ok := e.(*syntax.BinaryExpr)
	if !ok {
		return nil, false
	}
	switch b.Op {
	case syntax.STAR, syntax.SLASH, syntax.SLASHSLASH, syntax.PERCENT:
		return b, true
	}
	return nil, false
}

// postfixOperand returns where the operand of e is if e is a call, an
// attribute, an index or a slice (which bind tighter than anything else),
// nil otherwise.
func postfixOperand(e syntax.Expr) *syntax.Expr {
	switch x := e.(type) {
	case *syntax.CallExpr:
		return &x.Fn
	case *syntax.DotExpr:
		return &x.X
	case *syntax.IndexExpr:
		return &x.X
	case *syntax.SliceExpr:
		return &x.X
	}
	return nil
}

// regroup applies the operator the translation wrote between l and r with
// Python's precedence: adjacent strings join before anything else, and **
// binds tighter than the arithmetic operators around it.
func regroup(op *syntax.BinaryExpr, l, r syntax.Expr, concat bool) syntax.Expr {
	if concat {
		if x, ok := tightBinary(r); ok {
			x.X = regroup(op, l, x.X, concat)
			return x
		}
		if operand := postfixOperand(r); operand != nil {
			*operand = regroup(op, l, *operand, concat)
			return r
		}
	}
	if x, ok := tightBinary(l); ok {
		x.Y = regroup(op, x.Y, r, concat)
		return x
	}
	return &syntax.BinaryExpr{X: l, OpPos: op.OpPos, Op: op.Op, Y: r}
}

func (r *rewriter) fail(pos syntax.Position, msg string) {
	if r.err == nil {
		r.err = &Error{Pos: fromSyntax(pos), Msg: msg}
	}
}

func (r *rewriter) stmts(list []syntax.Stmt) {
	for i, st := range list {
		list[i] = r.stmt(st)
	}
}

func (r *rewriter) stmt(st syntax.Stmt) syntax.Stmt {
	switch x := st.(type) {
	case *syntax.DefStmt:
		if r.classes[int(x.Def.Line)] {
			return r.class(x)
		}
		for i, p := range x.Params {
			x.Params[i] = r.expr(p)
		}
		r.stmts(x.Body)
	case *syntax.AssignStmt:
		x.RHS = r.expr(x.RHS)
		switch x.Op {
		case syntax.PERCENT_EQ, syntax.SLASH_EQ:
			fn := "__mod__"
			if x.Op == syntax.SLASH_EQ {
				fn = "__div__"
			}
			x.RHS = call(fn, x.OpPos, x.LHS, x.RHS)
			x.Op = syntax.EQ
		}
		x.LHS = r.expr(x.LHS)
	case *syntax.ExprStmt:
		x.X = r.expr(x.X)
	case *syntax.ForStmt:
		x.X = r.expr(x.X)
		r.stmts(x.Body)
	case *syntax.WhileStmt:
		x.Cond = r.expr(x.Cond)
		r.stmts(x.Body)
	case *syntax.IfStmt:
		x.Cond = r.expr(x.Cond)
		r.stmts(x.True)
		r.stmts(x.False)
	case *syntax.ReturnStmt:
		if x.Result != nil {
			x.Result = r.expr(x.Result)
		}
	}
	return st
}

func call(fn string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: fn}, Lparen: pos, Args: args, Rparen: pos}
}

func (r *rewriter) exprs(list []syntax.Expr) {
	for i, e := range list {
		list[i] = r.expr(e)
	}
}

func (r *rewriter) expr(e syntax.Expr) syntax.Expr {
	switch x := e.(type) {
	case *syntax.BinaryExpr:
		if kind := r.synthAt(x.OpPos); kind == "concat" && x.Op == syntax.PLUS || kind == "pow" && x.Op == syntax.STAR {
			// The translation's operator: regroup with Python's
			// precedence; once in place, rewrite its operands.
			g := regroup(x, x.X, x.Y, kind == "concat")
			b, inPlace := g.(*syntax.BinaryExpr)
			if !inPlace || b.OpPos != x.OpPos || b.Op != x.Op {
				return r.expr(g)
			}
			b.X, b.Y = r.expr(b.X), r.expr(b.Y)
			if kind == "pow" {
				return call("__pow__", b.OpPos, b.X, b.Y)
			}
			return b
		}
		x.X = r.expr(x.X)
		x.Y = r.expr(x.Y)
		switch x.Op {
		case syntax.PERCENT:
			return call("__mod__", x.OpPos, x.X, x.Y)
		case syntax.SLASH:
			return call("__div__", x.OpPos, x.X, x.Y)
		}
	case *syntax.CallExpr:
		x.Fn = r.expr(x.Fn)
		r.exprs(x.Args)
	case *syntax.ParenExpr:
		x.X = r.expr(x.X)
	case *syntax.ListExpr:
		r.exprs(x.List)
	case *syntax.TupleExpr:
		r.exprs(x.List)
	case *syntax.DictExpr:
		r.exprs(x.List)
	case *syntax.DictEntry:
		x.Key = r.expr(x.Key)
		x.Value = r.expr(x.Value)
	case *syntax.UnaryExpr:
		if x.X != nil {
			x.X = r.expr(x.X)
		}
	case *syntax.CondExpr:
		x.Cond = r.expr(x.Cond)
		x.True = r.expr(x.True)
		x.False = r.expr(x.False)
	case *syntax.DotExpr:
		x.X = r.expr(x.X)
	case *syntax.IndexExpr:
		x.X = r.expr(x.X)
		x.Y = r.expr(x.Y)
	case *syntax.SliceExpr:
		x.X = r.expr(x.X)
		for _, p := range []*syntax.Expr{&x.Lo, &x.Hi, &x.Step} {
			if *p != nil {
				*p = r.expr(*p)
			}
		}
	case *syntax.Comprehension:
		x.Body = r.expr(x.Body)
		for _, c := range x.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.X = r.expr(c.X)
			case *syntax.IfClause:
				c.Cond = r.expr(c.Cond)
			}
		}
	case *syntax.LambdaExpr:
		r.exprs(x.Params)
		x.Body = r.expr(x.Body)
	}
	return e
}

// class turns the def a class header was translated to into an
// assignment of a new Struct class.
func (r *rewriter) class(d *syntax.DefStmt) syntax.Stmt {
	var base syntax.Expr = &syntax.Ident{NamePos: d.Def, Name: "Struct"}
	if len(d.Params) == 1 {
		if kw, ok := d.Params[0].(*syntax.BinaryExpr); ok && kw.Op == syntax.EQ {
			base = r.expr(kw.Y)
		}
	}
	name := d.Name.Name
	args := []syntax.Expr{
		&syntax.Literal{Token: syntax.STRING, TokenPos: d.Name.NamePos, Raw: strconv.Quote(name), Value: name},
		base,
	}
	for _, st := range d.Body {
		switch x := st.(type) {
		case *syntax.AssignStmt:
			id, ok := x.LHS.(*syntax.Ident)
			if ok && x.Op == syntax.EQ {
				args = append(args, &syntax.BinaryExpr{X: id, OpPos: x.OpPos, Op: syntax.EQ, Y: r.expr(x.RHS)})
				continue
			}
		case *syntax.ExprStmt:
			if lit, ok := x.X.(*syntax.Literal); ok && lit.Token == syntax.STRING {
				continue // docstring
			}
		case *syntax.BranchStmt:
			if x.Token == syntax.PASS {
				continue
			}
		}
		start, _ := st.Span()
		r.fail(start, "a Struct class body may only declare fields: name = Default(Type, value), Required(Type) or Type (methods and other statements are not supported)")
	}
	return &syntax.AssignStmt{
		OpPos: d.Def, Op: syntax.EQ,
		LHS: &syntax.Ident{NamePos: d.Name.NamePos, Name: name},
		RHS: call("__class__", d.Def, args...),
	}
}

// builtinClass makes the Struct class of a class statement.
func builtinClass(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := string(args[0].(starlark.String))
	base, ok := args[1].(*ptype)
	if !ok || base.kind != kStruct {
		return nil, errorf("class %s: its base must be Struct or another Struct class, got %s", name, describe(args[1]))
	}
	var fields []field
	if base.sch != nil {
		fields = append(fields, base.sch.fields...)
	}
	for _, kv := range kwargs {
		fname := string(kv[0].(starlark.String))
		var d fieldDecl
		switch v := kv[1].(type) {
		case *fieldDecl:
			d = *v
		case *ptype:
			if v == structBase {
				return nil, errorf("class %s: field %s: Struct itself is not a field type: use a Struct class", name, fname)
			}
			d = fieldDecl{typ: v}
		default:
			return nil, errorf("class %s: field %s = %s: declare fields as Default(Type, value), Required(Type) or a bare Type", name, fname, describe(kv[1]))
		}
		replaced := false
		for i := range fields {
			if fields[i].name == fname {
				fields[i].fieldDecl = d
				replaced = true
			}
		}
		if !replaced {
			fields = append(fields, field{fname, d})
		}
	}
	return newSchema(name, fields...).typ, nil
}

// builtinDiv is Python 2's /: floor division for two integers.
func builtinDiv(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y := args[0], args[1]
	_, xi := x.(starlark.Int)
	_, yi := y.(starlark.Int)
	if xi && yi {
		return starlark.Binary(syntax.SLASHSLASH, x, y)
	}
	return starlark.Binary(syntax.SLASH, x, y)
}

// builtinMod is Python's %: string formatting for a string on the left.
func builtinMod(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if s, ok := args[0].(starlark.String); ok {
		out, err := pyFormat(string(s), args[1])
		if err != nil {
			return nil, err
		}
		return starlark.String(out), nil
	}
	return starlark.Binary(syntax.PERCENT, args[0], args[1])
}

// builtinPow is Python's **.
func builtinPow(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y := args[0], args[1]
	xi, xok := x.(starlark.Int)
	yi, yok := y.(starlark.Int)
	if xok && yok && yi.Sign() >= 0 {
		e, ok := yi.Int64()
		if !ok || e > 4096 {
			return nil, errorf("%s ** %s is too large", x, y)
		}
		return starlark.MakeBigInt(new(big.Int).Exp(xi.BigInt(), big.NewInt(e), nil)), nil
	}
	fx, ok1 := starlark.AsFloat(x)
	fy, ok2 := starlark.AsFloat(y)
	if !ok1 || !ok2 {
		return nil, errorf("unsupported operand type(s) for **: %s and %s", x.Type(), y.Type())
	}
	return starlark.Float(math.Pow(fx, fy)), nil
}
