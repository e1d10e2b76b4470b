package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/events"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// server starts h on 127.0.0.1 only.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, s *Sender) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func sample() events.Event {
	return events.Event{Seq: 7, Kind: events.KindDispatcher, SetID: 1, URI: "sip:127.0.0.1:5060",
		DUID: "gw1", Old: "AP", New: "IP", Down: true, Code: 408, Reason: "Request Timeout",
		Latency: 0.25, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetryAndSignature: a receiver that fails the first two attempts gets
// the same delivery a third time, signed, and then it counts as sent.
func TestRetryAndSignature(t *testing.T) {
	const secret = "s3cr3t-value"
	var (
		mu       sync.Mutex
		attempts []http.Header
		bodies   [][]byte
	)
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		attempts = append(attempts, r.Header.Clone())
		bodies = append(bodies, b)
		n := len(attempts)
		mu.Unlock()
		if !Verify(secret, r.Header.Get(HeaderTimestamp), b, r.Header.Get(HeaderSignature)) {
			t.Errorf("attempt %d: bad signature %q", n, r.Header.Get(HeaderSignature))
		}
		if n <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	url := strings.Replace(srv.URL, "http://", "http://user:pa55word@", 1) + "/hook?token=qtoken"
	s, err := New(Options{URLs: []string{url}, Secret: secret, Backoff: 20 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	if !s.Deliver(sample()) {
		t.Fatal("Deliver refused")
	}
	waitFor(t, "sent", func() bool { return s.Sent() == 1 })
	if s.Retried() != 2 || s.Failed() != 0 || s.Dropped() != 0 {
		t.Errorf("retried %d failed %d dropped %d, want 2 0 0", s.Retried(), s.Failed(), s.Dropped())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(attempts))
	}
	id := attempts[0].Get(HeaderDelivery)
	for i, h := range attempts {
		if h.Get(HeaderDelivery) != id || id == "" {
			t.Errorf("attempt %d: delivery id %q, want %q", i+1, h.Get(HeaderDelivery), id)
		}
		if got := h.Get(HeaderAttempt); got != string(rune('1'+i)) {
			t.Errorf("attempt %d: attempt header %q", i+1, got)
		}
		if h.Get("Content-Type") != "application/json" || h.Get(HeaderEvent) != "state" {
			t.Errorf("attempt %d: headers %v", i+1, h)
		}
		if h.Get("Authorization") == "" {
			t.Errorf("attempt %d: URL credentials not sent as basic auth", i+1)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(bodies[2], &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"kind": "dispatcher", "setid": 1.0, "uri": "sip:127.0.0.1:5060", "duid": "gw1",
		"old": "AP", "new": "IP", "down": true, "up": false, "code": 408.0, "reason": "Request Timeout",
		"latency": 0.25, "time": "2026-01-02T03:04:05Z", "seq": 7.0} {
		if got[k] != v {
			t.Errorf("body %s = %v, want %v", k, got[k], v)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, secretText := range []string{secret, "pa55word", "qtoken", "user:"} {
		if strings.Contains(logs.String(), secretText) {
			t.Errorf("log shows %q:\n%s", secretText, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestGiveUp: a 4xx is not retried; an unreachable URL is tried
// MaxAttempts times, then failed; the error logged names no credentials.
func TestGiveUp(t *testing.T) {
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	port := testutil.FreePort(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	dead := "http://u:deadpass@127.0.0.1:" + strconv.Itoa(port) + "/x?k=deadq"
	s, err := New(Options{URLs: []string{srv.URL, dead}, Backoff: time.Millisecond, MaxAttempts: 3, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	s.Deliver(sample())
	waitFor(t, "failed", func() bool { return s.Failed() == 2 })
	if s.Retried() != 2 || s.Sent() != 0 {
		t.Errorf("retried %d sent %d, want 2 0", s.Retried(), s.Sent())
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "deadpass") || strings.Contains(logs.String(), "deadq") {
		t.Errorf("credentials in log:\n%s", logs.String())
	}
}

// TestSlowReceiver: while the receiver hangs, Deliver keeps returning at
// once, the queue stays bounded and the overflow is counted as dropped.
func TestSlowReceiver(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int64
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	s, err := New(Options{URLs: []string{srv.URL}, QueueSize: 16, Workers: 2, Timeout: 30 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitFor(t, "workers", func() bool { s.Deliver(sample()); return hits.Load() == 2 })
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 20000
	start := time.Now()
	var slowest time.Duration
	for range n {
		t0 := time.Now()
		s.Deliver(sample())
		slowest = max(slowest, time.Since(t0))
	}
	took := time.Since(start)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Queued() > 16 {
		t.Errorf("queue holds %d, bound 16", s.Queued())
	}
	if s.Dropped() < n-16 {
		t.Errorf("dropped %d, want at least %d", s.Dropped(), n-16)
	}
	// The receiver holds every request until the test ends: a Deliver
	// that waited for it would take seconds. The bound leaves room for
	// the race detector and a loaded machine.
	if slowest > 2*time.Second {
		t.Errorf("a Deliver took %v", slowest)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Errorf("heap grew by %d bytes over %d events", grew, n)
	}
	t.Logf("%d events in %v (slowest %v), dropped %d, queued %d", n, took, slowest, s.Dropped(), s.Queued())
}

// TestBadURL: a URL that is not http(s) is refused without echoing it.
func TestBadURL(t *testing.T) {
	for _, u := range []string{"ftp://a:secretpw@h/x", "not a url", "http:///nohost"} {
		_, err := New(Options{URLs: []string{u}})
		if err == nil {
			t.Errorf("%q accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if got := Redact("https://u:p@example.org:8443/a/b?token=x#f"); got != "https://example.org:8443/a/b" {
		t.Errorf("Redact = %q", got)
	}
}
