package auroraconfig

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// The Python that .aurora files use and Starlark lacks is translated before
// parsing, keeping every line where it was (and every column, except on a
// translated class or import line), so that positions in errors are the
// file's own:
//
//   - class Name(Base):  becomes  def Name(__base__=Base):  and the
//     resulting definition is turned into a Struct class (see rewrite.go);
//   - import os, from M import a, b  become Starlark load statements;
//   - u'...' and ur'...' lose their u (Starlark strings are Unicode).

// classLine is "class Name(Base):" at the start of a line; the body follows.
var classLine = regexp.MustCompile(`^([ \t]*)class[ \t]+([A-Za-z_]\w*)[ \t]*(?:\((.*)\))?[ \t]*:(.*)$`)

// importLine is "import a, b" or "from m import a, b".
var (
	importLine = regexp.MustCompile(`^([ \t]*)import[ \t]+(.+?)[ \t]*(#.*)?$`)
	fromLine   = regexp.MustCompile(`^([ \t]*)from[ \t]+(\S+)[ \t]+import[ \t]+(.+?)[ \t]*(#.*)?$`)
	identRe    = regexp.MustCompile(`^[A-Za-z_]\w*$`)
)

// translated is a source ready for the Starlark parser.
type translated struct {
	src     []byte
	classes map[int]bool // lines holding a translated class header
	synth   map[synthPos]string
	// problems are Python constructs reported at their position.
	problems []*Error
}

// translate rewrites src (see above). Lines inside strings are left alone.
func translate(filename string, src []byte) *translated {
	t := &translated{classes: make(map[int]bool)}
	lines := strings.SplitAfter(string(src), "\n")
	var out strings.Builder
	out.Grow(len(src) + 64)
	var st scanState
	for i, line := range lines {
		lineNo := i + 1
		if st.inTriple == 0 && st.depth == 0 && !st.continued {
			line = t.translateLine(filename, lineNo, line)
		}
		st.line = lineNo
		out.WriteString(st.scan(line))
	}
	t.src = []byte(out.String())
	t.synth = st.synth
	return t
}

func (t *translated) translateLine(filename string, lineNo int, line string) string {
	body, nl := strings.CutSuffix(line, "\n")
	body = strings.TrimSuffix(body, "\r")
	if m := classLine.FindStringSubmatch(body); m != nil {
		base := strings.TrimSpace(m[3])
		if base == "" {
			base = "Struct"
		}
		t.classes[lineNo] = true
		return m[1] + "def " + m[2] + "(__base__=" + base + "):" + m[4] + newline(nl)
	}
	if m := fromLine.FindStringSubmatch(body); m != nil {
		var args []string
		for _, n := range strings.Split(strings.Trim(m[3], "()"), ",") {
			n = strings.TrimSpace(n)
			if !identRe.MatchString(n) {
				t.problems = append(t.problems, &Error{Pos: Position{filename, lineNo, len(m[1]) + 1},
					Msg: "unsupported import: only 'import os' and 'from os import NAME' are available in .aurora files"})
				return newline(nl)
			}
			args = append(args, `"`+n+`"`)
		}
		return m[1] + `load("` + m[2] + `", ` + strings.Join(args, ", ") + ")" + comment(m[4]) + newline(nl)
	}
	if m := importLine.FindStringSubmatch(body); m != nil {
		var stmts []string
		for _, n := range strings.Split(m[2], ",") {
			n = strings.TrimSpace(n)
			if !identRe.MatchString(n) {
				t.problems = append(t.problems, &Error{Pos: Position{filename, lineNo, len(m[1]) + 1},
					Msg: "unsupported import " + n + ": only 'import os' is available in .aurora files"})
				return newline(nl)
			}
			stmts = append(stmts, `load("`+n+`", "`+n+`")`)
		}
		return m[1] + strings.Join(stmts, "; ") + comment(m[3]) + newline(nl)
	}
	return line
}

func newline(nl bool) string {
	if nl {
		return "\n"
	}
	return ""
}

func comment(c string) string {
	if c == "" {
		return ""
	}
	return " " + c
}

// scanState follows strings, comments and brackets across lines, enough to
// know where statements start and where string prefixes are.
type scanState struct {
	inTriple  byte // quote of an open triple-quoted string
	depth     int  // open brackets
	continued bool // the previous line ended with a backslash
	// afterString: the last token was a string literal (adjacent string
	// literals are concatenated in Python).
	afterString bool
	// afterOperand: the last token ends an operand (so ** is a power).
	afterOperand bool
	line         int
	synth        map[synthPos]string
}

// synthPos is where the translation put an operator of its own: "+"
// joining adjacent string literals ("concat") or "*" standing for ** ("pow").
type synthPos struct{ line, col int32 }

