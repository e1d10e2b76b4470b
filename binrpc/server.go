package binrpc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/unixfile"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// TransportName is the transport name a Server gives rpc.NewCall; the ctl.*
// methods refuse calls from any other transport (binrpc.md §8).
const TransportName = "binrpc"

// Defaults of the stream connection limits (binrpc.md §2).
const (
	DefaultIdleTimeout = 120 * time.Second
	DefaultMaxConns    = 128
	DefaultMode        = fs.FileMode(0o600)
)

// dgramChunk is the largest datagram a reply is cut into (binrpc.md §2:
// a big reply goes out as several datagrams; the reader joins them by the
// header's length).
const dgramChunk = 60000

// ErrServerClosed is returned by Serve and Listen after Close.
var ErrServerClosed = errors.New("binrpc: server closed")

// Option configures a Server.
type Option func(*options)

type options struct {
	perm     unixfile.Perm
	idle     time.Duration
	maxConns int
	autoconv bool
	log      *slog.Logger
}

// WithMode sets the permissions of the unix socket files the server
// creates (ctl's mode modparam, default 0600; binrpc.md §1).
func WithMode(m fs.FileMode) Option { return func(o *options) { o.perm.Mode = m } }

// WithOwner gives the unix socket files to uid and gid (ctl's user and
// group modparams, binrpc.md §1; -1 keeps the process's). The ownership is
// set before the mode, and the file is owner-only until then (package
// internal/unixfile).
func WithOwner(uid, gid int) Option {
	return func(o *options) { o.perm.UID, o.perm.GID = uid, gid }
}

// WithIdleTimeout sets how long a stream connection may stay idle before
// it is closed (default 120 s, binrpc.md §2).
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idle = d } }

// WithMaxConns sets how many stream connections may be open at once; more
// are closed as soon as accepted (default 128, binrpc.md §2).
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithAutoConversion mirrors ctl's autoconversion modparam: every scan
// converts between int, double and string (binrpc.md §5.2).
func WithAutoConversion(on bool) Option { return func(o *options) { o.autoconv = on } }

// WithLogger sets the logger (slog.Default by default).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Server answers BINRPC requests with the methods of a registry, as ctl
// does (binrpc.md §2, §5–§8).
type Server struct {
	reg *rpc.Registry
	o   options

	mu     sync.Mutex
	lns    []*listener
	conns  map[*conn]struct{}
	nextID uint64
	closed bool
	// serving is Serve's context while it runs: Listen starts new
	// listeners at once.
	serving context.Context
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

type listener struct {
	addr    Addr
	ln      net.Listener
	pc      net.PacketConn
	created string // unix socket file to remove on Close
	// loop serves a unix stream listener on Linux (unixloop_linux.go);
	// nil: acceptLoop does.
	loop *unixLoop
}

// ListenerInfo describes one listener (ctl.listen, binrpc.md §8).
type ListenerInfo struct {
	// Addr is the address as parsed.
	Addr Addr
	// Local is the bound address (the real port of a port 0).
	Local net.Addr
}

// ConnInfo describes one stream connection as ctl.who prints it
// (binrpc.md §8); for unix sockets the peer is "<anonymous unix socket>"
// and the local address is the socket path, both ports "".
type ConnInfo struct {
	Transport string
	PeerAddr  string
	PeerPort  string
	LocalAddr string
	LocalPort string
}

type conn struct {
	id   uint64
	c    net.Conn // nil for the connections of a unixLoop, which closes them
	info ConnInfo
}

// NewServer returns a server answering reg's methods; it registers the
// ctl.* methods (binrpc.md §8) on reg if they are not there yet.
func NewServer(reg *rpc.Registry, opts ...Option) *Server {
	s := &Server{reg: reg, conns: map[*conn]struct{}{}, done: make(chan struct{})}
	s.o = options{perm: unixfile.Perm{Mode: DefaultMode, UID: -1, GID: -1}, idle: DefaultIdleTimeout, maxConns: DefaultMaxConns}
	for _, f := range opts {
		f(&s.o)
	}
	if s.o.log == nil {
		s.o.log = slog.Default()
	}
	if reg != nil && reg.Lookup("ctl.listen") == nil {
		_ = RegisterCtl(reg)
	}
	return s
}

// Listen opens a listener on addr, in ctl's syntax (ParseAddr, binrpc.md
// §2). A unix socket file already there is removed first and the new one
// gets the server's mode.
func (s *Server) Listen(addr string) error {
	a, err := ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("binrpc listen: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	l := &listener{addr: a}
	switch a.Transport {
	case UnixStream, UnixDgram:
		if err := os.Remove(a.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("binrpc listen %s: %w", a, err)
		}
		err := unixfile.Create(a.Path, s.o.perm, func() error {
			if a.Transport == UnixStream {
				ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.Path, Net: "unix"})
				if err != nil {
					return err
				}
				ul.SetUnlinkOnClose(false)
				l.ln = ul
			} else {
				pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: a.Path, Net: "unixgram"})
				if err != nil {
					return err
				}
				l.pc = pc
			}
			l.created = a.Path
			return nil
		})
		if err != nil {
			l.close()
			return fmt.Errorf("binrpc listen %s: %w", a, err)
		}
	case TCP:
		ln, err := net.Listen("tcp", a.Address())
		if err != nil {
			return fmt.Errorf("binrpc listen %s: %w", a, err)
		}
		l.ln = ln
	case UDP:
		pc, err := net.ListenPacket("udp", a.Address())
		if err != nil {
			return fmt.Errorf("binrpc listen %s: %w", a, err)
		}
		l.pc = pc
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.close()
		return ErrServerClosed
	}
	s.lns = append(s.lns, l)
	if s.serving != nil {
		s.start(s.serving, l)
	}
	return nil
}

