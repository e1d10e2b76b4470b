//go:build linux

package binrpc

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/kamsidecar/kamsidecar/internal/rawsys"
)

// unixLoop serves every connection of one unix stream listener from one
// goroutine, as ctl's io_wait loop does in Kamailio: the listener and the
// connections are in an epoll instance of their own, and that instance is
// what the runtime's poller waits on.
//
// Why: a kamcmd call is one short connection (connect, one request, one
// reply, close). Through package net every accept4, getsockname, read,
// write and close is a syscall that enters the scheduler (entersyscall),
// and the first of them after an idle spell wakes the sysmon thread from
// its deep sleep; sysmon then polls every 20 us while the request is
// served and, with GOMAXPROCS=1, retakes the P from a write that blocks
// for a moment and starts another thread. perf on 2 cores: 8.6 context
// switches per kamcmd core.version against 3 for Kamailio. Here every
// syscall on these descriptors is non-blocking and raw (no entersyscall):
// the only wake-up is the poller's, as in Kamailio's ctl process.
//
// Behaviour is that of serveConn: pipelined requests answered in order,
// the idle timeout over reads and writes, the connection limit, a bad
// packet answered with a fault and the connection closed. A reply that
// does not fit the socket buffer is kept and written as the socket drains,
// and the connection's next request waits for it, as a blocked Write
// would. Methods run on the loop's goroutine, one at a time (Kamailio's
// ctl handler is one process too).
type unixLoop struct {
	s      *Server
	l      *listener
	lrc    syscall.RawConn // the listener's descriptor (Control only)
	ep     *os.File        // the epoll instance, in the runtime's poller
	eprc   syscall.RawConn
	epfd   uintptr // ep's descriptor: only the loop closes ep, last
	lfd    int32
	conns  []*uconn  // by descriptor: a slice, as descriptors are small numbers
	now    time.Time // read once per batch of events: the connections' activity clock
	armed  time.Time // the epoll file's read deadline (zero: none)
	fatal  error     // epoll_pwait failed
	repoll bool      // an EPOLL_CTL_MOD since the last epoll_pwait
	evs    [64]syscall.EpollEvent

	// free holds closed connections for reuse, most recent last: a
	// kamcmd call (one short connection) then allocates nothing and
	// touches the memory the previous call did.
	free []*uconn

	// The raw calls made under Control: functions made once, with their
	// arguments and results here, so that a call allocates no closure.
	acceptFn  func(fd uintptr)
	acceptFd  int32
	acceptErr syscall.Errno

	// mu orders the loop's deadlines and close's wake-up (a deadline in
	// the past), so that the loop cannot undo the wake-up.
	mu      sync.Mutex
	stopped bool
}

type uconn struct {
	fd      int32 // -1 once closed
	cn      conn
	buf     []byte // input not yet answered
	out     []byte // reply bytes not yet written
	last    time.Time
	closing bool // close once out is written
	dead    bool // a write failed
	pollOut bool // waiting for EPOLLOUT rather than EPOLLIN
	added   bool // in the epoll instance
}

// errStalled is emit's answer when the reply did not fit the socket: it is
// kept, and the connection's next packets wait until it is written.
var errStalled = errors.New("binrpc: reply pending")

