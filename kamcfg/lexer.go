package kamcfg

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types handed to the participle grammar.
const (
	tkEOF     lexer.TokenType = lexer.EOF
	tkIdent   lexer.TokenType = iota + 1 // identifier or keyword (defines already expanded)
	tkString                             // string literal: escapes, joining and subst done
	tkNumber                             // number in any of Kamailio's notations, or yes/no/on/off...
	tkNumID                              // digits and letters that are not a number ("08", "5060abc")
	tkIPv6                               // an IPv6 address written without brackets
	tkPVar                               // a pseudo-variable ($x, $x(...), $(...))
	tkPunct                              // one punctuation character
	tkBlock                              // a whole { ... } block, skipped brace for brace
	tkBad                                // something that can never parse (a recursive define)
	tkKeyword                            // a Kamailio keyword (never a define, never a host name)
)

var tokenSymbols = map[string]lexer.TokenType{
	"EOF": tkEOF, "Ident": tkIdent, "String": tkString, "Number": tkNumber,
	"NumID": tkNumID, "IPv6": tkIPv6, "PVar": tkPVar, "Punct": tkPunct,
	"Block": tkBlock, "Bad": tkBad, "Keyword": tkKeyword,
}

// token is one lexed token with what the grammar does not carry.
type token struct {
	typ lexer.TokenType
	val string // processed string value, identifier, raw number text, punctuation
	pos Position
	num int32 // value of a tkNumber
}

// define is one #!define entry.
type define struct {
	value    string
	hasValue bool
	pos      Position
}

// ifFrame is one open #!ifdef/#!ifndef.
type ifFrame struct {
	pos          Position
	active       bool // the current branch is read
	parentActive bool // the enclosing text is read
}

// maxIncludeDepth is Kamailio's limit on nested include files.
const maxIncludeDepth = 10

// maxExpansionDepth bounds nested define expansions.
const maxExpansionDepth = 200

// lexState is the preprocessing lexer: it reads the sources, runs the
// directives and produces the token stream of the top-level statements.
type lexState struct {
	opts    *Options
	stack   []*source
	defines map[string]*define
	substs  []substRule
	ifs     []ifFrame

	depth      int // brace depth; > 0 inside a route (or other) block
	blockStart Position
	toks       []token
	diags      []Diagnostic
	fatal      *Diagnostic // a problem that leaves nothing usable
}

func (l *lexState) errorf(pos Position, format string, args ...any) {
	l.diags = append(l.diags, errorf(pos, format, args...))
}

func (l *lexState) warnf(pos Position, format string, args ...any) {
	l.diags = append(l.diags, warnf(pos, format, args...))
}

func (l *lexState) setFatal(pos Position, format string, args ...any) {
	if l.fatal == nil {
		d := errorf(pos, format, args...)
		l.fatal = &d
	}
}

// skipping reports whether token values are not needed (inside a block).
func (l *lexState) skipping() bool { return l.depth > 0 }

// run lexes everything, collapsing blocks into one tkBlock token each.
func (l *lexState) run() {
	var prev token // the last token emitted at the top level
	for l.fatal == nil {
		t := l.scan()
		if l.fatal != nil {
			return
		}
		switch {
		case t.typ == tkEOF:
			if l.depth > 0 {
				l.errorf(l.blockStart, "block opened here is not closed ('{' without '}')")
				l.toks = append(l.toks, token{typ: tkBlock, pos: l.blockStart})
			}
			l.toks = append(l.toks, t)
			return
		case t.typ == tkPunct && t.val == "{":
			if l.depth == 0 {
				l.blockStart = t.pos
			}
			l.depth++
			continue
		case t.typ == tkPunct && t.val == "}" && l.depth > 0:
			l.depth--
			if l.depth == 0 {
				prev = token{typ: tkBlock, pos: l.blockStart}
				l.toks = append(l.toks, prev)
			}
			continue
		case l.depth > 0:
			continue
		}
		// loadmodule "x" makes MOD_x defined for the text that follows.
		if t.typ == tkString && prev.typ == tkKeyword && (prev.val == "loadmodule" || prev.val == "loadmodulex") {
			val := t.val
			if prev.val == "loadmodulex" {
				val = l.evalPV(val, "<null>")
			}
			name := "MOD_" + moduleName(val)
			if _, ok := l.defines[name]; !ok {
				l.defines[name] = &define{pos: t.pos}
			}
		}
		l.toks = append(l.toks, t)
		prev = t
	}
}