// start runs l's loop; s.mu is held.
func (s *Server) start(ctx context.Context, l *listener) {
	if l.addr.Transport == UnixStream && l.ln != nil {
		if u, err := newUnixLoop(s, l); err == nil {
			l.loop = u
		} else if !errors.Is(err, errors.ErrUnsupported) {
			s.o.log.Debug("binrpc: serving with acceptLoop", "listener", l.addr.String(), "err", err)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if l.loop != nil {
			l.loop.run(ctx)
		} else if l.ln != nil {
			s.acceptLoop(ctx, l)
		} else {
			s.dgramLoop(ctx, l)
		}
	}()
}

func (l *listener) close() error {
	var err error
	if l.loop != nil {
		l.loop.close()
	}
	if l.ln != nil {
		err = l.ln.Close()
	}
	if l.pc != nil {
		err = l.pc.Close()
	}
	if l.created != "" {
		if rerr := os.Remove(l.created); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

func (l *listener) local() net.Addr {
	if l.ln != nil {
		return l.ln.Addr()
	}
	return l.pc.LocalAddr()
}

// Listeners describes the listeners in the order they were opened.
func (s *Server) Listeners() []ListenerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ListenerInfo, 0, len(s.lns))
	for _, l := range s.lns {
		out = append(out, ListenerInfo{Addr: l.addr, Local: l.local()})
	}
	return out
}

// Serve serves every listener, those opened before and those opened while
// it runs, until ctx ends or Close is called; it then closes the server
// (listeners, connections, socket files) and waits for its goroutines.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if len(s.lns) == 0 {
		s.mu.Unlock()
		return errors.New("binrpc: no listener")
	}
	if s.serving != nil {
		s.mu.Unlock()
		return errors.New("binrpc: Serve called twice")
	}
	s.serving = ctx
	for _, l := range s.lns {
		s.start(ctx, l)
	}
	s.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-s.done:
	}
	cancel()
	return s.Close()
}

