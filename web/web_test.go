package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/events"
	"github.com/kamsidecar/kamsidecar/history"
)

// TestSSE: a client of /events receives the Hub's event as "event: state"
// with the JSON of events.Event, and heartbeats in between; a client that
// leaves is unsubscribed.
func TestSSE(t *testing.T) {
	hub := events.New(events.Options{Logger: quietLog})
	srv := httptest.NewServer(New(Options{Hub: hub, Heartbeat: 50 * time.Millisecond, Logger: quietLog}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	waitFor(t, "the client's subscription", func() bool { return hub.Subscribers() == 1 })
	hub.Publish(events.Event{Kind: events.KindDispatcher, SetID: 3, URI: "sip:127.0.0.1:5099", Old: "AP", New: "IP",
		Down: true, Code: 408, Reason: "Request Timeout", Time: time.Now()})
	br := bufio.NewReader(resp.Body)
	var lines []string
	heartbeat := false
	for len(lines) < 3 || !heartbeat {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", lines, err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == ": heartbeat":
			heartbeat = true
		case strings.HasPrefix(line, "event:"), strings.HasPrefix(line, "id:"), strings.HasPrefix(line, "data:"):
			lines = append(lines, line)
		}
	}
	if lines[0] != "event: state" || lines[1] != "id: 1" {
		t.Errorf("lines %q", lines)
	}
	var ev events.Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[2], "data: ")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SetID != 3 || ev.New != "IP" || !ev.Down || ev.Code != 408 {
		t.Errorf("event %+v", ev)
	}
	cancel()
	waitFor(t, "the subscription to end", func() bool { return hub.Subscribers() == 0 })
}

// TestSSESlowClient: a client that stops reading is cut off once its
// buffer is full; publishing never waits for it.
func TestSSESlowClient(t *testing.T) {
	hub := events.New(events.Options{Logger: quietLog})
	srv := httptest.NewServer(New(Options{Hub: hub, ClientBuffer: 4, Logger: quietLog}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read
	waitFor(t, "the client's subscription", func() bool { return hub.Subscribers() == 1 })
	big := strings.Repeat("x", 4096)
	start := time.Now()
	for i := 0; i < 5000 && hub.Subscribers() > 0; i++ {
		hub.Publish(events.Event{Kind: events.KindDispatcher, URI: "sip:127.0.0.1", Reason: big})
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("publishing took %v", took)
	}
	waitFor(t, "the slow client to be cut", func() bool { return hub.Subscribers() == 0 })
	if hub.Dropped()["subscribers"] != 1 {
		t.Errorf("dropped %v", hub.Dropped())
	}
}

// TestState: /api/state has the sets, destinations, flags, latency in
// seconds, attrs, duid and history; keepalive as a list.
func TestState(t *testing.T) {
	sets, _, err := dispatcher.Build([]dispatcher.Entry{
		{SetID: 1, URI: "sip:127.0.0.1:5070", Flags: dispatcher.FlagProbing, Priority: 7, Attrs: "duid=a;weight=5", HasAttrs: true},
		{SetID: 2, URI: "sip:127.0.0.1:5071", Flags: dispatcher.FlagInactive},
	}, dispatcher.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	st := dispatcher.NewStore(sets)
	s1, _ := sets.Set(1)
	s1.At(0).State().UpdateLatency(func(l dispatcher.Latency) dispatcher.Latency { return l.Add(20, 0.9) })
	h := history.New(5)
	h.Add(history.Key{Kind: "dispatcher", SetID: 1, URI: "sip:127.0.0.1:5070"},
		history.Record{Time: time.Now(), Code: 200, Reason: "OK", Class: "reply", RTT: 20 * time.Millisecond, Before: "AP", After: "AP"})
	srv := httptest.NewServer(New(Options{Store: st, History: h, LatencyStats: true}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "latency_stats", "history_size", "sets", "keepalive"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, body)
		}
	}
	var got State
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Sets) != 2 || len(got.Keepalive) != 0 || got.HistorySize != 5 {
		t.Fatalf("state %s", body)
	}
	var d1, d2 DispDest
	for _, s := range got.Sets {
		if s.ID == 1 {
			d1 = s.Destinations[0]
		} else {
			d2 = s.Destinations[0]
		}
	}
	if d1.State != "AP" || d1.Status != "active" || !d1.Usable || d1.Priority != 7 || d1.DUID != "a" ||
		d1.Attrs != "duid=a;weight=5" || d1.Code != 200 || d1.Reason != "OK" || len(d1.History) != 1 ||
		d1.History[0].RTT != 0.02 || d1.Latency == nil || d1.Latency.Count != 1 || d1.Latency.Avg != 0.02 ||
		d1.Latency.Max != 0.02 {
		t.Errorf("set 1: %+v latency %+v", d1, d1.Latency)
	}
	if d2.Status != "inactive" || d2.Usable || d2.State[0] != 'I' || d2.History == nil {
		t.Errorf("set 2: %+v", d2)
	}
}

// TestPage: the page and its assets are embedded and reference nothing
// outside the server; unknown paths are 404; other clients than
// loopback get 403 unless Open.
func TestPage(t *testing.T) {
	h := New(Options{})
	for path, want := range map[string]string{"/": "<table", "/app.js": "EventSource", "/style.css": "svg.spark"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != 200 || (path == "/" && !strings.Contains(body, "app.js")) || (path != "/" && !strings.Contains(body, want)) {
			t.Errorf("%s: %d %.200s", path, rec.Code, body)
		}
		for _, ext := range []string{"http://", "https://", "//cdn", "fonts.g"} {
			if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), ext) {
				t.Errorf("%s refers to %q", path, ext)
			}
		}
	}
	for _, c := range []struct {
		path, remote string
		open         bool
		code         int
	}{
		{"/nope", "127.0.0.1:1", false, 404},
		{"/", "[::1]:1", false, 200},
		{"/", "192.0.2.7:1", false, 403},
		{"/api/state", "192.0.2.7:1", false, 403},
		{"/events", "192.0.2.7:1", false, 403},
		{"/", "192.0.2.7:1", true, 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		req.RemoteAddr = c.remote
		New(Options{Open: c.open}).ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s from %s (open %v): %d, want %d", c.path, c.remote, c.open, rec.Code, c.code)
		}
	}
}
