package thermos

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unsafe"
)

// The choice fields (Pystachio's Choice): a struct U with one pointer per
// alternative, of which exactly one is set. The JSON carries no type tag,
// so Unmarshal tells the alternatives apart by their keys, as Pystachio
// does, and Marshal writes the one alternative that is set. One codec,
// choice[U], does this for every choice from its table: the alternatives
// and the rules that tell them apart.

// choice is the codec of a choice U.
type choice[U any] struct {
	// alts are U's alternatives in the order of its fields.
	alts []alternative[U]
	// names is the alternatives' Go names for errors: "A, B or C".
	names string
	// rules tell, in order, which alternative an object is from its keys.
	rules []rule
	// unknown is the error's text when no rule holds.
	unknown string
}

// rule picks alts[alt] of a choice when when holds of the object's keys,
// or always if when is nil.
type rule struct {
	alt  int
	when func(keys []keyInfo) bool
}

// alternative is one alternative of a choice U.
type alternative[U any] struct {
	// name is its field's Go name in U; typ is the described struct
	// whose object stands for it.
	name string
	typ  reflect.Type
	// set reports whether u holds this alternative.
	set    func(u *U) bool
	encode func(e *encoder, b []byte, u *U) []byte
	// decode decodes the object at d's position as this alternative of
	// u, which holds U's zero value.
	decode func(d *decoder, u *U)
	// walk visits the alternative in u if it is set; its path is the
	// choice's.
	walk func(w *walker, u *U)
}

// pointerAlt is the alternative held in U as the *A that get returns, an
// object described by o.
func pointerAlt[U, A any](name string, get func(*U) **A, o *object[A]) alternative[U] {
	return alternative[U]{
		name:   name,
		typ:    reflect.TypeFor[A](),
		set:    func(u *U) bool { return *get(u) != nil },
		encode: func(e *encoder, b []byte, u *U) []byte { return o.encode(e, b, *get(u)) },
		decode: func(d *decoder, u *U) {
			a := new(A)
			o.setDefaults(a)
			o.decode(d, a)
			*get(u) = a
		},
		walk: func(w *walker, u *U) {
			if a := *get(u); a != nil {
				o.walk(w, unsafe.Pointer(a))
			}
		},
	}
}

// inlineAlt is the alternative whose object, described by o, is U itself
// (Container's deprecated docker= wrapper), held when set says so.
func inlineAlt[U any](name string, set func(*U) bool, o *object[U]) alternative[U] {
	return alternative[U]{
		name:   name,
		typ:    reflect.TypeFor[U](),
		set:    set,
		encode: func(e *encoder, b []byte, u *U) []byte { return o.encode(e, b, u) },
		decode: func(d *decoder, u *U) { o.decode(d, u) },
		walk: func(w *walker, u *U) {
			if set(u) {
				o.walk(w, unsafe.Pointer(u))
			}
		},
	}
}

// newChoice describes a choice: its alternatives in field order, the rules
// that tell them apart, and the error's text when none holds (unknown;
// unused when the last rule has no when).
func newChoice[U any](unknown string, rules []rule, alts ...alternative[U]) *choice[U] {
	names := make([]string, len(alts))
	for i, a := range alts {
		names[i] = a.name
	}
	return &choice[U]{
		alts:    alts,
		names:   strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1],
		rules:   rules,
		unknown: unknown,
	}
}

// has returns a rule's when that holds when the object has one of keys.
func has(keys ...string) func([]keyInfo) bool {
	return func(ks []keyInfo) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return hasKey(ks, k) })
	}
}

func (c *choice[U]) setDefaults(u *U) { var zero U; *u = zero }
func (c *choice[U]) needsFresh() bool { return false }
func (c *choice[U]) planOf() *plan    { return nil }
func (c *choice[U]) alternatives() []reflect.Type {
	ts := make([]reflect.Type, len(c.alts))
	for i, a := range c.alts {
		ts[i] = a.typ
	}
	return ts
}

func (c *choice[U]) walk(w *walker, p unsafe.Pointer) {
	u := (*U)(p)
	for i := range c.alts {
		c.alts[i].walk(w, u)
	}
}