// Close closes the listeners and connections, removes the unix socket
// files the server created and waits for its goroutines.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		for _, l := range s.lns {
			err = errors.Join(err, l.close())
		}
		for c := range s.conns {
			if c.c != nil {
				c.c.Close()
			}
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop(ctx context.Context, l *listener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			case <-ctx.Done():
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.o.log.Warn("binrpc accept", "listener", l.addr.String(), "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.done:
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.o.maxConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.nextID++
		cn := &conn{id: s.nextID, c: c, info: connInfo(l, c)}
		s.conns[cn] = struct{}{}
		// Leader/follower: a new goroutine takes over accepting and this
		// one serves the connection at once, so the first request (often
		// the only one: kamcmd) needs no hand-off to another goroutine.
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.acceptLoop(ctx, l)
		}()
		s.serveConn(ctx, cn)
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
		cn.c.Close()
		return
	}
}

func connInfo(l *listener, c net.Conn) ConnInfo {
	if l.addr.Transport == UnixStream {
		return ConnInfo{Transport: UnixStream, PeerAddr: "<anonymous unix socket>", LocalAddr: l.addr.Path}
	}
	ci := ConnInfo{Transport: l.addr.Transport}
	ci.PeerAddr, ci.PeerPort, _ = net.SplitHostPort(c.RemoteAddr().String())
	ci.LocalAddr, ci.LocalPort, _ = net.SplitHostPort(c.LocalAddr().String())
	return ci
}

// serveConn reads pipelined requests from a stream connection and writes
// the replies in order (binrpc.md §2, §7).
func (s *Server) serveConn(ctx context.Context, cn *conn) {
	buf := make([]byte, 0, 4096)
	// One deadline for reads and writes, moved only when it has come
	// closer than idle*15/16: a read or a write still gets (nearly) the
	// whole idle time, without re-arming a timer for every packet.
	var deadline time.Time
	refresh := func() {
		if s.o.idle <= 0 {
			return
		}
		now := time.Now()
		if deadline.Sub(now) < s.o.idle-s.o.idle/16 {
			deadline = now.Add(s.o.idle)
			_ = cn.c.SetDeadline(deadline)
		}
	}
	emit := func(p []byte) error {
		refresh()
		_, err := cn.c.Write(p)
		return err
	}
	for {
		refresh()
		if len(buf) == cap(buf) {
			nc := min(2*cap(buf), MaxPacket)
			if nc <= len(buf) {
				return // a packet that does not fit the read buffer
			}
			buf = append(make([]byte, 0, nc), buf...)
		}
		n, err := cn.c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			used, closeIt := s.processStream(ctx, &cn.info, buf, emit)
			if closeIt {
				return
			}
			buf = buf[:copy(buf, buf[used:])]
		}
		if err != nil {
			return
		}
	}
}

// processStream handles every complete packet at the start of buf,
// passing each reply to emit, and returns how many bytes it used and
// whether the connection must close (a bad or oversized packet, or a
// write error; binrpc.md §2, §6, §7). It stops after a reply emit
// answers errStalled.
func (s *Server) processStream(ctx context.Context, ci *ConnInfo, buf []byte, emit func([]byte) error) (int, bool) {
	used := 0
	for {
		select {
		case <-s.done:
			return used, true // shutting down: packets are ignored
		default:
		}
		rest := buf[used:]
		h, hn, err := ParseHeader(rest)
		if err == ErrMoreData { // ParseHeader's own sentinel, never wrapped
			return used, false
		}
		if err != nil {
			_ = emit(faultPacket(0, rpc.Fault{Code: 400, Message: "bad request: " + reason(err)}))
			return used, true
		}
		total := int64(hn) + int64(h.Length)
		if total > MaxPacket {
			return used, true
		}
		if int64(len(rest)) < total {
			return used, false
		}
		used += int(total)
		st := getCallState()
		reply, bad, obs := s.handle(ctx, ci, h, rest[hn:total], st)
		err = emit(reply)
		obs.Report() // after the reply is out
		st.release()
		if err != nil || bad {
			// errStalled (unixLoop): the reply is kept until the socket
			// takes it; the next packets wait for it.
			return used, bad || !errors.Is(err, errStalled)
		}
	}
}