// scan returns line with u/U string prefixes blanked out, adjacent string
// literals joined with + and ** written as *, and updates the state.
func (s *scanState) scan(line string) string {
	b := []byte(line)
	s.continued = false
	i := 0
	if s.inTriple != 0 {
		i = s.skipTriple(b, 0)
		if i < 0 {
			return string(b)
		}
		s.afterString, s.afterOperand = true, true
	}
	for i < len(b) {
		c := b[i]
		switch {
		case c == '#':
			return s.endLine(b)
		case c == '\\' && i+1 < len(b) && (b[i+1] == '\n' || b[i+1] == '\r'):
			s.continued = true
			return string(b)
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			i++
		case c == '(' || c == '[' || c == '{':
			s.depth++
			s.afterString, s.afterOperand = false, false
			i++
		case c == ')' || c == ']' || c == '}':
			if s.depth > 0 {
				s.depth--
			}
			s.afterString, s.afterOperand = false, true
			i++
		case c == '\'' || c == '"':
			var ok bool
			b, i, ok = s.stringAt(b, i, i)
			if !ok {
				return string(b)
			}
		case isIdentStart(c):
			j := i
			for j < len(b) && isIdentByte(b[j]) {
				j++
			}
			if j < len(b) && (b[j] == '\'' || b[j] == '"') && isStringPrefix(b[i:j]) {
				if isUnicodePrefix(b[i:j]) {
					b[i] = ' ' // u'x' -> ' x', ur'x' -> ' r'x'
				}
				var ok bool
				b, i, ok = s.stringAt(b, i, j)
				if !ok {
					return string(b)
				}
				continue
			}
			s.afterString, s.afterOperand = false, true
			i = j
		case c >= '0' && c <= '9' || c == '.' && s.afterOperand:
			s.afterString, s.afterOperand = false, true
			i++
		case c == '*' && i+1 < len(b) && b[i+1] == '*' && s.afterOperand:
			// x ** y: written x *  y, and marked for the rewrite.
			b[i+1] = ' '
			s.mark(b, i, "pow")
			s.afterString, s.afterOperand = false, false
			i += 2
		default:
			s.afterString, s.afterOperand = false, false
			i++
		}
	}
	return s.endLine(b)
}

func (s *scanState) endLine(b []byte) string {
	if s.depth == 0 && !s.continued {
		s.afterString, s.afterOperand = false, false
	}
	return string(b)
}

func (s *scanState) mark(b []byte, i int, what string) {
	if s.synth == nil {
		s.synth = make(map[synthPos]string)
	}
	s.synth[synthPos{int32(s.line), int32(utf8.RuneCount(b[:i]) + 1)}] = what
}

// stringAt handles the string literal whose prefix starts at b[start] and
// whose quote is at b[q]; it returns the (possibly extended) line, the
// index after the literal and false if the literal continues on the next
// line.
func (s *scanState) stringAt(b []byte, start, q int) ([]byte, int, bool) {
	if s.afterString {
		// Adjacent literals: 'a' 'b' becomes 'a'+'b' (the rewrite restores
		// Python's precedence).
		if start > 0 && (b[start-1] == ' ' || b[start-1] == '\t') {
			b[start-1] = '+'
			s.mark(b, start-1, "concat")
		} else {
			b = append(b[:start], append([]byte{'+'}, b[start:]...)...)
			s.mark(b, start, "concat")
			start++
			q++
		}
	}
	s.afterString, s.afterOperand = true, true
	c := b[q]
	if q+2 < len(b) && b[q+1] == c && b[q+2] == c {
		s.inTriple = c
		i := s.skipTriple(b, q+3)
		return b, i, i >= 0
	}
	return b, skipString(b, q), true
}

func isStringPrefix(w []byte) bool {
	switch strings.ToLower(string(w)) {
	case "u", "r", "b", "ur", "br", "rb":
		return true
	}
	return false
}

func isUnicodePrefix(w []byte) bool {
	switch strings.ToLower(string(w)) {
	case "u", "ur":
		return true
	}
	return false
}

// skipTriple returns the index after the closing triple quote, or -1 if
// the string continues on the next line.
func (s *scanState) skipTriple(b []byte, i int) int {
	q := s.inTriple
	for i < len(b) {
		switch {
		case b[i] == '\\':
			i += 2
		case b[i] == q && i+2 < len(b) && b[i+1] == q && b[i+2] == q:
			s.inTriple = 0
			return i + 3
		default:
			i++
		}
	}
	return -1
}

// skipString returns the index after the single-quoted string at b[i].
func skipString(b []byte, i int) int {
	q := b[i]
	i++
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case q:
			return i + 1
		case '\n':
			return i
		}
		i++
	}
	return i
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
