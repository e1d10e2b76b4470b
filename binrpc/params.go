package binrpc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// params are a request's parameter records, read lazily one by one as the
// handler scans them, with ctl's typing (binrpc.md §5.2). It implements
// rpc.Params.
type params struct {
	body     []byte // records not read yet
	index    int    // 0-based index of the next parameter
	autoconv bool
	// prepared is the 400 fault of the last failed scan, sent only when
	// the command ends without reply, fault or body (binrpc.md §5.2).
	prepared *rpc.Fault
	// hard is a fault the command cannot avoid (a scan format ctl does
	// not support, such as '{').
	hard *rpc.Fault
}

func newParams(body []byte, autoconv bool) *params {
	return &params{body: body, autoconv: autoconv}
}

// typeName is ctl's name of a record type in scan errors (binrpc.md §5.2).
func typeName(t RecordType) string {
	switch t {
	case RecInt:
		return "integer"
	case RecStr:
		return "string"
	case RecDouble:
		return "float"
	case RecStruct:
		return "structure"
	case RecArray:
		return "array"
	case RecAVP:
		return "structure member"
	case RecBytes:
		return "bytes array"
	}
	return "any"
}

// letterType is the record type a scan letter expects.
func letterType(l byte) RecordType {
	switch l {
	case 'd', 'u', 'b', 't':
		return RecInt
	case 'f', 'l', 'j', 'L', 'J':
		return RecDouble
	case 's', 'S':
		return RecStr
	case '{':
		return RecStruct
	}
	return RecArray
}

// Scan implements rpc.Params with ctl's rules (binrpc.md §5.2).
func (p *params) Scan(format string, dst ...any) int {
	specs, err := rpc.ParseFormat(format)
	if err != nil {
		p.hard = &rpc.Fault{Code: 500, Message: "internal server error"}
		return -1
	}
	n := 0
	for i, sp := range specs {
		want := letterType(sp.Letter)
		if want == RecStruct || want == RecArray {
			p.hard = &rpc.Fault{Code: 500, Message: fmt.Sprintf("internal server error, type %d not supported", want)}
			return -(n + 1)
		}
		if len(p.body) == 0 && sp.Optional {
			return n
		}
		if i >= len(dst) {
			p.hard = &rpc.Fault{Code: 500, Message: "internal server error"}
			return -(n + 1)
		}
		conv := sp.Convert || p.autoconv
		r, size, err := ReadRecord(p.body)
		shown := want
		if err == nil {
			if conv {
				shown = r.Type
			}
			err = p.assign(sp.Letter, want, r, conv, dst[i])
		}
		if err != nil {
			p.prepared = &rpc.Fault{Code: 400, Message: fmt.Sprintf("error at parameter %d: expected %s type but %s", p.index, typeName(shown), reason(err))}
			return -(n + 1)
		}
		p.body = p.body[size:]
		p.index++
		n++
	}
	return n
}

// reason is the BINRPC error string of err (binrpc.md §6).
func reason(err error) string {
	for _, e := range []error{ErrInvalidArgs, ErrOverflow, ErrCorrupted, ErrMoreData, ErrEndOfPacket, ErrType, ErrBadRecord, ErrBug} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "unknown/invalid error code"
}

// assign stores record r into dst for letter l; with conv it converts
// between INT, DOUBLE and STR as ctl's autoconversion does (DOUBLE to STR
// is not supported: "bug -- internal error").
func (p *params) assign(l byte, want RecordType, r Record, conv bool, dst any) error {
	if r.Type != want && !conv {
		return ErrType
	}
	switch want {
	case RecInt:
		var v int
		switch r.Type {
		case RecInt:
			v = int(r.Int)
		case RecDouble:
			v = int(int32(int64(r.Double)))
		case RecStr:
			x, err := strconv.ParseInt(strings.TrimSpace(r.Str), 10, 64)
			if err != nil {
				return ErrType
			}
			v = int(int32(x))
		default:
			return ErrType
		}
		d, ok := dst.(*int)
		if !ok {
			return ErrInvalidArgs
		}
		*d = v
	case RecDouble:
		var v float64
		switch r.Type {
		case RecDouble:
			v = r.Double
		case RecInt:
			v = float64(r.Int)
		case RecStr:
			f, ok := strtod(r.Str)
			if !ok {
				return ErrType
			}
			v = f
		default:
			return ErrType
		}
		switch d := dst.(type) {
		case *float64:
			if l != 'f' {
				return ErrInvalidArgs
			}
			*d = v
		case *int64:
			if l == 'f' {
				return ErrInvalidArgs
			}
			*d = int64(v)
		default:
			return ErrInvalidArgs
		}
	case RecStr:
		var v string
		switch r.Type {
		case RecStr:
			v = r.Str
		case RecInt:
			v = strconv.FormatUint(uint64(int64(r.Int)), 10)
		case RecDouble:
			return ErrBug
		default:
			return ErrType
		}
		d, ok := dst.(*string)
		if !ok {
			return ErrInvalidArgs
		}
		*d = v
	}
	return nil
}
