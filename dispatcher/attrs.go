package dispatcher

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrBadAttrs marks an attrs text the generic name=value parser refuses; the
// destination is rejected (spec §2.4, §2.2 step 4).
var ErrBadAttrs = errors.New("bad attrs")

// Param is one name=value pair of an attrs body, as written (quotes removed
// from the value). Unknown names are kept so that nothing is lost (§2.4).
type Param struct {
	Name  string
	Value string
	// HasValue is false for a bare name without '='.
	HasValue bool
}

// Attrs are a destination's attributes (spec §2.4): the stored BODY and the
// values Kamailio 5.6.3 recognises. Params holds every pair in body order,
// including names Kamailio does not know (kept in the body only) and the 6.0+
// names (ocmin, ocmax, ocrate, ping_socket) that 5.6.3 ignores.
type Attrs struct {
	// Present is true when the destination has an attrs body at all; only
	// then does dispatcher.list print ATTRS (§6.3).
	Present bool
	// Body is the attrs text with exactly one trailing ';' removed.
	Body string
	// Params are the parsed pairs in body order.
	Params []Param

	// DUID is the destination unique id (attr duid).
	DUID string
	// MaxLoad is attr maxload (0 = unlimited; read like strtol: "20x" is 20).
	MaxLoad int
	// Weight is attr weight, 1..100, else 0 (the destination is kept).
	Weight int
	// RWeight is attr rweight, 1..100, else 0.
	RWeight int
	// Socket is attr socket, proto:host:port of the send socket.
	Socket string
	// Sockname is attr sockname, the name of a listen socket (wins over Socket).
	Sockname string
	// PingFrom is attr ping_from, the From URI of this destination's probes.
	PingFrom string
	// OBProxy is attr obproxy, the outbound proxy of this destination's probes.
	OBProxy string
	// CC is attr cc, congestion control for algorithm 11 (§5.3).
	CC int
	// Latency is attr latency, the initial latency estimate in ms (§5.2);
	// non-numeric text reads 0; only a positive value seeds the estimate.
	Latency int

	set uint16
}

// The known attrs that were given (first occurrence wins, §2.4).
const (
	hasDUID uint16 = 1 << iota
	hasMaxLoad
	hasWeight
	hasRWeight
	hasSocket
	hasSockname
	hasPingFrom
	hasOBProxy
	hasCC
	hasLatency
)

var knownAttrs = map[string]uint16{
	"duid": hasDUID, "maxload": hasMaxLoad, "weight": hasWeight, "rweight": hasRWeight,
	"socket": hasSocket, "sockname": hasSockname, "ping_from": hasPingFrom,
	"obproxy": hasOBProxy, "cc": hasCC, "latency": hasLatency,
}

// Has reports whether the known attr name (case-insensitive: duid, maxload,
// weight, rweight, socket, sockname, ping_from, obproxy, cc, latency) was
// given; dispatcher.list prints an absent string attr as null (§6.3).
func (a Attrs) Has(name string) bool {
	bit, ok := knownAttrs[strings.ToLower(name)]
	return ok && a.set&bit != 0
}

