package jsonrpc

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/kamsidecar/kamsidecar/internal/rawsys"
)

// rawIO reads and writes a non-blocking socket with raw system calls
// (syscall.RawSyscall) and waits for it on the runtime's poller through
// syscall.RawConn, so deadlines hold as for the net.Conn itself.
//
// Why: a read or write of a net.Conn enters the system call the runtime's
// way (entersyscall), and with a single P that is idle between requests,
// every request's first system call wakes the sysmon thread from its deep
// sleep; sysmon then polls every 20 us while the request runs and retakes
// the P from a write that lasts one of its ticks. On a socket the runtime
// made non-blocking, read and write never block, so a raw system call is
// safe and skips all of that. bench/rpc.sh, dispatcher.list with 10
// destinations, 1 client: see the commit message.
type rawIO struct {
	rc syscall.RawConn
	// The state of the Read and of the Write in progress, and the
	// functions given to rc, made once: a closure per call would be
	// allocated on every request. Reads and writes may overlap; two
	// reads or two writes may not.
	rb, wb         []byte
	rn, wn         int
	rerrno, werrno syscall.Errno
	readFn         func(fd uintptr) bool
	writeFn        func(fd uintptr) bool
}

// newRawIO returns the raw reader and writer of c, or nil when c is not
// a socket the runtime polls.
func newRawIO(c net.Conn) *rawIO {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc}
	r.readFn, r.writeFn = r.read, r.write
	return r
}

// read is one attempt of Read on fd: false when it must wait.
func (r *rawIO) read(fd uintptr) bool {
	r.rn, r.rerrno = rawsys.Read(fd, r.rb)
	if r.rerrno == syscall.EAGAIN {
		r.rerrno = 0
		return false
	}
	return true
}

func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.rb, r.rn, r.rerrno = p, 0, 0
	err := r.rc.Read(r.readFn)
	r.rb = nil
	switch {
	case err != nil:
		return 0, err
	case r.rerrno != 0:
		return 0, os.NewSyscallError("read", r.rerrno)
	case r.rn == 0:
		return 0, io.EOF
	}
	return r.rn, nil
}

// write is one attempt of Write on fd: false when it must wait.
func (r *rawIO) write(fd uintptr) bool {
	n, e := rawsys.Write(fd, r.wb[r.wn:])
	r.wn += n
	if e == syscall.EAGAIN {
		return false
	}
	r.werrno = e
	return true
}

func (r *rawIO) Write(p []byte) (int, error) {
	r.wb, r.wn, r.werrno = p, 0, 0
	err := r.rc.Write(r.writeFn)
	r.wb = nil
	switch {
	case err != nil:
		return r.wn, err
	case r.werrno != 0:
		return r.wn, os.NewSyscallError("write", r.werrno)
	}
	return r.wn, nil
}
