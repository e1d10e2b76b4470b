package jsonrpc

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"time"
)

// HTTPFront serves ln (jsonrpc.md §5) when Serve runs: the fast responder
// answers POST requests to the configured path itself, and a connection
// with any other request (another path or method, Upgrade, Expect, chunked
// or unusual headers) is handed, with the bytes already read, to the
// returned listener for the rest of its life, e.g. for an http.Server.
// Close closes ln; closing the returned listener only stops the hand-off.
func (s *Server) HTTPFront(ln net.Listener) net.Listener {
	h := &handOff{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	l := s.newHTTPListener(ln)
	l.handOff = h
	return h
}

// handOff is the net.Listener of the connections the front passes on.
type handOff struct {
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

var errHandOffClosed = errors.New("jsonrpc: hand-off listener closed")

func (h *handOff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handOff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handOff) Addr() net.Addr { return h.addr }

// pass gives c to the listener's Accept, or closes it when the listener
// is closed.
func (h *handOff) pass(c net.Conn) {
	select {
	case h.conns <- c:
	case <-h.done:
		c.Close()
	}
}

// prefixConn is a connection whose first reads return bytes already read
// from it.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// fastHead is what the fast path needs of a request head.
type fastHead struct {
	path   string
	length int
	close  bool
}

// parseFastHead parses a request head (up to and including the empty line)
// and reports whether the fast path may answer it: HTTP/1.1 POST to a path
// under prefix without query escapes, one Host, one Content-Length, no
// Transfer-Encoding, Expect or Upgrade, Connection absent, keep-alive or
// close, and plain header lines. Anything else goes the general way.
func parseFastHead(head []byte, prefix string) (fastHead, bool) {
	var h fastHead
	eol := bytes.Index(head, []byte("\r\n"))
	if eol < 0 {
		return h, false
	}
	line := head[:eol]
	rest := head[eol+2:]
	if len(line) < len("POST / HTTP/1.1") || !bytes.HasPrefix(line, []byte("POST ")) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		return h, false
	}
	target := line[len("POST ") : len(line)-len(" HTTP/1.1")]
	for _, c := range target { // the whole target, query included
		if c <= ' ' || c == '#' || c >= 0x7f {
			return h, false
		}
	}
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		target = target[:q]
	}
	if !bytes.HasPrefix(target, []byte(prefix)) {
		return h, false
	}
	for _, c := range target {
		if c <= ' ' || c == '%' || c == '#' || c >= 0x7f {
			return h, false
		}
	}
	hosts, lengths := 0, 0
	h.length = -1
	for {
		eol = bytes.Index(rest, []byte("\r\n"))
		if eol < 0 {
			return h, false
		}
		line, rest = rest[:eol], rest[eol+2:]
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, false
		}
		name := line[:colon]
		for _, c := range name {
			if !isTokenByte(c) {
				return h, false
			}
		}
		val := bytes.Trim(line[colon+1:], " \t")
		for _, c := range val {
			if c < ' ' && c != '\t' || c == 0x7f {
				return h, false
			}
		}
		switch {
		case lowerEq(name, "content-length"):
			lengths++
			if len(val) == 0 || len(val) > 12 {
				return h, false
			}
			n := 0
			for _, c := range val {
				if c < '0' || c > '9' {
					return h, false
				}
				n = n*10 + int(c-'0')
			}
			h.length = n
		case lowerEq(name, "host"):
			hosts++
			for _, c := range val {
				if c == ' ' || c == '\t' || c == '/' || c == '\\' {
					return h, false
				}
			}
		case lowerEq(name, "connection"):
			switch {
			case lowerEq(val, "close"):
				h.close = true
			case lowerEq(val, "keep-alive"):
			default:
				return h, false
			}
		case lowerEq(name, "transfer-encoding"), lowerEq(name, "expect"),
			lowerEq(name, "upgrade"), lowerEq(name, "te"), lowerEq(name, "trailer"):
			return h, false
		}
	}
	if hosts != 1 || lengths != 1 || len(rest) != 0 {
		return h, false
	}
	h.path = string(target)
	return h, true
}

func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// lowerEq compares b with the lower-case ASCII word s.
func lowerEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// deadlineSlack is how stale the one deadline of a connection may get
// before it is pushed forward: under load a connection sets it about once
// a second instead of three times per request.
const deadlineSlack = time.Second