func newUnixLoop(s *Server, l *listener) (*unixLoop, error) {
	ul, ok := l.ln.(*net.UnixListener)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	lrc, err := ul.SyscallConn()
	if err != nil {
		return nil, err
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_EPOLL_CREATE1, syscall.EPOLL_CLOEXEC, 0, 0)
	if e != 0 {
		return nil, e
	}
	epfd := int(r)
	// Non-blocking, so that os.NewFile puts it in the runtime's poller.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	ep := os.NewFile(uintptr(epfd), "binrpc-epoll")
	if err := ep.SetReadDeadline(time.Time{}); err != nil { // not pollable
		ep.Close()
		return nil, err
	}
	u := &unixLoop{s: s, l: l, lrc: lrc, ep: ep, epfd: uintptr(epfd), lfd: -1}
	u.acceptFn = u.rawAccept
	if u.eprc, err = ep.SyscallConn(); err != nil {
		ep.Close()
		return nil, err
	}
	var cerr error
	err = lrc.Control(func(fd uintptr) {
		u.lfd = int32(fd)
		cerr = u.ctl(syscall.EPOLL_CTL_ADD, u.lfd, syscall.EPOLLIN)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		ep.Close()
		return nil, err
	}
	return u, nil
}

// close wakes the loop, which ends as the server is closed (Server.Close
// closes done first); the loop closes the epoll file and its connections.
// It does not wait: it runs with s.mu held, which the loop may need.
func (u *unixLoop) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopped = true
	_ = u.ep.SetReadDeadline(time.Unix(1, 0))
	return nil
}

func (u *unixLoop) setDeadline(t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.stopped {
		_ = u.ep.SetReadDeadline(t)
	}
}

// watch puts c in the epoll instance, or changes what it waits for.
func (u *unixLoop) watch(c *uconn) error {
	op, ev := syscall.EPOLL_CTL_MOD, uint32(syscall.EPOLLIN|syscall.EPOLLRDHUP)
	if !c.added {
		op = syscall.EPOLL_CTL_ADD
	}
	if c.pollOut {
		ev = syscall.EPOLLOUT
	}
	if err := u.ctl(op, c.fd, ev); err != nil {
		return err
	}
	// A modified descriptor that epoll has on its ready list already
	// (level-triggered: reported, then put back) does not wake the
	// runtime's poller: poll looks again before it waits.
	u.repoll = u.repoll || c.added
	c.added = true
	return nil
}

// ctl is epoll_ctl on the loop's epoll instance. It needs no Control:
// the epoll file is closed by the loop itself, after its last ctl.
func (u *unixLoop) ctl(op int, fd int32, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: fd}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, u.epfd, uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0); e != 0 {
		return e
	}
	return nil
}

// rawAccept is accept's accept4, run under the listener's Control.
func (u *unixLoop) rawAccept(fd uintptr) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, fd, 0, 0, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
	u.acceptFd, u.acceptErr = int32(r), e
}

func (u *unixLoop) run(ctx context.Context) {
	defer u.shutdown()
	for {
		select {
		case <-u.s.done:
			return
		case <-ctx.Done():
			return
		default:
		}
		err := u.eprc.Read(func(epfd uintptr) bool { return u.poll(ctx, epfd) })
		switch {
		case err == nil:
		case u.fatal != nil:
			u.s.o.log.Warn("binrpc epoll", "listener", u.l.addr.String(), "err", u.fatal)
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			u.sweep() // or close's wake-up: done is closed
		case err != nil:
			return
		}
	}
}

// poll answers the events of the epoll instance; false: wait for the
// runtime's poller to see it readable. The events are handled here, under
// the epoll file's RawRead, so that a wake-up costs one epoll_pwait on it:
// every descriptor is left either drained (read or accept4 until EAGAIN,
// or a short read) or to report anew to the (edge-triggered) runtime
// poller when it becomes ready, so there is nothing to poll again before
// waiting unless the event array was full or a descriptor was modified.
func (u *unixLoop) poll(ctx context.Context, epfd uintptr) bool {
	for {
		select {
		case <-u.s.done:
			return true
		default:
		}
		u.repoll = false
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, epfd, uintptr(unsafe.Pointer(&u.evs[0])), uintptr(len(u.evs)), 0, 0, 0)
		switch e {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			u.fatal = e
			return true
		}
		n := int(r)
		u.now = time.Now()
		for i := range n {
			ev := u.evs[i]
			if ev.Fd == u.lfd {
				u.accept(ctx)
				continue
			}
			c := u.conn(ev.Fd)
			if c == nil {
				continue
			}
			if c.pollOut {
				if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
					u.flush(ctx, c)
				}
				continue
			}
			u.readable(ctx, c)
		}
		if n < len(u.evs) && !u.repoll {
			return false
		}
	}
}

