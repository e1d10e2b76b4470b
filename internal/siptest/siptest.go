// Package siptest holds the SIP peers the tests of several packages share:
// a sipgo responder on 127.0.0.1 whose answer can change while it runs, and
// a quiet probe.Prober to probe it with.
package siptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

var (
	quietOnce sync.Once
	// Quiet is a logger that drops everything, for sipgo and the probers
	// of tests.
	Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// quiet silences sipgo's default logger once per test binary.
func quiet() { quietOnce.Do(func() { sip.SetDefaultLogger(Quiet) }) }

// Responder is a sipgo UAS on 127.0.0.1 UDP answering OPTIONS (and INFO,
// for tests of ds_ping_method) with its code after its delay; code 0 is
// silence. Stop closes its port, which then answers ICMP unreachable.
type Responder struct {
	// Port is the UDP port it listens on.
	Port   int
	code   atomic.Int32
	hits   atomic.Int64
	reason string
	delay  func() time.Duration

	mu   sync.Mutex
	last string
	stop func()
}

// Option configures a Responder.
type Option func(*Responder)

// WithDelay answers after d.
func WithDelay(d time.Duration) Option {
	return func(r *Responder) { r.delay = func() time.Duration { return d } }
}

// WithDelayFunc answers after f() (jitter).
func WithDelayFunc(f func() time.Duration) Option { return func(r *Responder) { r.delay = f } }

// WithReason sets the reason phrase (default: the code's standard text).
func WithReason(s string) Option { return func(r *Responder) { r.reason = s } }

// NewResponder starts a responder answering code, stopped at the end of t.
func NewResponder(t testing.TB, code int, opts ...Option) *Responder {
	t.Helper()
	quiet()
	r := &Responder{}
	r.code.Store(int32(code))
	for _, o := range opts {
		o(r)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(Quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(Quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(Quiet))
	if err != nil {
		t.Fatal(err)
	}
	handler := func(req *sip.Request, tx sip.ServerTransaction) {
		r.mu.Lock()
		r.last = string(req.Method) + " " + req.From().Address.String() + " " + req.To().Address.String()
		r.mu.Unlock()
		r.hits.Add(1)
		c := int(r.code.Load())
		if c == 0 {
			return
		}
		if r.delay != nil {
			time.Sleep(r.delay())
		}
		reason := r.reason
		if reason == "" {
			reason = http.StatusText(c)
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, c, reason, nil))
	}
	srv.OnOptions(handler)
	srv.OnRequest(sip.INFO, handler)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Port = pc.LocalAddr().(*net.UDPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(pc) }()
	var once sync.Once
	r.stop = func() { once.Do(func() { pc.Close(); ua.Close(); <-done }) }
	t.Cleanup(r.stop)
	return r
}

// URI is the responder's SIP URI.
func (r *Responder) URI() string { return "sip:127.0.0.1:" + strconv.Itoa(r.Port) }

// SetCode changes the answer (0: silence).
func (r *Responder) SetCode(c int) { r.code.Store(int32(c)) }

// Hits counts the requests received.
func (r *Responder) Hits() int64 { return r.hits.Load() }

// Last is the method, From URI and To URI of the last request.
func (r *Responder) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// Stop closes the responder's port (also done at the end of the test).
func (r *Responder) Stop() { r.stop() }

// NewPinger opens a quiet probe.Prober on a free UDP port of 127.0.0.1
// with the given probe timeout, closed at the end of t.
func NewPinger(t testing.TB, timeout time.Duration) *probe.Prober {
	t.Helper()
	quiet()
	p, err := probe.New(context.Background(), probe.WithSockets(probe.Socket{Proto: "udp", Host: "127.0.0.1"}),
		probe.WithLogger(Quiet), probe.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Code is the current answer.
func (r *Responder) Code() int { return int(r.code.Load()) }
