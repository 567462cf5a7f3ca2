// Package pyfmt formats values as Python prints them, for templates and
// configuration values that Aurora's Python client turns into text.
package pyfmt

import (
	"math"
	"strconv"
	"strings"
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
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
