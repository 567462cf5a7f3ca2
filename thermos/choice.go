package thermos

import (
	"fmt"
	"reflect"
	"unsafe"
)

// The choice fields (Pystachio's Choice): the JSON carries no type tag, so
// Unmarshal tells the alternatives apart by their keys, as Pystachio does,
// and Marshal writes the one alternative that is set.

// choiceError reports a choice with n alternatives set instead of one.
func (e *encoder) choiceError(n int, alternatives string) {
	if n == 0 {
		e.fail("", fmt.Errorf("no alternative set: set one of %s: %w", alternatives, ErrInvalid))
	} else {
		e.fail("", fmt.Errorf("%d alternatives set: set exactly one of %s: %w", n, alternatives, ErrInvalid))
	}
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// alternative decodes one alternative of a choice into a new *U.
func alternative[U any](d *decoder, o *object[U]) *U {
	u := new(U)
	o.setDefaults(u)
	o.decode(d, u)
	return u
}

// walkAlt walks the alternative u of a choice, if set; its path is the
// choice's.
func walkAlt[U any](w *walker, o *object[U], u *U) {
	if u != nil {
		o.walk(w, unsafe.Pointer(u))
	}
}

// keysAhead returns the keys of the object at the decoder's position and
// whether it is an object at all (if not, d.err says so).
func keysAhead(d *decoder) ([]keyInfo, bool) {
	if d.peek() != '{' {
		d.typeErr("an object")
		return nil, false
	}
	keys := d.peekKeys()
	return keys, d.err == nil
}

// slaChoice is SLAPolicy: PercentageSlaPolicy, CountSlaPolicy or
// CoordinatorSlaPolicy.
type slaChoice struct{}

func (slaChoice) setDefaults(u *SLAPolicy) { *u = SLAPolicy{} }
func (slaChoice) needsFresh() bool         { return false }
func (slaChoice) planOf() *plan            { return nil }
func (slaChoice) alternatives() []reflect.Type {
	return []reflect.Type{reflect.TypeFor[PercentageSLAPolicy](), reflect.TypeFor[CountSLAPolicy](), reflect.TypeFor[CoordinatorSLAPolicy]()}
}
func (slaChoice) walk(w *walker, p unsafe.Pointer) {
	s := (*SLAPolicy)(p)
	walkAlt(w, percentageSLASchema, s.Percentage)
	walkAlt(w, countSLASchema, s.Count)
	walkAlt(w, coordinatorSLASchema, s.Coordinator)
}

func (slaChoice) encode(e *encoder, b []byte, s *SLAPolicy) []byte {
	switch n := count(s.Percentage != nil, s.Count != nil, s.Coordinator != nil); {
	case n != 1:
		e.choiceError(n, "Percentage, Count or Coordinator")
		return append(b, "{}"...)
	case s.Percentage != nil:
		return percentageSLASchema.encode(e, b, s.Percentage)
	case s.Count != nil:
		return countSLASchema.encode(e, b, s.Count)
	default:
		return coordinatorSLASchema.encode(e, b, s.Coordinator)
	}
}

func (slaChoice) decode(d *decoder, s *SLAPolicy) {
	keys, ok := keysAhead(d)
	if !ok {
		return
	}
	switch {
	case hasKey(keys, "percentage"):
		s.Percentage = alternative(d, percentageSLASchema)
	case hasKey(keys, "count"):
		s.Count = alternative(d, countSLASchema)
	case hasKey(keys, "coordinator_url") || hasKey(keys, "status_key"):
		s.Coordinator = alternative(d, coordinatorSLASchema)
	default:
		d.failAt("", fmt.Errorf("cannot tell the SLA policy kind: want a \"percentage\", \"count\" or \"coordinator_url\" key: %w", ErrInvalid))
	}
}

// containerChoice is Container: Docker, Mesos, or the deprecated
// Container(docker=Docker(...)) wrapper.
type containerChoice struct{}

func (containerChoice) setDefaults(u *Container) { *u = Container{} }
func (containerChoice) needsFresh() bool         { return false }
func (containerChoice) planOf() *plan            { return nil }
func (containerChoice) alternatives() []reflect.Type {
	return []reflect.Type{reflect.TypeFor[Docker](), reflect.TypeFor[Mesos](), reflect.TypeFor[Container]()}
}
func (containerChoice) walk(w *walker, p unsafe.Pointer) {
	c := (*Container)(p)
	walkAlt(w, dockerSchema, c.Docker)
	walkAlt(w, mesosSchema, c.Mesos)
	if c.LegacyDocker != nil {
		legacyDockerSchema.walk(w, p)
	}
}

func (containerChoice) encode(e *encoder, b []byte, c *Container) []byte {
	switch n := count(c.Docker != nil, c.Mesos != nil, c.LegacyDocker != nil); {
	case n != 1:
		e.choiceError(n, "Docker, Mesos or LegacyDocker")
		return append(b, "{}"...)
	case c.Docker != nil:
		return dockerSchema.encode(e, b, c.Docker)
	case c.LegacyDocker != nil:
		return legacyDockerSchema.encode(e, b, c)
	default:
		return mesosSchema.encode(e, b, c.Mesos)
	}
}

func (containerChoice) decode(d *decoder, c *Container) {
	keys, ok := keysAhead(d)
	if !ok {
		return
	}
	switch {
	case hasKey(keys, "docker"):
		legacyDockerSchema.decode(d, c)
	case hasKey(keys, "parameters") || firstByte(keys, "image") == '"':
		c.Docker = alternative(d, dockerSchema)
	default:
		c.Mesos = alternative(d, mesosSchema)
	}
}

// imageChoice is a Mesos container's Image: DockerImage or AppcImage.
type imageChoice struct{}

func (imageChoice) setDefaults(u *Image) { *u = Image{} }
func (imageChoice) needsFresh() bool     { return false }
func (imageChoice) planOf() *plan        { return nil }
func (imageChoice) alternatives() []reflect.Type {
	return []reflect.Type{reflect.TypeFor[DockerImage](), reflect.TypeFor[AppcImage]()}
}
func (imageChoice) walk(w *walker, p unsafe.Pointer) {
	img := (*Image)(p)
	walkAlt(w, dockerImageSchema, img.Docker)
	walkAlt(w, appcImageSchema, img.Appc)
}

func (imageChoice) encode(e *encoder, b []byte, img *Image) []byte {
	switch n := count(img.Docker != nil, img.Appc != nil); {
	case n != 1:
		e.choiceError(n, "Docker or Appc")
		return append(b, "{}"...)
	case img.Docker != nil:
		return dockerImageSchema.encode(e, b, img.Docker)
	default:
		return appcImageSchema.encode(e, b, img.Appc)
	}
}

func (imageChoice) decode(d *decoder, img *Image) {
	keys, ok := keysAhead(d)
	if !ok {
		return
	}
	switch {
	case hasKey(keys, "tag"):
		img.Docker = alternative(d, dockerImageSchema)
	case hasKey(keys, "image_id"):
		img.Appc = alternative(d, appcImageSchema)
	default:
		d.failAt("", fmt.Errorf("cannot tell the image kind: want a \"tag\" (DockerImage) or \"image_id\" (AppcImage) key: %w", ErrInvalid))
	}
}

// updateStrategyChoice is update_config's UpdateStrategy: Queue, Batch or
// VariableBatch.
type updateStrategyChoice struct{}

func (updateStrategyChoice) setDefaults(u *UpdateStrategy) { *u = UpdateStrategy{} }
func (updateStrategyChoice) needsFresh() bool              { return false }
func (updateStrategyChoice) planOf() *plan                 { return nil }
func (updateStrategyChoice) alternatives() []reflect.Type {
	return []reflect.Type{reflect.TypeFor[QueueUpdateStrategy](), reflect.TypeFor[BatchUpdateStrategy](), reflect.TypeFor[VariableBatchUpdateStrategy]()}
}
func (updateStrategyChoice) walk(w *walker, p unsafe.Pointer) {
	s := (*UpdateStrategy)(p)
	walkAlt(w, queueStrategySchema, s.Queue)
	walkAlt(w, batchStrategySchema, s.Batch)
	walkAlt(w, variableBatchStrategySchema, s.VariableBatch)
}

func (updateStrategyChoice) encode(e *encoder, b []byte, s *UpdateStrategy) []byte {
	switch n := count(s.Queue != nil, s.Batch != nil, s.VariableBatch != nil); {
	case n != 1:
		e.choiceError(n, "Queue, Batch or VariableBatch")
		return append(b, "{}"...)
	case s.Queue != nil:
		return queueStrategySchema.encode(e, b, s.Queue)
	case s.Batch != nil:
		return batchStrategySchema.encode(e, b, s.Batch)
	default:
		return variableBatchStrategySchema.encode(e, b, s.VariableBatch)
	}
}

func (updateStrategyChoice) decode(d *decoder, s *UpdateStrategy) {
	keys, ok := keysAhead(d)
	if !ok {
		return
	}
	switch {
	case hasKey(keys, "batch_sizes"):
		s.VariableBatch = alternative(d, variableBatchStrategySchema)
	case hasKey(keys, "autopause_after_batch"):
		s.Batch = alternative(d, batchStrategySchema)
	default:
		s.Queue = alternative(d, queueStrategySchema)
	}
}
