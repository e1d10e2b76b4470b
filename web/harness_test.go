package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/events"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/internal/siptest"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

var quietLog = siptest.Quiet

// responder is the shared test responder (internal/siptest), answering
// 200 after delay (nil: at once).
type responder = siptest.Responder

func newResponder(t *testing.T, delay func() time.Duration) *responder {
	if delay == nil {
		return siptest.NewResponder(t, 200)
	}
	return siptest.NewResponder(t, 200, siptest.WithDelayFunc(delay))
}

// newPinger opens a probe.Prober on a free UDP port of 127.0.0.1.
func newPinger(t *testing.T) *probe.Prober { return siptest.NewPinger(t, 2*time.Second) }

// daemon is the part of kamsidecar the status page reads: a dispatcher
// Store and Prober, a keepalive Module, a history Store filled from their
// results, an events Hub, and the handler served on 127.0.0.1.
type daemon struct {
	store  *dispatcher.Store
	prober *dispatcher.Prober
	ka     *keepalive.Module
	hist   *history.Store
	hub    *events.Hub
	url    string
	pinger *probe.Prober
}

// start runs everything until the test ends. entries are the dispatcher
// destinations; kaURIs are added to keepalive with owner "test".
func start(t *testing.T, entries []dispatcher.Entry, kaURIs ...string) *daemon {
	t.Helper()
	sets, _, err := dispatcher.Build(entries, dispatcher.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{store: dispatcher.NewStore(sets), hist: history.New(30), pinger: newPinger(t)}
	cfg := dispatcher.ProbingConfig{Probing: dispatcher.Probing{Mode: 1, ProbingThreshold: 1, InactiveThreshold: 1},
		Interval: 150 * time.Millisecond, Timeout: 500 * time.Millisecond, LatencyStats: true}
	d.prober = dispatcher.NewProber(d.store, d.pinger, cfg)
	kcfg := keepalive.DefaultConfig()
	kcfg.PingInterval = 200 * time.Millisecond
	kcfg.Timeout = 500 * time.Millisecond
	d.ka, err = keepalive.New(kcfg, d.pinger)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range kaURIs {
		var last sync.Map // uri → state after the previous result
		err := d.ka.AddDestination(u, "test", keepalive.OnResponse(func(uri string, r probe.Result, _ any) {
			before := "unknown"
			if v, ok := last.Load(uri); ok {
				before = v.(string)
			}
			after := "down"
			if r.Success() {
				after = "up"
			}
			last.Store(uri, after)
			d.hist.Add(history.Key{Kind: "keepalive", URI: uri, Owner: "test"}, history.Record{Time: time.Now(),
				Code: r.Code, Reason: r.Reason, Class: r.Class.String(), RTT: r.RTT, Before: before, After: after})
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	d.hub = events.New(events.Options{Prober: d.prober, Keepalive: d.ka, Store: d.store, Logger: quietLog})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.url = "http://" + ln.Addr().String() + "/"
	srv := &http.Server{Handler: New(Options{Store: d.store, Keepalive: d.ka, History: d.hist, Hub: d.hub,
		LatencyStats: true, Logger: quietLog}), ReadHeaderTimeout: 5 * time.Second}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.hub.Run(ctx) })
	// Let the Hub subscribe before the engines produce.
	for i := 0; i < 200 && !hubReady(d.hub); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	wg.Go(func() { _ = d.prober.Run(ctx) })
	wg.Go(func() { _ = d.ka.Run(ctx) })
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		wg.Wait()
	})
	return d
}

// hubReady reports whether Run has subscribed to keepalive (Dropped then
// has the key).
func hubReady(h *events.Hub) bool {
	_, ok := h.Dropped()["keepalive"]
	return ok
}

// recordDispatcher fills the history of dispatcher destinations from the
// Hub's events (each event is one probe result that changed the state).
func (d *daemon) recordDispatcher(t *testing.T) {
	t.Helper()
	sub := d.hub.Subscribe(256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sub.C {
			if ev.Kind != events.KindDispatcher {
				continue
			}
			class := "reply"
			if ev.Code == 408 {
				class = "timeout"
			} else if ev.Latency == 0 || ev.Code == 503 || ev.Code == 500 {
				class = "transport"
			}
			d.hist.Add(history.Key{Kind: "dispatcher", SetID: ev.SetID, URI: ev.URI}, history.Record{Time: ev.Time,
				Code: ev.Code, Reason: ev.Reason, Class: class, RTT: time.Duration(ev.Latency * float64(time.Second)),
				Before: ev.Old, After: ev.New})
		}
	}()
	t.Cleanup(func() { sub.Close(); <-done })
}

// getState fetches /api/state.
func getState(t *testing.T, url string) State {
	t.Helper()
	resp, err := http.Get(url + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusOf(st State, setid int, uri string) string {
	for _, s := range st.Sets {
		for _, d := range s.Destinations {
			if s.ID == setid && d.URI == uri {
				return d.Status
			}
		}
	}
	return ""
}
