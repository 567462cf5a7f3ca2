package thermos

import (
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON scanner under Unmarshal: tokens, strings with every escape,
// numbers kept as literals (so that Integer fields tell 5 from 5.0 and
// reject 5.5), duplicate keys, nesting depth, and the JSON path of every
// error. encoding/json's Decoder.Token was measured at 13 times the time
// of this scanner on the 500-process golden payload (3.3 ms against
// 0.25 ms), beyond the speed Unmarshal must keep. The v2 Decoder
// (encoding/json/jsontext, tried through github.com/go-json-experiment/json
// v1.27.2 and Go 1.26's GOEXPERIMENT=jsonv2) under these same methods passed
// every test but cost 40 % more instructions per Unmarshal than this
// scanner, against a bound of 10 %.

type decoder struct {
	data []byte
	pos  int
	path pathStack
	err  error
	// scratch buffer for unescaping strings
	buf   []byte
	depth int
	// config is the whole job being read by UnmarshalConfig, nil when
	// reading a payload.
	config *Config
	// legacyHTTP collects health_check_config's legacy flat HTTP keys.
	legacyHTTP *HTTPHealthChecker
}

func (d *decoder) failAt(key string, err error) {
	if d.err == nil {
		d.err = d.path.errorAt(key, err)
	}
}

func (d *decoder) syntax(msg string) {
	if d.err != nil {
		return
	}
	d.err = &FieldError{Path: d.path.String(), Err: fmt.Errorf("%s at byte %d: %w", msg, d.pos, ErrSyntax)}
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// kindName names the JSON type starting with c, for error messages.
func kindName(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return "invalid JSON"
}

func (d *decoder) typeErr(want string) {
	c := d.peek()
	if c == 0 {
		d.syntax("unexpected end of input")
		return
	}
	if kindName(c) == "invalid JSON" {
		d.syntax("unexpected character")
		return
	}
	d.failAt("", fmt.Errorf("want %s, got %s: %w", want, kindName(c), ErrType))
}

// null consumes a null literal if one is next and reports whether it did.
func (d *decoder) null() bool {
	if d.peek() == 'n' {
		if d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "null" {
			d.pos += 4
			return true
		}
		d.syntax("invalid literal")
		return true
	}
	return false
}

// objectFields parses an object, calling field for every key with the
// decoder positioned at the value; field must consume the value (or set
// d.err). The key is pushed on the path while field runs. A key found in
// index is passed as its field number i and as names[i], allocating
// nothing; any other key as i = -1.
func (d *decoder) objectFields(index map[string]int, names []string, field func(i int, key string)) {
	if !d.begin('{', '}', "an object") {
		return
	}
	defer d.leave()
	for {
		if d.peek() != '"' {
			d.syntax("want an object key")
			return
		}
		i, key := d.key(index, names)
		if d.err != nil {
			return
		}
		if d.peek() != ':' {
			d.syntax("want ':' after object key")
			return
		}
		d.pos++
		d.ws()
		d.path.push(key)
		field(i, key)
		d.path.pop()
		if d.err != nil || !d.more('}', "want ',' or '}' in object") {
			return
		}
	}
}

// object parses an object whose keys are data (a map), calling field for
// every key as objectFields does. Duplicate keys are errors.
func (d *decoder) object(field func(key string)) {
	var seenBuf [24]string
	seen := seenBuf[:0]
	var seenMap map[string]struct{} // for large objects
	d.objectFields(nil, nil, func(_ int, key string) {
		dup := false
		if seenMap != nil {
			_, dup = seenMap[key]
			seenMap[key] = struct{}{}
		} else {
			dup = slices.Contains(seen, key)
			seen = append(seen, key)
			if len(seen) > len(seenBuf) {
				seenMap = make(map[string]struct{}, 2*len(seen))
				for _, s := range seen {
					seenMap[s] = struct{}{}
				}
			}
		}
		if dup {
			d.failAt("", ErrDuplicateField)
			return
		}
		field(key)
	})
}

// maxDepth bounds the nesting of objects and arrays, so that skipping a
// deeply nested value cannot exhaust the stack.
const maxDepth = 1000

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.syntax(fmt.Sprintf("nesting deeper than %d levels", maxDepth))
		return false
	}
	return true
}

