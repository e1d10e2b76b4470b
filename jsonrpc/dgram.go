package jsonrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/kamsidecar/kamsidecar/internal/unixfile"
)

// dgramListener answers JSON-RPC requests on a unix or UDP datagram socket
// (jsonrpc.md §7): one request per datagram, the reply sent to the
// datagram's source address.
type dgramListener struct {
	s    *Server
	conn net.PacketConn
	path string // unix socket file, removed on Close

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed when Close has finished
	wg     sync.WaitGroup
}

// listenDgram opens the datagram socket addr, dgram_socket's syntax
// (jsonrpc.md §7): "udp:host:port" (also "udp:[v6]:port") or a unix socket
// path, which is replaced if it exists, gets p's mode (0 means 0600) and
// owner and is removed on Close.
func (s *Server) listenDgram(addr string, p unixfile.Perm) (*dgramListener, error) {
	l := &dgramListener{s: s, done: make(chan struct{})}
	if hp, ok := strings.CutPrefix(addr, "udp:"); ok {
		c, err := net.ListenPacket("udp", hp)
		if err != nil {
			return nil, fmt.Errorf("jsonrpc dgram listen %s: %w", addr, err)
		}
		l.conn = c
	} else {
		if err := os.Remove(addr); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("jsonrpc dgram: remove old %s: %w", addr, err)
		}
		var c *net.UnixConn
		err := unixfile.Create(addr, p, func() error {
			var err error
			c, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			return err
		})
		if err != nil {
			if c != nil {
				c.Close()
				os.Remove(addr)
			}
			return nil, fmt.Errorf("jsonrpc dgram listen %s: %w", addr, err)
		}
		l.conn, l.path = c, addr
	}
	s.track(l)
	return l, nil
}

// Addr is the socket's local address (dgram_socket, jsonrpc.md §7).
func (l *dgramListener) Addr() net.Addr { return l.conn.LocalAddr() }

// Serve answers datagrams until ctx ends or Close is called (jsonrpc.md
// §7). An unparsable datagram, or one from an unbound unix socket, gets no
// reply; a reply that cannot be sent is logged. It returns nil after Close.
func (l *dgramListener) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	buf := make([]byte, MaxDatagram)
	sem := make(chan struct{}, maxDgramWorkers)
	for {
		n, from, err := l.conn.ReadFrom(buf)
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
				continue
			}
			return fmt.Errorf("jsonrpc dgram read: %w", err)
		}
		doc := bytes.Clone(bytes.TrimSpace(buf[:n]))
		sem <- struct{}{}
		l.wg.Add(1)
		go func() {
			defer func() { <-sem; l.wg.Done() }()
			l.handle(ctx, doc, from)
		}()
	}
}

func (l *dgramListener) handle(ctx context.Context, doc []byte, from net.Addr) {
	s := l.s
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("jsonrpc dgram: panic", "panic", p)
		}
	}()
	o, err := s.process(ctx, doc, TransportDgram, false)
	if err != nil || o.body == nil {
		return
	}
	if from == nil {
		return
	}
	if ua, ok := from.(*net.UnixAddr); ok && ua.Name == "" {
		return
	}
	if _, err := l.conn.WriteTo(o.body, from); err != nil {
		s.log.Warn("jsonrpc dgram: reply not sent", "to", from.String(), "bytes", len(o.body), "err", err)
	}
}

// maxDgramWorkers bounds how many datagram requests run at once.
const maxDgramWorkers = 8

// Close stops Serve, waits for replies in progress and removes a unix
// socket file (jsonrpc.md §2).
func (l *dgramListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	defer close(l.done)
	err := l.conn.Close()
	l.wg.Wait()
	if l.path != "" {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return err
}
