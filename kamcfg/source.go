package kamcfg

// source is one piece of input text on the lexer's stack: a file (the main
// config or an include) or the value of a define being expanded.
//
// Define sources are transparent: Kamailio expands a define by pushing its
// text back into the input, so a string, a comment or a lookahead that
// reaches the end of a define value goes on in the text around it (§4.2: a
// "# comment" in a value swallows the rest of the line where it is used).
// File sources are opaque: a string or comment never runs from an included
// file into the file that included it.
type source struct {
	text string
	off  int

	// file sources
	name string // as opened (the -f argument or the include path that worked)
	abs  string // absolute path, for include-loop detection
	line int
	col  int

	// define sources
	define string   // non-empty for a define expansion: the define's name
	usePos Position // where the define was used
}

func (s *source) isDefine() bool { return s.define != "" }

// eofByte is what peek returns at the end of the current file.
const eofByte = -1

// peek returns the byte n positions ahead, looking through exhausted or
// short define sources into the text around them, and eofByte at the end of
// the current file.
func (l *lexState) peek(n int) int {
	for i := len(l.stack) - 1; i >= 0; i-- {
		s := l.stack[i]
		rem := len(s.text) - s.off
		if n < rem {
			return int(s.text[s.off+n])
		}
		n -= rem
		if !s.isDefine() {
			return eofByte
		}
	}
	return eofByte
}

// popExhausted drops finished define sources from the top of the stack, so
// that the next byte read comes from the text around them.
func (l *lexState) popExhausted() {
	for len(l.stack) > 1 {
		s := l.stack[len(l.stack)-1]
		if !s.isDefine() || s.off < len(s.text) {
			return
		}
		l.stack = l.stack[:len(l.stack)-1]
	}
}

// advance consumes one byte (crossing define boundaries like peek does) and
// returns it, or eofByte at the end of the current file.
func (l *lexState) advance() int {
	l.popExhausted()
	s := l.stack[len(l.stack)-1]
	if s.off >= len(s.text) {
		return eofByte
	}
	c := s.text[s.off]
	s.off++
	if !s.isDefine() {
		if c == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
	}
	return int(c)
}

// skip consumes n bytes.
func (l *lexState) skip(n int) {
	for ; n > 0; n-- {
		l.advance()
	}
}

// pos is the position of the next byte: the use site inside a define
// expansion, the file position otherwise.
func (l *lexState) pos() Position {
	l.popExhausted()
	s := l.stack[len(l.stack)-1]
	if s.isDefine() {
		return s.usePos
	}
	return Position{File: s.name, Line: s.line, Col: s.col}
}

// top returns the innermost source.
func (l *lexState) top() *source { return l.stack[len(l.stack)-1] }

// file returns the innermost file source (the one defines expand inside).
func (l *lexState) file() *source {
	for i := len(l.stack) - 1; i >= 0; i-- {
		if !l.stack[i].isDefine() {
			return l.stack[i]
		}
	}
	return l.stack[0]
}

// hasPrefix reports whether the input continues with s (through define
// boundaries).
func (l *lexState) hasPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		if l.peek(i) != int(s[i]) {
			return false
		}
	}
	return true
}

// expanding reports whether the define name is being expanded already
// somewhere on the stack: expanding it again would never end.
func (l *lexState) expanding(name string) bool {
	for _, s := range l.stack {
		if s.define == name {
			return true
		}
	}
	return false
}
