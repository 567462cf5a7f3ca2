package thermos

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The value readers under the codec: one JSON value of a field's kind at
// the decoder's position (strings, Integer, Float and Boolean fields with
// their {{template}} strings, string maps), and the look-ahead at an
// object's keys that the choices use. scan.go holds the tokenizer.

// str parses a String field. Numbers are not accepted (Aurora's client
// always writes strings).
func (d *decoder) str() string {
	if d.peek() != '"' {
		d.typeErr("a string")
		return ""
	}
	return d.rawString()
}

// template handles a string in a non-string field: it must hold "{{".
func (d *decoder) template(t *Templates, name, want string) bool {
	if d.peek() != '"' {
		return false
	}
	s := d.rawString()
	if d.err != nil {
		return true
	}
	if !strings.Contains(s, "{{") {
		d.failAt("", fmt.Errorf("want %s or a {{template}}, got the string %q: %w", want, s, ErrType))
		return true
	}
	if *t == nil {
		*t = Templates{}
	}
	(*t)[name] = s
	return true
}

// integer parses an Integer field into an int64 within [lo, hi].
func (d *decoder) integer(t *Templates, name string, lo, hi int64) (int64, bool) {
	if t != nil && d.template(t, name, "an integer") {
		return 0, false
	}
	c := d.peek()
	if !(c == '-' || c >= '0' && c <= '9') {
		d.typeErr("an integer")
		return 0, false
	}
	lit, isFloat := d.number()
	if d.err != nil {
		return 0, false
	}
	if isFloat {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			d.failAt("", fmt.Errorf("want an integer, got %s: %w", lit, ErrInvalid))
			return 0, false
		}
		return int64(f), true
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || v < lo || v > hi {
		d.failAt("", fmt.Errorf("integer %s out of range [%d, %d]: %w", lit, lo, hi, ErrInvalid))
		return 0, false
	}
	return v, true
}

func (d *decoder) intField(dst *int, t *Templates, name string) {
	if v, ok := d.integer(t, name, math.MinInt, math.MaxInt); ok {
		*dst = int(v)
	}
}

func (d *decoder) int64Field(dst *int64, t *Templates, name string) {
	if v, ok := d.integer(t, name, math.MinInt64, math.MaxInt64); ok {
		*dst = v
	}
}

func (d *decoder) floatField(dst *float64, t *Templates, name string) {
	if t != nil && d.template(t, name, "a number") {
		return
	}
	c := d.peek()
	if !(c == '-' || c >= '0' && c <= '9') {
		d.typeErr("a number")
		return
	}
	lit, _ := d.number()
	if d.err != nil {
		return
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		d.failAt("", fmt.Errorf("number %s out of range: %w", lit, ErrInvalid))
		return
	}
	*dst = f
}

func (d *decoder) boolField(dst *bool, t *Templates, name string) {
	if t != nil && d.template(t, name, "a boolean") {
		return
	}
	switch d.peek() {
	case 't':
		d.literal("true")
		*dst = true
	case 'f':
		d.literal("false")
		*dst = false
	default:
		d.typeErr("a boolean")
	}
}

func (d *decoder) stringMap() map[string]string {
	m := map[string]string{}
	d.object(func(k string) {
		m[k] = d.str()
	})
	return m
}

// unknown reports the key being decoded (already on the path) as unknown.
func (d *decoder) unknown() {
	d.failAt("", ErrUnknownField)
}

var errNotPayload = errors.New("not part of a Thermos payload (Aurora's client removes it); read a whole job with UnmarshalConfig")

// keyInfo is a key of an object seen ahead of decoding, with the first
// byte of its value.
type keyInfo struct {
	key   string
	first byte
}

// peekKeys returns the keys of the object at the current position without
// consuming it.
func (d *decoder) peekKeys() []keyInfo {
	save := d.pos
	var keys []keyInfo
	d.object(func(k string) {
		keys = append(keys, keyInfo{k, d.peek()})
		d.skip()
	})
	d.pos = save
	return keys
}

// hasKey reports whether keys has k.
func hasKey(keys []keyInfo, k string) bool { return firstByte(keys, k) != 0 }

// firstByte returns the first byte of k's value, 0 if keys has no k.
func firstByte(keys []keyInfo, k string) byte {
	for _, ki := range keys {
		if ki.key == k {
			return ki.first
		}
	}
	return 0
}
