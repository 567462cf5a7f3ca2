// Package pyfmt formats values as Python prints them, for templates and
// configuration values that Aurora's Python client turns into text.
package pyfmt

import (
	"math"
	"strconv"
)

// Float formats f like Python's repr(float): the shortest form that reads
// back as f, in scientific notation below 1e-4 and from 1e16 on, always
// with a decimal point otherwise; inf, -inf and nan for the special values.
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	var buf [32]byte
	return string(AppendFinite(buf[:0], f))
}

// AppendFinite appends Float(f) to b for a finite f (what Python's
// repr and json.dumps write alike); the caller writes the special values,
// which the two spell differently.
func AppendFinite(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		// Integral and exact in an int64: all digits plus ".0".
		if f == 0 && math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		b = strconv.AppendInt(b, int64(f), 10)
		return append(b, ".0"...)
	}
	abs := math.Abs(f)
	if abs < 1e-4 || abs >= 1e16 {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}
