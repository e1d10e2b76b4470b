package jsonrpc

import (
	"math"
	"strconv"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// dblEpsilon is C's DBL_EPSILON, used by srjson's integral tests.
const dblEpsilon = 2.220446049250313e-16

// cvtInt32 converts d to a C int the way x86-64 does (cvttsd2si): toward
// zero, and INT_MIN when out of range or NaN.
func cvtInt32(d float64) int32 {
	if !(d > -2147483649 && d < 2147483648) {
		return math.MinInt32
	}
	return int32(d)
}

// cvtInt64 converts d to a C long the way x86-64 does.
func cvtInt64(d float64) int64 {
	if !(d >= -9223372036854775808 && d < 9223372036854775808) {
		return math.MinInt64
	}
	return int64(d)
}

// cvtUint64 converts d to a C unsigned long the way gcc does on x86-64
// (jsonrpc.md §3.2: a number converted to a string goes through it).
func cvtUint64(d float64) uint64 {
	const two63 = 9223372036854775808.0
	if !(d >= two63) {
		return uint64(cvtInt64(d))
	}
	return uint64(cvtInt64(d-two63)) ^ (1 << 63)
}

// AppendNumber appends d printed as srjson prints a number (jsonrpc.md
// §4.3): %d when integral within the 32-bit int range, %.0f when integral,
// %e when |d| < 1e-6 or |d| > 1e9, %f otherwise.
func AppendNumber(b []byte, d float64) []byte {
	vi := cvtInt32(d)
	if math.Abs(float64(vi)-d) <= dblEpsilon && d <= math.MaxInt32 && d >= math.MinInt32 {
		return strconv.AppendInt(b, int64(vi), 10)
	}
	switch {
	case math.IsNaN(d):
		if math.Signbit(d) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(d, 1):
		return append(b, "inf"...)
	case math.IsInf(d, -1):
		return append(b, "-inf"...)
	case math.Abs(math.Floor(d)-d) <= dblEpsilon:
		return strconv.AppendFloat(b, d, 'f', 0, 64)
	case math.Abs(d) < 1e-6 || math.Abs(d) > 1e9:
		return appendCExp(b, d)
	default:
		return strconv.AppendFloat(b, d, 'f', 6, 64)
	}
}

// appendCExp prints d like C's %e (six decimals, at least two exponent
// digits), which Go's 'e' format matches.
func appendCExp(b []byte, d float64) []byte {
	return strconv.AppendFloat(b, d, 'e', 6, 64)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a srjson string (jsonrpc.md §4.3): '"' and '\'
// escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx in
// lower case, '/' and bytes >= 0x80 raw. Like the C original, s ends at its
// first NUL byte.
func AppendString(b []byte, s string) []byte {
	// Fast path: most strings (keys, URIs, numbers) need no escaping and
	// are copied in one piece.
	i := 0
	for i < len(s) && !needsEscape[s[i]] {
		i++
	}
	b = append(b, '"')
	b = append(b, s[:i]...)
	if i == len(s) {
		return append(b, '"')
	}
	return appendEscaped(b, s, i)
}

// needsEscape marks the bytes AppendString cannot copy as they are.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// appendEscaped is AppendString from s[i], a byte that needs escaping,
// on; b already holds the opening quote and s[:i].
func appendEscaped(b []byte, s string, i int) []byte {
	start := i
	for ; i < len(s); i++ {
		c := s[i]
		if !needsEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		switch c {
		case 0:
			return append(b, '"')
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// timeLayout is how the 't' letter prints over JSON (jsonrpc.md §4.1).
const timeLayout = "20060102T15:04:05"

const tabRun = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"

func tabs(b []byte, n int) []byte {
	for n > len(tabRun) {
		b = append(b, tabRun...)
		n -= len(tabRun)
	}
	if n > 0 {
		b = append(b, tabRun[:n]...)
	}
	return b
}

// enc prints values with srjson's layout, pretty (pretty_format=1) or
// compact (jsonrpc.md §4.3). depth is the depth cJSON passes to the value's
// printer: 0 for the envelope, 1 for its members.
type enc struct{ pretty bool }

func (e enc) value(b []byte, v *rpc.Value, depth int) []byte {
	switch v.Kind {
	case rpc.KindInt, rpc.KindUint, rpc.KindLong:
		return AppendNumber(b, float64(v.I))
	case rpc.KindDouble:
		return AppendNumber(b, v.F)
	case rpc.KindBool:
		if v.I != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case rpc.KindTime:
		b = append(b, '"')
		b = time.Unix(v.I, 0).UTC().AppendFormat(b, timeLayout)
		return append(b, '"')
	case rpc.KindString:
		return AppendString(b, v.S)
	case rpc.KindStruct:
		if v.C == nil {
			return e.emptyObject(b, depth)
		}
		return e.container(b, v.C, false, depth)
	case rpc.KindArray:
		if v.C == nil {
			return append(b, "[]"...)
		}
		return e.container(b, v.C, true, depth)
	}
	return append(b, "null"...)
}

func (e enc) emptyObject(b []byte, depth int) []byte {
	if e.pretty {
		b = append(b, '{', '\n')
		b = tabs(b, depth)
		return append(b, '}')
	}
	return append(b, '{', '}')
}

// container prints c as an array or an object (jsonrpc.md §4.1): a named
// member of an array becomes a one-member object, an unnamed member of an
// object (array_add on a struct) is dropped.
func (e enc) container(b []byte, c *rpc.Container, array bool, depth int) []byte {
	if array {
		if len(c.Members) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i := range c.Members {
			m := &c.Members[i]
			if i > 0 {
				b = append(b, ',')
				if e.pretty {
					b = append(b, ' ')
				}
			}
			if m.Named {
				b = e.object(b, c.Members[i:i+1], 1, depth+1)
			} else {
				b = e.value(b, &m.Value, depth+1)
			}
		}
		return append(b, ']')
	}
	n := 0
	for i := range c.Members {
		if c.Members[i].Named {
			n++
		}
	}
	return e.object(b, c.Members, n, depth)
}

// object prints the named members of ms (n of them) as an object.
func (e enc) object(b []byte, ms []rpc.Member, n, depth int) []byte {
	if n == 0 {
		return e.emptyObject(b, depth)
	}
	inner := depth + 1
	b = append(b, '{')
	if e.pretty {
		b = append(b, '\n')
	}
	k := 0
	for i := range ms {
		m := &ms[i]
		if !m.Named {
			continue
		}
		k++
		if e.pretty {
			b = tabs(b, inner)
		}
		b = AppendString(b, m.Name)
		b = append(b, ':')
		if e.pretty {
			b = append(b, '\t')
		}
		b = e.value(b, &m.Value, inner)
		if k < n {
			b = append(b, ',')
		}
		if e.pretty {
			b = append(b, '\n')
		}
	}
	if e.pretty {
		b = tabs(b, depth)
	}
	return append(b, '}')
}

// id is a request id as the reply echoes it (jsonrpc.md §3.1).
type id struct {
	present bool
	isStr   bool
	s       string
	n       float64
}

// reply is one JSON-RPC answer before printing.
type reply struct {
	values   []rpc.Value
	retArray bool
	fault    *rpc.Fault // already mapped by mapFault
	id       id
	// cached, when not nil, is the encoded result printed instead of
	// values (rpc.ReplyCache).
	cached []byte
	// resultAt and resultEnd are set by appendReply: where the result's
	// text starts and ends in the document (no fault).
	resultAt, resultEnd int
}

// reservedFaults are the JSON-RPC codes whose text replaces the command's
// (jsonrpc.md §4.2).
var reservedFaults = map[int]string{
	-32700: "Parse Error",
	-32600: "Invalid Request",
	-32601: "Method Not Found",
	-32602: "Invalid Parameters",
	-32603: "Internal Error",
	-32000: "Execution Error",
}

// maxFaultText is the longest fault message Kamailio keeps (a 128-byte
// buffer, jsonrpc.md §4.2).
const maxFaultText = 127

// MapFault turns a recorded fault into the code and message JSON-RPC
// sends (jsonrpc.md §4.2): code 0 becomes -32000, a reserved code takes its
// table text, the message is cut to 127 bytes and an empty one becomes
// "Unexpected Error".
func MapFault(f rpc.Fault) rpc.Fault {
	if f.Code == 0 {
		f.Code = -32000
	}
	if t, ok := reservedFaults[f.Code]; ok {
		f.Message = t
		return f
	}
	if len(f.Message) > maxFaultText {
		f.Message = f.Message[:maxFaultText]
	}
	if f.Message == "" {
		f.Message = "Unexpected Error"
	}
	return f
}

// appendReply prints r as the whole reply document (jsonrpc.md §4.3):
// jsonrpc, then result or error, then id; no trailing newline.
func (e enc) appendReply(b []byte, r *reply) []byte {
	sep := func(b []byte, name string) []byte {
		if e.pretty {
			b = append(b, '\t')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		if e.pretty {
			b = append(b, '\t')
		}
		return b
	}
	end := func(b []byte, last bool) []byte {
		if !last {
			b = append(b, ',')
		}
		if e.pretty {
			b = append(b, '\n')
		}
		return b
	}
	b = append(b, '{')
	if e.pretty {
		b = append(b, '\n')
	}
	b = sep(b, "jsonrpc")
	b = append(b, `"2.0"`...)
	b = end(b, false)
	if r.fault != nil {
		b = sep(b, "error")
		ms := []rpc.Member{
			{Name: "code", Named: true, Value: rpc.Value{Kind: rpc.KindLong, I: int64(r.fault.Code)}},
			{Name: "message", Named: true, Value: rpc.String(r.fault.Message)},
		}
		b = e.object(b, ms, 2, 1)
	} else {
		b = sep(b, "result")
		r.resultAt = len(b)
		switch {
		case r.cached != nil:
			b = append(b, r.cached...)
		case r.retArray:
			b = e.container(b, &rpc.Container{Members: valueMembers(r.values)}, true, 1)
		case len(r.values) == 0:
			b = e.emptyObject(b, 1)
		default:
			b = e.value(b, &r.values[len(r.values)-1], 1)
		}
		r.resultEnd = len(b)
	}
	b = end(b, !r.id.present)
	if r.id.present {
		b = sep(b, "id")
		if r.id.isStr {
			b = AppendString(b, r.id.s)
		} else {
			b = AppendNumber(b, r.id.n)
		}
		b = end(b, true)
	}
	return append(b, '}')
}

func valueMembers(vs []rpc.Value) []rpc.Member {
	ms := make([]rpc.Member, len(vs))
	for i, v := range vs {
		ms[i].Value = v
	}
	return ms
}

// EncodeResult prints the reply a call c would get over JSON-RPC with the
// given id (nil for none), pretty or compact (jsonrpc.md §4): the
// pieces of the envelope follow §4.1-§4.3. It is what every transport sends.
func EncodeResult(c *rpc.Call, reqID any, pretty bool) []byte {
	r := reply{values: c.Values(), retArray: c.Method() != nil && c.Method().Flags&rpc.RetArray != 0}
	if f, ok := c.LastFault(); ok {
		f = MapFault(f)
		r.fault = &f
	}
	r.id = goID(reqID)
	return enc{pretty: pretty}.appendReply(nil, &r)
}

// goID turns a Go id (nil, string, number, bool) into a reply id.
func goID(v any) id {
	switch x := v.(type) {
	case nil:
		return id{}
	case string:
		return id{present: true, isStr: true, s: x}
	case int:
		return id{present: true, n: float64(x)}
	case int64:
		return id{present: true, n: float64(x)}
	case float64:
		return id{present: true, n: x}
	case bool:
		if x {
			return id{present: true, n: 1}
		}
	}
	return id{present: true}
}
