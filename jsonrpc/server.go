package jsonrpc

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/unixfile"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// Transport names given to rpc.NewCall (jsonrpc.md §5, §6, §7).
const (
	TransportHTTP  = "jsonrpc-http"
	TransportFIFO  = "jsonrpc-fifo"
	TransportDgram = "jsonrpc-dgram"
)

// Defaults of the options and transport limits (jsonrpc.md §2, §6.1, §7).
const (
	DefaultReplyDir   = "/tmp/"
	DefaultPath       = "/RPC"
	DefaultMaxRequest = 1 << 20
	// MaxFIFORequest is the longest FIFO document (Kamailio's 8 KiB buffer
	// holds 8190 bytes, jsonrpc.md §6.1).
	MaxFIFORequest = 8190
	// MaxDatagram is the datagram receive buffer (jsonrpc.md §7).
	MaxDatagram = 65456
)

// Server answers JSON-RPC requests for the methods of a registry over
// HTTP (jsonrpc.md §5), FIFOs (§6) and datagram sockets (§7).
type Server struct {
	reg          *rpc.Registry
	pretty       bool
	replyDir     string
	path         string
	maxRequest   int
	readTimeout  time.Duration
	writeTimeout time.Duration
	idleTimeout  time.Duration
	log          *slog.Logger
	hints        sizeHints
	// results are the encoded results of methods with a Version
	// (rpc.Method.Version), for calls without parameters.
	results rpc.ReplyCache

	mu        sync.Mutex
	listeners []listener
	closed    bool
}

type closer interface{ Close() error }

// listener is one opened transport socket.
type listener interface {
	Serve(ctx context.Context) error
	Close() error
}

// Option configures a Server (the jsonrpcs module parameters of
// jsonrpc.md §2).
type Option func(*Server)

// WithPretty sets pretty_format (jsonrpc.md §2, §4.3): true (the default)
// prints the TAB-indented layout, false the compact one.
func WithPretty(pretty bool) Option { return func(s *Server) { s.pretty = pretty } }

// WithReplyDir sets fifo_reply_dir (jsonrpc.md §2, §6.2), "/tmp/" by
// default; the reply FIFO path is dir+reply_name by plain concatenation, so
// keep the trailing '/'.
func WithReplyDir(dir string) Option { return func(s *Server) { s.replyDir = dir } }

// WithPath sets the URL path prefix answered over HTTP (jsonrpc.md §5),
// "/RPC" by default.
func WithPath(prefix string) Option { return func(s *Server) { s.path = prefix } }

// WithMaxRequest bounds an HTTP request body (jsonrpc.md §5); a longer one
// is answered 413. The default is 1 MiB.
func WithMaxRequest(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxRequest = n
		}
	}
}

// WithTimeouts sets the HTTP read (headers and body), write and keep-alive
// idle timeouts (jsonrpc.md §5); read also bounds how long a partial FIFO
// document may wait for its end (§6.1). Zero keeps a default.
func WithTimeouts(read, write, idle time.Duration) Option {
	return func(s *Server) {
		if read > 0 {
			s.readTimeout = read
		}
		if write > 0 {
			s.writeTimeout = write
		}
		if idle > 0 {
			s.idleTimeout = idle
		}
	}
}

