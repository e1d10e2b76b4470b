//go:build linux

package binrpc

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkKamcmdUnix is one kamcmd-like call: connect, one core.version
// request, read the reply, close. The client uses raw syscalls, so the
// allocations reported are (nearly all) the server's per call.
func BenchmarkKamcmdUnix(b *testing.B) {
	dir := shortDir(b)
	sock := filepath.Join(dir, "ctl")
	reg := fuzzRegistry(b)
	reg.SetObserver(func(string, string, time.Duration, int) {})
	// Closed connections may pile up before the loop reads their EOF.
	startServer(b, reg, []string{"unix:" + sock}, WithMaxConns(1<<20))
	req := AppendPacket(nil, TypeRequest, 1, AppendString(nil, "core.version"))
	sa := &syscall.SockaddrUnix{Name: sock}
	var rb [4096]byte
	b.ReportAllocs()
	for b.Loop() {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := syscall.Connect(fd, sa); err != nil {
			b.Fatal(err)
		}
		if _, err := syscall.Write(fd, req); err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			n, err := syscall.Read(fd, rb[got:])
			if err != nil || n <= 0 {
				b.Fatal(err, n)
			}
			got += n
			if h, hn, err := ParseHeader(rb[:got]); err == nil && got >= hn+int(h.Length) {
				break
			}
		}
		syscall.Close(fd)
	}
}
