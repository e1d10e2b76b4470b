package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestRawIO: the raw reader and writer move every byte both ways, wait for
// a full socket buffer to drain, report EOF and honour the deadline.
func TestRawIO(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	r := newRawIO(server)
	if r == nil {
		t.Fatal("no raw I/O for a TCP connection")
	}

	// A write far larger than the socket buffers: it must wait for the
	// reader (EAGAIN) and still write everything.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(big))))
		got <- b
	}()
	if n, err := r.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the reader got %d bytes, not the %d written", len(b), len(big))
	}

	// Read waits for data.
	go func() {
		time.Sleep(10 * time.Millisecond)
		client.Write([]byte("hello"))
	}()
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}

	// The deadline ends a wait.
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v", err)
	}
	server.SetReadDeadline(time.Time{})

	// EOF once the peer closes.
	client.Close()
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after close = %d, %v", n, err)
	}
	// A closed connection is an error, not a hang.
	server.Close()
	if _, err := r.Read(buf); err == nil {
		t.Fatal("Read of a closed connection: no error")
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("Write to a closed connection: no error")
	}
}
