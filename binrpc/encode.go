package binrpc

import "github.com/kamsidecar/kamsidecar/rpc"

// nullString is what ctl sends for a NULL string (binrpc.md §5.1).
const nullString = "<null string>"

// maxFaultMessage is the longest fault message ctl sends (binrpc.md §4.3).
const maxFaultMessage = 255

// AppendValues appends the records of a reply's top-level values as ctl
// builds them (binrpc.md §5.1): every value in order, longs as DOUBLE,
// unsigned ints wrapped, bools and times as INT, a null string as
// "<null string>", structs and arrays both as STRUCT records with named
// members as AVP+value and un-named ones as plain values.
func AppendValues(b []byte, vs []rpc.Value) []byte {
	for i := range vs {
		b = appendValue(b, &vs[i], 0)
	}
	return b
}

func appendValue(b []byte, v *rpc.Value, depth int) []byte {
	switch v.Kind {
	case rpc.KindInt, rpc.KindUint, rpc.KindBool, rpc.KindTime:
		return AppendInt(b, int32(v.I))
	case rpc.KindDouble:
		return AppendDouble(b, v.F)
	case rpc.KindLong:
		return AppendDouble(b, float64(v.I))
	case rpc.KindString:
		return AppendString(b, v.S)
	case rpc.KindNull:
		return AppendString(b, nullString)
	case rpc.KindStruct, rpc.KindArray:
		b = AppendStructStart(b)
		if v.C != nil && depth < maxDepth {
			for i := range v.C.Members {
				m := &v.C.Members[i]
				if m.Named {
					b = AppendAVP(b, m.Name)
				}
				b = appendValue(b, &m.Value, depth+1)
			}
		}
		return AppendStructEnd(b)
	}
	// An unknown kind: Kamailio would refuse the format letter; send an
	// empty string so the records stay well formed.
	return AppendString(b, "")
}

// AppendFaultBody appends a fault body: INT code, STR message cut to 255
// bytes (binrpc.md §4.3).
func AppendFaultBody(b []byte, f rpc.Fault) []byte {
	msg := f.Message
	if len(msg) > maxFaultMessage {
		msg = msg[:maxFaultMessage]
	}
	b = AppendInt(b, int32(f.Code))
	return AppendString(b, msg)
}

// AppendPacket appends a whole packet: header (minimal widths) and body.
func AppendPacket(b []byte, t PacketType, cookie uint32, body []byte) []byte {
	b = AppendHeader(b, Header{Type: t, Length: uint32(len(body)), Cookie: cookie})
	return append(b, body...)
}

// EncodeReply returns the reply packet ctl sends for a finished call
// (binrpc.md §5.1, §7 step 5): the first fault if any, else the prepared
// scan fault when the body is empty, else the values.
func EncodeReply(cookie uint32, c *rpc.Call, prepared *rpc.Fault) []byte {
	p, _ := appendReply(nil, cookie, c, prepared)
	return p
}

// appendReply is EncodeReply into dst's room: it returns the packet and
// the buffer it is at the end of, dst or a larger one, to reuse (a fault
// packet is a new slice; the buffer returned is then dst).
func appendReply(dst []byte, cookie uint32, c *rpc.Call, prepared *rpc.Fault) (packet, buf []byte) {
	if f, _, ok := c.FirstFault(); ok {
		return faultPacket(cookie, f), dst
	}
	if prepared != nil && len(c.Values()) == 0 {
		return faultPacket(cookie, *prepared), dst
	}
	vs := c.Values()
	size := 0
	for i := range vs {
		size += valueSize(&vs[i], 0)
	}
	// One allocation: the body is written after room for the largest
	// header, which is then put right before it.
	if cap(dst) < 10+size {
		dst = make([]byte, 0, 10+size)
	}
	buf = AppendValues(dst[:10], vs)
	var hb [10]byte
	h := AppendHeader(hb[:0], Header{Type: TypeReply, Length: uint32(len(buf) - 10), Cookie: cookie})
	start := 10 - len(h)
	copy(buf[start:], h)
	return buf[start:], buf
}

// lenSize is the size of a string-like record of n bytes with its type
// byte and length (appendLen).
func lenSize(n int) int {
	if n < 8 {
		return 1 + n
	}
	return 2 + byteLen(uint64(n), 1) - 1 + n
}

// valueSize is the number of bytes appendValue writes for v.
func valueSize(v *rpc.Value, depth int) int {
	switch v.Kind {
	case rpc.KindInt, rpc.KindUint, rpc.KindBool, rpc.KindTime:
		if int32(v.I) < 0 {
			return 5
		}
		return 1 + byteLen(uint64(int32(v.I)), 0)
	case rpc.KindDouble, rpc.KindLong:
		return 9
	case rpc.KindString:
		return lenSize(len(v.S) + 1)
	case rpc.KindNull:
		return lenSize(len(nullString) + 1)
	case rpc.KindStruct, rpc.KindArray:
		n := 2
		if v.C != nil && depth < maxDepth {
			for i := range v.C.Members {
				m := &v.C.Members[i]
				if m.Named {
					n += lenSize(len(m.Name) + 1)
				}
				n += valueSize(&m.Value, depth+1)
			}
		}
		return n
	}
	return 2
}

func faultPacket(cookie uint32, f rpc.Fault) []byte {
	return AppendPacket(nil, TypeFault, cookie, AppendFaultBody(nil, f))
}
