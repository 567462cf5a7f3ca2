// Package jsoncmp compares JSON documents as parsed values, for tests.
//
// Unlike assert.JSONEq it tells integers from floats: numbers are decoded
// with json.Decoder.UseNumber and a number written with a decimal point or an
// exponent (1.0, 1e-05) is a float, any other number an integer, so 1 and 1.0
// differ while 1.0 and 1.00 or 1e-05 and 0.00001 are equal. Object key order
// and insignificant whitespace never matter. Named lists can be compared as
// multisets (Multiset), for lists whose order the producer does not fix.
//
// Diff returns a readable report, one difference per line, each starting
// with the JSON path of the difference (task.processes[3].name). Do not
// depend on the exact wording of the report.
package jsoncmp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
)

// Option changes how Diff compares.
type Option struct {
	multiset []string
}

// Multiset makes Diff compare the lists at the given paths as multisets:
// element order is ignored, multiplicity is not. A path is written as Diff
// reports it, without array indices for the list itself, e.g.
// "task.processes" or "task.constraints". A path also matches lists nested
// in arrays when the indices are left out ("jobs.task.processes" matches
// jobs[2].task.processes).
func Multiset(paths ...string) Option {
	return Option{multiset: paths}
}

type config struct {
	multiset map[string]bool
}

// Decode parses one JSON document keeping number literals as json.Number.
// Trailing data after the document is an error.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("jsoncmp: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("jsoncmp: decode: trailing data after the JSON document")
	}
	return v, nil
}

// Diff compares two JSON documents and returns "" when they are equal, or a
// report of every difference, one per line, each naming its JSON path
// ("$" is the root). It fails only if a document is not valid JSON.
func Diff(want, got []byte, opts ...Option) (string, error) {
	w, err := Decode(want)
	if err != nil {
		return "", fmt.Errorf("want: %w", err)
	}
	g, err := Decode(got)
	if err != nil {
		return "", fmt.Errorf("got: %w", err)
	}
	return DiffValues(w, g, opts...), nil
}

// DiffValues is Diff for values already decoded with Decode.
func DiffValues(want, got any, opts ...Option) string {
	c := config{multiset: map[string]bool{}}
	for _, o := range opts {
		for _, p := range o.multiset {
			c.multiset[p] = true
		}
	}
	var out []string
	c.diff(&out, "", "", want, got)
	return strings.Join(out, "\n")
}

// TB is the part of testing.TB that Equal uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Equal reports a test error with the diff (-want +got) when the two JSON
// documents differ, and returns whether they are equal.
func Equal(t TB, want, got []byte, opts ...Option) bool {
	t.Helper()
	d, err := Diff(want, got, opts...)
	if err != nil {
		t.Errorf("jsoncmp: %v", err)
		return false
	}
	if d != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", d)
		return false
	}
	return true
}

func show(p string) string {
	if p == "" {
		return "$"
	}
	return p
}

func join(p, key string) string {
	if p == "" {
		return key
	}
	return p + "." + key
}

// diff appends differences; path is the display path, spath the path without
// array indices (for Multiset matching).
func (c *config) diff(out *[]string, path, spath string, want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want object, got %s", show(path), Render(got)))
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			wv, win := w[k]
			gv, gin := g[k]
			p := join(path, k)
			switch {
			case !gin:
				*out = append(*out, fmt.Sprintf("%s: missing, want %s", p, Render(wv)))
			case !win:
				*out = append(*out, fmt.Sprintf("%s: unexpected, got %s", p, Render(gv)))
			default:
				c.diff(out, p, join(spath, k), wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want array, got %s", show(path), Render(got)))
			return
		}
		if c.multiset[spath] {
			c.diffMultiset(out, path, w, g)
			return
		}
		n := min(len(w), len(g))
		for i := 0; i < n; i++ {
			c.diff(out, fmt.Sprintf("%s[%d]", path, i), spath, w[i], g[i])
		}
		for i := n; i < len(w); i++ {
			*out = append(*out, fmt.Sprintf("%s[%d]: missing, want %s", path, i, Render(w[i])))
		}
		for i := n; i < len(g); i++ {
			*out = append(*out, fmt.Sprintf("%s[%d]: unexpected, got %s", path, i, Render(g[i])))
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", show(path), w, Render(got)))
			return
		}
		if !numbersEqual(w, g) {
			*out = append(*out, fmt.Sprintf("%s: want %s (%s), got %s (%s)", show(path), w, kind(w), g, kind(g)))
		}
	default:
		if !scalarEqual(want, got) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", show(path), Render(want), Render(got)))
		}
	}
}

func (c *config) diffMultiset(out *[]string, path string, want, got []any) {
	count := map[string]int{}
	for _, v := range want {
		count[Render(v)]++
	}
	for _, v := range got {
		count[Render(v)]--
	}
	keys := make([]string, 0, len(count))
	for k, n := range count {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := count[k]
		if n > 0 {
			*out = append(*out, fmt.Sprintf("%s (multiset): missing %d× %s", show(path), n, k))
		} else {
			*out = append(*out, fmt.Sprintf("%s (multiset): unexpected %d× %s", show(path), -n, k))
		}
	}
}

func scalarEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	}
	return false
}

// IsFloat reports whether a number literal is a float: it has a decimal
// point or an exponent.
func IsFloat(n json.Number) bool {
	return strings.ContainsAny(string(n), ".eE")
}

func kind(n json.Number) string {
	if IsFloat(n) {
		return "float"
	}
	return "int"
}

func numbersEqual(a, b json.Number) bool {
	if IsFloat(a) != IsFloat(b) {
		return false
	}
	if a == b {
		return true
	}
	if IsFloat(a) {
		x, err1 := strconv.ParseFloat(string(a), 64)
		y, err2 := strconv.ParseFloat(string(b), 64)
		return err1 == nil && err2 == nil && x == y
	}
	x, ok1 := new(big.Int).SetString(string(a), 10)
	y, ok2 := new(big.Int).SetString(string(b), 10)
	return ok1 && ok2 && x.Cmp(y) == 0
}

// Render writes a decoded value as compact JSON with sorted keys, keeping
// number literals as written. Equal values (in Diff's sense, without
// Multiset) render alike except for float spelling.
func Render(v any) string {
	var b strings.Builder
	render(&b, v)
	return b.String()
}

func render(b *strings.Builder, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := mapkeys.Sorted(v)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			render(b, v[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			render(b, e)
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(normNumber(v))
	default:
		q, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintf(b, "%v", v)
			return
		}
		b.Write(q)
	}
}

// normNumber spells a number canonically so that equal numbers render alike
// (needed for multiset matching), keeping its kind.
func normNumber(n json.Number) string {
	if IsFloat(n) {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return string(n)
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s
	}
	x, ok := new(big.Int).SetString(string(n), 10)
	if !ok {
		return string(n)
	}
	return x.String()
}
