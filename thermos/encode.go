package thermos

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nixrealis/nixrealis/internal/mapkeys"
	"github.com/nixrealis/nixrealis/internal/pyfmt"
)

// Marshal returns the Thermos payload for j exactly as Aurora's client
// writes it (executorConfig.data): every defaulted field present, optional
// fields only when set, Float fields with a decimal point or exponent as
// Python's repr writes them (1.0, 0.25, 1e-05), Integer fields without, and
// Python's json.dumps byte style: ", " and ": " separators, every non-ASCII
// character as a \uXXXX escape (surrogate pairs beyond the BMP), "<>&/"
// unescaped. Object keys are sorted; nothing depends on key order.
//
// A nil Metadata, Task.Constraints, Task.Processes, Docker.Parameters or
// Mesos.Volumes is written as [], a nil Announcer.Portmap as Aurora's
// default {"aurora": PrimaryPort}. An entry in a Templates map is written
// in place of its field's value.
//
// Marshal fails, with a *FieldError naming the field, on a NaN or infinite
// float, a choice (Container, SLAPolicy, Image) with no or several
// alternatives set, or a Templates entry that names no field of its struct or
// holds no "{{".
func Marshal(j *Job) ([]byte, error) {
	if j == nil {
		return Append(nil, j)
	}
	b, err := Append(make([]byte, 0, 2048+256*len(j.Task.Processes)), j)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Append appends the payload Marshal would return to dst and returns the
// extended slice. On error it returns dst unchanged.
func Append(dst []byte, j *Job) ([]byte, error) {
	if j == nil {
		return dst, &FieldError{Err: fmt.Errorf("nil Job: %w", ErrInvalid)}
	}
	var e encoder
	e.path = e.pathBuf[:0]
	b := jobSchema.encode(&e, dst, j)
	if e.err != nil {
		return dst, e.err
	}
	return b, nil
}

type encoder struct {
	path    pathStack
	pathBuf [8]pathElem
	err     error
}

func (e *encoder) fail(key string, err error) {
	if e.err == nil {
		e.err = e.path.errorAt(key, err)
	}
}

// checkTemplates verifies that every key of t is one of the struct's
// non-string fields and that every value is a template.
func (e *encoder) checkTemplates(t Templates, fields []string) {
	if len(t) == 0 || e.err != nil {
		return
	}
	for k, v := range t {
		known := false
		for _, f := range fields {
			if f == k {
				known = true
				break
			}
		}
		if !known {
			e.fail("", fmt.Errorf("Templates[%q]: no such non-string field (want one of %s): %w",
				k, strings.Join(fields, ", "), ErrInvalid))
			return
		}
		if !strings.Contains(v, "{{") {
			e.fail(k, fmt.Errorf("template %q holds no {{...}} reference; set the field's value instead: %w", v, ErrInvalid))
			return
		}
	}
}

// appendFloat appends f as Python's repr writes a float: the shortest
// representation that round-trips, always with a decimal point or an
// exponent ("1.0", "0.25", "1e-05", "1e+16"; pyfmt.AppendFinite). NaN
// and infinities are written as json.dumps does (NaN, Infinity,
// -Infinity), which is not JSON;
// Marshal rejects them before.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return pyfmt.AppendFinite(b, f)
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes Python's json.dumps writes as they are:
// printable ASCII except '"' and '\\'. It is never modified.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// shortEscape maps the bytes json.dumps writes as a two-character escape
// (" \ \n \r \t \b \f) to the letter after the backslash; 0 for every
// other byte. It is never modified.
var shortEscape = [256]byte{'"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f'}

// appendString appends s as a JSON string the way Python 2's json.dumps
// writes it with ensure_ascii: printable ASCII as is (including <, >, &, /),
// short escapes for " \ \n \r \t \b \f, everything else (DEL, other control
// characters, non-ASCII) as \uXXXX with lowercase hex digits and surrogate
// pairs beyond the BMP. Invalid UTF-8 is written as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if e := shortEscape[c]; e != 0 {
			b = append(b, '\\', e)
			i++
		} else {
			r, size := rune(c), 1
			if c >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			i += size
			if r > 0xffff {
				r1, r2 := surrogates(r)
				b = appendU(b, r1)
				b = appendU(b, r2)
			} else {
				b = appendU(b, r)
			}
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	keys := mapkeys.Sorted(m)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendString(b, k)
		b = append(b, ": "...)
		b = appendString(b, m[k])
	}
	b = append(b, '}')
	return b
}

// MarshalConfig writes a whole job object (see Config): the payload's fields
// plus "instances" and "update_config", as Aurora's --read-json and
// nix-aurora's config.json carry them. UnmarshalConfig reads it back.
func MarshalConfig(c *Config) ([]byte, error) {
	if c == nil || c.Job == nil {
		return nil, &FieldError{Err: fmt.Errorf("nil Config or Config.Job: %w", ErrInvalid)}
	}
	b, err := Marshal(c.Job)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // reopen the top-level object
	b = append(b, `, "instances": `...)
	b = strconv.AppendInt(b, int64(c.Instances), 10)
	b = append(b, `, "update_config": `...)
	var e encoder
	e.path = e.pathBuf[:0]
	e.path.push("update_config")
	b = updateConfigSchema.encode(&e, b, &c.UpdateConfig)
	if e.err != nil {
		return nil, e.err
	}
	return append(b, '}'), nil
}
