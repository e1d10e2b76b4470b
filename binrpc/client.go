package binrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// Client is a BINRPC client, as kamcmd (binrpc.md §9). It is safe for
// concurrent use; calls are sent one at a time.
type Client struct {
	mu     sync.Mutex
	c      net.Conn
	addr   Addr
	dgram  bool
	reply  string // the unix dgram reply socket file to remove
	broken bool
	tmp    []byte // read buffer, reused by calls
	buf    bytes.Buffer
}

// Dial connects to a ctl address in kamcmd's syntax (ParseClientAddr,
// binrpc.md §9.1: a bare path is a unix stream socket). On a unix datagram
// socket the client binds its own reply socket in os.TempDir, removed by
// Close.
func Dial(ctx context.Context, addr string) (*Client, error) {
	a, err := ParseClientAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("binrpc dial: %w", err)
	}
	cl := &Client{addr: a, dgram: !a.Stream()}
	if a.Transport == UnixDgram {
		var lerr error
		for range 10 {
			name := filepath.Join(os.TempDir(), "kamsidecar_"+strconv.FormatUint(rand.Uint64()&0xffffffffff, 36))
			var uc *net.UnixConn
			uc, lerr = net.DialUnix("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"}, &net.UnixAddr{Name: a.Path, Net: "unixgram"})
			if lerr == nil {
				_ = uc.SetReadBuffer(dgramReadBuffer)
			}
			if lerr == nil {
				cl.c, cl.reply = uc, name
				return cl, nil
			}
			os.Remove(name)
			if !errors.Is(lerr, os.ErrExist) && !strings.Contains(lerr.Error(), "address already in use") {
				break
			}
		}
		return nil, fmt.Errorf("binrpc dial %s: %w", a, lerr)
	}
	host := a.Address()
	if a.Host == "*" {
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, a.Network(), host)
	if err != nil {
		return nil, fmt.Errorf("binrpc dial %s: %w", a, err)
	}
	if uc, ok := c.(*net.UDPConn); ok {
		// A large reply arrives as a burst of datagrams (§2): room for
		// them, as far as net.core.rmem_max allows.
		_ = uc.SetReadBuffer(dgramReadBuffer)
	}
	cl.c = c
	return cl, nil
}

// dgramReadBuffer is the receive buffer asked for on datagram clients.
const dgramReadBuffer = 4 << 20

// Close closes the connection and removes the reply socket file.
func (cl *Client) Close() error {
	err := cl.c.Close()
	if cl.reply != "" {
		if rerr := os.Remove(cl.reply); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// Reply is a decoded reply body (binrpc.md §4.3), read leniently as kamcmd
// does: an AVP and its value are one named Record.
type Reply struct {
	Cookie  uint32
	Records []Record
}

// AppendParam appends the record of one request parameter: INT for Go
// integers (truncated to 32 bits), DOUBLE for floats, STR for strings,
// BYTES for []byte (binrpc.md §4.2).
func AppendParam(b []byte, p any) ([]byte, error) {
	switch v := p.(type) {
	case int:
		return AppendInt(b, int32(v)), nil
	case int8:
		return AppendInt(b, int32(v)), nil
	case int16:
		return AppendInt(b, int32(v)), nil
	case int32:
		return AppendInt(b, v), nil
	case int64:
		return AppendInt(b, int32(v)), nil
	case uint:
		return AppendInt(b, int32(v)), nil
	case uint8:
		return AppendInt(b, int32(v)), nil
	case uint16:
		return AppendInt(b, int32(v)), nil
	case uint32:
		return AppendInt(b, int32(v)), nil
	case uint64:
		return AppendInt(b, int32(v)), nil
	case bool:
		if v {
			return AppendInt(b, 1), nil
		}
		return AppendInt(b, 0), nil
	case float64:
		return AppendDouble(b, v), nil
	case float32:
		return AppendDouble(b, float64(v)), nil
	case string:
		return AppendString(b, v), nil
	case []byte:
		return AppendBytes(b, v), nil
	}
	return b, fmt.Errorf("binrpc: parameter of type %T not supported", p)
}

// Request builds a request packet (binrpc.md §4.2, §9.2).
func Request(cookie uint32, method string, params ...any) ([]byte, error) {
	body := AppendString(nil, method)
	for i, p := range params {
		var err error
		if body, err = AppendParam(body, p); err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i, err)
		}
	}
	return AppendPacket(nil, TypeRequest, cookie, body), nil
}

