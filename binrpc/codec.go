package binrpc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// PacketType is the type nibble of a packet header (binrpc.md §3).
type PacketType uint8

// Packet types (binrpc.md §3); 2 is unused.
const (
	TypeRequest PacketType = 0
	TypeReply   PacketType = 1
	TypeFault   PacketType = 3
)

// magicVersion is the first byte of every packet: magic 0xA, version 1.
const magicVersion = 0xA1

// MaxPacket is the size of ctl's read buffer (binrpc.md §2): a request
// whose header and body do not fit is refused.
const MaxPacket = 65535

// MinHeader is the smallest header: magic, type byte, 1-byte length and
// 1-byte cookie (binrpc.md §3).
const MinHeader = 4

// Errors of the codec. Their texts are Kamailio's BINRPC error strings
// (binrpc.md §6), which the server puts in its faults.
var (
	ErrInvalidArgs = errors.New("invalid function arguments")
	ErrOverflow    = errors.New("buffer too small (overflow)")
	ErrCorrupted   = errors.New("corrupted packet")
	ErrMoreData    = errors.New("more data needed")
	ErrEndOfPacket = errors.New("end of packet encountered")
	ErrType        = errors.New("record doesn't match type")
	ErrBadRecord   = errors.New("bad record")
	ErrBug         = errors.New("bug -- internal error")
)

// Header is a packet header (binrpc.md §3).
type Header struct {
	Type PacketType
	// Length is the length of the body that follows the header.
	Length uint32
	// Cookie is the request id echoed in the reply.
	Cookie uint32
}

// byteLen is the minimal number of big-endian bytes holding v, at least
// min.
func byteLen(v uint64, min int) int {
	n := 0
	for x := v; x != 0; x >>= 8 {
		n++
	}
	if n < min {
		n = min
	}
	return n
}

