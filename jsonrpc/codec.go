package jsonrpc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// params are a request's parameters: the elements of an array, or the
// member values of an object in document order, names ignored (jsonrpc.md
// §3 step 4). They scan with the JSON rules of §3.2.
type params struct {
	elems []*node
	next  int
	call  *rpc.Call
}

// numeric is the C double a JSON element holds: its number, 1 for true,
// 0 for anything else (jsonrpc.md §3.2).
func numeric(n *node) float64 {
	switch n.typ {
	case tNumber, tTrue:
		return n.num
	}
	return 0
}

// Scan implements rpc.Params with jsonrpc.md §3.2: integer letters take the
// numeric value of any element, s/S need a string unless '.' converts a
// number (through an unsigned long), '{' and '[' fault 400 "Unsupported
// param type", an unknown letter faults 500. A failed scan returns minus
// one more than the values read, and records no fault of its own.
func (p *params) Scan(format string, dst ...any) int {
	specs, ferr := rpc.ParseFormat(format)
	n := 0
	for i, sp := range specs {
		if sp.Letter == '{' || sp.Letter == '[' {
			p.fault(400, "Unsupported param type")
			return -(n + 1)
		}
		if p.next >= len(p.elems) {
			if sp.Optional {
				return n
			}
			return -(n + 1)
		}
		if i >= len(dst) || !assign(sp, p.elems[p.next], dst[i]) {
			return -(n + 1)
		}
		p.next++
		n++
	}
	if ferr != nil {
		p.fault(500, "Internal Server Error (inval formatting str)")
		return -(n + 1)
	}
	return n
}

func (p *params) fault(code int, msg string) {
	if p.call != nil {
		p.call.Fault(code, "%s", msg)
	}
}

func assign(sp rpc.Spec, e *node, dst any) bool {
	switch sp.Letter {
	case 'd', 'u', 'b':
		if d, ok := dst.(*int); ok {
			*d = int(cvtInt32(numeric(e)))
			return true
		}
	case 't':
		if d, ok := dst.(*int); ok {
			*d = int(cvtInt64(numeric(e)))
			return true
		}
	case 'f':
		if d, ok := dst.(*float64); ok {
			*d = numeric(e)
			return true
		}
	case 'l', 'j', 'L', 'J':
		if d, ok := dst.(*int64); ok {
			*d = cvtInt64(numeric(e))
			return true
		}
	case 's', 'S':
		d, ok := dst.(*string)
		if !ok {
			return false
		}
		switch {
		case e.typ == tString:
			*d = e.str
			return true
		case e.typ == tNumber && sp.Convert:
			*d = strconv.FormatUint(cvtUint64(e.num), 10)
			return true
		}
	}
	return false
}

// sizeHints remembers the size of each method's last reply, so that the
// next reply of the same method is printed into a buffer of the right size
// instead of one grown by doubling from 256 bytes.
type sizeHints struct{ m sync.Map } // *rpc.Method -> *atomic.Int64

func (h *sizeHints) size(m *rpc.Method) int {
	if m != nil {
		if v, ok := h.m.Load(m); ok {
			// A little room for a reply that grew (state flags, latency).
			n := v.(*atomic.Int64).Load()
			return int(n + n/8 + 64)
		}
	}
	return 256
}

func (h *sizeHints) note(m *rpc.Method, n int) {
	if m == nil || n <= 256 {
		return
	}
	if v, ok := h.m.Load(m); ok {
		v.(*atomic.Int64).Store(int64(n))
		return
	}
	v := new(atomic.Int64)
	v.Store(int64(n))
	h.m.Store(m, v)
}

// errReplyName reports a forbidden FIFO reply_name (jsonrpc.md §6.2).
var errReplyName = errors.New("forbidden reply fifo filename")

// outcome is what processing one document produced.
type outcome struct {
	body      []byte     // the reply; nil when none is due
	fault     *rpc.Fault // the fault sent, if any (HTTP status, §5)
	replyName string     // FIFO: reply_name, when present and a string
}