// moduleName turns a loadmodule argument into the module's name: the base
// name without ".so".
func moduleName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[i+1:]
	}
	return strings.TrimSuffix(path, ".so")
}

func isIdentStart(c int) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c int) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigit(c int) bool { return c >= '0' && c <= '9' }

func isHex(c int) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isBlank(c int) bool { return c == ' ' || c == '\t' }

// plainInBlock marks the bytes that mean nothing inside a block: white
// space and the punctuation that neither opens a string, a comment, a
// pseudo-variable or a directive, nor nests.
var plainInBlock = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = !isIdentChar(c) && !strings.ContainsRune("\"'#/${}\\!:", rune(c)) && c < 0x7f
	}
	return t
}()

// skipPlain passes over a run of plainInBlock bytes of the current file
// at once: the fast path through route bodies.
func (l *lexState) skipPlain() {
	s := l.top()
	if s.isDefine() {
		return
	}
	i := s.off
	for i < len(s.text) && plainInBlock[s.text[i]] {
		if s.text[i] == '\n' {
			s.line++
			s.col = 0
		}
		s.col++
		i++
	}
	s.off = i
}

// scan returns the next token of the active text.
func (l *lexState) scan() token {
	for l.fatal == nil {
		if l.depth > 0 {
			l.skipPlain()
		}
		c := l.peek(0)
		switch {
		case c == eofByte:
			if l.endOfFile() {
				return token{typ: tkEOF, pos: l.pos()}
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\b':
			l.advance()
		case c == '\\' && l.peek(1) == '\n':
			l.skip(2) // line continuation outside strings
		case c == '#' && l.peek(1) == '!':
			if !l.directive(2) {
				l.lineComment()
			}
		case c == '!' && l.peek(1) == '!':
			if !l.directive(2) {
				return l.punct()
			}
		case c == '#':
			l.lineComment()
		case c == '/' && l.peek(1) == '/':
			if l.hasPrefix("//!") && l.header(3) {
				continue
			}
			l.lineComment()
		case c == '/' && l.peek(1) == '*':
			l.blockComment()
		case c == '"':
			return l.doubleString()
		case c == '\'':
			return l.singleString()
		case c == '$':
			return l.pvar()
		case isIdentStart(c) || isDigit(c) || c == ':':
			if c == ':' || isHex(c) && l.peek(l.wordLen()) == ':' {
				if n := l.ipv6Len(); n > 0 {
					return l.ipv6(n)
				}
			}
			if c == ':' {
				return l.punct()
			}
			if isDigit(c) {
				return l.number()
			}
			if t, ok := l.ident(); ok {
				return t
			}
		case c < 0x20 || c >= 0x7f:
			l.advance() // bytes no rule matches are ignored (§10)
		default:
			return l.punct()
		}
	}
	return token{typ: tkEOF}
}

// endOfFile handles the end of the innermost file: an include returns to
// the file that included it. It reports whether the main file ended.
func (l *lexState) endOfFile() bool {
	l.popExhausted()
	if len(l.stack) <= 1 {
		return true
	}
	l.stack = l.stack[:len(l.stack)-1]
	return false
}

func (l *lexState) punct() token {
	pos := l.pos()
	c := l.advance()
	return token{typ: tkPunct, val: string(rune(c)), pos: pos}
}

// lineComment consumes up to the end of the line. Inside a define value it
// goes on into the text around the value, as Kamailio's textual expansion
// does.
func (l *lexState) lineComment() {
	for {
		c := l.peek(0)
		if c == eofByte || c == '\n' {
			return
		}
		l.advance()
	}
}

// blockComment consumes a nested /* ... */ comment.
func (l *lexState) blockComment() {
	start := l.pos()
	l.skip(2)
	level := 1
	for {
		c := l.peek(0)
		switch {
		case c == eofByte:
			if l.depth > 0 {
				l.errorf(start, "comment is not closed ('/*' without '*/') inside a block")
			} else {
				l.warnf(start, "comment is not closed ('/*' without '*/'): the rest of the file is ignored")
			}
			return
		case c == '/' && l.peek(1) == '*':
			l.skip(2)
			level++
		case c == '*' && l.peek(1) == '/':
			l.skip(2)
			level--
			if level == 0 {
				return
			}
		default:
			l.advance()
		}
	}
}

// doubleString lexes "..." with Kamailio's escapes, joining literals that
// follow each other with only white space between them (§2.2).
func (l *lexState) doubleString() token {
	pos := l.pos()
	skip := l.skipping()
	var b strings.Builder
	for {
		l.advance() // opening quote
		for closed := false; !closed; {
			c := l.peek(0)
			switch c {
			case eofByte:
				l.setFatal(pos, "string is not closed (missing '\"')")
				return token{typ: tkString, pos: pos}
			case '"':
				l.advance()
				closed = true
			case '\\':
				l.escape(&b, skip)
			default:
				l.advance()
				if !skip {
					b.WriteByte(byte(c))
				}
			}
		}
		n := 0
		for c := l.peek(n); c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\b'; c = l.peek(n) {
			n++
		}
		if l.peek(n) != '"' {
			break
		}
		l.skip(n)
	}
	if skip {
		return token{typ: tkString, pos: pos}
	}
	return token{typ: tkString, val: l.applySubst(b.String()), pos: pos}
}

