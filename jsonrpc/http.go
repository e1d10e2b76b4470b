package jsonrpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// httpAnswer is one HTTP response before it is written.
type httpAnswer struct {
	status      int
	reason      string
	contentType string
	body        []byte
	close       bool
}

// serverHeader is the Server header of every reply (jsonrpc.md §5).
const serverHeader = "kamsidecar (jsonrpc)"

// parseErrorReply is sent for an unparsable HTTP body. Kamailio sends
// nothing and leaves the client waiting (jsonrpc.md §3 step 1); kamsidecar
// answers -32700 and closes the connection.
func (s *Server) parseErrorReply() httpAnswer {
	f := MapFault(rpc.Fault{Code: -32700})
	r := reply{fault: &f}
	return httpAnswer{status: 500, reason: f.Message, contentType: "application/json",
		body: enc{pretty: s.pretty}.appendReply(nil, &r), close: true}
}

// answer handles one HTTP request whose body has been read (jsonrpc.md §5):
// status 200 "OK", or on a fault the fault code when above 100 (else 500)
// with the fault message as the reason phrase.
func (s *Server) answer(ctx context.Context, method, path string, body []byte) httpAnswer {
	return s.answerTo(ctx, nil, method, path, body)
}

// answerTo is answer printing a JSON-RPC reply into out (reused by the
// caller once the answer is written).
func (s *Server) answerTo(ctx context.Context, out []byte, method, path string, body []byte) httpAnswer {
	if !strings.HasPrefix(path, s.path) {
		return httpAnswer{status: 404, reason: "Not Found", contentType: "text/plain", body: []byte("not found\n")}
	}
	if method != http.MethodPost {
		return httpAnswer{status: 405, reason: "Method Not Allowed", contentType: "text/plain", body: []byte("use POST\n")}
	}
	o, err := s.processTo(ctx, out, body, TransportHTTP, false)
	if err != nil {
		return s.parseErrorReply()
	}
	a := httpAnswer{status: 200, reason: "OK", contentType: "application/json", body: o.body}
	if o.fault != nil {
		a.status = o.fault.Code
		if a.status <= 100 {
			a.status = 500
		}
		a.reason = o.fault.Message
	}
	return a
}

// reasonPhrase makes a fault message safe for a status line: control bytes
// (CR and LF above all) become spaces.
func reasonPhrase(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func (a *httpAnswer) appendTo(b []byte) []byte {
	return append(a.appendHeader(b), a.body...)
}

// appendHeader appends the status line and the headers, up to the empty
// line that ends them.
func (a *httpAnswer) appendHeader(b []byte) []byte {
	if a.status == 200 && a.reason == "OK" {
		b = append(b, "HTTP/1.1 200 OK\r\n"...)
	} else {
		b = fmt.Appendf(b, "HTTP/1.1 %03d %s\r\n", a.status, reasonPhrase(a.reason))
	}
	b = append(b, "Content-Type: "...)
	b = append(b, a.contentType...)
	b = append(b, "\r\nServer: "+serverHeader+"\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(a.body)), 10)
	if a.close {
		b = append(b, "\r\nConnection: close"...)
	}
	return append(b, "\r\n\r\n"...)
}

// errTooLarge reports a body over the configured maximum.
var errTooLarge = errors.New("jsonrpc: request body too large")

func readBody(r io.Reader, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) > max {
		return nil, errTooLarge
	}
	return b, nil
}

// ServeHTTP answers a JSON-RPC request over HTTP (jsonrpc.md §5) for use in
// a net/http server: POST to a path starting with the configured prefix.
// net/http cannot write a custom reason phrase, so a fault reply hijacks
// the connection, writes the status line itself ("HTTP/1.1 500 Method Not
// Found") and closes it; success replies stay on net/http's keep-alive.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a httpAnswer
	body, err := readBody(r.Body, s.maxRequest)
	switch {
	case errors.Is(err, errTooLarge):
		a = httpAnswer{status: 413, reason: "Request Entity Too Large", contentType: "text/plain", body: []byte("request too large\n"), close: true}
	case err != nil:
		return
	default:
		a = s.answer(r.Context(), r.Method, r.URL.Path, body)
	}
	if a.status == 200 || a.reason == http.StatusText(a.status) {
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Server", serverHeader)
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		if a.close {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		s.log.Warn("jsonrpc: http hijack failed", "err", err)
		return
	}
	defer conn.Close()
	a.close = true
	_ = conn.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	_, _ = brw.Write(a.appendTo(nil))
	_ = brw.Flush()
}

// httpListener serves JSON-RPC over HTTP/1.1 on one listening socket with
// kamsidecar's own minimal responder (jsonrpc.md §5): keep-alive, Kamailio's
// status lines, bounded bodies and per-connection timeouts.
type httpListener struct {
	s  *Server
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	done   chan struct{} // closed when Close has finished
	wg     sync.WaitGroup
	// handOff, when set, takes the connections with requests the fast
	// responder does not answer (HTTPFront).
	handOff *handOff
}

// listenHTTP listens on the TCP address addr (host:port) for JSON-RPC over
// HTTP (jsonrpc.md §5); call Serve to answer.
func (s *Server) listenHTTP(addr string) (*httpListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("jsonrpc http listen %s: %w", addr, err)
	}
	return s.newHTTPListener(ln), nil
}

