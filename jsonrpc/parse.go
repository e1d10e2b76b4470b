package jsonrpc

import (
	"errors"
	"math"
	"unicode/utf8"
)

// nodeType is the type of a parsed JSON value.
type nodeType uint8

const (
	tNull nodeType = iota
	tFalse
	tTrue
	tNumber
	tString
	tArray
	tObject
)

// node is one parsed request value. Objects keep their members in document
// order, duplicates included (jsonrpc.md §3 step 4 consumes object params in
// document order).
type node struct {
	typ  nodeType
	num  float64
	str  string
	name string // member name when the node is inside an object
	kids []*node
}

// errParse is returned for a document that is not JSON; such a request gets
// no reply (jsonrpc.md §3 step 1).
var errParse = errors.New("jsonrpc: unparsable document")

// maxDepth bounds nesting so that a hostile document cannot exhaust the
// stack.
const maxDepth = 512

// parseDocument parses a request the way Kamailio's srjson (a cJSON fork)
// does (jsonrpc.md §3 step 1): leading bytes <= 0x20 are skipped, anything
// after the first value is ignored, the document ends at a NUL byte, a
// number is '-'? digits ('.' digits)? (e|E [+-]? digits)? where a lone '-'
// is 0 and a leading 0 stops the integer part, unknown escapes stand for
// the escaped character, invalid or NUL \u escapes vanish, and raw control
// bytes and invalid UTF-8 are kept.
func parseDocument(b []byte) (*node, error) {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	p := parser{b: b}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	return n, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) skip() {
	for p.i < len(p.b) && p.b[p.i] <= 32 {
		p.i++
	}
}

func (p *parser) hasPrefix(s string) bool {
	return len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s
}

func (p *parser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errParse
	}
	p.skip()
	if p.i >= len(p.b) {
		return nil, errParse
	}
	switch c := p.b[p.i]; {
	case p.hasPrefix("null"):
		p.i += 4
		return &node{typ: tNull}, nil
	case p.hasPrefix("false"):
		p.i += 5
		return &node{typ: tFalse}, nil
	case p.hasPrefix("true"):
		p.i += 4
		return &node{typ: tTrue, num: 1}, nil
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{typ: tString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return &node{typ: tNumber, num: p.number()}, nil
	case c == '[':
		p.i++
		n := &node{typ: tArray}
		p.skip()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return n, nil
		}
		for {
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
			end, err := p.next(']')
			if err != nil {
				return nil, err
			}
			if end {
				return n, nil
			}
		}
	case c == '{':
		p.i++
		n := &node{typ: tObject}
		p.skip()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return n, nil
		}
		for {
			p.skip()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, errParse
			}
			name, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skip()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, errParse
			}
			p.i++
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			k.name = name
			n.kids = append(n.kids, k)
			end, err := p.next('}')
			if err != nil {
				return nil, err
			}
			if end {
				return n, nil
			}
		}
	}
	return nil, errParse
}

// number reads a number as cJSON does: mantissa digits and a decimal
// exponent, combined as n * 10^e.
func (p *parser) number() float64 {
	sign := 1.0
	if p.b[p.i] == '-' {
		sign = -1
		p.i++
	}
	n, scale := 0.0, 0
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9' {
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			n = n*10 + float64(p.b[p.i]-'0')
			p.i++
		}
	}
	if p.i+1 < len(p.b) && p.b[p.i] == '.' && p.b[p.i+1] >= '0' && p.b[p.i+1] <= '9' {
		p.i++
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			n = n*10 + float64(p.b[p.i]-'0')
			scale--
			p.i++
		}
	}
	sub, subSign := 0, 1
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && p.b[p.i] == '+' {
			p.i++
		} else if p.i < len(p.b) && p.b[p.i] == '-' {
			subSign = -1
			p.i++
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			if sub < 100000 {
				sub = sub*10 + int(p.b[p.i]-'0')
			}
			p.i++
		}
	}
	return sign * n * math.Pow(10, float64(scale+sub*subSign))
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return 0
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0
		}
	}
	return r
}

// str reads a string starting at the opening quote.
func (p *parser) str() (string, error) {
	p.i++
	start := p.i
	// Fast path: no escapes.
	for j := p.i; j < len(p.b); j++ {
		if p.b[j] == '"' {
			p.i = j + 1
			return string(p.b[start:j]), nil
		}
		if p.b[j] == '\\' {
			break
		}
	}
	out := make([]byte, 0, 16)
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			p.i++
			return string(out), nil
		}
		if c != '\\' {
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			return "", errParse
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(p.b[p.i:])
			p.i = min(p.i+4, len(p.b))
			if (r >= 0xDC00 && r <= 0xDFFF) || r == 0 {
				continue
			}
			if r >= 0xD800 && r <= 0xDBFF {
				if !(p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u') {
					continue
				}
				r2 := hex4(p.b[p.i+2:])
				p.i = min(p.i+6, len(p.b))
				if r2 < 0xDC00 || r2 > 0xDFFF {
					continue
				}
				r = 0x10000 + ((r&0x3FF)<<10 | (r2 & 0x3FF))
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, e)
		}
	}
	return "", errParse
}

// member returns the first member of object n called name, compared
// without regard to ASCII case as srjson's lookup does (jsonrpc.md §3).
func (n *node) member(name string) *node {
	if n == nil || n.typ != tObject {
		return nil
	}
	for _, k := range n.kids {
		if asciiEqualFold(k.name, name) {
			return k
		}
	}
	return nil
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// next consumes the separator after a member or element: a comma (false)
// or the closing byte of the object or array (true); anything else is a
// parse error.
func (p *parser) next(closing byte) (bool, error) {
	p.skip()
	if p.i >= len(p.b) {
		return false, errParse
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, errParse
}
