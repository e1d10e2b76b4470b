package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/webhook"
)

// TestSlowWebhook: a webhook receiver that never answers, while a
// flapping destination produces an event at every probe, leaves probing
// of the other destination on schedule; the webhook queue stays at its
// bound and the overflow is counted.
func TestSlowWebhook(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	rcv.Listener.Close()
	rcv.Listener = ln
	rcv.Start()
	defer rcv.Close()
	defer close(release)

	flap, steady := newResponder(t, nil), newResponder(t, nil)
	d := start(t, []dispatcher.Entry{{SetID: 1, URI: flap.URI(), Flags: dispatcher.FlagProbing},
		{SetID: 2, URI: steady.URI(), Flags: dispatcher.FlagProbing}})
	wh, err := webhook.New(webhook.Options{URLs: []string{rcv.URL}, QueueSize: 2, Workers: 1, Timeout: time.Minute,
		Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = wh.Run(ctx) }()
	defer func() { cancel(); <-done }()
	d.hub.AddSink("webhook", wh)

	counted := func() int64 { return steady.Hits() }
	before, published := counted(), d.hub.Published()
	const span = 3 * time.Second
	end := time.Now().Add(span)
	for time.Now().Before(end) {
		if flap.Code() == 200 {
			flap.SetCode(404)
		} else {
			flap.SetCode(200)
		}
		time.Sleep(150 * time.Millisecond)
	}
	probes := counted() - before
	events := d.hub.Published() - published
	t.Logf("%d probes of the steady destination in %v, %d events, webhook hits %d queued %d dropped %d (hub %v)",
		probes, span, events, hits.Load(), wh.Queued(), wh.Dropped(), d.hub.Dropped())
	// 150 ms interval: 20 rounds in 3 s; allow for scheduling slack.
	if probes < 12 {
		t.Errorf("only %d probes of the steady destination in %v", probes, span)
	}
	if events < 6 {
		t.Errorf("only %d events", events)
	}
	if hits.Load() != 1 || wh.Queued() > 2 {
		t.Errorf("receiver hits %d, queued %d", hits.Load(), wh.Queued())
	}
	if wh.Dropped() == 0 || d.hub.Dropped()["sink:webhook"] == 0 {
		t.Errorf("nothing dropped: webhook %d, hub %v", wh.Dropped(), d.hub.Dropped())
	}
}