// newHTTPListener serves JSON-RPC over HTTP on an existing listener
// (jsonrpc.md §5); Close closes ln.
func (s *Server) newHTTPListener(ln net.Listener) *httpListener {
	l := &httpListener{s: s, ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.track(l)
	return l
}

// Addr is the listening address (jsonrpc.md §5).
func (l *httpListener) Addr() net.Addr { return l.ln.Addr() }

// Serve accepts connections until ctx ends or Close is called; each
// connection is served by its own goroutine, so a slow client delays no
// one else (jsonrpc.md §5). It returns nil after Close.
func (l *httpListener) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var delay time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed {
				<-l.done
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(delay*2, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("jsonrpc http accept: %w", err)
		}
		delay = 0
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			<-l.done
			return nil
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go func() {
			defer l.wg.Done()
			handed := false
			defer func() {
				l.mu.Lock()
				delete(l.conns, c)
				l.mu.Unlock()
				if !handed {
					c.Close()
				}
			}()
			handed = l.s.serveConn(ctx, c, l.handOff)
		}()
	}
}

// Close stops accepting, closes every open connection and waits for their
// goroutines (jsonrpc.md §5).
func (l *httpListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	defer close(l.done)
	err := l.ln.Close()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return err
}

// directWrite is the body size above which a reply is written with
// writev rather than copied after its header; maxKeptReply is the largest
// reply buffer a connection keeps for its next request.
const (
	directWrite  = 16 << 10
	maxKeptReply = 8 << 20
)

// serveConn answers the requests of one connection in order. It owns c
// unless it hands c off (front listener), in which case it returns true.
func (s *Server) serveConn(ctx context.Context, c net.Conn, h *handOff) (handed bool) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("jsonrpc: http connection panic", "panic", p)
		}
	}()
	// The socket's reads and small writes skip the runtime's system call
	// entry where they can (rawio_linux.go).
	var rd io.Reader = c
	var wr io.Writer = c
	if r := newRawIO(c); r != nil {
		rd, wr = r, r
	}
	er := &errReader{r: rd}
	br := bufio.NewReaderSize(er, 4096)
	out := make([]byte, 0, 1024)
	// reply is the connection's reply buffer: it grows to the largest
	// reply once and is reused, and a large reply is written from it
	// without a copy (writev of the header and the body).
	var reply []byte
	// One deadline for reading and writing, pushed forward only when it
	// is deadlineSlack stale: the longest of the timeouts from the start
	// of each request's wait.
	timeout := max(s.idleTimeout, s.readTimeout, s.writeTimeout)
	var deadlineSet time.Time
	for {
		if now := time.Now(); now.Sub(deadlineSet) >= deadlineSlack {
			deadlineSet = now
			_ = c.SetDeadline(now.Add(timeout))
		}
		if _, err := br.Peek(1); err != nil {
			return false
		}
		// The head, once complete in the buffer.
		var head []byte
		for {
			buf, _ := br.Peek(br.Buffered())
			if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
				head = buf[:i+4]
				break
			}
			if br.Buffered() >= br.Size() {
				break
			}
			if _, err := br.Peek(br.Buffered() + 1); err != nil {
				if br.Buffered() == 0 || h == nil {
					return false
				}
				break // let the general path answer what there is
			}
		}
		var a httpAnswer
		closeAfter := false
		if fh, ok := parseFastHead(head, s.path); ok && head != nil {
			_, _ = br.Discard(len(head))
			closeAfter = fh.close
			if fh.length > s.maxRequest {
				a = httpAnswer{status: 413, reason: "Request Entity Too Large", contentType: "text/plain", body: []byte("request too large\n"), close: true}
			} else {
				body := make([]byte, fh.length)
				if _, err := io.ReadFull(br, body); err != nil {
					return false
				}
				a = s.answerTo(ctx, reply, http.MethodPost, fh.path, body)
				if cap(a.body) > cap(reply) && cap(a.body) <= maxKeptReply {
					reply = a.body[:0]
				}
			}
		} else if h != nil {
			pre, _ := br.Peek(br.Buffered())
			_ = c.SetDeadline(time.Time{})
			h.pass(&prefixConn{Conn: c, pre: bytes.Clone(pre)})
			return true
		} else {
			req, err := http.ReadRequest(br)
			if err != nil {
				if er.err != nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					// The connection failed or timed out mid-request
					// (textproto reports a cut line as malformed).
					return false
				}
				a := httpAnswer{status: 400, reason: "Bad Request", contentType: "text/plain", body: []byte("bad request\n"), close: true}
				_, _ = c.Write(a.appendTo(out[:0]))
				return false
			}
			closeAfter = req.Close
			if req.ContentLength > int64(s.maxRequest) {
				a = httpAnswer{status: 413, reason: "Request Entity Too Large", contentType: "text/plain", body: []byte("request too large\n"), close: true}
			} else {
				if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
					if _, err := c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
						return false
					}
				}
				body, err := readBody(req.Body, s.maxRequest)
				switch {
				case errors.Is(err, errTooLarge):
					a = httpAnswer{status: 413, reason: "Request Entity Too Large", contentType: "text/plain", body: []byte("request too large\n"), close: true}
				case err != nil:
					return false
				default:
					a = s.answerTo(ctx, reply, req.Method, req.URL.Path, body)
					if cap(a.body) > cap(reply) && cap(a.body) <= maxKeptReply {
						reply = a.body[:0]
					}
				}
			}
		}
		if closeAfter {
			a.close = true
		}
		var err error
		if len(a.body) > directWrite {
			out = a.appendHeader(out[:0])
			bufs := net.Buffers{out, a.body}
			_, err = bufs.WriteTo(c)
		} else {
			out = a.appendTo(out[:0])
			_, err = wr.Write(out)
		}
		if err != nil || a.close {
			return false
		}
		if ctx.Err() != nil {
			return false
		}
	}
}

// errReader remembers the first read error of the connection, so that a
// timeout in the middle of a header is not mistaken for a bad request.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