func (d *decoder) leave() { d.depth-- }

// array parses an array, calling elem for every element with its index
// pushed on the path.
func (d *decoder) array(elem func(i int)) {
	if !d.begin('[', ']', "an array") {
		return
	}
	defer d.leave()
	for i := 0; ; i++ {
		d.ws()
		d.path.pushIdx(i)
		elem(i)
		d.path.pop()
		if d.err != nil || !d.more(']', "want ',' or ']' in array") {
			return
		}
	}
}

// begin opens an object or an array: it checks that open comes next (else
// a type error wanting what), enters one nesting level and consumes open.
// It reports whether a member follows, and then the caller must call
// d.leave when done; on false (an error, or an empty container, consumed
// whole) the caller has nothing left to do.
func (d *decoder) begin(open, close byte, what string) bool {
	if d.err != nil {
		return false
	}
	if d.peek() != open {
		d.typeErr(what)
		return false
	}
	if !d.enter() {
		return false
	}
	d.pos++
	if d.peek() == close {
		d.pos++
		d.leave()
		return false
	}
	return true
}

// more consumes what follows a member of an object or array: it reports
// true after a ',' (another member follows) and false after close or, with
// a syntax error worded msg, after anything else.
func (d *decoder) more(close byte, msg string) bool {
	switch d.peek() {
	case ',':
		d.pos++
		return true
	case close:
		d.pos++
		return false
	}
	d.syntax(msg)
	return false
}

// key parses an object key. A key of index comes back as its number and
// names' string, so that decoding allocates no string per key.
func (d *decoder) key(index map[string]int, names []string) (int, string) {
	if index != nil {
		end := d.pos + 1
		for end < len(d.data) && d.data[end] != '"' && d.data[end] != '\\' {
			end++
		}
		if end < len(d.data) && d.data[end] == '"' {
			// A linear search beats the map for objects of a few dozen
			// keys: most names differ in length or first byte.
			k := d.data[d.pos+1 : end]
			for i, n := range names {
				if len(n) == len(k) && n[0] == k[0] && n == string(k) {
					d.pos = end + 1
					return i, n
				}
			}
		}
	}
	k := d.rawString()
	if i, ok := index[k]; ok {
		return i, names[i]
	}
	return -1, k
}

// rawString parses a string token (the decoder is at its opening quote).
func (d *decoder) rawString() string {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes, valid ASCII.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	b := append(d.buf[:0], d.data[start:d.pos]...)
	for {
		if d.pos >= len(d.data) {
			d.syntax("unterminated string")
			return ""
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			return string(b)
		case c < 0x20:
			d.syntax("control character in string")
			return ""
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				d.syntax("unterminated string")
				return ""
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return ""
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						save := d.pos
						d.pos += 2
						var ok2 bool
						r2, ok2 = d.hex4()
						if !ok2 {
							return ""
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							continue
						}
						d.pos = save
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				d.syntax("invalid escape in string")
				return ""
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				d.syntax("invalid UTF-8 in string")
				return ""
			}
			b = append(b, d.data[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
}

func (d *decoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		d.syntax("short \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			d.syntax("invalid \\u escape")
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

// number scans a number token and returns its literal and whether it is a
// float literal (has '.', 'e' or 'E').
func (d *decoder) number() (string, bool) {
	start := d.pos
	isFloat := false
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	n := digits()
	if n == 0 || (n > 1 && d.data[intStart] == '0') {
		d.syntax("invalid number")
		return "", false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isFloat = true
		d.pos++
		if digits() == 0 {
			d.syntax("invalid number")
			return "", false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isFloat = true
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			d.syntax("invalid number")
			return "", false
		}
	}
	return string(d.data[start:d.pos]), isFloat
}

// skip consumes any JSON value.
func (d *decoder) skip() {
	switch c := d.peek(); {
	case c == '{':
		d.object(func(string) { d.skip() })
	case c == '[':
		d.array(func(int) { d.skip() })
	case c == '"':
		d.rawString()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		d.number()
	default:
		d.syntax("unexpected character")
	}
}

func (d *decoder) literal(lit string) {
	if d.pos+len(lit) <= len(d.data) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return
	}
	d.syntax("invalid literal")
}