// shutdown closes the loop's connections.
func (u *unixLoop) shutdown() {
	for _, c := range u.conns {
		if c != nil {
			u.closeConn(c)
		}
	}
	u.ep.Close()
}

func (u *unixLoop) accept(ctx context.Context) {
	s := u.s
	for { // until EAGAIN: the listener is not polled again before waiting
		// A listener's RawConn has Control only (Read is EINVAL); Control
		// holds the descriptor open while it runs.
		if err := u.lrc.Control(u.acceptFn); err != nil {
			return // the listener is closed: so is the server
		}
		nfd, errno := u.acceptFd, u.acceptErr
		switch errno {
		case 0:
		case syscall.EAGAIN:
			return
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		default:
			// Out of descriptors or worse: leave the listener to
			// acceptLoop, which logs and backs off; the connections here
			// stay served.
			s.o.log.Warn("binrpc accept", "listener", u.l.addr.String(), "err", errno)
			_ = u.ctl(syscall.EPOLL_CTL_DEL, u.lfd, 0)
			u.lfd = -1
			s.mu.Lock()
			if !s.closed {
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.acceptLoop(ctx, u.l)
				}()
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.o.maxConns {
			s.mu.Unlock()
			rawClose(nfd)
			continue
		}
		c := u.newConn()
		s.nextID++
		c.cn = conn{id: s.nextID, info: ConnInfo{Transport: UnixStream, PeerAddr: "<anonymous unix socket>", LocalAddr: u.l.addr.Path}}
		s.conns[&c.cn] = struct{}{}
		s.mu.Unlock()
		c.fd, c.last = nfd, u.now
		u.setConn(nfd, c)
		u.arm(c.last)
		// The request is often there already (kamcmd writes right after
		// connect): it is answered before the descriptor goes into the
		// epoll instance, which reports it then if it is ready again.
		u.readable(ctx, c)
		if c.fd >= 0 && !c.added {
			if err := u.watch(c); err != nil {
				u.closeConn(c)
			}
		}
	}
}

// connBuf is the read buffer a connection starts with.
const connBuf = 4096

// newConn returns a closed connection to fill in: the last one closed, or
// a new one.
func (u *unixLoop) newConn() *uconn {
	if n := len(u.free); n > 0 {
		c := u.free[n-1]
		u.free[n-1] = nil
		u.free = u.free[:n-1]
		*c = uconn{buf: c.buf[:0]}
		return c
	}
	return &uconn{buf: make([]byte, 0, connBuf)}
}

// readable reads and answers what c has sent until the socket is empty.
func (u *unixLoop) readable(ctx context.Context, c *uconn) {
	for c.fd >= 0 && !c.pollOut {
		if len(c.buf) == cap(c.buf) {
			nc := min(2*cap(c.buf), MaxPacket)
			if nc <= len(c.buf) {
				u.closeConn(c) // a packet that does not fit the read buffer
				return
			}
			c.buf = append(make([]byte, 0, nc), c.buf...)
		}
		free := c.buf[len(c.buf):cap(c.buf)]
		r, e := rawsys.Read(uintptr(c.fd), free)
		switch {
		case e == syscall.EAGAIN:
			return
		case e != 0 || r == 0:
			u.closeConn(c) // end of stream or error
			return
		}
		c.buf = c.buf[:len(c.buf)+r]
		c.last = u.now
		u.process(ctx, c)
		if r < len(free) {
			return // drained when read: epoll reports what comes next
		}
	}
}

// process answers the complete packets in c.buf, up to a reply that has
// to wait for the socket.
func (u *unixLoop) process(ctx context.Context, c *uconn) {
	used, closeIt := u.s.processStream(ctx, &c.cn.info, c.buf, func(p []byte) error { return u.emit(c, p) })
	c.buf = c.buf[:copy(c.buf, c.buf[used:])]
	switch {
	case closeIt && (c.dead || len(c.out) == 0):
		u.closeConn(c)
	case closeIt:
		c.closing = true // after the fault is written
	}
}

// emit writes p, or keeps what the socket does not take and waits for
// EPOLLOUT.
func (u *unixLoop) emit(c *uconn, p []byte) error {
	if c.dead || c.fd < 0 {
		return net.ErrClosed
	}
	if len(c.out) == 0 && len(p) > 0 {
		n, e := rawsys.Write(uintptr(c.fd), p)
		if e != 0 && e != syscall.EAGAIN {
			c.dead = true
			return e
		}
		if n > 0 {
			p = p[n:]
			c.last = time.Now() // the method may have taken a while
		}
	}
	if len(p) == 0 {
		return nil
	}
	c.out = append(c.out, p...) // p is the pooled reply buffer: copied
	if !c.pollOut {
		c.pollOut = true
		if c.added { // else accept adds it
			if err := u.watch(c); err != nil {
				c.dead = true
				return err
			}
		}
	}
	return errStalled
}

// flush writes c.out as the socket drains; then c's next packets.
func (u *unixLoop) flush(ctx context.Context, c *uconn) {
	if len(c.out) > 0 {
		n, e := rawsys.Write(uintptr(c.fd), c.out)
		if n > 0 {
			c.out = c.out[n:]
			c.last = time.Now()
		}
		switch e {
		case 0:
		case syscall.EAGAIN:
			return
		default:
			u.closeConn(c)
			return
		}
	}
	c.out = nil
	if c.closing {
		u.closeConn(c)
		return
	}
	c.pollOut = false
	if err := u.watch(c); err != nil {
		u.closeConn(c)
		return
	}
	u.process(ctx, c)
	u.readable(ctx, c)
}

func (u *unixLoop) closeConn(c *uconn) {
	if c.fd < 0 {
		return
	}
	u.conns[c.fd] = nil
	rawClose(c.fd) // also takes it out of the epoll instance
	c.fd = -1
	u.s.mu.Lock()
	delete(u.s.conns, &c.cn)
	u.s.mu.Unlock()
	// Kept for the next connection, unless its buffer grew for a big
	// request (a one-off need) or enough are kept already.
	if cap(c.buf) == connBuf && len(u.free) < u.s.o.maxConns {
		c.out = nil
		u.free = append(u.free, c)
	}
}

// conn is the open connection on descriptor fd, or nil.
func (u *unixLoop) conn(fd int32) *uconn {
	if fd < 0 || int(fd) >= len(u.conns) {
		return nil
	}
	return u.conns[fd]
}

func (u *unixLoop) setConn(fd int32, c *uconn) {
	if int(fd) >= len(u.conns) {
		u.conns = append(u.conns, make([]*uconn, int(fd)+1-len(u.conns))...)
	}
	u.conns[fd] = c
}

func rawClose(fd int32) { syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0) }

// arm makes the loop wake by the time a connection last active at last
// has been idle too long. The deadline only ever moves earlier here; sweep
// moves it on.
func (u *unixLoop) arm(last time.Time) {
	if u.s.o.idle <= 0 {
		return
	}
	t := last.Add(u.s.o.idle)
	if u.armed.IsZero() || t.Before(u.armed) {
		u.armed = t
		u.setDeadline(t)
	}
}

// sweep closes the connections idle for the idle timeout and sets the
// next deadline.
func (u *unixLoop) sweep() {
	now := time.Now()
	u.armed = time.Time{}
	u.setDeadline(time.Time{})
	for _, c := range u.conns {
		if c == nil {
			continue
		}
		if now.Sub(c.last) >= u.s.o.idle {
			u.closeConn(c)
		} else {
			u.arm(c.last)
		}
	}
}
