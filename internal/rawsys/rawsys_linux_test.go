package rawsys

import (
	"syscall"
	"testing"
)

func TestReadWrite(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := uintptr(fds[0]), uintptr(fds[1])
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	buf := make([]byte, 64)
	if n, e := Read(b, buf); n != 0 || e != syscall.EAGAIN {
		t.Errorf("read of an empty socket: %d %v", n, e)
	}
	if n, e := Write(a, []byte("hello")); n != 5 || e != 0 {
		t.Errorf("write: %d %v", n, e)
	}
	if n, e := Read(b, buf); n != 5 || e != 0 || string(buf[:n]) != "hello" {
		t.Errorf("read: %d %v %q", n, e, buf[:n])
	}
	if n, e := Read(b, nil); n != 0 || e != 0 {
		t.Errorf("empty read: %d %v", n, e)
	}
	// A full socket: Write stops at EAGAIN with what it wrote.
	big := make([]byte, 8<<20)
	n, e := Write(a, big)
	if e != syscall.EAGAIN || n <= 0 || n >= len(big) {
		t.Errorf("write to a full socket: %d %v", n, e)
	}
	syscall.Close(fds[1])
	if _, e := Write(a, []byte("x")); e != syscall.EPIPE {
		t.Errorf("write to a closed peer: %v", e)
	}
	// The peer closed with nothing unread: end of stream.
	fds2, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds2[0])
	syscall.Close(fds2[1])
	if n, e := Read(uintptr(fds2[0]), buf); n != 0 || e != 0 {
		t.Errorf("end of stream: %d %v", n, e)
	}
}