// escape reads one backslash escape of a double-quoted string.
func (l *lexState) escape(b *strings.Builder, skip bool) {
	l.advance() // backslash
	c := l.peek(0)
	out := func(s string) {
		if !skip {
			b.WriteString(s)
		}
	}
	switch c {
	case 'n':
		l.advance()
		out("\n")
	case 'r':
		l.advance()
		out("\r")
	case 'a':
		l.advance()
		out("\a")
	case 't':
		l.advance()
		out("\t")
	case '"':
		l.advance()
		out("\"")
	case '\\':
		l.advance()
		out("\\")
	case '\n':
		l.advance() // backslash-newline is removed
	case 'x':
		if !isHex(l.peek(1)) {
			out("\\")
			return
		}
		l.advance()
		v := 0
		for i := 0; i < 2 && isHex(l.peek(0)); i++ {
			v = v*16 + hexVal(l.advance())
		}
		out(string([]byte{byte(v)}))
	default:
		if c >= '0' && c <= '7' && l.peek(1) >= '0' && l.peek(1) <= '7' {
			v := 0
			for i := 0; i < 3 && l.peek(0) >= '0' && l.peek(0) <= '7'; i++ {
				v = v*8 + l.advance() - '0'
			}
			out(string([]byte{byte(v)}))
			return
		}
		out("\\") // any other \c keeps both characters
	}
}

