package rpctest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A small, test-only BINRPC encoder/decoder (spec binrpc.md §3–4). It is
// deliberately independent of any production code so that it can judge it.

// BINRPC packet types.
const (
	PktRequest = 0
	PktReply   = 1
	PktFault   = 3
)

// BINRPC record types.
const (
	recInt    = 0
	recStr    = 1
	recDouble = 2
	recStruct = 3
	recArray  = 4
	recAVP    = 5
	recBytes  = 6
)

// Cookie is the fixed cookie every generated request carries.
const Cookie = 0x1234

// minBytes is the minimal number of big-endian bytes for v (0 takes 1 when
// minOne is set).
func minBytes(v uint64, minOne bool) int {
	n := 0
	for x := v; x != 0; x >>= 8 {
		n++
	}
	if n == 0 && minOne {
		n = 1
	}
	return n
}

func putBE(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// Header builds a packet header with explicit widths (1–4) of the length
// and cookie fields.
func Header(typ int, bodyLen, lenWidth int, cookie uint32, cookieWidth int) []byte {
	h := []byte{0xA1, byte(typ<<4 | (lenWidth-1)<<2 | (cookieWidth - 1))}
	h = append(h, putBE(uint64(bodyLen), lenWidth)...)
	return append(h, putBE(uint64(cookie), cookieWidth)...)
}

// Packet wraps body in a header with minimal widths.
func Packet(typ int, cookie uint32, body []byte) []byte {
	lw := minBytes(uint64(len(body)), true)
	cw := minBytes(uint64(cookie), true)
	return append(Header(typ, len(body), lw, cookie, cw), body...)
}

func encInt(v int32) []byte {
	u := uint32(v)
	n := minBytes(uint64(u), false)
	if v < 0 {
		n = 4
	}
	return append([]byte{byte(n<<4 | recInt)}, putBE(uint64(u), n)...)
}

func encStrLike(typ byte, b []byte, nul bool) []byte {
	if nul {
		b = append(append([]byte{}, b...), 0)
	}
	if len(b) < 8 {
		return append([]byte{byte(len(b)<<4) | typ}, b...)
	}
	ll := minBytes(uint64(len(b)), true)
	out := []byte{byte((8|ll)<<4) | typ}
	out = append(out, putBE(uint64(len(b)), ll)...)
	return append(out, b...)
}

func encDouble(f float64) []byte {
	v := int64(f * 1000)
	u := uint64(v)
	n := minBytes(u, false)
	if v < 0 {
		n = 8
	}
	return append([]byte{byte(n<<4 | recDouble)}, putBE(u, n)...)
}

// Param is one typed request parameter.
type Param struct {
	Kind byte // 'i' int, 's' string, 'f' double
	I    int
	S    string
	F    float64
}

// I is an int parameter.
func I(v int) Param { return Param{Kind: 'i', I: v} }

// S is a string parameter.
func S(v string) Param { return Param{Kind: 's', S: v} }

// F is a double parameter.
func F(v float64) Param { return Param{Kind: 'f', F: v} }

// EncodeRequest builds a request packet for method with params and cookie.
func EncodeRequest(cookie uint32, method string, params ...Param) []byte {
	body := encStrLike(recStr, []byte(method), true)
	for _, p := range params {
		switch p.Kind {
		case 'i':
			body = append(body, encInt(int32(p.I))...)
		case 's':
			body = append(body, encStrLike(recStr, []byte(p.S), true)...)
		case 'f':
			body = append(body, encDouble(p.F)...)
		}
	}
	return Packet(PktRequest, cookie, body)
}

// Record is one decoded BINRPC record.
type Record struct {
	Type  byte
	End   bool // end marker of a struct/array
	Int   int32
	Str   []byte // STR/AVP without NUL, BYTES
	Dbl   int64  // DOUBLE fixed point value (×1000)
	Width int    // value byte width (INT/DOUBLE)
}

// Decoded is a decoded packet.
type Decoded struct {
	Type    int
	Cookie  uint32
	Records []Record
	Raw     []byte
}

// PacketLen returns the total length of the packet at the start of b, or
// 0 when more bytes are needed.
func PacketLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	if b[0] != 0xA1 {
		return 0, errors.New("bad magic")
	}
	lw := int(b[1]>>2&3) + 1
	cw := int(b[1]&3) + 1
	hl := 2 + lw + cw
	if len(b) < hl {
		return 0, nil
	}
	var l uint64
	for _, c := range b[2 : 2+lw] {
		l = l<<8 | uint64(c)
	}
	return hl + int(l), nil
}

// DecodePacket decodes one complete packet.
func DecodePacket(b []byte) (*Decoded, error) {
	n, err := PacketLen(b)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > len(b) {
		return nil, errors.New("short packet")
	}
	lw := int(b[1]>>2&3) + 1
	cw := int(b[1]&3) + 1
	var ck uint32
	for _, c := range b[2+lw : 2+lw+cw] {
		ck = ck<<8 | uint32(c)
	}
	d := &Decoded{Type: int(b[1] >> 4), Cookie: ck, Raw: b[:n]}
	body := b[2+lw+cw : n]
	for len(body) > 0 {
		r, used, err := decodeRecord(body)
		if err != nil {
			return d, err
		}
		d.Records = append(d.Records, r)
		body = body[used:]
	}
	return d, nil
}

