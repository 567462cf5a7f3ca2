package job

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/pyfmt"
)

// Vars holds template values for Bind, like the keyword arguments of
// Pystachio's .bind(). Keys are variable names; a value is a string, a bool,
// an integer or float of any Go kind, or a nested Vars (or map[string]any)
// whose entries are reached as {{name.key}} or {{name[key]}}. A string value
// may itself contain templates: inside a nested Vars, {{x}} first resolves
// against the sibling entries of that Vars (like the fields of a Pystachio
// struct), then at the place that referenced it.
type Vars map[string]any

// bind returns list with a deep copy of vars appended, leaving list's
// array (shared with the builder Bind was called on) alone: the Bind of
// Job, Task and Process.
func bind(list []Vars, vars Vars) []Vars {
	return append(slices.Clone(list), cloneVars(vars))
}

// cloneVars copies vars deeply (nested Vars and maps), so that a binding
// cannot change after Bind returns.
func cloneVars(vars map[string]any) Vars {
	if vars == nil {
		return nil
	}
	out := make(Vars, len(vars))
	for k, v := range vars {
		switch v := v.(type) {
		case Vars:
			out[k] = cloneVars(v)
		case map[string]any:
			out[k] = cloneVars(v)
		case map[string]string:
			out[k] = maps.Clone(v)
		default:
			out[k] = v
		}
	}
	return out
}

// maxPasses bounds the interpolation passes of one string, as Pystachio does.
const maxPasses = 100

// maxExpansion bounds the size of a rendered string, so that a binding that
// refers to itself twice cannot grow without limit.
const maxExpansion = 1 << 20

var (
	errTemplateTooDeep  = fmt.Errorf("%w: template references nest more than 100 levels deep (a variable probably refers to itself)", ErrInvalid)
	errTemplateTooLarge = fmt.Errorf("%w: template expands to more than 1 MiB (a variable probably refers to itself several times)", ErrInvalid)
)

// node is something a template reference can walk into.
type node interface {
	child(name string, index bool) (node, bool)
}

// leaf is a resolved value. sc, if non-nil, is the scope chain in which the
// value's own templates are resolved first (the value's struct).
type leaf struct {
	val string
	sc  *scope
}

func (leaf) child(string, bool) (node, bool) { return nil, false }

// scope is one link of a scope chain, innermost first.
type scope struct {
	parent *scope
	root   node
}

func (s *scope) push(root node) *scope { return &scope{parent: s, root: root} }

// varsNode exposes a Vars binding.
type varsNode struct {
	v  map[string]any
	sc *scope // chain of the enclosing Vars maps, for string values inside
}

func (n varsNode) child(name string, _ bool) (node, bool) {
	x, ok := n.v[name]
	if !ok {
		return nil, false
	}
	switch x := x.(type) {
	case Vars:
		return varsNode{v: x, sc: n.self().push(varsNode{v: x})}, true
	case map[string]any:
		return varsNode{v: x, sc: n.self().push(varsNode{v: x})}, true
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = v
		}
		return varsNode{v: m, sc: n.self().push(varsNode{v: m})}, true
	}
	s, ok := formatScalar(x)
	if !ok {
		return nil, false
	}
	// A top-level string is substituted as written and resolved at the
	// referencing place; inside a nested Vars it first sees its siblings.
	return leaf{val: s, sc: n.sc}, true
}

func (n varsNode) self() *scope {
	if n.sc != nil {
		return n.sc
	}
	return nil
}

// formatScalar renders a bound scalar the way Pystachio stringifies it.
func formatScalar(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case int:
		return strconv.Itoa(x), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float32:
		return pyfmt.Float(float64(x)), true
	case float64:
		return pyfmt.Float(x), true
	case Bytes:
		return strconv.FormatInt(int64(x), 10), true
	}
	return "", false
}

// checkVars reports values Bind cannot use.
func checkVars(path string, v map[string]any, l *errorList) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path + "[" + k + "]"
		if !validDerefName(k) && !validIndexName(k) {
			l.add(p, ErrInvalid, fmt.Sprintf("binding name %q cannot be referenced from a template: use letters, digits and _ (not starting with a digit)", k))
		}
		switch x := v[k].(type) {
		case Vars:
			checkVars(p, x, l)
		case map[string]any:
			checkVars(p, x, l)
		case map[string]string:
		default:
			if _, ok := formatScalar(x); !ok {
				l.add(p, ErrInvalid, fmt.Sprintf("cannot bind a value of type %T: use a string, bool, number or job.Vars", x))
			}
		}
	}
}

