package jsonrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/unixfile"
)

// framer splits a FIFO byte stream into JSON documents by counting braces
// outside quotes (jsonrpc.md §6.1). Unlike Kamailio it resynchronises: a
// stray '}' or a garbage line before any '{' is dropped at once, a
// document over max bytes is skipped to its end, and the caller drops a
// partial document that stays idle (drop).
type framer struct {
	max      int
	buf      []byte
	depth    int
	quote    byte
	esc      bool
	seen     bool
	skipping bool
	emit     func(doc []byte)
	drop     func(reason string, n int)
}

func (f *framer) reset() {
	f.buf = f.buf[:0]
	f.depth, f.quote, f.esc, f.seen, f.skipping = 0, 0, false, false, false
}

// pending tells whether a partial document is held.
func (f *framer) pending() bool {
	return f.seen || f.skipping || len(bytes.TrimSpace(f.buf)) > 0
}

// abandon drops the partial document (idle timeout).
func (f *framer) abandon(reason string) {
	if f.pending() {
		f.drop(reason, len(f.buf))
	}
	f.reset()
}

// track follows quotes and braces inside a document; it reports the end.
func (f *framer) track(c byte) bool {
	if f.quote != 0 {
		switch {
		case f.esc:
			f.esc = false
		case c == '\\':
			f.esc = true
		case c == f.quote:
			f.quote = 0
		}
		return false
	}
	switch c {
	case '"', '\'':
		f.quote = c
	case '{':
		f.depth++
	case '}':
		f.depth--
		return f.depth == 0
	}
	return false
}

func (f *framer) feed(p []byte) {
	for _, c := range p {
		if f.skipping {
			if f.track(c) {
				f.reset()
			}
			continue
		}
		if !f.seen {
			switch c {
			case '{':
				f.seen = true
				f.buf = append(f.buf, c)
				f.depth = 1
			case '}':
				f.buf = append(f.buf, c)
				f.drop("stray '}' outside a document", len(f.buf))
				f.reset()
			case '\n':
				if len(bytes.TrimSpace(f.buf)) > 0 {
					f.drop("garbage line outside a document", len(f.buf))
				}
				f.reset()
			default:
				f.buf = append(f.buf, c)
				if len(f.buf) > f.max {
					f.drop("garbage outside a document", len(f.buf))
					f.reset()
				}
			}
			continue
		}
		f.buf = append(f.buf, c)
		if f.track(c) {
			f.emit(f.buf)
			f.reset()
			continue
		}
		if len(f.buf) > f.max {
			f.drop(fmt.Sprintf("document over %d bytes", f.max), len(f.buf))
			f.buf = f.buf[:0]
			f.skipping = true
		}
	}
}

// fifoListener reads JSON-RPC requests from a named pipe and writes each
// reply to the client's reply FIFO (jsonrpc.md §6).
type fifoListener struct {
	s    *Server
	path string
	f    *os.File

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed when Close has finished
}

// listenFIFO creates the request FIFO at path (an existing file there is
// replaced) with p's mode (0 means 0600) and owner, and opens it for
// reading with a writer of its own, so that it never sees end of file
// (jsonrpc.md §6.1). Close removes it.
func (s *Server) listenFIFO(path string, p unixfile.Perm) (*fifoListener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("jsonrpc fifo: remove old %s: %w", path, err)
	}
	created := false
	err := unixfile.Create(path, p, func() error {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		if created {
			os.Remove(path)
		}
		return nil, fmt.Errorf("jsonrpc fifo %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("jsonrpc fifo: open %s: %w", path, err)
	}
	l := &fifoListener{s: s, path: path, f: f, done: make(chan struct{})}
	s.track(l)
	return l, nil
}

// Path is the request FIFO's path (fifo_name, jsonrpc.md §2).
func (l *fifoListener) Path() string { return l.path }

// Serve reads and answers requests until ctx ends or Close is called
// (jsonrpc.md §6): documents are framed by brace counting, several may come
// in one write, each is answered through its reply
// FIFO, one after the other in arrival order as Kamailio's single FIFO
// process does (a reply FIFO whose reader stalls holds the queue for at most
// the write timeout). A partial document idle for the read timeout is
// dropped. It returns nil after Close.
func (l *fifoListener) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	s := l.s
	fr := &framer{max: MaxFIFORequest}
	fr.emit = func(doc []byte) { l.handle(ctx, doc) }
	fr.drop = func(reason string, n int) {
		s.log.Warn("jsonrpc fifo: dropping input", "reason", reason, "bytes", n, "fifo", l.path)
	}
	buf := make([]byte, 4096)
	for {
		if fr.pending() {
			_ = l.f.SetReadDeadline(time.Now().Add(s.readTimeout))
		} else {
			_ = l.f.SetReadDeadline(time.Time{})
		}
		n, err := l.f.Read(buf)
		fr.feed(buf[:n])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				fr.abandon("partial document idle")
				continue
			}
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed {
				<-l.done
				return nil
			}
			return fmt.Errorf("jsonrpc fifo read %s: %w", l.path, err)
		}
	}
}

func (l *fifoListener) handle(ctx context.Context, doc []byte) {
	s := l.s
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("jsonrpc fifo: panic", "panic", p)
		}
	}()
	o, err := s.process(ctx, doc, TransportFIFO, true)
	if errors.Is(err, errReplyName) {
		s.log.Warn("jsonrpc fifo: request refused", "err", err)
		return
	}
	if err != nil {
		s.log.Warn("jsonrpc fifo: unparsable document dropped", "bytes", len(doc))
		return
	}
	if o.body == nil || o.replyName == "" {
		return
	}
	if err := s.writeReplyFIFO(s.replyDir+o.replyName, o.body); err != nil {
		s.log.Warn("jsonrpc fifo: reply not written", "err", err)
	}
}

// errNotFIFO reports a reply path that fails the safety checks.
var errNotFIFO = errors.New("not a fifo with a single link")

// writeReplyFIFO writes a reply to the client's FIFO (jsonrpc.md §6.2):
// it must be a FIFO, not a symlink, with one link; the non-blocking open
// is retried four more times 80 ms apart while no reader is there; the
// whole reply is written (no trailing newline) and the FIFO is closed.
func (s *Server) writeReplyFIFO(path string, body []byte) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fmt.Errorf("reply fifo %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO || st.Nlink != 1 {
		return fmt.Errorf("reply fifo %s: %w", path, errNotFIFO)
	}
	var fd int
	var err error
	for i := 0; i < 5; i++ {
		fd, err = syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
		if !errors.Is(err, syscall.ENXIO) && !errors.Is(err, syscall.EINTR) {
			break
		}
		if i < 4 {
			time.Sleep(80 * time.Millisecond)
		}
	}
	if err != nil {
		return fmt.Errorf("open reply fifo %s: %w", path, err)
	}
	var fst syscall.Stat_t
	if err := syscall.Fstat(fd, &fst); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("reply fifo %s: %w", path, err)
	}
	if fst.Mode&syscall.S_IFMT != syscall.S_IFIFO || fst.Nlink != 1 || fst.Ino != st.Ino || fst.Dev != st.Dev {
		syscall.Close(fd)
		return fmt.Errorf("reply fifo %s changed: %w", path, errNotFIFO)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	_ = f.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if _, err := f.Write(body); err != nil {
		return fmt.Errorf("write reply fifo %s: %w", path, err)
	}
	return nil
}

// Close stops Serve (a reply being written is finished by it) and removes
// the FIFO (jsonrpc.md §2).
func (l *fifoListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	defer close(l.done)
	err := l.f.Close()
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
