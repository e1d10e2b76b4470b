// Package metrics exposes kamsidecar's Prometheus metrics (issue 7):
// per-destination series of the dispatcher and keepalive destinations,
// computed at scrape time from the dispatcher Store snapshot and the
// keepalive list, and global series (probe durations, probes in flight,
// reloads, RPC requests, build info). README.md beside this file lists
// every series and how many each destination costs.
//
// Metrics also consumes the probe results feeds of both engines (Run) and
// writes every result into a history.Store when given one.
package metrics

import (
	"context"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// Namespace prefixes every metric name.
const Namespace = "kamsidecar"

// Defaults of Options.
const (
	DefaultBuffer     = 4096
	DefaultSweepEvery = 30 * time.Second
)

// ProbeBuckets are the buckets of kamsidecar_probe_duration_seconds, from
// 1 ms to tm's default fr_timer (30 s).
var ProbeBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Options say what Metrics watches. Every field is optional.
type Options struct {
	// Dispatcher is the store whose snapshot gives the dispatcher
	// destinations and their state and latency.
	Dispatcher *dispatcher.Store
	// Prober is the dispatcher prober whose results Run consumes.
	Prober *dispatcher.Prober
	// Keepalive is the keepalive module whose list and results are used.
	Keepalive *keepalive.Module
	// History, when set, receives every probe result Run consumes, and
	// forgets destinations that are gone.
	History *history.Store
	// Version is the kamsidecar version of kamsidecar_build_info
	// (rpc.BuildVersion() when empty).
	Version string
	// Buffer is the size of each results subscription (DefaultBuffer when
	// 0); results that do not fit are dropped and counted.
	Buffer int
	// SweepEvery is how often Run forgets the counters and history of
	// destinations that are gone (DefaultSweepEvery when 0).
	SweepEvery time.Duration
	// NoRuntime leaves out the go_* and process_* collectors.
	NoRuntime bool
}

// Metrics is kamsidecar's metrics registry. Create it with New, serve
// Handler and run Run.
type Metrics struct {
	opts Options
	reg  *prometheus.Registry

	probeDur *prometheus.HistogramVec
	reloads  *prometheus.CounterVec
	rpcReqs  *prometheus.CounterVec
	rpcDur   *prometheus.HistogramVec
	// rpcObs caches, per rpcKey, the series ObserveRPC updates: a call
	// then costs one map lookup instead of two label lookups (hashing,
	// validating and locking in the vectors). Bounded as the labels are.
	rpcObs sync.Map // rpcKey -> *rpcSeries
	// lastRPC is the series of the last call, looked at first.
	lastRPC atomic.Pointer[rpcSeries]

	kaSub atomic.Pointer[keepalive.ResultSubscription]

	mu    sync.Mutex
	dests map[destKey]*destStats
}

// destKey names a destination: a dispatcher one by set and URI, a
// keepalive one by URI and owner.
type destKey struct {
	ka    bool
	setid int
	uri   string
	owner string
}

// Result label values of the probes_total counters.
const (
	resOK = iota
	res3xx
	res4xx
	res5xx
	res6xx
	resOtherReply
	resTimeout
	resTransport
	resDNS
	resUnsent
	nResults
)

var resultNames = [nResults]string{"ok", "3xx", "4xx", "5xx", "6xx", "other", "timeout", "transport", "dns", "unsent"}

// destStats is what the results feed tells about one destination beyond
// what the engines keep.
type destStats struct {
	counts     [nResults]uint64
	lastRTT    time.Duration
	hasRTT     bool
	lastChange time.Time
	// lat is the smoothed latency of a keepalive destination, computed
	// with dispatcher's estimator (alpha 0.9); dispatcher keeps its own.
	lat     dispatcher.Latency
	updated time.Time
}

// New builds the registry: the per-destination collector, the global
// series and (unless NoRuntime) the Go and process collectors.
func New(opts Options) *Metrics {
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = DefaultSweepEvery
	}
	if opts.Version == "" {
		opts.Version = buildVersion()
	}
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry(), dests: map[destKey]*destStats{}}
	m.probeDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "probe_duration_seconds",
		Help: "Round-trip time of the probes sent, from the start of the probe to its final reply, timeout or transport error.", Buckets: ProbeBuckets},
		[]string{"module"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "reloads_total",
		Help: "Reloads of the dispatcher destinations, by outcome."}, []string{"outcome"})
	m.rpcReqs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "rpc_requests_total",
		Help: "RPC requests run, by transport, method and fault code (\"none\" without a fault)."}, []string{"transport", "method", "fault"})
	m.rpcDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "rpc_request_duration_seconds",
		Help: "Time spent running RPC requests, by transport.", Buckets: prometheus.DefBuckets}, []string{"transport"})
	for _, mod := range []string{"dispatcher", "keepalive"} {
		m.probeDur.WithLabelValues(mod)
	}
	for _, o := range []string{"ok", "error"} {
		m.reloads.WithLabelValues(o)
	}
	m.reg.MustRegister(m.probeDur, m.reloads, m.rpcReqs, m.rpcDur, &globalCollector{m: m})
	if !opts.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry of the global series, for extra