// Param returns the value of the first pair called name (case-insensitive),
// known or not.
func (a Attrs) Param(name string) (string, bool) {
	for _, p := range a.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// ParseAttrs parses an attrs text as Kamailio 5.6.3 does (spec §2.4): one
// trailing ';' is removed to form the body, pairs are name[=value] separated
// by ';', blanks around '=' and ';' are accepted but a leading blank or a
// blank in place of ';' is not, values may be quoted with " or ', names
// match case-insensitively and the first occurrence of a name wins.
func ParseAttrs(text string) (Attrs, error) {
	a := Attrs{Present: true, Body: strings.TrimSuffix(text, ";")}
	s := a.Body
	if strings.HasSuffix(s, ";") {
		return a, fmt.Errorf("%w: %q ends in more than one ';'", ErrBadAttrs, text)
	}
	if s != "" && isSpace(s[0]) {
		return a, fmt.Errorf("%w: %q starts with a blank", ErrBadAttrs, text)
	}
	i := 0
	for i < len(s) {
		if s[i] == ';' { // empty parameter
			i = skipSpaceStr(s, i+1)
			continue
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != ';' {
			i++
		}
		p := Param{Name: s[start:i]}
		i = skipSpaceStr(s, i)
		if i < len(s) && s[i] == '=' {
			p.HasValue = true
			i = skipSpaceStr(s, i+1)
			if i < len(s) && s[i] == ';' {
				// Kamailio 5.6.3 refuses an empty value followed by more
				// pairs ("b=;c=1"), though "b=" at the end loads (checked
				// with the 5.6.3 binary).
				return a, fmt.Errorf("%w: %q: empty value before ';' at offset %d", ErrBadAttrs, text, i)
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return a, fmt.Errorf("%w: %q: unterminated quote at offset %d", ErrBadAttrs, text, i)
				}
				p.Value = s[i+1 : i+1+end]
				i += end + 2
			} else {
				start = i
				for i < len(s) && !isSpace(s[i]) && s[i] != ';' {
					i++
				}
				p.Value = s[start:i]
			}
			i = skipSpaceStr(s, i)
		}
		if i < len(s) {
			if s[i] != ';' {
				return a, fmt.Errorf("%w: %q: invalid character %q at offset %d, expected ';'", ErrBadAttrs, text, s[i], i)
			}
			i = skipSpaceStr(s, i+1)
		}
		a.Params = append(a.Params, p)
		a.apply(p)
	}
	return a, nil
}

func skipSpaceStr(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// apply stores a known pair unless an earlier pair of that name won.
func (a *Attrs) apply(p Param) {
	bit, ok := knownAttrs[strings.ToLower(p.Name)]
	if !ok || a.set&bit != 0 {
		return
	}
	a.set |= bit
	switch bit {
	case hasDUID:
		a.DUID = p.Value
	case hasMaxLoad:
		a.MaxLoad = attrInt(p.Value)
	case hasWeight:
		a.Weight = attrInt(p.Value)
		if a.Weight < 1 || a.Weight > 100 {
			a.Weight = 0
		}
	case hasRWeight:
		a.RWeight = attrInt(p.Value)
		if a.RWeight < 1 || a.RWeight > 100 {
			a.RWeight = 0
		}
	case hasSocket:
		a.Socket = p.Value
	case hasSockname:
		a.Sockname = p.Value
	case hasPingFrom:
		a.PingFrom = p.Value
	case hasOBProxy:
		a.OBProxy = p.Value
	case hasCC:
		a.CC = attrInt(p.Value)
	case hasLatency:
		a.Latency = attrInt(p.Value)
	}
}

// attrInt reads a numeric attr value as Kamailio 5.6.3 does (checked with
// the binary): an optional sign and the leading decimal digits, the rest
// ignored ("50abc" is 50, "abc" is 0, "-5" is -5), saturated to 32 bits.
func attrInt(v string) int {
	i, neg := 0, false
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		neg = v[i] == '-'
		i++
	}
	var n int64
	for ; i < len(v) && isDigit(v[i]); i++ {
		if n < 1<<32 {
			n = n*10 + int64(v[i]-'0')
		}
	}
	if neg {
		n = -n
	}
	return int(max(min(n, math.MaxInt32), math.MinInt32))
}

// OverloadControl returns the 6.0+ attrs ocmin, ocmax and ocrate with 6.0's
// clamping (spec §2.4: ocmax 0 or >100 is 100; ocmin >100 or >ocmax is 0;
// ocrate >100 is 0, then clamped into [ocmin, ocmax]). Kamailio 5.6.3
// ignores these names (they stay in Params); this is for a 6.x target.
func (a Attrs) OverloadControl() (ocmin, ocmax, ocrate int) {
	get := func(name string) int {
		v, _ := a.Param(name)
		return max(attrInt(v), 0)
	}
	ocmin, ocmax, ocrate = get("ocmin"), get("ocmax"), get("ocrate")
	if ocmax == 0 || ocmax > 100 {
		ocmax = 100
	}
	if ocmin > 100 || ocmin > ocmax {
		ocmin = 0
	}
	if ocrate > 100 {
		ocrate = 0
	}
	ocrate = min(max(ocrate, ocmin), ocmax)
	return ocmin, ocmax, ocrate
}
