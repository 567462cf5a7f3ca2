package auroraconfig

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/pyfmt"
	"go.starlark.net/starlark"
)

// Pystachio's types: String, Integer, Float, Boolean, Enum, List, Map,
// Choice and Struct classes. A *ptype is a Starlark value; calling it
// coerces a value (Integer('5')) or, for a Struct class, makes an object.

type kind int

const (
	kString kind = iota
	kInteger
	kFloat
	kBoolean
	kEnum
	kList
	kMap
	kChoice
	kStruct
	kNixPackage
)

type ptype struct {
	kind kind
	name string
	elem *ptype // List element, Map value
	key  *ptype // Map key
	alts []*ptype
	enum []string
	sch  *schema
}

var (
	tString  = &ptype{kind: kString, name: "String"}
	tInteger = &ptype{kind: kInteger, name: "Integer"}
	tFloat   = &ptype{kind: kFloat, name: "Float"}
	tBoolean = &ptype{kind: kBoolean, name: "Boolean"}
)

func listOf(t *ptype) *ptype { return &ptype{kind: kList, name: "List(" + t.name + ")", elem: t} }

func mapOf(k, v *ptype) *ptype {
	return &ptype{kind: kMap, name: "Map(" + k.name + ", " + v.name + ")", key: k, elem: v}
}

func choiceOf(alts ...*ptype) *ptype {
	names := make([]string, len(alts))
	for i, a := range alts {
		names[i] = a.name
	}
	return &ptype{kind: kChoice, name: "Choice(" + strings.Join(names, ", ") + ")", alts: alts}
}

func enumOf(name string, values ...string) *ptype {
	return &ptype{kind: kEnum, name: name, enum: values}
}

var (
	_ starlark.Callable = (*ptype)(nil)
	_ starlark.HasAttrs = (*ptype)(nil)
)

func (t *ptype) String() string        { return t.name }
func (t *ptype) Type() string          { return "type" }
func (t *ptype) Freeze()               {}
func (t *ptype) Truth() starlark.Bool  { return true }
func (t *ptype) Hash() (uint32, error) { return starlark.String(t.name).Hash() }
func (t *ptype) Name() string          { return t.name }

// Attr gives an Enum's values as attributes (LoggerMode.rotate is not
// Pystachio, but harmless) and nothing else.
func (t *ptype) Attr(name string) (starlark.Value, error) {
	if t.kind == kEnum {
		for _, v := range t.enum {
			if v == name {
				return starlark.String(v), nil
			}
		}
	}
	return nil, nil
}

func (t *ptype) AttrNames() []string {
	if t.kind == kEnum {
		return t.enum
	}
	return nil
}

// CallInternal coerces its one argument, or makes an object of a Struct
// class from keyword arguments.
func (t *ptype) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if t.kind == kStruct {
		return newObject(thread, t.sch, args, kwargs)
	}
	if len(args) != 1 || len(kwargs) != 0 {
		return nil, errorf("%s() takes exactly one positional argument", t.name)
	}
	return coerce(t, args[0], t.name)
}

// isTemplate reports whether v is a string holding a {{...}} reference.
func isTemplate(v starlark.Value) (string, bool) {
	s, ok := v.(starlark.String)
	return string(s), ok && strings.Contains(string(s), "{{")
}