// tag is one {{...}} occurrence.
type tag struct {
	start, end int    // s[start:end] is the whole tag
	addr       string // the reference inside
	amp        bool   // written {{&addr}}
}

// nextTag finds the first tag at or after i, with the semantics of
// Pystachio's `{{(&)?([^{}]+?)\1?}}`.
func nextTag(s string, i int) (tag, bool) {
	for {
		k := strings.Index(s[i:], "{{")
		if k < 0 {
			return tag{}, false
		}
		start := i + k
		if t, ok := matchTag(s, start); ok {
			return t, true
		}
		i = start + 1
	}
}

func matchTag(s string, start int) (tag, bool) {
	j := start + 2
	try := func(j int, amp bool) (tag, bool) {
		c := j
		for c < len(s) && s[c] != '{' && s[c] != '}' {
			c++
		}
		if c+1 >= len(s) || s[c] != '}' || s[c+1] != '}' {
			return tag{}, false
		}
		if amp && c-1 > j && s[c-1] == '&' {
			return tag{start: start, end: c + 2, addr: s[j : c-1], amp: true}, true
		}
		if c > j {
			return tag{start: start, end: c + 2, addr: s[j:c], amp: amp}, true
		}
		return tag{}, false
	}
	if j < len(s) && s[j] == '&' {
		if t, ok := try(j+1, true); ok {
			return t, true
		}
	}
	return try(j, false)
}

// Reference syntax (Pystachio): a first name, then `.name` or `[index]`
// components; names are [A-Za-z_]\w*, indexes [\w\-./]+.
func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func validDerefName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func validIndexName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isWordByte(c) && c != '-' && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

// nextComp returns the component of addr starting at i.
func nextComp(addr string, i int) (name string, index bool, next int, ok bool) {
	if i >= len(addr) {
		return "", false, i, false
	}
	switch {
	case addr[i] == '[':
		end := strings.IndexByte(addr[i:], ']')
		if end < 0 {
			return "", false, i, false
		}
		name = addr[i+1 : i+end]
		if !validIndexName(name) {
			return "", false, i, false
		}
		return name, true, i + end + 1, true
	case addr[i] == '.' || i == 0:
		j := i
		if addr[i] == '.' {
			j++
		}
		k := j
		for k < len(addr) && isWordByte(addr[k]) {
			k++
		}
		name = addr[j:k]
		if !validDerefName(name) {
			return "", false, i, false
		}
		return name, false, k, true
	}
	return "", false, i, false
}

func validRef(addr string) bool {
	for i := 0; i < len(addr); {
		_, _, next, ok := nextComp(addr, i)
		if !ok {
			return false
		}
		i = next
	}
	return addr != ""
}

// runtimeRef reports whether addr is one of the references Thermos binds at
// run time and the client leaves in the payload.
func runtimeRef(addr string) bool {
	switch addr {
	case "mesos.instance", "mesos.hostname", "thermos.task_id":
		return true
	}
	if rest, ok := strings.CutPrefix(addr, "thermos.ports["); ok {
		name, ok := strings.CutSuffix(rest, "]")
		return ok && validIndexName(name)
	}
	return false
}

// resolve walks addr through the scope chain.
func resolve(addr string, sc *scope) (leaf, bool) {
	for s := sc; s != nil; s = s.parent {
		if s.root == nil {
			continue
		}
		var n node = s.root
		ok := true
		for i := 0; i < len(addr); {
			name, index, next, good := nextComp(addr, i)
			if !good {
				return leaf{}, false
			}
			n, ok = n.child(name, index)
			if !ok {
				break
			}
			i = next
		}
		if !ok {
			continue
		}
		if l, isLeaf := n.(leaf); isLeaf {
			return l, true
		}
	}
	return leaf{}, false
}

// renderer interpolates strings; it keeps a budget so that no input can make
// it loop or grow without bound.
type renderer struct {
	depth int
}