// process runs one request document through jsonrpc.md §3: parse (an
// unparsable document returns errParse and no reply), validate in order
// (jsonrpc, FIFO reply_name, method, registration, params), run the method
// and encode the reply (§4).
func (s *Server) process(ctx context.Context, doc []byte, transport string, fifo bool) (outcome, error) {
	return s.processTo(ctx, nil, doc, transport, fifo)
}

// processTo is process appending the reply to out (which may be reused
// by the caller once the reply has been sent).
func (s *Server) processTo(ctx context.Context, out []byte, doc []byte, transport string, fifo bool) (outcome, error) {
	root, err := parseDocument(doc)
	if err != nil {
		return outcome{}, err
	}
	var o outcome
	r := reply{}
	if n := root.member("id"); n != nil {
		r.id.present = true
		if n.typ == tString {
			r.id.isStr, r.id.s = true, n.str
		} else {
			r.id.n = numeric(n)
		}
	}
	e := enc{pretty: s.pretty}
	var m *rpc.Method
	send := func() (outcome, error) {
		if out == nil {
			out = make([]byte, 0, s.hints.size(m))
		}
		o.body = e.appendReply(out[:0], &r)
		s.hints.note(m, len(o.body))
		return o, nil
	}
	if v := root.member("jsonrpc"); v == nil || v.typ != tString || v.str != "2.0" {
		return send()
	}
	if fifo {
		rn := root.member("reply_name")
		if rn == nil || rn.typ != tString {
			return outcome{}, nil
		}
		if !s.validReplyName(rn.str) {
			// Refused before the method runs: a request that cannot be
			// answered has no side effects.
			return outcome{}, fmt.Errorf("%w: %q", errReplyName, rn.str)
		}
		o.replyName = rn.str
	}
	mn := root.member("method")
	if mn == nil || mn.typ != tString {
		return send()
	}
	m = s.reg.Lookup(mn.str)
	if m == nil {
		f := rpc.Fault{Code: 500, Message: "Method Not Found"}
		r.fault, o.fault = &f, &f
		return send()
	}
	r.retArray = m.Flags&rpc.RetArray != 0
	p := &params{}
	if pn := root.member("params"); pn != nil {
		if pn.typ != tArray && pn.typ != tObject {
			return send()
		}
		p.elems = pn.kids
	}
	// A method with a Version called without parameters: its reply is
	// the one encoded at the same version, if any (rpc.Method.Version).
	// The version is read before the handler runs, so that a change
	// during the run is never hidden behind it.
	cacheable := m.Version != nil && len(p.elems) == 0
	var version uint64
	if cacheable {
		start := time.Now()
		version = m.Version()
		if res, ok := s.results.Get(m, version); ok {
			r.cached = res
			o, err := send()
			s.reg.Observe(transport, m.Name, time.Since(start), 0)
			return o, err
		}
	}
	c := rpc.NewCall(ctx, m, transport, p)
	p.call = c
	s.reg.Run(c)
	r.values = c.Values()
	if f, ok := c.LastFault(); ok {
		f = MapFault(f)
		r.fault, o.fault = &f, &f
	}
	defer c.Release() // after send: the reply tree is encoded
	o, err = send()
	if cacheable && r.fault == nil {
		s.results.Put(m, version, o.body[r.resultAt:r.resultEnd])
	}
	return o, err
}

// Handle answers one request document as jsonrpc_exec would (jsonrpc.md
// §3, §4): ok is false when no reply is due (unparsable document). The
// transport name is passed to rpc.NewCall.
func (s *Server) Handle(ctx context.Context, doc []byte, transport string) (reply []byte, ok bool) {
	o, err := s.process(ctx, doc, transport, false)
	if err != nil {
		return nil, false
	}
	return o.body, true
}

// validReplyName tells whether a FIFO reply_name may be used (jsonrpc.md
// §6.2). Kamailio refuses '.', '/' and '\'; kamsidecar refuses only '/' and
// '\' (a name cannot leave the reply directory without them, and kamcli's
// default "kamailio_rpc_reply.fifo" has a dot, §6.4). The whole path must
// stay within 127 bytes.
func (s *Server) validReplyName(name string) bool {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	return len(s.replyDir)+len(name) <= 127
}