// coerce checks v against t the way Pystachio does when the value is set
// and returns the value to store. Strings holding templates are kept as
// they are in every scalar field (Pystachio resolves them later). what
// names the field in errors.
func coerce(t *ptype, v starlark.Value, what string) (starlark.Value, error) {
	if _, ok := isTemplate(v); ok && t.kind <= kEnum {
		return v, nil
	}
	switch t.kind {
	case kString:
		switch x := v.(type) {
		case starlark.String:
			return x, nil
		case starlark.Int, starlark.Float:
			return starlark.String(pyStr(x)), nil
		case starlark.Bool:
			return starlark.String(pyStr(x)), nil
		}
	case kInteger:
		switch x := v.(type) {
		case starlark.Int:
			return x, nil
		case starlark.Bool:
			if x {
				return starlark.MakeInt(1), nil
			}
			return starlark.MakeInt(0), nil
		case starlark.Float:
			f := float64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				break
			}
			return starlark.MakeBigInt(bigTrunc(f)), nil
		case starlark.String:
			if n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64); err == nil {
				return starlark.MakeInt64(n), nil
			}
			return nil, errorf("%s: %s is not an integer: give a number, or a {{template}} bound to one", what, x.String())
		}
	case kFloat:
		switch x := v.(type) {
		case starlark.Float:
			return x, nil
		case starlark.Int:
			return x.Float(), nil
		case starlark.Bool:
			if x {
				return starlark.Float(1), nil
			}
			return starlark.Float(0), nil
		case starlark.String:
			if f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64); err == nil {
				return starlark.Float(f), nil
			}
			return nil, errorf("%s: %s is not a float: give a number, or a {{template}} bound to one", what, x.String())
		}
	case kBoolean:
		switch x := v.(type) {
		case starlark.Bool:
			return x, nil
		case starlark.Int:
			return starlark.Bool(x.Sign() != 0), nil
		case starlark.Float:
			return starlark.Bool(x != 0), nil
		case starlark.String:
			switch strings.ToLower(string(x)) {
			case "true", "1":
				return starlark.True, nil
			case "false", "0":
				return starlark.False, nil
			}
			return nil, errorf("%s: %s is not a boolean: use True or False", what, x.String())
		}
	case kEnum:
		if s, ok := v.(starlark.String); ok {
			for _, e := range t.enum {
				if string(s) == e {
					return s, nil
				}
			}
			return nil, errorf("%s: %s is not one of %s", what, s.String(), strings.Join(quoteAll(t.enum), ", "))
		}
	case kList:
		it, ok := v.(starlark.Iterable)
		if _, isStr := v.(starlark.String); !ok || isStr {
			break
		}
		if _, isMap := v.(*starlark.Dict); isMap {
			break
		}
		var out []starlark.Value
		iter := it.Iterate()
		defer iter.Done()
		var x starlark.Value
		for i := 0; iter.Next(&x); i++ {
			c, err := coerce(t.elem, x, fmt.Sprintf("%s[%d]", what, i))
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return starlark.NewList(out), nil
	case kMap:
		d, ok := v.(*starlark.Dict)
		if !ok {
			break
		}
		out := starlark.NewDict(d.Len())
		for _, item := range d.Items() {
			k, err := coerce(t.key, item[0], what+" key")
			if err != nil {
				return nil, err
			}
			val, err := coerce(t.elem, item[1], fmt.Sprintf("%s[%s]", what, item[0]))
			if err != nil {
				return nil, err
			}
			if err := out.SetKey(k, val); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kChoice:
		if o, ok := v.(*object); ok {
			for _, a := range t.alts {
				if a.kind == kStruct && a.sch == o.sch {
					return o, nil
				}
			}
		}
		for _, a := range t.alts {
			if a.kind == kStruct {
				continue
			}
			if c, err := coerce(a, v, what); err == nil {
				return c, nil
			}
		}
	case kNixPackage:
		return coerceNixPackage(v, what)
	case kStruct:
		switch x := v.(type) {
		case *object:
			if x.sch == t.sch {
				return x, nil
			}
			return nil, errorf("%s: got a %s, want a %s", what, x.sch.name, t.sch.name)
		case *starlark.Dict:
			return objectFromDict(t.sch, x)
		}
	}
	return nil, errorf("%s: got %s, want %s", what, describe(v), t.name)
}