func hexVal(c int) int {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// singleString lexes '...': raw text, no escapes, no joining.
func (l *lexState) singleString() token {
	pos := l.pos()
	l.advance()
	var b strings.Builder
	for {
		c := l.advance()
		switch c {
		case eofByte:
			l.setFatal(pos, "string is not closed (missing \"'\")")
			return token{typ: tkString, pos: pos}
		case '\'':
			if l.skipping() {
				return token{typ: tkString, pos: pos}
			}
			return token{typ: tkString, val: l.applySubst(b.String()), pos: pos}
		}
		if !l.skipping() {
			b.WriteByte(byte(c))
		}
	}
}

// pvar lexes a pseudo-variable; a parenthesised part runs to its matching
// parenthesis whatever it contains (quotes, '#', braces).
func (l *lexState) pvar() token {
	pos := l.pos()
	var b strings.Builder
	take := func() { b.WriteByte(byte(l.advance())) }
	take() // $
	for isIdentChar(l.peek(0)) || l.peek(0) == '.' {
		take()
	}
	if l.peek(0) == '(' {
		level := 0
		for {
			c := l.peek(0)
			if c == eofByte {
				l.errorf(pos, "pseudo-variable is not closed (missing ')')")
				break
			}
			take()
			if c == '(' {
				level++
			} else if c == ')' {
				level--
				if level == 0 {
					break
				}
			}
		}
	}
	if b.Len() == 1 {
		return token{typ: tkPunct, val: "$", pos: pos}
	}
	val := b.String()
	if strings.Contains(val, "(") && !l.skipping() {
		val = l.applySubst(val)
	}
	return token{typ: tkPVar, val: val, pos: pos}
}

// wordLen is the length of the [A-Za-z0-9_] run ahead.
func (l *lexState) wordLen() int {
	n := 0
	for isIdentChar(l.peek(n)) {
		n++
	}
	return n
}

// take consumes n bytes and returns them.
func (l *lexState) take(n int) string {
	l.popExhausted()
	if s := l.top(); s.off+n <= len(s.text) {
		out := s.text[s.off : s.off+n]
		l.skip(n)
		return out
	}
	b := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		b = append(b, byte(l.advance()))
	}
	return string(b)
}

// number lexes a run starting with a digit: a number in Kamailio's
// notations, or a NUM_ID that no number rule accepts (§2.3).
func (l *lexState) number() token {
	pos := l.pos()
	raw := l.take(l.wordLen())
	if v, ok := parseNumber(raw); ok {
		return token{typ: tkNumber, val: raw, num: v, pos: pos}
	}
	return token{typ: tkNumID, val: raw, pos: pos}
}