// encode writes the alternative that is set; none or several is an error.
func (c *choice[U]) encode(e *encoder, b []byte, u *U) []byte {
	n, which := 0, 0
	for i := range c.alts {
		if c.alts[i].set(u) {
			n, which = n+1, i
		}
	}
	switch n {
	case 1:
		return c.alts[which].encode(e, b, u)
	case 0:
		e.fail("", fmt.Errorf("no alternative set: set one of %s: %w", c.names, ErrInvalid))
	default:
		e.fail("", fmt.Errorf("%d alternatives set: set exactly one of %s: %w", n, c.names, ErrInvalid))
	}
	return append(b, "{}"...)
}

// decode decodes the object at d's position as the alternative the first
// rule that holds of its keys picks.
func (c *choice[U]) decode(d *decoder, u *U) {
	if d.peek() != '{' {
		d.typeErr("an object")
		return
	}
	keys := d.peekKeys()
	if d.err != nil {
		return
	}
	for _, r := range c.rules {
		if r.when == nil || r.when(keys) {
			c.alts[r.alt].decode(d, u)
			return
		}
	}
	d.failAt("", fmt.Errorf("%s: %w", c.unknown, ErrInvalid))
}

// slaChoice is SLAPolicy: PercentageSlaPolicy, CountSlaPolicy or
// CoordinatorSlaPolicy.
var slaChoice = newChoice(
	`cannot tell the SLA policy kind: want a "percentage", "count" or "coordinator_url" key`,
	[]rule{{0, has("percentage")}, {1, has("count")}, {2, has("coordinator_url", "status_key")}},
	pointerAlt("Percentage", func(s *SLAPolicy) **PercentageSLAPolicy { return &s.Percentage }, percentageSLASchema),
	pointerAlt("Count", func(s *SLAPolicy) **CountSLAPolicy { return &s.Count }, countSLASchema),
	pointerAlt("Coordinator", func(s *SLAPolicy) **CoordinatorSLAPolicy { return &s.Coordinator }, coordinatorSLASchema),
)

// containerChoice is Container: Docker, Mesos, or the deprecated
// Container(docker=Docker(...)) wrapper.
var containerChoice = newChoice("",
	[]rule{
		{2, has("docker")},
		{0, func(keys []keyInfo) bool { return hasKey(keys, "parameters") || firstByte(keys, "image") == '"' }},
		{1, nil},
	},
	pointerAlt("Docker", func(c *Container) **Docker { return &c.Docker }, dockerSchema),
	pointerAlt("Mesos", func(c *Container) **Mesos { return &c.Mesos }, mesosSchema),
	inlineAlt("LegacyDocker", func(c *Container) bool { return c.LegacyDocker != nil }, legacyDockerSchema),
)

// imageChoice is a Mesos container's Image: DockerImage or AppcImage.
var imageChoice = newChoice(
	`cannot tell the image kind: want a "tag" (DockerImage) or "image_id" (AppcImage) key`,
	[]rule{{0, has("tag")}, {1, has("image_id")}},
	pointerAlt("Docker", func(i *Image) **DockerImage { return &i.Docker }, dockerImageSchema),
	pointerAlt("Appc", func(i *Image) **AppcImage { return &i.Appc }, appcImageSchema),
)

// updateStrategyChoice is update_config's UpdateStrategy: Queue, Batch or
// VariableBatch.
var updateStrategyChoice = newChoice("",
	[]rule{{2, has("batch_sizes")}, {1, has("autopause_after_batch")}, {0, nil}},
	pointerAlt("Queue", func(s *UpdateStrategy) **QueueUpdateStrategy { return &s.Queue }, queueStrategySchema),
	pointerAlt("Batch", func(s *UpdateStrategy) **BatchUpdateStrategy { return &s.Batch }, batchStrategySchema),
	pointerAlt("VariableBatch", func(s *UpdateStrategy) **VariableBatchUpdateStrategy { return &s.VariableBatch }, variableBatchStrategySchema),
)