func decodeRecord(b []byte) (Record, int, error) {
	t := b[0] & 0x0f
	flag := b[0]&0x80 != 0
	size := int(b[0] >> 4 & 7)
	r := Record{Type: t}
	pos := 1
	if t == recDouble {
		n := int(b[0] >> 4)
		if len(b) < 1+n || n > 8 {
			return r, 0, errors.New("bad double")
		}
		var u uint64
		for _, c := range b[1 : 1+n] {
			u = u<<8 | uint64(c)
		}
		r.Dbl = int64(u) // only 8-byte values can be negative
		r.Width = n
		return r, 1 + n, nil
	}
	vlen := size
	if flag {
		if size == 0 {
			r.End = true
			return r, 1, nil
		}
		if len(b) < 1+size {
			return r, 0, errors.New("short length")
		}
		vlen = 0
		for _, c := range b[1 : 1+size] {
			vlen = vlen<<8 | int(c)
		}
		pos += size
	}
	if len(b) < pos+vlen {
		return r, 0, errors.New("short value")
	}
	v := b[pos : pos+vlen]
	switch t {
	case recInt:
		var u uint32
		for _, c := range v {
			u = u<<8 | uint32(c)
		}
		r.Int = int32(u) // sign only from 4-byte values
		r.Width = vlen
	case recStr, recAVP:
		if vlen > 0 && v[vlen-1] == 0 {
			v = v[:vlen-1]
		}
		r.Str = append([]byte{}, v...)
	case recBytes:
		r.Str = append([]byte{}, v...)
	case recStruct, recArray:
	default:
		return r, 0, fmt.Errorf("unknown record type %d", t)
	}
	return r, pos + vlen, nil
}

// encode re-encodes a decoded record canonically.
func (r Record) encode() []byte {
	switch r.Type {
	case recInt:
		return encInt(r.Int)
	case recStr, recAVP:
		return encStrLike(r.Type, r.Str, true)
	case recBytes:
		return encStrLike(r.Type, r.Str, false)
	case recDouble:
		u := uint64(r.Dbl)
		n := minBytes(u, false)
		if r.Dbl < 0 {
			n = 8
		}
		return append([]byte{byte(n<<4 | recDouble)}, putBE(u, n)...)
	case recStruct, recArray:
		if r.End {
			return []byte{0x80 | r.Type}
		}
		return []byte{r.Type}
	}
	return nil
}

// Canonical reports whether re-encoding d yields exactly its raw bytes.
func (d *Decoded) Canonical() bool {
	var body []byte
	for _, r := range d.Records {
		body = append(body, r.encode()...)
	}
	return string(Packet(d.Type, d.Cookie, body)) == string(d.Raw)
}

func quote(b []byte) string { return strconv.Quote(string(b)) }

// Dump renders a packet as stable text: a header line, then one line per
// record (AVP name and its value on one line, structs indented). Because
// Kamailio encodes canonically (checked: "canonical"), the text determines
// the bytes; a non-canonical packet also gets its raw hex.
func Dump(raw []byte) string {
	var sb strings.Builder
	d, err := DecodePacket(raw)
	if d == nil {
		fmt.Fprintf(&sb, "undecodable: %v\nraw: %s\n", err, hex.EncodeToString(raw))
		return sb.String()
	}
	types := map[int]string{PktRequest: "request", PktReply: "reply", PktFault: "fault"}
	tn := types[d.Type]
	if tn == "" {
		tn = "type" + strconv.Itoa(d.Type)
	}
	canon := "canonical"
	if err != nil || !d.Canonical() {
		canon = "NON-CANONICAL raw=" + hex.EncodeToString(raw)
	}
	fmt.Fprintf(&sb, "%s cookie=%#x %s\n", tn, d.Cookie, canon)
	if err != nil {
		fmt.Fprintf(&sb, "decode error: %v\n", err)
	}
	depth := 0
	pendingName := ""
	for _, r := range d.Records {
		val := ""
		switch r.Type {
		case recInt:
			val = fmt.Sprintf("INT %d", r.Int)
		case recStr:
			val = "STR " + quote(r.Str)
		case recBytes:
			val = "BYTES " + quote(r.Str)
		case recDouble:
			val = fmt.Sprintf("DOUBLE %s", fixed3(r.Dbl))
		case recAVP:
			pendingName = quote(r.Str) + ": "
			continue
		case recStruct, recArray:
			open, cl := "{", "}"
			if r.Type == recArray {
				open, cl = "[", "]"
			}
			if r.End {
				depth--
				if depth < 0 {
					depth = 0
				}
				sb.WriteString(strings.Repeat("  ", depth) + cl + "\n")
				continue
			}
			sb.WriteString(strings.Repeat("  ", depth) + pendingName + open + "\n")
			pendingName = ""
			depth++
			continue
		}
		sb.WriteString(strings.Repeat("  ", depth) + pendingName + val + "\n")
		pendingName = ""
	}
	if pendingName != "" {
		sb.WriteString(strings.Repeat("  ", depth) + pendingName + "(missing value)\n")
	}
	return sb.String()
}

func fixed3(v int64) string {
	s := "-"
	u := uint64(v)
	if v >= 0 {
		s = ""
	} else {
		u = uint64(-v)
	}
	return fmt.Sprintf("%s%d.%03d", s, u/1000, u%1000)
}