// Call sends method with params (see AppendParam) and reads the reply,
// however big. A fault reply is returned as an rpc.Fault error.
func (cl *Client) Call(ctx context.Context, method string, params ...any) (*Reply, error) {
	cookie := rand.Uint32()
	pkt, err := Request(cookie, method, params...)
	if err != nil {
		return nil, err
	}
	if cl.dgram && len(pkt) > MaxPacket {
		return nil, fmt.Errorf("binrpc call %s: request of %d bytes is too big", method, len(pkt))
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.broken {
		return nil, errors.New("binrpc: connection broken by an earlier call")
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = cl.c.SetDeadline(dl)
	} else {
		_ = cl.c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = cl.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := cl.c.Write(pkt); err != nil {
		cl.broken = true
		return nil, fmt.Errorf("binrpc call %s: %w", method, err)
	}
	h, body, err := cl.readPacket()
	if err != nil {
		cl.broken = true
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, fmt.Errorf("binrpc call %s: %w", method, err)
	}
	if h.Cookie != cookie {
		cl.broken = true
		return nil, fmt.Errorf("binrpc call %s: bad reply, cookie doesn't match: sent %02x and received %02x", method, cookie, h.Cookie)
	}
	return decodeReply(h, body)
}

// decodeReply turns a reply or fault packet into a Reply or an rpc.Fault.
func decodeReply(h Header, body []byte) (*Reply, error) {
	switch h.Type {
	case TypeFault:
		return nil, decodeFault(body)
	case TypeReply:
	default:
		return nil, fmt.Errorf("binrpc: %w: packet type %d in a reply", ErrCorrupted, h.Type)
	}
	recs, err := ParseBody(body, true)
	if err != nil {
		return nil, fmt.Errorf("binrpc reply: %w", err)
	}
	return &Reply{Cookie: h.Cookie, Records: recs}, nil
}

// decodeFault reads a fault body: INT code, STR message (binrpc.md §4.3).
func decodeFault(body []byte) error {
	var f rpc.Fault
	r, n, err := ReadRecord(body)
	if err != nil || r.Type != RecInt {
		return fmt.Errorf("binrpc fault: %w", errors.Join(ErrBadRecord, err))
	}
	f.Code = int(r.Int)
	if r, _, err = ReadRecord(body[n:]); err == nil && r.Type == RecStr {
		f.Message = r.Str
	}
	return f
}

// readPacket reads one whole packet; a reply may come in several
// datagrams (binrpc.md §2). The body grows as data arrives, with no limit.
func (cl *Client) readPacket() (Header, []byte, error) {
	if cl.tmp == nil {
		cl.tmp = make([]byte, 65536)
	}
	tmp := cl.tmp
	buf := &cl.buf
	buf.Reset()
	read := func() error {
		n, err := cl.c.Read(tmp)
		buf.Write(tmp[:n])
		if n > 0 {
			return nil
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	var (
		h  Header
		hn int
	)
	for {
		var err error
		h, hn, err = ParseHeader(buf.Bytes())
		if err == nil {
			break
		}
		if !errors.Is(err, ErrMoreData) {
			return h, nil, err
		}
		if err := read(); err != nil {
			return h, nil, err
		}
	}
	total := int64(hn) + int64(h.Length)
	for int64(buf.Len()) < total {
		if err := read(); err != nil {
			return h, nil, err
		}
	}
	body := buf.Bytes()[hn:total]
	if cap(body) > 1<<20 {
		// Do not keep a huge buffer for later calls.
		cl.buf = bytes.Buffer{}
	}
	return h, body, nil
}

// Values converts the records to rpc values: INT → Int, DOUBLE → Double,
// STR and BYTES → String, STRUCT and ARRAY → containers.
func (r *Reply) Values() []rpc.Value {
	var top rpc.Container
	stack := []*rpc.Container{&top}
	for _, rec := range r.Records {
		cur := stack[len(stack)-1]
		if rec.End {
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		var v rpc.Value
		switch rec.Type {
		case RecInt:
			v = rpc.Int(int(rec.Int))
		case RecDouble:
			v = rpc.Double(rec.Double)
		case RecStr, RecBytes, RecAVP:
			v = rpc.String(rec.Str)
		case RecStruct, RecArray:
			var n *rpc.Container
			switch {
			case rec.Type == RecArray && rec.Named:
				n = cur.Array(rec.Name)
			case rec.Type == RecArray:
				n = (&rpc.Container{}).Array("")
				cur.Append(rpc.Value{Kind: rpc.KindArray, C: n})
			case rec.Named:
				n = cur.Struct(rec.Name)
			default:
				n = cur.AppendStruct()
			}
			stack = append(stack, n)
			continue
		}
		if rec.Named {
			cur.Add(rec.Name, v)
		} else {
			cur.Append(v)
		}
	}
	out := make([]rpc.Value, len(top.Members))
	for i, m := range top.Members {
		out[i] = m.Value
	}
	return out
}

// appendValueText appends a record's value as kamcmd prints it
// (binrpc.md §9.3): INT %d, STR and BYTES raw, DOUBLE as an integer when
// integral else %f, markers as braces and brackets.
func appendValueText(b []byte, r *Record) []byte {
	switch r.Type {
	case RecInt:
		return strconv.AppendInt(b, int64(r.Int), 10)
	case RecStr, RecBytes, RecAVP:
		return append(b, r.Str...)
	case RecDouble:
		if r.Double == float64(int64(r.Double)) {
			return strconv.AppendInt(b, int64(r.Double), 10)
		}
		return strconv.AppendFloat(b, r.Double, 'f', 6, 64)
	case RecStruct:
		if r.End {
			return append(b, '}')
		}
		return append(b, '{')
	case RecArray:
		if r.End {
			return append(b, ']')
		}
		return append(b, '[')
	}
	return b
}

// Print writes the reply as kamcmd prints it without -f (binrpc.md §9.3):
// one record a line, indented by TABs for the structs and arrays it is
// in (one less for a struct start), members as "name: value".
func (r *Reply) Print(w io.Writer) error {
	var b []byte
	inStruct, inArray := 0, 0
	for i := range r.Records {
		rec := &r.Records[i]
		switch rec.Type {
		case RecStruct:
			if rec.End {
				inStruct--
			} else {
				inStruct++
			}
		case RecArray:
			if rec.End {
				inArray--
			} else {
				inArray++
			}
		}
		indent := inStruct + inArray
		if rec.Type == RecStruct && !rec.End {
			indent--
		}
		for range max(indent, 0) {
			b = append(b, '\t')
		}
		if rec.Named {
			b = append(b, rec.Name...)
			b = append(b, ": "...)
		}
		b = appendValueText(b, rec)
		b = append(b, '\n')
		if len(b) >= 32<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err := w.Write(b)
	return err
}

// PrintFault writes a fault as kamcmd does: "error: <code> - <msg>\n"
// (binrpc.md §9.4).
func PrintFault(w io.Writer, f rpc.Fault) error {
	_, err := fmt.Fprintf(w, "error: %d - %s\n", f.Code, f.Message)
	return err
}

// Format writes the reply through a kamcmd -f template (binrpc.md §9.5):
// each record is preceded by the template text up to the next %v (the
// template restarting when used up), printed without indentation and
// with "name: " for members; then the rest of the template is printed
// with its %v dropped. %% prints %. Escapes such as \n must already be
// interpreted (see Unescape).
func Format(w io.Writer, template string, r *Reply) error {
	var b []byte
	pos := 0
	// literal copies the template from pos up to the next %v (true) or
	// its end (false).
	literal := func() bool {
		for pos < len(template) {
			c := template[pos]
			if c == '%' && pos+1 < len(template) {
				switch template[pos+1] {
				case 'v':
					pos += 2
					return true
				case '%':
					b = append(b, '%')
					pos += 2
					continue
				}
			}
			b = append(b, c)
			pos++
		}
		return false
	}
	hasV := strings.Contains(strings.ReplaceAll(template, "%%", ""), "%v")
	for i := range r.Records {
		rec := &r.Records[i]
		if hasV && !literal() {
			pos = 0
			literal()
		}
		if rec.Named {
			b = append(b, rec.Name...)
			b = append(b, ": "...)
		}
		b = appendValueText(b, rec)
	}
	for literal() {
	}
	_, err := w.Write(b)
	return err
}

// Unescape interprets kamcmd's -f escapes \n \r \t \\ (binrpc.md §9.1).
func Unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte(s[i])
				continue
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
