// Package rawsys reads and writes non-blocking descriptors with raw system
// calls (syscall.RawSyscall), which do not enter the Go scheduler: with a
// single P idle between requests, a scheduler-entering syscall wakes the
// runtime's sysmon thread from its deep sleep on every request (README,
// Performance). Only for descriptors that are non-blocking, so that no
// call can block the thread.
package rawsys

import (
	"syscall"
	"unsafe"
)

// Read reads fd once into p, retrying EINTR. It returns the bytes read (0
// with errno 0 is end of stream) or the errno, EAGAIN when nothing is
// there yet.
func Read(fd uintptr, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != syscall.EINTR {
			if e != 0 {
				return 0, e
			}
			return int(n), 0
		}
	}
}

// Write writes p to fd until all of it is written, the socket is full
// (EAGAIN) or an error occurs, retrying EINTR. It returns how much was
// written and the errno that stopped it (0 when all was written).
func Write(fd uintptr, p []byte) (int, syscall.Errno) {
	done := 0
	for done < len(p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
		switch e {
		case 0:
			done += int(n)
		case syscall.EINTR:
		default:
			return done, e
		}
	}
	return done, 0
}
