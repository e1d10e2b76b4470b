package events

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

type sink struct {
	mu   sync.Mutex
	got  []Event
	full bool
}

func (s *sink) Deliver(ev Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		return false
	}
	s.got = append(s.got, ev)
	return true
}

// TestConvert: both engines' events become the neutral Event.
func TestConvert(t *testing.T) {
	now := time.Now()
	d := FromDispatcher(dispatcher.Event{Time: now, SetID: 4, URI: "sip:a", Old: dispatcher.FlagProbing,
		New: dispatcher.FlagProbing | dispatcher.FlagInactive, Down: true, Code: 408, Reason: "Request Timeout",
		RTT: 1500 * time.Millisecond}, "gw")
	if d.Kind != KindDispatcher || d.SetID != 4 || d.Old != "AP" || d.New != "IP" || !d.Down || d.Up ||
		d.DUID != "gw" || d.Latency != 1.5 || d.Usable() || !d.Time.Equal(now) {
		t.Errorf("dispatcher: %+v", d)
	}
	k := FromKeepalive(keepalive.Event{Time: now, URI: "sip:b", Owner: "o", Old: keepalive.StateUnknown,
		New: keepalive.StateUp, Reason: "200 OK", RTT: 3 * time.Millisecond, Result: probe.Result{Code: 200}})
	if k.Kind != KindKeepalive || k.Owner != "o" || k.Old != "unknown" || k.New != "up" || !k.Up || k.Down ||
		k.Code != 200 || !k.Usable() {
		t.Errorf("keepalive: %+v", k)
	}
	b, _ := json.Marshal(k)
	for _, f := range []string{`"kind":"keepalive"`, `"setid":0`, `"owner":"o"`, `"old":"unknown"`, `"new":"up"`,
		`"up":true`, `"down":false`, `"code":200`, `"reason":"200 OK"`, `"latency":0.003`, `"time":`} {
		if !strings.Contains(string(b), f) {
			t.Errorf("JSON %s lacks %s", b, f)
		}
	}
}

// TestPublish: an event is logged (INFO up, WARN down, no secret),
// numbered, offered to every sink (refusals counted) and to subscribers;
// a subscriber whose buffer is full is cut off and counted.
func TestPublish(t *testing.T) {
	var logs bytes.Buffer
	h := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ok, full := &sink{}, &sink{full: true}
	h.AddSink("ok", ok)
	h.AddSink("full", full)
	fast := h.Subscribe(10)
	slow := h.Subscribe(1)
	h.Publish(Event{Kind: KindDispatcher, SetID: 1, URI: "sip:x", Old: "IP", New: "AP", Up: true, Code: 200, Reason: "OK"})
	h.Publish(Event{Kind: KindKeepalive, URI: "sip:y", Owner: "z", Old: "up", New: "down", Down: true, Code: 408})
	if len(ok.got) != 2 || ok.got[0].Seq != 1 || ok.got[1].Seq != 2 {
		t.Errorf("sink got %+v", ok.got)
	}
	dr := h.Dropped()
	if dr["sink:full"] != 2 || dr["sink:ok"] != 0 || dr["subscribers"] != 1 {
		t.Errorf("dropped %v", dr)
	}
	if !slow.Cut() || fast.Cut() {
		t.Errorf("cut: slow %v fast %v", slow.Cut(), fast.Cut())
	}
	if _, open := <-slow.C; !open {
		t.Error("the slow subscriber lost the event it had room for")
	}
	if _, open := <-slow.C; open {
		t.Error("the slow subscriber was not closed")
	}
	if a, b := <-fast.C, <-fast.C; a.Seq != 1 || b.Seq != 2 {
		t.Errorf("fast got %d %d", a.Seq, b.Seq)
	}
	if h.Subscribers() != 1 || h.Published() != 2 {
		t.Errorf("subscribers %d published %d", h.Subscribers(), h.Published())
	}
	fast.Close()
	fast.Close()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[1], "level=WARN") ||
		!strings.Contains(lines[0], "setid=1") || !strings.Contains(lines[1], "owner=z") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestRun: Run subscribes to both engines, and when it ends every
// subscription is closed, later ones are born closed.
func TestRun(t *testing.T) {
	st := dispatcher.NewStore(nil)
	p := dispatcher.NewProber(st, nil, dispatcher.ProbingConfig{})
	ka, err := keepalive.New(keepalive.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Options{Prober: p, Keepalive: ka, Store: st})
	sub := h.Subscribe(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := h.Dropped()[KindKeepalive]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := h.Dropped()[KindDispatcher]; !ok {
		t.Error("no dispatcher counter")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run: %v", err)
	}
	if _, open := <-sub.C; open {
		t.Error("subscription still open")
	}
	if _, open := <-h.Subscribe(1).C; open {
		t.Error("a subscription after Run is open")
	}
}

func TestWithHistory(t *testing.T) {
	hs := history.New(3)
	k := history.Key{Kind: KindDispatcher, SetID: 1, URI: "sip:10.0.0.1"}
	for i := 0; i < 5; i++ {
		hs.Add(k, history.Record{Code: 400 + i, Class: "reply", RTT: 20 * time.Millisecond, Before: "AP", After: "TP"})
	}
	ev := withHistory(Event{Kind: KindDispatcher, SetID: 1, URI: "sip:10.0.0.1"}, hs)
	if len(ev.History) != 3 || ev.History[0].Code != 402 || ev.History[2].Code != 404 || ev.History[0].RTT != 0.02 {
		t.Errorf("history %+v", ev.History)
	}
	if ev := withHistory(Event{Kind: KindKeepalive, URI: "sip:x"}, hs); ev.History != nil {
		t.Errorf("unknown destination got history %+v", ev.History)
	}
	if ev := withHistory(Event{}, nil); ev.History != nil {
		t.Error("nil store")
	}
}
