package kamcfg

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// substRule is one #!subst / #!substdef rule: a POSIX extended regex and a
// replacement applied to later string literals, pseudo-variable names and
// include file names (§3.4).
type substRule struct {
	pattern string // the regex as written (also the substdef define name)
	re      *regexp.Regexp
	replRaw string // the replacement as written
	global  bool
}

// parseSubst parses "/regex/replacement/flags" with any separator
// character (the first one; not a backslash). A backslash before the
// separator makes it literal.
func parseSubst(expr string) (substRule, error) {
	if len(expr) < 3 {
		return substRule{}, errors.New("too short: \"/regex/replacement/flags\" expected")
	}
	sep := expr[0]
	if sep == '\\' {
		return substRule{}, errors.New("the separator cannot be a backslash")
	}
	var parts []string
	var b strings.Builder
	for i := 1; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr) && expr[i+1] == sep:
			b.WriteByte(sep)
			i++
		case c == '\\' && i+1 < len(expr):
			b.WriteByte(c)
			b.WriteByte(expr[i+1])
			i++
		case c == sep && len(parts) < 2:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	if len(parts) != 2 {
		return substRule{}, errors.New("three parts separated by the first character expected")
	}
	flags := b.String()
	r := substRule{pattern: parts[0], replRaw: parts[1]}
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'g':
			r.global = true
		case 'i':
			prefix += "i"
		case 's':
			prefix += "s"
		default:
			return substRule{}, errors.New("unknown flag " + strconv.QuoteRune(f) + " (g, i and s are allowed)")
		}
	}
	src := parts[0]
	if prefix != "" {
		src = "(?" + prefix + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return substRule{}, errors.New("bad regex: " + strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	r.re = re
	return r, nil
}

// applySubst runs every subst rule, in definition order, over s.
func (l *lexState) applySubst(s string) string {
	for i := range l.substs {
		s = l.substOne(&l.substs[i], s)
	}
	return s
}

func (l *lexState) substOne(r *substRule, s string) string {
	matches := r.re.FindAllStringSubmatchIndex(s, -1)
	if len(matches) == 0 {
		return s
	}
	if !r.global {
		matches = matches[:1]
	}
	// The replacement is evaluated each time the rule is applied, so it
	// sees later #!redefine's (§13).
	repl := r.replRaw
	if strings.Contains(repl, "$") {
		repl = l.evalPV(repl, "")
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		expandRepl(&b, repl, s, m)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// expandRepl writes the replacement with \0..\9 back-references resolved.
func expandRepl(b *strings.Builder, repl, s string, m []int) {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		n := repl[i]
		if n >= '0' && n <= '9' {
			g := int(n - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				b.WriteString(s[m[2*g]:m[2*g+1]])
			}
			continue
		}
		b.WriteByte(n)
	}
}

// evalPV evaluates the core pseudo-variables Kamailio resolves while
// reading the file (§3.6): $env(NAME), $envn(NAME), $def(NAME) and
// $defn(NAME). Other text stays as it is. null is what an unknown name
// gives.
func (l *lexState) evalPV(s, null string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		name, arg, n := splitCorePV(s[i:])
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		if v, ok := l.corePV(name, arg); ok {
			b.WriteString(v)
		} else {
			b.WriteString(null)
		}
		i += n
	}
	return b.String()
}

// splitCorePV recognises "$env(X)", "$envn(X)", "$def(X)" or "$defn(X)" at
// the start of s and returns the PV name, its argument and its length.
func splitCorePV(s string) (name, arg string, n int) {
	for _, pv := range []string{"envn", "env", "defn", "def"} {
		if !strings.HasPrefix(s, "$"+pv+"(") {
			continue
		}
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", "", 0
		}
		return pv, s[len(pv)+2 : end], end + 1
	}
	return "", "", 0
}

// corePV evaluates one core PV as text; ok is false when it has no value.
// In a string $defn gives the define's text ("0x20"); only the unquoted
// value form of modparamx turns it into a number.
func (l *lexState) corePV(name, arg string) (string, bool) {
	switch name {
	case "env", "envn":
		v, ok := l.opts.lookupEnv(arg)
		if ok && name == "envn" {
			return strconv.Itoa(atoi(v)), true
		}
		return v, ok
	default:
		d, ok := l.defines[arg]
		if !ok {
			return "", false
		}
		return d.value, true
	}
}

// atoi reads a leading decimal int like C's atoi: 0 when there is none.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t")
	n, neg, i := 0, false, 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<31 {
			n = 1 << 31
		}
	}
	if neg {
		n = -n
	}
	return int(int32(n))
}