func appendBE(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

func readBE(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// AppendHeader appends h with the minimal widths of length and cookie
// (a value 0 still takes one byte; binrpc.md §3).
func AppendHeader(b []byte, h Header) []byte {
	ll := byteLen(uint64(h.Length), 1)
	cl := byteLen(uint64(h.Cookie), 1)
	b = append(b, magicVersion, byte(h.Type)<<4|byte(ll-1)<<2|byte(cl-1))
	b = appendBE(b, uint64(h.Length), ll)
	return appendBE(b, uint64(h.Cookie), cl)
}

// ParseHeader reads a header from the start of b, accepting length and
// cookie fields of 1–4 bytes (binrpc.md §3). It returns the header and its
// size. ErrMoreData means b is too short yet; ErrCorrupted a bad magic,
// version or packet type (the cookie is then 0).
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < MinHeader {
		return Header{}, 0, ErrMoreData
	}
	if b[0] != magicVersion {
		return Header{}, 0, fmt.Errorf("%w: first byte %#02x", ErrCorrupted, b[0])
	}
	t := PacketType(b[1] >> 4)
	if t != TypeRequest && t != TypeReply && t != TypeFault {
		return Header{}, 0, fmt.Errorf("%w: packet type %d", ErrCorrupted, t)
	}
	ll := int(b[1]>>2&3) + 1
	cl := int(b[1]&3) + 1
	n := 2 + ll + cl
	if len(b) < n {
		return Header{}, 0, ErrMoreData
	}
	return Header{Type: t, Length: uint32(readBE(b[2 : 2+ll])), Cookie: uint32(readBE(b[2+ll : n]))}, n, nil
}

// RecordType is the type nibble of a record (binrpc.md §4).
type RecordType uint8

// Record types (binrpc.md §4).
const (
	RecInt    RecordType = 0
	RecStr    RecordType = 1
	RecDouble RecordType = 2
	RecStruct RecordType = 3
	RecArray  RecordType = 4
	RecAVP    RecordType = 5
	RecBytes  RecordType = 6
)

var recNames = [...]string{"int", "str", "double", "struct", "array", "avp", "bytes"}

// String names the record type (int, str, double, struct, array, avp,
// bytes).
func (t RecordType) String() string {
	if int(t) < len(recNames) {
		return recNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Record is one decoded record (binrpc.md §4). In the records of a Reply
// an AVP and the value following it are one Record with Named set.
type Record struct {
	Type RecordType
	// End marks the end marker of a struct or an array.
	End bool
	// Name is the member name (from the AVP before the value) when Named.
	Name  string
	Named bool
	// Int holds an INT.
	Int int32
	// Double holds a DOUBLE.
	Double float64
	// Str holds a STR or BYTES value (and an AVP's name for a lone AVP).
	Str string
}

// AppendInt appends an INT record: 0–4 bytes, minimal, a negative value on
// 4 bytes (binrpc.md §4).
func AppendInt(b []byte, v int32) []byte {
	n := 4
	if v >= 0 {
		n = byteLen(uint64(v), 0)
	}
	b = append(b, byte(n)<<4|byte(RecInt))
	return appendBE(b, uint64(uint32(v)), n)
}

// appendLen appends a record type byte for a value of n bytes, in the
// long form (S=1, then the length) when n ≥ 8 (binrpc.md §4).
func appendLen(b []byte, t RecordType, n int) []byte {
	if n < 8 {
		return append(b, byte(n)<<4|byte(t))
	}
	ll := byteLen(uint64(n), 1)
	b = append(b, 0x80|byte(ll)<<4|byte(t))
	return appendBE(b, uint64(n), ll)
}

// AppendString appends a STR record: the bytes and a NUL (binrpc.md §4).
func AppendString(b []byte, s string) []byte {
	b = appendLen(b, RecStr, len(s)+1)
	b = append(b, s...)
	return append(b, 0)
}

// AppendAVP appends an AVP record (a struct member name, binrpc.md §4.1).
func AppendAVP(b []byte, name string) []byte {
	b = appendLen(b, RecAVP, len(name)+1)
	b = append(b, name...)
	return append(b, 0)
}

// AppendBytes appends a BYTES record (no NUL, binrpc.md §4).
func AppendBytes(b []byte, v []byte) []byte {
	b = appendLen(b, RecBytes, len(v))
	return append(b, v...)
}

// doubleFixed is C's (long long)(v*1000) as x86-64 computes it: NaN and
// values out of range give the smallest 64-bit integer.
func doubleFixed(v float64) int64 {
	x := v * 1000
	if math.IsNaN(x) || x >= 9.223372036854775807e18 || x < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(x)
}

// AppendDouble appends a DOUBLE record: value×1000 as a 0–8 byte integer,
// minimal, a negative one on 8 bytes; the whole size nibble is the byte
// count (binrpc.md §4).
func AppendDouble(b []byte, v float64) []byte {
	x := doubleFixed(v)
	n := 8
	if x >= 0 {
		n = byteLen(uint64(x), 0)
	}
	b = append(b, byte(n)<<4|byte(RecDouble))
	return appendBE(b, uint64(x), n)
}

// AppendStructStart, AppendStructEnd, AppendArrayStart and AppendArrayEnd
// append the markers 0x03, 0x83, 0x04 and 0x84 (binrpc.md §4).
func AppendStructStart(b []byte) []byte { return append(b, 0x03) }

// AppendStructEnd appends the end of a struct (0x83).
func AppendStructEnd(b []byte) []byte { return append(b, 0x83) }

// AppendArrayStart appends the start of an array (0x04).
func AppendArrayStart(b []byte) []byte { return append(b, 0x04) }

// AppendArrayEnd appends the end of an array (0x84).
func AppendArrayEnd(b []byte) []byte { return append(b, 0x84) }

// ReadRecord decodes the record at the start of b and returns it with its
// size (binrpc.md §4). An AVP comes back as a Record of type RecAVP with
// the name in Str. It never panics; a length beyond b is ErrEndOfPacket,
// a malformed record ErrBadRecord.
func ReadRecord(b []byte) (Record, int, error) {
	r, v, n, err := readRecord(b)
	if err == nil && (r.Type == RecStr || r.Type == RecAVP || r.Type == RecBytes) {
		r.Str = string(v)
	}
	return r, n, err
}

// readRecord is ReadRecord with a STR, AVP name or BYTES value as the
// bytes of b (Str left empty): a method name is looked up without a copy.
func readRecord(b []byte) (Record, []byte, int, error) {
	if len(b) == 0 {
		return Record{}, nil, 0, ErrEndOfPacket
	}
	t := RecordType(b[0] & 0x0f)
	flag := b[0]&0x80 != 0
	size := int(b[0] >> 4 & 7)
	pos := 1
	if t == RecDouble {
		n := int(b[0] >> 4)
		if n > 8 {
			return Record{}, nil, 0, ErrBadRecord
		}
		if len(b) < 1+n {
			return Record{}, nil, 0, ErrEndOfPacket
		}
		v := readBE(b[1 : 1+n])
		var x int64
		if n == 8 {
			x = int64(v)
		} else {
			x = int64(v) // fewer than 8 bytes: never negative
		}
		return Record{Type: t, Double: float64(x) / 1000}, nil, 1 + n, nil
	}
	switch t {
	case RecStruct, RecArray:
		if size != 0 {
			return Record{}, nil, 0, ErrBadRecord
		}
		return Record{Type: t, End: flag}, nil, 1, nil
	case RecInt, RecStr, RecAVP, RecBytes:
	default:
		return Record{}, nil, 0, ErrBadRecord
	}
	if flag {
		if size == 0 || size > 4 {
			return Record{}, nil, 0, ErrBadRecord
		}
		if len(b) < 1+size {
			return Record{}, nil, 0, ErrEndOfPacket
		}
		l := readBE(b[1 : 1+size])
		pos += size
		if l > uint64(len(b)-pos) {
			return Record{}, nil, 0, ErrEndOfPacket
		}
		size = int(l)
	} else if size > len(b)-pos {
		return Record{}, nil, 0, ErrEndOfPacket
	}
	v := b[pos : pos+size]
	r := Record{Type: t}
	switch t {
	case RecInt:
		if size > 4 {
			return Record{}, nil, 0, ErrBadRecord
		}
		if size == 4 {
			r.Int = int32(uint32(readBE(v)))
		} else {
			r.Int = int32(readBE(v))
		}
	case RecStr, RecAVP:
		if size > 0 && v[size-1] == 0 {
			v = v[:size-1]
		}
		return r, v, pos + size, nil
	case RecBytes:
		return r, v, pos + size, nil
	}
	return r, nil, pos + size, nil
}

// maxDepth bounds the nesting of structs and arrays a decoder accepts.
const maxDepth = 1000

// ParseBody decodes a reply body into records, an AVP and its value
// merged into one named Record (binrpc.md §4.1). Lenient mode is kamcmd's
// for replies: un-named values and struct starts are accepted inside
// structs. An ARRAY as a struct member is a bad record in both modes.
func ParseBody(b []byte, lenient bool) ([]Record, error) {
	var out []Record
	var stack []RecordType
	for pos := 0; pos < len(b); {
		r, n, err := ReadRecord(b[pos:])
		if err != nil {
			return out, fmt.Errorf("record at offset %d: %w", pos, err)
		}
		pos += n
		inStruct := len(stack) > 0 && stack[len(stack)-1] == RecStruct
		if r.Type == RecAVP {
			if !inStruct {
				return out, fmt.Errorf("record at offset %d: %w: member outside a struct", pos-n, ErrBadRecord)
			}
			v, m, err := ReadRecord(b[pos:])
			if err != nil {
				return out, fmt.Errorf("record at offset %d: %w", pos, err)
			}
			if v.Type == RecAVP || v.Type == RecArray || v.End {
				return out, fmt.Errorf("record at offset %d: %w: %s as a member value", pos, ErrBadRecord, v.Type)
			}
			pos += m
			v.Name, v.Named = r.Str, true
			r = v
		} else if inStruct && !lenient && !(r.Type == RecStruct && r.End) {
			return out, fmt.Errorf("record at offset %d: %w: un-named value in a struct", pos-n, ErrBadRecord)
		} else if inStruct && r.Type == RecArray && !r.End {
			return out, fmt.Errorf("record at offset %d: %w: array in a struct", pos-n, ErrBadRecord)
		}
		if r.Type == RecStruct || r.Type == RecArray {
			if r.End {
				if len(stack) == 0 || stack[len(stack)-1] != r.Type {
					return out, fmt.Errorf("record at offset %d: %w: unexpected end of %s", pos-1, ErrBadRecord, r.Type)
				}
				stack = stack[:len(stack)-1]
			} else {
				if len(stack) >= maxDepth {
					return out, fmt.Errorf("record at offset %d: %w: nested too deep", pos-1, ErrBadRecord)
				}
				stack = append(stack, r.Type)
			}
		}
		out = append(out, r)
	}
	if len(stack) > 0 {
		return out, fmt.Errorf("%w: %d unterminated struct or array", ErrEndOfPacket, len(stack))
	}
	return out, nil
}

// AppendRecord appends r (a value, or a marker; Named adds the AVP first).
func AppendRecord(b []byte, r Record) []byte {
	if r.Named {
		b = AppendAVP(b, r.Name)
	}
	switch r.Type {
	case RecInt:
		return AppendInt(b, r.Int)
	case RecStr:
		return AppendString(b, r.Str)
	case RecDouble:
		return AppendDouble(b, r.Double)
	case RecBytes:
		return AppendBytes(b, []byte(r.Str))
	case RecAVP:
		return AppendAVP(b, r.Str)
	case RecStruct, RecArray:
		if r.End {
			return append(b, 0x80|byte(r.Type))
		}
		return append(b, byte(r.Type))
	}
	return b
}
