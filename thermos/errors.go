package thermos

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, wrapped in a *FieldError by Marshal and Unmarshal; test
// for them with errors.Is.
var (
	// ErrSyntax reports malformed JSON.
	ErrSyntax = errors.New("malformed JSON")
	// ErrUnknownField reports a key the schema does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateField reports a key written twice in one object.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrRequired reports a required field that is missing.
	ErrRequired = errors.New("required field missing")
	// ErrType reports a value of the wrong JSON type.
	ErrType = errors.New("wrong type")
	// ErrInvalid reports a value the schema does not allow (a number out of
	// range, NaN, a choice with no or several alternatives set).
	ErrInvalid = errors.New("invalid value")
)

// FieldError is the error Marshal and Unmarshal return: what went wrong
// (Err, wrapping one of the sentinel errors) and where, as a JSON path such as
// "task.processes[2].max_failures" ("" for the document itself).
type FieldError struct {
	// Path is the JSON path of the offending value.
	Path string
	// Err says what is wrong; errors.Is(err, ErrUnknownField) etc. hold.
	Err error
}

// Error implements error: "thermos: <path>: <err>".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return "thermos: " + e.Err.Error()
	}
	return "thermos: " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *FieldError) Unwrap() error { return e.Err }

// pathElem is one step of a JSON path: an object key, or an array index
// when key is "" and idx >= 0.
type pathElem struct {
	key string
	idx int
}

// pathStack is the current JSON path, kept as a stack so that the happy path
// never builds strings.
type pathStack []pathElem

func (p *pathStack) push(key string) { *p = append(*p, pathElem{key: key, idx: -1}) }
func (p *pathStack) pushIdx(i int)   { *p = append(*p, pathElem{idx: i}) }
func (p *pathStack) pop()            { *p = (*p)[:len(*p)-1] }

// errorAt returns err at the path, or at its child key when key is not "".
func (p *pathStack) errorAt(key string, err error) *FieldError {
	if key != "" {
		p.push(key)
	}
	fe := &FieldError{Path: p.String(), Err: err}
	if key != "" {
		p.pop()
	}
	return fe
}

func (p pathStack) String() string {
	var b strings.Builder
	for _, e := range p {
		if e.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if isPlainKey(e.key) {
			b.WriteString(e.key)
		} else {
			b.WriteString(strconv.Quote(e.key))
		}
	}
	return b.String()
}

func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