func bigTrunc(f float64) *big.Int {
	b, _ := big.NewFloat(math.Trunc(f)).Int(nil)
	return b
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// describe names a value for an error message.
func describe(v starlark.Value) string {
	switch x := v.(type) {
	case *object:
		return "a " + x.sch.name
	case starlark.NoneType:
		return "None"
	case starlark.String:
		s := x.String()
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return "the string " + s
	}
	return "a value of type " + v.Type()
}

// pyStr formats a scalar as Python's str() does.
func pyStr(v starlark.Value) string {
	switch x := v.(type) {
	case starlark.String:
		return string(x)
	case starlark.Bool:
		if x {
			return "True"
		}
		return "False"
	case starlark.Float:
		return pyfmt.Float(float64(x))
	case starlark.NoneType:
		return "None"
	}
	return v.String()
}

// fieldDecl is Default(T, v), Required(T) or a bare T in a class body.
type fieldDecl struct {
	typ      *ptype
	required bool
	def      starlark.Value // nil: no default
}

func (d *fieldDecl) String() string {
	switch {
	case d.required:
		return "Required(" + d.typ.name + ")"
	case d.def != nil:
		return "Default(" + d.typ.name + ", " + d.def.String() + ")"
	}
	return d.typ.name
}
func (d *fieldDecl) Type() string          { return "field" }
func (d *fieldDecl) Freeze()               {}
func (d *fieldDecl) Truth() starlark.Bool  { return true }
func (d *fieldDecl) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: field") }

// typeArg returns the Pystachio type an argument names.
func typeArg(v starlark.Value, fn string) (*ptype, error) {
	switch x := v.(type) {
	case *ptype:
		return x, nil
	case *object:
		// Pystachio accepts a class only; an object of it is a common slip.
		return nil, errorf("%s: %s is an object, not a type: use its class", fn, x.sch.name)
	}
	return nil, errorf("%s: %s is not a type: use String, Integer, Float, Boolean, List(...), Map(...), Choice([...]), Enum(...) or a Struct class", fn, describe(v))
}

func builtinDefault(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tv, dv starlark.Value
	if err := starlark.UnpackPositionalArgs("Default", args, kwargs, 2, &tv, &dv); err != nil {
		return nil, err
	}
	t, err := typeArg(tv, "Default")
	if err != nil {
		return nil, err
	}
	if dv == emptyValue {
		return &fieldDecl{typ: t}, nil
	}
	c, err := coerce(t, dv, "Default("+t.name+", ...)")
	if err != nil {
		return nil, err
	}
	return &fieldDecl{typ: t, def: c}, nil
}

// typeArgs returns the n types builtin fn takes as its positional
// arguments, in order.
func typeArgs(fn string, args starlark.Tuple, kwargs []starlark.Tuple, n int) ([]*ptype, error) {
	vals := make([]starlark.Value, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := starlark.UnpackPositionalArgs(fn, args, kwargs, n, ptrs...); err != nil {
		return nil, err
	}
	ts := make([]*ptype, n)
	for i, v := range vals {
		t, err := typeArg(v, fn)
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	return ts, nil
}

func builtinRequired(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ts, err := typeArgs("Required", args, kwargs, 1)
	if err != nil {
		return nil, err
	}
	return &fieldDecl{typ: ts[0], required: true}, nil
}

func builtinList(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ts, err := typeArgs("List", args, kwargs, 1)
	if err != nil {
		return nil, err
	}
	return listOf(ts[0]), nil
}

func builtinMap(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ts, err := typeArgs("Map", args, kwargs, 2)
	if err != nil {
		return nil, err
	}
	return mapOf(ts[0], ts[1]), nil
}

func builtinChoice(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var alts []*ptype
	var list starlark.Value = args
	if len(args) == 1 {
		list = args[0]
	}
	it, ok := list.(starlark.Iterable)
	if !ok || len(kwargs) > 0 {
		return nil, errorf("Choice: give a list of types, e.g. Choice([String, Integer])")
	}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		t, err := typeArg(x, "Choice")
		if err != nil {
			return nil, err
		}
		alts = append(alts, t)
	}
	return choiceOf(alts...), nil
}

func builtinEnum(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var vals []string
	name := "Enum"
	for i, a := range args {
		if t, ok := a.(starlark.Tuple); ok && i == len(args)-1 && len(args) <= 2 {
			for _, x := range t {
				s, ok := x.(starlark.String)
				if !ok {
					return nil, errorf("Enum: values must be strings")
				}
				vals = append(vals, string(s))
			}
			continue
		}
		s, ok := a.(starlark.String)
		if !ok {
			return nil, errorf("Enum: values must be strings")
		}
		if len(args) == 2 && i == 0 {
			name = string(s)
			continue
		}
		vals = append(vals, string(s))
	}
	return enumOf(name, vals...), nil
}

// emptyValue is Pystachio's Empty: assigning it to a field unsets it.
var emptyValue = &emptyType{}

type emptyType struct{}

func (*emptyType) String() string        { return "Empty" }
func (*emptyType) Type() string          { return "Empty" }
func (*emptyType) Freeze()               {}
func (*emptyType) Truth() starlark.Bool  { return false }
func (*emptyType) Hash() (uint32, error) { return 0, nil }