// render interpolates s in the scope chain sc: every reference a scope
// resolves is replaced (after resolving the value's own templates in its
// struct's scope), repeatedly, until nothing changes. References nothing
// resolves are kept verbatim; the caller checks them with unboundRefs.
func (r *renderer) render(s string, sc *scope) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxPasses {
		return s, errTemplateTooDeep
	}
	for pass := 0; pass < maxPasses; pass++ {
		var b strings.Builder
		changed := false
		last := 0
		for i := 0; ; {
			t, ok := nextTag(s, i)
			if !ok {
				break
			}
			i = t.end
			if !validRef(t.addr) {
				continue
			}
			l, found := resolve(t.addr, sc)
			if !found {
				if t.amp {
					// The first pass turns {{&x}} into {{x}}.
					b.WriteString(s[last:t.start])
					b.WriteString("{{")
					b.WriteString(t.addr)
					b.WriteString("}}")
					last = t.end
					changed = true
				}
				continue
			}
			val := l.val
			if l.sc != nil && strings.Contains(val, "{{") {
				v, err := r.render(val, l.sc)
				if err != nil {
					return s, err
				}
				val = v
			}
			b.WriteString(s[last:t.start])
			b.WriteString(val)
			last = t.end
			changed = true
			if b.Len() > maxExpansion {
				return s, errTemplateTooLarge
			}
		}
		if !changed {
			return s, nil
		}
		b.WriteString(s[last:])
		if b.Len() > maxExpansion {
			return s, errTemplateTooLarge
		}
		next := b.String()
		if next == s {
			// A reference that resolves to itself.
			return s, errTemplateTooDeep
		}
		s = next
		if !strings.Contains(s, "{{") {
			return s, nil
		}
	}
	return s, errTemplateTooDeep
}

// refProblem classifies what is left in a rendered string.
type refProblems struct {
	unbound  []string // non-runtime references nothing resolved
	badPorts []string // {{thermos.ports.x}}
	invalid  []string // text between braces that is not a reference
	ports    []string // names in {{thermos.ports[NAME]}}
}

func scanRefs(s string, p *refProblems) {
	if !strings.Contains(s, "{{") {
		return
	}
	for i := 0; ; {
		t, ok := nextTag(s, i)
		if !ok {
			return
		}
		i = t.end
		switch {
		case !validRef(t.addr):
			p.invalid = append(p.invalid, t.addr)
		case runtimeRef(t.addr):
			if name, ok := strings.CutPrefix(t.addr, "thermos.ports["); ok {
				p.ports = append(p.ports, name[:len(name)-1])
			}
		case strings.HasPrefix(t.addr, "thermos.ports."):
			p.badPorts = append(p.badPorts, t.addr)
		default:
			if !slices.Contains(p.unbound, t.addr) {
				p.unbound = append(p.unbound, t.addr)
			}
		}
	}
}

// Render interpolates s with vars the way Build interpolates a field: every
// {{ref}} that vars resolves is replaced (repeatedly, so nested templates
// such as {{a{{b}}}} work), and the references Thermos binds at run time
// ({{mesos.instance}}, {{mesos.hostname}}, {{thermos.task_id}},
// {{thermos.ports[NAME]}}) are kept verbatim. Any other reference left
// unbound is an error wrapping ErrUnbound (an *UnboundError), a malformed
// reference or {{thermos.ports.NAME}} one wrapping ErrInvalid.
func Render(s string, vars Vars) (string, error) {
	var sc *scope
	if vars != nil {
		sc = sc.push(varsNode{v: vars})
	}
	var r renderer
	out, err := r.render(s, sc)
	if err != nil {
		return "", err
	}
	return out, refError(out)
}

// refError turns what scanRefs finds into one error (nil if clean).
func refError(out string) error {
	var p refProblems
	scanRefs(out, &p)
	var errs []error
	for _, a := range p.invalid {
		errs = append(errs, fmt.Errorf("%w: {{%s}} is not a template reference: references are names joined by .name or [index]", ErrInvalid, a))
	}
	for _, a := range p.badPorts {
		errs = append(errs, fmt.Errorf("%w: {{%s}}: ports must be indexed, write {{thermos.ports[%s]}}", ErrInvalid, a, strings.TrimPrefix(a, "thermos.ports.")))
	}
	if len(p.unbound) > 0 {
		errs = append(errs, &UnboundError{Refs: p.unbound})
	}
	return errors.Join(errs...)
}
