package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// nopPinger never probes (the keepalive module is not run).
type nopPinger struct{}

func (nopPinger) Probe(context.Context, *probe.Target) probe.Result { return probe.Result{} }

// scrapeRig builds a Metrics over n dispatcher destinations (seeded
// latency, one result each) and k keepalive destinations.
func scrapeRig(b testing.TB, n, k int) *Metrics {
	entries := make([]dispatcher.Entry, n)
	for i := range entries {
		entries[i] = dispatcher.Entry{SetID: i / 100, URI: fmt.Sprintf("sip:10.%d.%d.%d:5060", i>>16&255, i>>8&255, i&255),
			Flags: dispatcher.FlagProbing | dispatcher.FlagNoDNS, Attrs: fmt.Sprintf("duid=d%d;latency=%d", i, 10+i%90), HasAttrs: true}
	}
	sets, _, err := dispatcher.Build(entries, dispatcher.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	ka, err := keepalive.New(keepalive.DefaultConfig(), nopPinger{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range k {
		if err := ka.AddDestination(fmt.Sprintf("sip:192.0.2.%d:5060", i%250+1), fmt.Sprint("o", i)); err != nil {
			b.Fatal(err)
		}
	}
	m := New(Options{Dispatcher: dispatcher.NewStore(sets), Keepalive: ka, NoRuntime: true})
	now := time.Now()
	for _, e := range entries {
		m.RecordDispatcher(dispatcher.Result{Time: now, SetID: e.SetID, URI: e.URI, Class: probe.ClassReply, OK: true,
			Code: 200, Reason: "OK", RTT: 15 * time.Millisecond, Old: dispatcher.FlagProbing, New: dispatcher.FlagProbing})
	}
	for _, d := range ka.List() {
		m.RecordKeepalive(keepalive.Result{Time: now, URI: d.URI, Owner: d.Owner,
			Probe: probe.Result{Class: probe.ClassReply, Code: 200, Reason: "OK", RTT: 12 * time.Millisecond},
			Old:   keepalive.StateUnknown, New: keepalive.StateUp})
	}
	return m
}

// BenchmarkScrape10k is one full scrape through the HTTP handler of
// 10,000 dispatcher destinations and 500 keepalive destinations.
func BenchmarkScrape10k(b *testing.B) {
	m := scrapeRig(b, 10000, 500)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		size, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.Status, err)
		}
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}

// TestScrape10kUnderASecond keeps the benchmark's promise in the tests.
func TestScrape10kUnderASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	n := 10000
	if raceEnabled {
		n = 2000
	}
	m := scrapeRig(t, n, 500)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	body, fams := scrape(t, srv.URL)
	if got := len(fams["kamsidecar_dispatcher_destination_up"].GetMetric()); got != n {
		t.Fatalf("%d dispatcher destinations scraped", got)
	}
	t.Logf("scrape of %d + 500 destinations: %v, %d bytes", n, d, len(body))
	if !raceEnabled && d > time.Second { // the race detector slows the writer tenfold
		t.Errorf("scrape took %v", d)
	}
	promtoolCheck(t, body)
}

// TestCollectorMatchesHandler checks that the Collector and the fast text
// writer of Handler give the same per-destination series.
func TestCollectorMatchesHandler(t *testing.T) {
	m := scrapeRig(t, 300, 20)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	_, fams := scrape(t, srv.URL)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collector())
	got, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 10 {
		t.Fatalf("collector gave %d families", len(got))
	}
	for _, f := range got {
		hf := fams[f.GetName()]
		if hf == nil || len(hf.GetMetric()) != len(f.GetMetric()) || hf.GetHelp() != f.GetHelp() || hf.GetType() != f.GetType() {
			t.Errorf("family %s differs between the collector and the handler", f.GetName())
			continue
		}
		for _, mm := range f.GetMetric() {
			want := map[string]string{}
			for _, lp := range mm.GetLabel() {
				want[lp.GetName()] = lp.GetValue()
			}
			v, ok := value(fams, f.GetName(), want)
			cv := mm.GetGauge().GetValue() + mm.GetCounter().GetValue()
			if !ok || v != cv {
				t.Errorf("%s%v: handler %v (%v), collector %v", f.GetName(), want, v, ok, cv)
			}
		}
	}
}