// ctxKey is the context key of the call's connection and server.
type ctxKey struct{}

type callInfo struct {
	srv  *Server
	conn *ConnInfo // nil on datagram sockets
}

// ConnFromContext returns the stream connection a BINRPC call arrived on,
// from the context of its rpc.Call; false for datagram sockets and other
// transports.
func ConnFromContext(ctx context.Context) (ConnInfo, bool) {
	ci, ok := ctx.Value(ctxKey{}).(*callInfo)
	if !ok || ci.conn == nil {
		return ConnInfo{}, false
	}
	return *ci.conn, true
}

// callCtx is a call's context: ctx with the call's connection and server
// under ctxKey (as context.WithValue would, in the pooled callState).
type callCtx struct {
	context.Context
	info callInfo
}

func (c *callCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

// callState is what one call needs besides its reply tree: its context,
// parameters, rpc.Call and reply buffer, kept in callStates for the next
// call so that a call touches memory used before instead of fresh heap.
type callState struct {
	ctx  callCtx
	ps   params
	call rpc.Call
	out  []byte
}

var callStates sync.Pool

// maxPooledReply bounds the reply buffers kept in callStates.
const maxPooledReply = 64 << 10

func getCallState() *callState {
	if st, ok := callStates.Get().(*callState); ok {
		return st
	}
	return new(callState)
}

// release returns st to callStates once its reply is sent.
func (st *callState) release() {
	st.ctx = callCtx{}
	st.ps = params{}
	st.call.Reset(nil, nil, "", nil) // drops the previous call's values
	if cap(st.out) > maxPooledReply {
		st.out = nil
	}
	callStates.Put(st)
}

// handle answers one packet (binrpc.md §7): it returns the reply,
// whether the packet was bad (a stream connection then closes) and the
// call for the observer, to report once the reply is sent. The reply may
// be in st, which must not be released before it is sent.
func (s *Server) handle(ctx context.Context, ci *ConnInfo, h Header, body []byte, st *callState) ([]byte, bool, rpc.Observation) {
	var obs rpc.Observation
	if h.Type != TypeRequest {
		return faultPacket(h.Cookie, rpc.Fault{Code: 400, Message: "bad request: " + ErrCorrupted.Error()}), true, obs
	}
	r, name, n, err := readRecord(body)
	if err == nil && r.Type != RecStr {
		err = ErrType
	}
	if err != nil {
		return faultPacket(h.Cookie, rpc.Fault{Code: 400, Message: "bad request method: " + reason(err)}), true, obs
	}
	m := s.reg.LookupBytes(name)
	if m == nil {
		return faultPacket(h.Cookie, rpc.Fault{Code: 500, Message: "command " + string(name) + " not found"}), false, obs
	}
	ps := &st.ps
	*ps = params{body: body[n:], autoconv: s.o.autoconv}
	st.ctx = callCtx{Context: ctx, info: callInfo{srv: s, conn: ci}}
	call := &st.call
	call.Reset(&st.ctx, m, TransportName, ps)
	obs = s.reg.RunDeferred(call)
	defer call.Release() // after the encoding: the reply tree is encoded
	if _, _, ok := call.FirstFault(); !ok && ps.hard != nil {
		return faultPacket(h.Cookie, *ps.hard), false, obs
	}
	reply, buf := appendReply(st.out[:0], h.Cookie, call, ps.prepared)
	st.out = buf
	return reply, false, obs
}

// dgramLoop answers one request per datagram, replying to the sender
// (binrpc.md §2).
func (s *Server) dgramLoop(ctx context.Context, l *listener) {
	buf := make([]byte, MaxPacket+1)
	for {
		n, from, err := l.pc.ReadFrom(buf)
		if err != nil {
			select {
			case <-s.done:
				return
			case <-ctx.Done():
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n > MaxPacket || from == nil || from.String() == "" {
			continue // truncated, or nowhere to reply to
		}
		reply := s.dgramPacket(ctx, buf[:n])
		if reply == nil {
			continue
		}
		for len(reply) > 0 {
			k := min(len(reply), dgramChunk)
			if _, err := l.pc.WriteTo(reply[:k], from); err != nil {
				s.o.log.Debug("binrpc reply", "to", from.String(), "err", err)
				break
			}
			reply = reply[k:]
		}
	}
}

// dgramPacket returns the reply to one datagram (nil: none).
func (s *Server) dgramPacket(ctx context.Context, p []byte) []byte {
	h, hn, err := ParseHeader(p)
	if errors.Is(err, ErrMoreData) && len(p) < MinHeader {
		return nil
	}
	if err != nil {
		return faultPacket(0, rpc.Fault{Code: 400, Message: "bad request: " + reason(err)})
	}
	if int64(hn)+int64(h.Length) > int64(len(p)) {
		return faultPacket(h.Cookie, rpc.Fault{Code: 400, Message: "bad request: " + ErrMoreData.Error()})
	}
	st := getCallState()
	reply, _, obs := s.handle(ctx, nil, h, p[hn:hn+int(h.Length)], st)
	obs.Report()
	reply = append([]byte(nil), reply...) // st's buffer goes back to the pool
	st.release()
	return reply
}

// RegisterCtl registers ctl's own methods ctl.listen, ctl.connections and
// ctl.who (binrpc.md §8). They answer about the Server the call arrived
// on and fault 606 on any other transport.
func RegisterCtl(reg *rpc.Registry) error {
	return reg.Register(
		rpc.Method{Name: "ctl.listen", Help: "List all the sockets on which the ctl module listens.", Handler: ctlListen},
		rpc.Method{Name: "ctl.connections", Help: "Returns the number of open binrpc connections (to the ctl module).", Handler: ctlConnections},
		rpc.Method{Name: "ctl.who", Help: "list open connections", Handler: ctlWho},
	)
}

func ctlServer(c *rpc.Call) *Server {
	ci, ok := c.Context().Value(ctxKey{}).(*callInfo)
	if c.Transport() != TransportName || !ok || ci.srv == nil {
		c.Fault(606, "rpc available only over binrpc (ctl)")
		return nil
	}
	return ci.srv
}

func ctlListen(c *rpc.Call) {
	// Over another transport 5.6.3 answers an empty reply, not the 606 of
	// ctl.who and ctl.connections (testdata/rpc/golden/http/ctl.listen).
	ci, ok := c.Context().Value(ctxKey{}).(*callInfo)
	if c.Transport() != TransportName || !ok || ci.srv == nil {
		return
	}
	s := ci.srv
	for _, l := range s.Listeners() {
		name, port := l.Addr.Path, ""
		if l.Addr.Transport == TCP || l.Addr.Transport == UDP {
			name, port = l.Addr.Host, strconv.Itoa(l.Addr.Port)
			if l.Addr.Port == 0 && l.Local != nil {
				_, port, _ = net.SplitHostPort(l.Local.String())
			}
		}
		c.Add(rpc.String("binrpc"), rpc.String(l.Addr.Transport), rpc.String(name), rpc.String(port))
	}
}

func (s *Server) connList() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
	out := make([]ConnInfo, len(cs))
	for i, c := range cs {
		out[i] = c.info
	}
	return out
}

func ctlConnections(c *rpc.Call) {
	s := ctlServer(c)
	if s == nil {
		return
	}
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	c.Add(rpc.Int(n))
}

func ctlWho(c *rpc.Call) {
	s := ctlServer(c)
	if s == nil {
		return
	}
	cs := s.connList()
	if len(cs) == 0 {
		c.Fault(400, "no open stream connection")
		return
	}
	for _, ci := range cs {
		c.Add(rpc.String("binrpc"), rpc.String(ci.Transport), rpc.String(ci.PeerAddr), rpc.String(ci.PeerPort), rpc.String(ci.LocalAddr), rpc.String(ci.LocalPort))
	}
}