// collectors; the per-destination series are not in it (see Collector).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Collector returns the per-destination series as a prometheus.Collector,
// for a registry of one's own. Handler writes the same series directly.
func (m *Metrics) Collector() prometheus.Collector { return &collector{m: m} }

var outcomeRE = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

// ObserveReload counts one reload of the dispatcher destinations with its
// outcome: "ok", "error" (the old snapshot is kept) or another short
// lowercase word; anything else counts as "other", so the label stays
// bounded.
func (m *Metrics) ObserveReload(outcome string) {
	if !outcomeRE.MatchString(outcome) {
		outcome = "other"
	}
	m.reloads.WithLabelValues(outcome).Inc()
}

// ObserveRPC counts one RPC request; it is an rpc.Observer:
// registry.SetObserver(m.ObserveRPC). Method names are those of the
// registry, so the label is bounded.
func (m *Metrics) ObserveRPC(transport, method string, d time.Duration, fault int) {
	k := rpcKey{transport: transport, method: method, fault: fault}
	// A client repeating one call (kamcmd in a loop, a poller) finds its
	// series here without hashing the key: the strings are usually the
	// very ones of the last call, which compare by pointer.
	if s := m.lastRPC.Load(); s != nil && s.key == k {
		s.reqs.Inc()
		s.dur.Observe(d.Seconds())
		return
	}
	v, ok := m.rpcObs.Load(k)
	if !ok {
		f := "none"
		if fault != 0 {
			f = strconv.Itoa(fault)
		}
		if transport == "" {
			transport = "internal"
		}
		v, _ = m.rpcObs.LoadOrStore(k, &rpcSeries{
			key:  k,
			reqs: m.rpcReqs.WithLabelValues(transport, method, f),
			dur:  m.rpcDur.WithLabelValues(transport),
		})
	}
	s := v.(*rpcSeries)
	m.lastRPC.Store(s)
	s.reqs.Inc()
	s.dur.Observe(d.Seconds())
}

// rpcKey is what ObserveRPC is told about a call besides its duration.
type rpcKey struct {
	transport, method string
	fault             int
}

// rpcSeries are the series of one rpcKey.
type rpcSeries struct {
	key  rpcKey
	reqs prometheus.Counter
	dur  prometheus.Observer
}

// Run consumes the results feeds of the dispatcher Prober and the
// keepalive Module until ctx ends, counting every result and writing it
// to the history, and periodically forgets destinations that are gone.
// It returns ctx's error.
func (m *Metrics) Run(ctx context.Context) error {
	var dsCh <-chan dispatcher.Result
	if m.opts.Prober != nil {
		ch, stop := m.opts.Prober.SubscribeResults(m.opts.Buffer)
		defer stop()
		dsCh = ch
	}
	var kaCh <-chan keepalive.Result
	if m.opts.Keepalive != nil {
		sub := m.opts.Keepalive.SubscribeResults(m.opts.Buffer)
		m.kaSub.Store(sub)
		defer sub.Close()
		kaCh = sub.C
	}
	tick := time.NewTicker(m.opts.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r, ok := <-dsCh:
			if !ok {
				dsCh = nil
				continue
			}
			m.RecordDispatcher(r)
		case r := <-kaCh:
			m.RecordKeepalive(r)
		case <-tick.C:
			m.Sweep()
		}
	}
}

// resultIndex maps a result to its probes_total label.
func resultIndex(ok bool, class probe.Class, code int) int {
	if ok {
		return resOK
	}
	switch class {
	case probe.ClassReply:
		switch {
		case code >= 300 && code <= 399:
			return res3xx
		case code >= 400 && code <= 499:
			return res4xx
		case code >= 500 && code <= 599:
			return res5xx
		case code >= 600 && code <= 699:
			return res6xx
		}
		return resOtherReply
	case probe.ClassTimeout:
		return resTimeout
	case probe.ClassTransport:
		return resTransport
	case probe.ClassDNS:
		return resDNS
	default:
		return resUnsent
	}
}

