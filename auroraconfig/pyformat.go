package auroraconfig

import (
	"math/big"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// pyFormat is Python's format % args: %[(name)][flags][width][.precision]
// conversion, with the conversions d i o u x X e E f F g G c r s and %%.
func pyFormat(format string, args starlark.Value) (string, error) {
	var list starlark.Tuple
	var mapping starlark.Mapping
	switch a := args.(type) {
	case starlark.Tuple:
		list = a
	case *starlark.Dict:
		mapping = a
		list = starlark.Tuple{a}
	default:
		list = starlark.Tuple{a}
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", errorf("incomplete format: a %% at the end of the string")
		}
		var arg starlark.Value
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 || mapping == nil {
				return "", errorf("format requires a mapping: use 'fmt %% {\"name\": value}' with %%(name)s")
			}
			key := format[i+1 : i+end]
			v, found, err := mapping.Get(starlark.String(key))
			if err != nil {
				return "", err
			}
			if !found {
				return "", errorf("KeyError: %q is not in the format's mapping", key)
			}
			arg = v
			i += end + 1
		}
		// flags
		var minus, plus, space, zero, alt bool
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '-':
				minus = true
			case '+':
				plus = true
			case ' ':
				space = true
			case '0':
				zero = true
			case '#':
				alt = true
			default:
				break flags
			}
		}
		width := -1
		for start := i; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			width, _ = strconv.Atoi(format[start : i+1])
		}
		prec := -1
		if i < len(format) && format[i] == '.' {
			i++
			prec = 0
			for start := i; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
				prec, _ = strconv.Atoi(format[start : i+1])
			}
		}
		if i >= len(format) {
			return "", errorf("incomplete format")
		}
		if width > maxFormatWidth || prec > maxFormatWidth {
			return "", errorf("format width or precision above %d", maxFormatWidth)
		}
		conv := format[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if arg == nil {
			if next >= len(list) {
				return "", errorf("not enough arguments for format string")
			}
			arg = list[next]
			next++
		}
		var body, sign string
		switch conv {
		case 's':
			body = pyStr(arg)
			if prec >= 0 && prec < len(body) {
				body = body[:prec]
			}
		case 'r':
			body = arg.String()
		case 'c':
			switch v := arg.(type) {
			case starlark.String:
				body = string(v)
			case starlark.Int:
				n, _ := v.Int64()
				body = string(rune(n))
			}
		case 'd', 'i', 'u', 'o', 'x', 'X':
			n, err := formatInt(arg)
			if err != nil {
				return "", errorf("%%%c format: a number is required, not %s", conv, arg.Type())
			}
			if n.Sign() < 0 {
				sign = "-"
				n = new(big.Int).Neg(n)
			}
			switch conv {
			case 'o':
				body = n.Text(8)
				if alt {
					body = "0" + body
				}
			case 'x':
				body = n.Text(16)
				if alt {
					body = "0x" + body
				}
			case 'X':
				body = strings.ToUpper(n.Text(16))
				if alt {
					body = "0X" + body
				}
			default:
				body = n.Text(10)
			}
			if prec > len(body) {
				body = strings.Repeat("0", prec-len(body)) + body
			}
		case 'e', 'E', 'f', 'F', 'g', 'G':
			var x float64
			switch v := arg.(type) {
			case starlark.Float:
				x = float64(v)
			case starlark.Int:
				x = float64(v.Float())
			case starlark.Bool:
				if v {
					x = 1
				}
			default:
				return "", errorf("%%%c format: a number is required, not %s", conv, arg.Type())
			}
			if x < 0 {
				sign = "-"
				x = -x
			}
			if prec < 0 {
				prec = 6
			}
			verb := conv
			if verb == 'F' {
				verb = 'f'
			}
			if (verb == 'g' || verb == 'G') && prec == 0 {
				prec = 1
			}
			body = strconv.FormatFloat(x, verb, prec, 64)
			if verb == 'e' || verb == 'E' || verb == 'g' || verb == 'G' {
				body = pyExponent(body)
			}
		default:
			return "", errorf("unsupported format character '%c'", conv)
		}
		if sign == "" {
			switch {
			case plus && strings.ContainsRune("diueEfFgGoxX", rune(conv)):
				sign = "+"
			case space && strings.ContainsRune("diueEfFgGoxX", rune(conv)):
				sign = " "
			}
		}
		pad := width - len(sign) - len([]rune(body))
		switch {
		case pad <= 0:
			b.WriteString(sign + body)
		case minus:
			b.WriteString(sign + body + strings.Repeat(" ", pad))
		case zero && conv != 's' && conv != 'r' && conv != 'c':
			b.WriteString(sign + strings.Repeat("0", pad) + body)
		default:
			b.WriteString(strings.Repeat(" ", pad) + sign + body)
		}
	}
	if mapping == nil && next < len(list) {
		return "", errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// maxFormatWidth bounds widths and precisions, so that a format cannot ask
// for gigabytes.
const maxFormatWidth = 1 << 16

func formatInt(v starlark.Value) (*big.Int, error) {
	switch x := v.(type) {
	case starlark.Int:
		return x.BigInt(), nil
	case starlark.Float:
		return bigTrunc(float64(x)), nil
	case starlark.Bool:
		if x {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	}
	return nil, errorf("not a number")
}

// pyExponent writes Go's exponent (e+7) as Python does (e+07).
func pyExponent(s string) string {
	i := strings.IndexAny(s, "eE")
	if i < 0 || i+2 >= len(s) {
		return s
	}
	exp := s[i+2:]
	if len(exp) < 2 {
		exp = "0" + exp
	}
	return s[:i+2] + exp
}