// WithLogger sets the logger for dropped input and failed replies
// (jsonrpc.md §6.1, §7), slog.Default() otherwise.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// NewServer returns a server for the methods of reg. It registers
// jsonrpc.echo on reg (jsonrpc.md §2) unless a method of that name exists.
func NewServer(reg *rpc.Registry, opts ...Option) *Server {
	s := &Server{
		reg:          reg,
		pretty:       true,
		replyDir:     DefaultReplyDir,
		path:         DefaultPath,
		maxRequest:   DefaultMaxRequest,
		readTimeout:  10 * time.Second,
		writeTimeout: 10 * time.Second,
		idleTimeout:  60 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if reg.Lookup("jsonrpc.echo") == nil {
		_ = RegisterMethods(reg)
	}
	return s
}

// RegisterMethods adds the module's own RPC, jsonrpc.echo (jsonrpc.md §2):
// RET_ARRAY; it reads an optional string (numbers converted, "*.S") and,
// when there was one, an optional int ("*.d"), and echoes what it read.
func RegisterMethods(reg *rpc.Registry) error {
	return reg.Register(rpc.Method{
		Name:  "jsonrpc.echo",
		Flags: rpc.RetArray,
		Help:  "Sample echo command",
		Handler: func(c *rpc.Call) {
			var s string
			if c.Scan("*.S", &s) < 1 {
				return
			}
			c.Add(rpc.String(s))
			var n int
			if c.Scan("*.d", &n) > 0 {
				c.Add(rpc.Int(n))
			}
		},
	})
}

func (s *Server) track(c listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners = append(s.listeners, c)
	return true
}

// Close stops every listener the server opened (HTTP, FIFO, datagram) and
// removes their files (jsonrpc.md §2: the FIFO and socket are removed at
// shutdown).
func (s *Server) Close() error {
	s.mu.Lock()
	ls := s.listeners
	s.listeners = nil
	s.closed = true
	s.mu.Unlock()
	var first error
	for _, l := range ls {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// FileOption sets how ListenFIFO and ListenDgram create their file in the
// file system (jsonrpcs's fifo_mode/fifo_user/fifo_group and
// dgram_mode/dgram_user/dgram_group, jsonrpc.md §2).
type FileOption func(*unixfile.Perm)

// WithFileMode sets the permission bits (0 means 0600, the default).
func WithFileMode(m os.FileMode) FileOption { return func(p *unixfile.Perm) { p.Mode = m } }

// WithFileOwner gives the file to uid and gid (-1 keeps the process's,
// the default). The ownership is set before the mode; until then the file
// is owner-only (package internal/unixfile).
func WithFileOwner(uid, gid int) FileOption {
	return func(p *unixfile.Perm) { p.UID, p.GID = uid, gid }
}

func newFilePerm(opts []FileOption) unixfile.Perm {
	p := unixfile.Private
	for _, o := range opts {
		o(&p)
	}
	return p
}

// ListenFIFO creates the request FIFO at path (fifo_name, jsonrpc.md §2,
// §6.1) with mode (0 means 0600) and opts, replacing an existing file;
// Serve answers it and Close removes it. Replies go to the reply directory
// plus the request's reply_name (§6.2).
func (s *Server) ListenFIFO(path string, mode os.FileMode, opts ...FileOption) error {
	p := newFilePerm(opts)
	p.Mode = mode
	_, err := s.listenFIFO(path, p)
	return err
}

// ListenDgram opens a datagram socket (dgram_socket, jsonrpc.md §2, §7): a
// unix socket path (mode 0600 unless opts say otherwise, replaced if it
// exists, removed by Close) or "udp:host:port"; Serve answers it.
func (s *Server) ListenDgram(addr string, opts ...FileOption) error {
	_, err := s.listenDgram(addr, newFilePerm(opts))
	return err
}

// ListenHTTP listens on the TCP address addr for JSON-RPC over HTTP
// (jsonrpc.md §5) with kamsidecar's own HTTP/1.1 responder and returns the
// bound address (useful with port 0); Serve answers it.
func (s *Server) ListenHTTP(addr string) (net.Addr, error) {
	l, err := s.listenHTTP(addr)
	if err != nil {
		return nil, err
	}
	return l.Addr(), nil
}

// Addrs returns the addresses of the datagram and HTTP sockets opened so far
// (jsonrpc.md §5, §7), in opening order.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var as []net.Addr
	for _, l := range s.listeners {
		if a, ok := l.(interface{ Addr() net.Addr }); ok {
			as = append(as, a.Addr())
		}
	}
	return as
}

// Serve answers every socket opened with ListenFIFO, ListenDgram and
// ListenHTTP before the call (jsonrpc.md §5, §6, §7) until ctx ends, then
// closes them (removing the FIFO and unix socket files) and returns nil;
// if one fails, the others are closed and its error is returned.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ls := append([]listener(nil), s.listeners...)
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errc <- l.Serve(ctx) }()
	}
	var first error
	for range ls {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	if len(ls) == 0 {
		<-ctx.Done()
	}
	return first
}
