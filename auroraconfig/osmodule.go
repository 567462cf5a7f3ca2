package auroraconfig

import (
	"fmt"

	"go.starlark.net/starlark"
)

// osModule is the part of Python's os module configurations use:
// os.getenv(name[, default]) and os.environ (get, [], in). It sees the
// Loader's LookupEnv.
type osModule struct {
	getenv  *starlark.Builtin
	environ *environ
}

func newOSModule(lookup func(string) (string, bool)) starlark.Value {
	env := &environ{lookup: lookup}
	return &osModule{
		environ: env,
		getenv: starlark.NewBuiltin("getenv", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key string
			var def starlark.Value = starlark.None
			if err := starlark.UnpackArgs("getenv", args, kwargs, "key", &key, "default?", &def); err != nil {
				return nil, err
			}
			if v, ok := lookup(key); ok {
				return starlark.String(v), nil
			}
			return def, nil
		}),
	}
}

func (m *osModule) String() string        { return "<module 'os'>" }
func (m *osModule) Type() string          { return "module" }
func (m *osModule) Freeze()               {}
func (m *osModule) Truth() starlark.Bool  { return true }
func (m *osModule) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: module") }
func (m *osModule) AttrNames() []string   { return []string{"environ", "getenv"} }

func (m *osModule) Attr(name string) (starlark.Value, error) {
	switch name {
	case "getenv":
		return m.getenv, nil
	case "environ":
		return m.environ, nil
	}
	return nil, errorf("os.%s is not available in .aurora files: use os.getenv or os.environ", name)
}

// environ is os.environ: a read-only mapping of the environment.
type environ struct {
	lookup func(string) (string, bool)
}

var (
	_ starlark.Mapping  = (*environ)(nil)
	_ starlark.HasAttrs = (*environ)(nil)
)

func (e *environ) String() string        { return "os.environ" }
func (e *environ) Type() string          { return "environ" }
func (e *environ) Freeze()               {}
func (e *environ) Truth() starlark.Bool  { return true }
func (e *environ) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: environ") }
func (e *environ) AttrNames() []string   { return []string{"get"} }

// Get is os.environ[key] and key in os.environ.
func (e *environ) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, errorf("os.environ keys are strings, got %s", describe(k))
	}
	v, found := e.lookup(string(s))
	if !found {
		return nil, false, nil
	}
	return starlark.String(v), true, nil
}

func (e *environ) Attr(name string) (starlark.Value, error) {
	if name != "get" {
		return nil, nil
	}
	return starlark.NewBuiltin("get", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var key string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs("get", args, kwargs, "key", &key, "default?", &def); err != nil {
			return nil, err
		}
		if v, ok := e.lookup(key); ok {
			return starlark.String(v), nil
		}
		return def, nil
	}), nil
}