// parseNumber reads decimal, 0x hex, leading-0 octal and [01]+b binary
// numbers, wrapping them to a 32-bit C int as Kamailio does (strtol into
// a long, stored in an int).
func parseNumber(s string) (int32, bool) {
	base, digits := 10, s
	switch {
	case s == "0":
		return 0, true
	case len(s) > 2 && s[:2] == "0x": // "0X" is no hex number to Kamailio
		base, digits = 16, s[2:]
	case len(s) > 1 && s[len(s)-1] == 'b' && strings.Trim(s[:len(s)-1], "01") == "":
		base, digits = 2, s[:len(s)-1]
	case s[0] == '0':
		base, digits = 8, s[1:]
	}
	var v uint64
	const longMax = 1<<63 - 1
	for i := 0; i < len(digits); i++ {
		c := int(digits[i])
		var d int
		switch {
		case isDigit(c):
			d = c - '0'
		case isHex(c):
			d = hexVal(c)
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if base == 2 {
			v = v*2 + uint64(d) // computed in an int, wraps
			continue
		}
		if v > (longMax-uint64(d))/uint64(base) {
			v = longMax // strtol saturates
			continue
		}
		v = v*uint64(base) + uint64(d)
	}
	return int32(v), true
}

// ipv6Len is the length of an unbracketed IPv6 address ahead when it is
// longer than the identifier or number a lexer would read there (flex's
// longest match), 0 otherwise.
func (l *lexState) ipv6Len() int {
	run := 0
	colons := 0
	for {
		c := l.peek(run)
		if c == ':' {
			colons++
		} else if !isHex(c) && c != '.' {
			break
		}
		run++
	}
	if colons < 2 {
		return 0
	}
	var b strings.Builder
	for i := 0; i < run; i++ {
		b.WriteByte(byte(l.peek(i)))
	}
	s := b.String()
	word := l.wordLen()
	for n := len(s); n > word; n-- {
		p := s[:n]
		if strings.Contains(p, ":") && net.ParseIP(p) != nil {
			return n
		}
	}
	return 0
}

func (l *lexState) ipv6(n int) token {
	pos := l.pos()
	return token{typ: tkIPv6, val: l.take(n), pos: pos}
}

// ident lexes an identifier: a keyword, a number word, an include
// statement, a define to expand, or a plain identifier. ok is false when
// the identifier was consumed without producing a token.
func (l *lexState) ident() (token, bool) {
	pos := l.pos()
	name := l.take(l.wordLen())
	if v, ok := numberWords[name]; ok {
		return token{typ: tkNumber, val: name, num: v, pos: pos}, true
	}
	if name == "include_file" || name == "import_file" {
		l.include(pos, name == "import_file")
		return token{}, false
	}
	if reservedWords[name] {
		return token{typ: tkKeyword, val: name, pos: pos}, true
	}
	if d, ok := l.defines[name]; ok {
		if l.expanding(name) || len(l.stack) > maxExpansionDepth {
			l.errorf(pos, "define %s expands to itself", name)
			return token{typ: tkBad, val: name, pos: pos}, true
		}
		if d.hasValue && d.value != "" {
			l.stack = append(l.stack, &source{text: d.value, define: name, usePos: pos})
		}
		return token{}, false
	}
	return token{typ: tkIdent, val: name, pos: pos}, true
}

// include reads the argument of include_file/import_file and pushes the
// file (§3.5).
func (l *lexState) include(pos Position, optional bool) {
	for c := l.peek(0); isBlank(c) || c == '\r' || c == '\n'; c = l.peek(0) {
		l.advance()
	}
	n := 0
	for c := l.peek(n); c != eofByte && c != ' ' && c != '\t' && c != '\r' && c != '\n'; c = l.peek(n) {
		n++
	}
	arg := l.applySubst(l.take(n))
	if len(arg) < 2 || arg[0] != '"' || arg[len(arg)-1] != '"' {
		l.setFatal(pos, "included file name must be between double quotes: %s", arg)
		return
	}
	if len(arg) >= 128 {
		l.setFatal(pos, "included file name is too long (127 characters at most)")
		return
	}
	var b strings.Builder
	for i := 1; i < len(arg)-1; i++ {
		c := arg[i]
		if c == '\\' && i+1 < len(arg)-1 {
			i++
			switch arg[i] {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			default:
				c = arg[i]
			}
		}
		b.WriteByte(c)
	}
	l.pushFile(pos, b.String(), optional)
}

// pushFile opens an included file: first as written (relative to the
// working directory), then relative to the directory of the including
// file's name.
func (l *lexState) pushFile(pos Position, path string, optional bool) {
	depth := 0
	for _, s := range l.stack {
		if !s.isDefine() {
			depth++
		}
	}
	if depth > maxIncludeDepth {
		// A file may include itself behind an #!ifdef guard, so a loop
		// shows only as the depth limit, as in Kamailio.
		if loop := l.includeLoop(); loop != "" {
			l.setFatal(pos, "include loop: %s (more than %d nested includes)", loop, maxIncludeDepth)
			return
		}
		l.setFatal(pos, "too many nested includes (%d at most)", maxIncludeDepth)
		return
	}
	cands := []string{path}
	if !filepath.IsAbs(path) {
		if cur := l.file().name; strings.Contains(cur, "/") {
			cands = append(cands, filepath.Dir(cur)+"/"+path)
		}
	}
	for _, name := range cands {
		text, abs, err := l.opts.read(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			l.setFatal(pos, "cannot read included file %s: %v", name, unwrapPathError(err))
			return
		}
		l.stack = append(l.stack, &source{text: text, name: name, abs: abs, line: 1, col: 1})
		return
	}
	if optional {
		return
	}
	l.setFatal(pos, "included file %s not found (tried %s)", path, strings.Join(cands, ", "))
}

// includeLoop describes the include chain from the first file that
// includes itself again, or "" when no file repeats.
func (l *lexState) includeLoop() string {
	var files []*source
	for _, s := range l.stack {
		if !s.isDefine() {
			files = append(files, s)
		}
	}
	for i, a := range files {
		for j := i + 1; j < len(files); j++ {
			if files[j].abs == a.abs {
				names := make([]string, 0, j-i+1)
				for _, f := range files[i : j+1] {
					names = append(names, f.name)
				}
				return strings.Join(names, " includes ")
			}
		}
	}
	return ""
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// header handles the #!KAMAILIO-style compatibility headers at offset n
// (after "#!" or "//!"). They select how '$' is lexed, which changes
// nothing kamcfg reads; they are recognised only when a newline follows.
func (l *lexState) header(n int) bool {
	for _, w := range []string{"KAMAILIO", "OPENSER", "SER", "ALL", "MAXCOMPAT"} {
		if l.wordAt(n, w) && l.peek(n+len(w)) == '\n' {
			l.skip(n + len(w))
			return true
		}
	}
	return false
}

// wordAt reports whether the word w stands at offset n.
func (l *lexState) wordAt(n int, w string) bool {
	for i := 0; i < len(w); i++ {
		if l.peek(n+i) != int(w[i]) {
			return false
		}
	}
	return true
}

// directiveArgs says what must follow each directive keyword.
type directiveArgs uint8

const (
	argName    directiveArgs = iota // at least one blank, then a name
	argLineEnd                      // optional blanks, then a newline
	argString                       // a string literal (parser statements)
	argWord                         // at least one blank, then a non-blank run
	argInclude                      // an include file name
	argNewer                        // a directive of a newer Kamailio: a comment to 5.6
)

// directives lists the preprocessor keywords, longer ones before their
// prefixes.
var directives = []struct {
	word string
	args directiveArgs
}{
	{"trydefine", argName}, {"trydefenvs", argWord}, {"trydefenv", argWord}, {"trydef", argName},
	{"tryundefine", argNewer}, {"tryundef", argNewer},
	{"redefine", argName}, {"redef", argName},
	{"defenvs", argWord}, {"defenv", argWord}, {"defexps", argNewer}, {"defexp", argNewer},
	{"define", argName}, {"def", argName},
	{"undefine", argNewer}, {"undef", argNewer},
	{"ifndef", argName}, {"ifdef", argName}, {"ifexp", argNewer},
	{"else", argLineEnd}, {"endif", argLineEnd},
	{"substdefs", argString}, {"substdef", argString}, {"subst", argString},
	{"include_file", argInclude}, {"import_file", argInclude},
}

// directive handles "#!word" or "!!word" at offset n (just after the
// prefix). It reports false when the text is no directive: then "#!..." is
// a comment and "!!" two operators.
func (l *lexState) directive(n int) bool {
	if l.peek(0) == '#' && l.header(n) {
		return true
	}
	for _, d := range directives {
		if !l.wordAt(n, d.word) {
			continue
		}
		after := l.peek(n + len(d.word))
		switch d.args {
		case argName, argWord:
			if !isBlank(after) {
				return false
			}
		case argLineEnd:
			k := n + len(d.word)
			for c := l.peek(k); c == ' ' || c == '\t' || c == '\r'; c = l.peek(k) {
				k++
			}
			if l.peek(k) != '\n' {
				return false
			}
		case argString, argInclude, argNewer:
			if isIdentChar(after) {
				return false
			}
		}
		pos := l.pos()
		l.skip(n + len(d.word))
		l.runDirective(pos, d.word, d.args)
		return true
	}
	return false
}

func (l *lexState) runDirective(pos Position, word string, args directiveArgs) {
	switch word {
	case "define", "def", "trydefine", "trydef", "redefine", "redef":
		l.defineDirective(pos, word)
	case "ifdef", "ifndef":
		name, ok := l.directiveName(pos, word)
		l.lineComment() // text after the name is ignored
		if !ok {
			l.ifs = append(l.ifs, ifFrame{pos: pos, active: false, parentActive: true})
		} else {
			_, defined := l.defines[name]
			l.ifs = append(l.ifs, ifFrame{pos: pos, active: defined == (word == "ifdef"), parentActive: true})
		}
		l.skipInactive()
	case "else":
		l.lineComment()
		if len(l.ifs) == 0 {
			l.warnf(pos, "#!else without #!ifdef")
			return
		}
		f := &l.ifs[len(l.ifs)-1]
		f.active = !f.active
		l.skipInactive()
	case "endif":
		l.lineComment()
		if len(l.ifs) == 0 {
			l.errorf(pos, "#!endif without #!ifdef")
			return
		}
		l.ifs = l.ifs[:len(l.ifs)-1]
	case "subst", "substdef", "substdefs":
		l.substDirective(pos, word)
	case "defenv", "defenvs", "trydefenv", "trydefenvs":
		l.envDirective(pos, word)
	case "include_file", "import_file":
		l.include(pos, word == "import_file")
	default:
		l.warnf(pos, "#!%s is a directive of a newer Kamailio; 5.6 reads the line as a comment", word)
		l.lineComment()
	}
}

// directiveName reads the blanks and the name after a directive keyword.
func (l *lexState) directiveName(pos Position, word string) (string, bool) {
	for isBlank(l.peek(0)) {
		l.advance()
	}
	if !isIdentStart(l.peek(0)) {
		l.errorf(pos, "#!%s: a name must follow", word)
		return "", false
	}
	name := l.take(l.wordLen())
	if l.peek(0) == '-' {
		l.errorf(pos, "#!%s %s: '-' is not allowed in a name", word, name)
		return name, false
	}
	return name, true
}

// defineDirective runs #!define, #!trydef and #!redefine (§3.1): the value
// is the rest of the line, verbatim, with backslash-newline continuations.
func (l *lexState) defineDirective(pos Position, word string) {
	name, ok := l.directiveName(pos, word)
	if !ok {
		l.lineComment()
		return
	}
	for isBlank(l.peek(0)) {
		l.advance()
	}
	var b strings.Builder
	hasValue := false
	for {
		c := l.peek(0)
		if c == eofByte || c == '\n' {
			break
		}
		if c == '\\' && l.peek(1) == '\n' {
			l.skip(2)
			hasValue = true
			continue
		}
		hasValue = true
		b.WriteByte(byte(l.advance()))
	}
	d := &define{value: b.String(), hasValue: hasValue, pos: pos}
	switch word {
	case "define", "def":
		l.addDefine(pos, name, d)
	case "trydefine", "trydef":
		if _, exists := l.defines[name]; !exists {
			l.defines[name] = d
		}
	default:
		l.defines[name] = d
	}
}

// addDefine adds a plain define; an existing name is fatal to Kamailio.
func (l *lexState) addDefine(pos Position, name string, d *define) {
	if old, exists := l.defines[name]; exists {
		where := "on the command line"
		if old.pos.File != "" {
			where = "at " + old.pos.String()
		}
		l.errorf(pos, "%s is already defined (%s)", name, where)
		return
	}
	l.defines[name] = d
}

// envDirective runs #!defenv and its variants (§3.3).
func (l *lexState) envDirective(pos Position, word string) {
	for isBlank(l.peek(0)) {
		l.advance()
	}
	n := 0
	for c := l.peek(n); c != eofByte && c != ' ' && c != '\t' && c != '\r' && c != '\n'; c = l.peek(n) {
		n++
	}
	arg := l.take(n)
	l.lineComment()
	name, envName := arg, arg
	if i := strings.IndexByte(arg, '='); i >= 0 {
		name, envName = arg[:i], arg[i+1:]
	}
	if name == "" || envName == "" {
		l.errorf(pos, "#!%s: NAME or NAME=VAR expected, not %q", word, arg)
		return
	}
	val, ok := l.opts.lookupEnv(envName)
	if !ok {
		if !strings.HasPrefix(word, "try") {
			l.errorf(pos, "#!%s %s: environment variable %s is not set", word, arg, envName)
		}
		return
	}
	if strings.HasSuffix(word, "s") {
		if strings.Contains(val, "\"") {
			l.errorf(pos, "#!%s %s: the value of %s contains '\"'", word, arg, envName)
			return
		}
		val = "\"" + val + "\""
	}
	l.addDefine(pos, name, &define{value: val, hasValue: true, pos: pos})
}

// substDirective runs #!subst, #!substdef and #!substdefs (§3.4).
func (l *lexState) substDirective(pos Position, word string) {
	if l.depth > 0 {
		l.errorf(pos, "#!%s is allowed only outside route blocks", word)
	}
	t := l.scan()
	if l.fatal != nil {
		return
	}
	if t.typ != tkString {
		l.errorf(t.pos, "#!%s: a string \"/regex/replacement/flags\" must follow", word)
		if t.typ != tkEOF {
			l.toks = append(l.toks, token{typ: tkBad, val: t.val, pos: t.pos})
		}
		return
	}
	if l.depth > 0 {
		return
	}
	l.addSubst(pos, word, t.val)
}

// addSubst parses and records a subst rule; substdef also defines the
// matched name.
func (l *lexState) addSubst(pos Position, word, expr string) {
	r, err := parseSubst(expr)
	if err != nil {
		l.errorf(pos, "#!%s %q: %v", word, expr, err)
		return
	}
	if word != "subst" {
		val := l.evalPV(r.replRaw, "<null>")
		if word == "substdefs" {
			val = "\"" + val + "\""
		}
		l.addDefine(pos, r.pattern, &define{value: val, hasValue: true, pos: pos})
	}
	l.substs = append(l.substs, r)
}

// skipInactive skips the text of false #!ifdef branches, looking only at
// the #!ifdef/#!ifndef/#!else/#!endif lines in it (§3.2).
func (l *lexState) skipInactive() {
	for !l.active() {
		c := l.peek(0)
		if c == eofByte {
			if l.endOfFile() {
				return
			}
			continue
		}
		if (c == '#' || c == '!') && l.peek(1) == '!' {
			if l.skippedDirective() {
				continue
			}
		}
		l.advance()
	}
}

// active reports whether the current text is read (every open branch
// active).
func (l *lexState) active() bool {
	return len(l.ifs) == 0 || l.ifs[len(l.ifs)-1].active && l.ifs[len(l.ifs)-1].parentActive
}

// skippedDirective handles a conditional directive inside skipped text.
func (l *lexState) skippedDirective() bool {
	for _, d := range directives {
		if d.word != "ifdef" && d.word != "ifndef" && d.word != "else" && d.word != "endif" {
			continue
		}
		if !l.wordAt(2, d.word) {
			continue
		}
		after := l.peek(2 + len(d.word))
		if d.args == argName && !isBlank(after) {
			return false
		}
		if d.args == argLineEnd {
			k := 2 + len(d.word)
			for c := l.peek(k); c == ' ' || c == '\t' || c == '\r'; c = l.peek(k) {
				k++
			}
			if l.peek(k) != '\n' {
				return false
			}
		}
		pos := l.pos()
		l.skip(2 + len(d.word))
		switch d.word {
		case "ifdef", "ifndef":
			l.lineComment()
			l.ifs = append(l.ifs, ifFrame{pos: pos, parentActive: false})
		case "else":
			l.lineComment()
			if len(l.ifs) > 0 {
				f := &l.ifs[len(l.ifs)-1]
				f.active = !f.active
			}
		case "endif":
			l.lineComment()
			if len(l.ifs) > 0 {
				l.ifs = l.ifs[:len(l.ifs)-1]
			}
		}
		return true
	}
	return false
}

// checkBalance reports #!ifdef blocks left open at the end.
func (l *lexState) checkBalance() {
	for _, f := range l.ifs {
		l.errorf(f.pos, "#!ifdef/#!ifndef without #!endif (note: \"#!endif # text\" is a comment, not a directive)")
	}
}

// describe formats a token for a syntax error message.
func (t token) describe() string {
	switch t.typ {
	case tkEOF:
		return "end of file"
	case tkString:
		return fmt.Sprintf("string %q", t.val)
	case tkBlock:
		return "a { } block"
	case tkNumID:
		return fmt.Sprintf("%q (not a number)", t.val)
	}
	return fmt.Sprintf("%q", t.val)
}
