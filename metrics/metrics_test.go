package metrics

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/internal/siptest"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/rpc"
)

var quietLog = siptest.Quiet

// uas is the shared test responder (internal/siptest).
type uas = siptest.Responder

func newUAS(t testing.TB, code int, delay time.Duration) *uas {
	return siptest.NewResponder(t, code, siptest.WithDelay(delay), siptest.WithReason("Test"))
}

func newPinger(t testing.TB) *probe.Prober { return siptest.NewPinger(t, 2*time.Second) }

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

// scrape fetches /metrics from srv and parses it with the client's
// parser.
func scrape(t *testing.T, url string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s\n%s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	return body, fams
}

// value returns the value of the series of family name whose labels
// include want, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// promtoolCheck pipes a scrape through promtool check metrics.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	pt := testutil.LookPath(t, "promtool")
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestScrapeRealProbing probes real sipgo responders with a dispatcher
// Prober and a keepalive Module, then checks the scraped series, the
// history and its RPC methods.
func TestScrapeRealProbing(t *testing.T) {
	good := newUAS(t, 200, 20*time.Millisecond)
	bad := newUAS(t, 503, 0)
	sets, _, err := dispatcher.Build([]dispatcher.Entry{
		{SetID: 1, URI: good.URI(), Flags: dispatcher.FlagProbing, Attrs: "duid=good", HasAttrs: true},
		{SetID: 1, URI: bad.URI(), Flags: dispatcher.FlagProbing},
		// A password in the URI must not reach a label.
		{SetID: 2, URI: "sip:alice:s3cret@127.0.0.1:" + strconv.Itoa(good.Port), Flags: dispatcher.FlagProbing},
	}, dispatcher.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	store := dispatcher.NewStore(sets)
	pr := dispatcher.NewProber(store, newPinger(t), dispatcher.ProbingConfig{
		Probing:  dispatcher.Probing{Mode: 1, ProbingThreshold: 1, InactiveThreshold: 1},
		Interval: 100 * time.Millisecond, Timeout: time.Second, LatencyStats: true})

	kcfg := keepalive.DefaultConfig()
	kcfg.PingInterval = 100 * time.Millisecond
	kcfg.Timeout = time.Second
	ka, err := keepalive.New(kcfg, newPinger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := ka.AddDestination(good.URI(), "test"); err != nil {
		t.Fatal(err)
	}
	if err := ka.AddDestination(bad.URI(), "test"); err != nil {
		t.Fatal(err)
	}

	hist := history.New(5)
	m := New(Options{Dispatcher: store, Prober: pr, Keepalive: ka, History: hist, Version: "v0.0.0-test"})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = m.Run(ctx) }()
	for m.opts.Keepalive != nil && m.kaSub.Load() == nil {
		time.Sleep(time.Millisecond) // subscribed before probing starts
	}
	wg.Add(2)
	go func() { defer wg.Done(); _ = pr.Run(ctx) }()
	go func() { defer wg.Done(); _ = ka.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	goodL := map[string]string{"setid": "1", "uri": good.URI(), "duid": "good"}
	badL := map[string]string{"setid": "1", "uri": bad.URI(), "duid": ""}
	var fams map[string]*dto.MetricFamily
	var body []byte
	waitFor(t, "three probes of each destination", func() bool {
		body, fams = scrape(t, srv.URL)
		n1, _ := value(fams, "kamsidecar_dispatcher_destination_probes_total", with2(goodL, "result", "ok"))
		n2, _ := value(fams, "kamsidecar_dispatcher_destination_probes_total", with2(badL, "result", "5xx"))
		n3, _ := value(fams, "kamsidecar_keepalive_destination_probes_total", map[string]string{"uri": bad.URI(), "owner": "test", "result": "5xx"})
		n4, _ := value(fams, "kamsidecar_keepalive_destination_probes_total", map[string]string{"uri": good.URI(), "owner": "test", "result": "ok"})
		return n1 >= 3 && n2 >= 3 && n3 >= 3 && n4 >= 3
	})

	check := func(name string, labels map[string]string, want float64) {
		t.Helper()
		v, ok := value(fams, name, labels)
		if !ok || v != want {
			t.Errorf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
		}
	}
	check("kamsidecar_dispatcher_destination_up", goodL, 1)
	check("kamsidecar_dispatcher_destination_up", badL, 0)
	check("kamsidecar_dispatcher_destination_state_flags", goodL, dispatcher.FlagProbing)
	check("kamsidecar_dispatcher_destination_state_flags", badL, dispatcher.FlagProbing|dispatcher.FlagInactive)
	check("kamsidecar_keepalive_destination_state", map[string]string{"uri": good.URI(), "owner": "test"}, 1)
	check("kamsidecar_keepalive_destination_state", map[string]string{"uri": bad.URI(), "owner": "test"}, 2)
	check("kamsidecar_dispatcher_destinations", nil, 3)
	check("kamsidecar_keepalive_destinations", nil, 2)
	check("kamsidecar_build_info", map[string]string{"version": "v0.0.0-test"}, 1)
	if _, ok := value(fams, "kamsidecar_dispatcher_destination_probes_total", with2(goodL, "result", "5xx")); ok {
		t.Error("a class never seen has a series")
	}

	// Latency: the responder waits 20 ms; the figures are in seconds.
	for _, n := range []string{"average", "estimate", "max"} {
		v, ok := value(fams, "kamsidecar_dispatcher_destination_latency_"+n+"_seconds", goodL)
		if !ok || v < 0.015 || v > 1 {
			t.Errorf("latency %s of the good destination = %v (present %v), want about 0.02", n, v, ok)
		}
		v, ok = value(fams, "kamsidecar_keepalive_destination_latency_"+n+"_seconds", map[string]string{"uri": good.URI(), "owner": "test"})
		if !ok || v < 0.015 || v > 1 {
			t.Errorf("keepalive latency %s = %v (present %v), want about 0.02", n, v, ok)
		}
	}
	if v, ok := value(fams, "kamsidecar_dispatcher_destination_last_rtt_seconds", goodL); !ok || v < 0.015 || v > 1 {
		t.Errorf("last rtt = %v (present %v)", v, ok)
	}
	if v, ok := value(fams, "kamsidecar_dispatcher_destination_last_change_timestamp_seconds", badL); !ok ||
		v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last change of the bad destination = %v (present %v)", v, ok)
	}
	if v, ok := value(fams, "kamsidecar_probe_duration_seconds", map[string]string{"module": "dispatcher"}); !ok || v < 6 {
		t.Errorf("probe duration histogram count = %v", v)
	}
	if bytes.Contains(body, []byte("s3cret")) {
		t.Error("a password reached the metrics")
	}
	if _, ok := value(fams, "kamsidecar_dispatcher_destination_up", map[string]string{"setid": "2", "uri": "sip:alice@127.0.0.1:" + strconv.Itoa(good.Port)}); !ok {
		t.Error("the destination with a password has no redacted series")
	}

	// Reloads and RPC requests.
	m.ObserveReload("ok")
	m.ObserveReload("Bad Outcome!")
	reg := rpc.NewRegistry()
	reg.SetObserver(m.ObserveRPC)
	if err := history.Register(reg, hist, history.Exists{}); err != nil {
		t.Fatal(err)
	}
	call := func(method string, args ...any) *rpc.Call {
		c := rpc.NewCall(context.Background(), reg.Lookup(method), "jsonrpc", rpc.NewArgs(args...))
		reg.Run(c)
		return c
	}
	c := call(history.MethodDispatcherHistory, 1, bad.URI())
	if _, ok := c.LastFault(); ok || len(c.Values()) < 3 {
		t.Fatalf("dispatcher history: %d values", len(c.Values()))
	}
	rec := c.Values()[len(c.Values())-1]
	if got := fields(rec); got["code"] != "503" || got["class"] != "reply" || got["after"] != "IP" {
		t.Errorf("last dispatcher record = %v", got)
	}
	c = call(history.MethodKeepaliveHistory, good.URI(), "test")
	if got := fields(c.Values()[0]); got["code"] != "200" || got["before"] != "unknown" || got["after"] != "up" {
		t.Errorf("first keepalive record = %v", got)
	}
	c = call(history.MethodDispatcherHistory, 9, "sip:nowhere")
	if f, ok := c.LastFault(); !ok || f.Code != 404 {
		t.Errorf("unknown destination: fault %v %v", f, ok)
	}

	body, fams = scrape(t, srv.URL)
	check("kamsidecar_reloads_total", map[string]string{"outcome": "ok"}, 1)
	check("kamsidecar_reloads_total", map[string]string{"outcome": "other"}, 1)
	check("kamsidecar_rpc_requests_total", map[string]string{"transport": "jsonrpc", "method": history.MethodDispatcherHistory, "fault": "none"}, 1)
	check("kamsidecar_rpc_requests_total", map[string]string{"transport": "jsonrpc", "method": history.MethodDispatcherHistory, "fault": "404"}, 1)
	promtoolCheck(t, body)

	// A destination removed from the snapshot loses its series, counters
	// and history.
	next, _, err := dispatcher.Build([]dispatcher.Entry{{SetID: 1, URI: good.URI(), Flags: dispatcher.FlagProbing}}, dispatcher.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	store.Swap(next)
	pr.Resync()
	time.Sleep(50 * time.Millisecond)
	m.Sweep()
	_, fams = scrape(t, srv.URL)
	if _, ok := value(fams, "kamsidecar_dispatcher_destination_up", badL); ok {
		t.Error("a removed destination still has series")
	}
	if hist.Get(history.DispatcherKey(1, bad.URI())) != nil {
		t.Error("a removed destination still has history")
	}
}

func with2(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// fields renders a struct value's members as strings.
func fields(v rpc.Value) map[string]string {
	out := map[string]string{}
	if v.C == nil {
		return out
	}
	for _, mem := range v.C.Members {
		switch mem.Value.Kind {
		case rpc.KindString:
			out[mem.Name] = mem.Value.S
		case rpc.KindInt, rpc.KindLong:
			out[mem.Name] = strconv.FormatInt(mem.Value.I, 10)
		case rpc.KindDouble:
			out[mem.Name] = strconv.FormatFloat(mem.Value.F, 'f', -1, 64)
		}
	}
	return out
}

func TestRedactURI(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice:pw@h:5060;transport=tcp": "sip:alice@h:5060;transport=tcp",
		"sip:alice@h":                       "sip:alice@h",
		"sip:h:5060":                        "sip:h:5060",
		"sips:a:b:c@h":                      "sips:a@h",
	} {
		if got := RedactURI(in); got != want {
			t.Errorf("RedactURI(%q) = %q, want %q", in, got, want)
		}
	}
}