func sent(c probe.Class) bool {
	return c == probe.ClassReply || c == probe.ClassTimeout || c == probe.ClassTransport
}

// stats returns k's entry, creating it; m.mu is held.
func (m *Metrics) stats(k destKey) *destStats {
	s := m.dests[k]
	if s == nil {
		s = &destStats{}
		m.dests[k] = s
	}
	return s
}

// RecordDispatcher counts one dispatcher probe result (Run calls it for
// every result of the feed) and adds it to the history.
func (m *Metrics) RecordDispatcher(r dispatcher.Result) {
	if sent(r.Class) {
		m.probeDur.WithLabelValues("dispatcher").Observe(r.RTT.Seconds())
	}
	m.mu.Lock()
	s := m.stats(destKey{setid: r.SetID, uri: r.URI})
	s.counts[resultIndex(r.OK, r.Class, r.Code)]++
	if sent(r.Class) {
		s.lastRTT, s.hasRTT = r.RTT, true
	}
	if r.Old != r.New {
		s.lastChange = r.Time
	}
	s.updated = time.Now()
	m.mu.Unlock()
	if m.opts.History != nil {
		m.opts.History.AddDispatcher(r)
	}
}

// RecordKeepalive counts one keepalive probe result (Run calls it for
// every result of the feed) and adds it to the history.
func (m *Metrics) RecordKeepalive(r keepalive.Result) {
	p := r.Probe
	if sent(p.Class) {
		m.probeDur.WithLabelValues("keepalive").Observe(p.RTT.Seconds())
	}
	m.mu.Lock()
	s := m.stats(destKey{ka: true, uri: r.URI, owner: r.Owner})
	s.counts[resultIndex(p.Success(), p.Class, p.Code)]++
	switch p.Class {
	case probe.ClassReply:
		s.lat = s.lat.Add(int(p.RTT/time.Millisecond), 0.9)
	case probe.ClassTimeout, probe.ClassTransport:
		s.lat = s.lat.TimedOut()
	}
	if sent(p.Class) {
		s.lastRTT, s.hasRTT = p.RTT, true
	}
	if r.Old != r.New {
		s.lastChange = r.Time
	}
	s.updated = time.Now()
	m.mu.Unlock()
	if m.opts.History != nil {
		m.opts.History.AddKeepalive(r)
	}
}

// Sweep forgets the counters and history of destinations that are no
// longer in the dispatcher snapshot or the keepalive list. Run calls it
// every SweepEvery; a scrape also prunes the counters.
func (m *Metrics) Sweep() {
	start := time.Now()
	live := m.liveKeys()
	m.prune(live, start)
	if m.opts.History != nil {
		m.opts.History.Retain(func(k history.Key) bool {
			if k.Kind == history.KindKeepalive {
				_, ok := live[destKey{ka: true, uri: k.URI, owner: k.Owner}]
				return ok
			}
			_, ok := live[destKey{setid: k.SetID, uri: k.URI}]
			return ok
		})
	}
}

func (m *Metrics) liveKeys() map[destKey]struct{} {
	live := map[destKey]struct{}{}
	if m.opts.Dispatcher != nil {
		for set := range m.opts.Dispatcher.Sets().All() {
			for _, d := range set.All() {
				live[destKey{setid: d.SetID, uri: d.URI}] = struct{}{}
			}
		}
	}
	if m.opts.Keepalive != nil {
		for _, d := range m.opts.Keepalive.List() {
			live[destKey{ka: true, uri: d.URI, owner: d.Owner}] = struct{}{}
		}
	}
	return live
}

// prune drops the entries not in live that were not updated since start
// (a result may arrive for a destination newer than the snapshot read).
func (m *Metrics) prune(live map[destKey]struct{}, start time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.dests {
		if _, ok := live[k]; !ok && s.updated.Before(start) {
			delete(m.dests, k)
		}
	}
}

// RedactURI removes a password from a URI's user part
// ("sip:user:secret@host" becomes "sip:user@host"), so that no secret
// reaches a metric label.
func RedactURI(uri string) string {
	at := strings.IndexByte(uri, '@')
	if at < 0 {
		return uri
	}
	scheme := strings.IndexByte(uri, ':')
	if scheme < 0 || scheme > at {
		return uri
	}
	user := uri[scheme+1 : at]
	if i := strings.IndexByte(user, ':'); i >= 0 {
		return uri[:scheme+1] + user[:i] + uri[at:]
	}
	return uri
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func buildRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

var goVersion = runtime.Version()
