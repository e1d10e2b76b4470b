package dispatcher

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/siptest"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/kamcfg"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/keepalive/schedule"
)

// quietLog drops the logs of the probers under test.
var quietLog = siptest.Quiet

// uas is the shared test responder (internal/siptest).
type uas = siptest.Responder

// newUAS starts a responder answering code after delay (code 0: silence).
func newUAS(t *testing.T, code int, delay time.Duration) *uas {
	return siptest.NewResponder(t, code, siptest.WithDelay(delay), siptest.WithReason("Whatever"))
}

// newPinger opens a probe.Prober on a free UDP port of 127.0.0.1.
func newPinger(t *testing.T) *probe.Prober { return siptest.NewPinger(t, 5*time.Second) }

// testInterval is ds_ping_interval in the network tests.
const testInterval = 100 * time.Millisecond

// runProber builds a Store of entries, starts a Prober on it and stops
// everything when the test ends.
func runProber(t *testing.T, cfg ProbingConfig, entries ...Entry) (*Prober, *Store, <-chan Event) {
	t.Helper()
	sets, _, err := Build(entries, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(sets)
	if cfg.Interval == 0 {
		cfg.Interval = testInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 300 * time.Millisecond
	}
	p := NewProber(st, newPinger(t), cfg)
	ch, unsub, err := p.Subscribe(64)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; unsub() })
	return p, st, ch
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextEvent returns the next event, waiting up to 10 s.
func nextEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return Event{}
	}
}

func flagsOf(st *Store, i int) string {
	return FlagsString(st.Sets().At(0).At(i).State().Flags())
}

// TestProberThresholds: §4.3 "consecutive failures before an active
// destination becomes inactive" and "consecutive successes before an
// inactive destination becomes active again", with events only on
// changes and dst-down/dst-up marks on usable transitions.
func TestProberThresholds(t *testing.T) {
	u := newUAS(t, 404, 0)
	cfg := ProbingConfig{Probing: Probing{Mode: 1, ProbingThreshold: 3, InactiveThreshold: 2}, Interval: 200 * time.Millisecond}
	_, st, ch := runProber(t, cfg, Entry{SetID: 1, URI: u.URI()})

	ev := nextEvent(t, ch)
	want(t, FlagsString(ev.Old)+">"+FlagsString(ev.New), "AX>TP")
	want(t, ev.Code, 404)
	want(t, ev.Received, true)
	want(t, ev.Down, false)
	ev = nextEvent(t, ch)
	want(t, FlagsString(ev.Old)+">"+FlagsString(ev.New), "TP>IP")
	want(t, ev.Down, true)
	if h := u.Hits(); h < 3 || h > 4 {
		t.Errorf("inactive after %d probes, want the 3rd", h)
	}
	want(t, ev.SetID, 1)
	want(t, ev.URI, u.URI())

	before := u.Hits()
	u.SetCode(200)
	ev = nextEvent(t, ch)
	want(t, FlagsString(ev.Old)+">"+FlagsString(ev.New), "IP>AP")
	want(t, ev.Up, true)
	if h := u.Hits() - before; h < 2 {
		t.Errorf("active after %d successes, want 2", h)
	}
	want(t, flagsOf(st, 0), "AP")
}

// TestProberModes: §4.3 "Which destinations are probed" on the wire.
func TestProberModes(t *testing.T) {
	for _, c := range []struct {
		name   string
		mode   int
		flags  int
		code   int
		after  string // FLAGS once settled
		probed bool   // still probed once settled
	}{
		{"mode 0, file flag 8, target OK: one probe, then AX; never probed again", 0, FlagProbing, 200, "AX", false},
		{"mode 0, file flag 8, target 404: one probe, then IX", 0, FlagProbing, 404, "IX", false},
		{"mode 1, file flag 1 (IX), target OK: probed anyway → AP", 1, FlagInactive, 200, "AP", true},
		{"mode 2, file flag 9 (IP), OK: AX, then never probed again", 2, FlagInactive | FlagProbing, 200, "AX", false},
		{"mode 3, flag 8: probed every round, P kept: 404 → IP", 3, FlagProbing, 404, "IP", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUAS(t, c.code, 0)
			_, st, ch := runProber(t, ProbingConfig{Probing: Probing{Mode: c.mode, ProbingThreshold: 1, InactiveThreshold: 1}},
				Entry{SetID: 1, URI: u.URI(), Flags: c.flags})
			ev := nextEvent(t, ch)
			want(t, FlagsString(ev.New), c.after)
			n := u.Hits()
			time.Sleep(5 * testInterval)
			want(t, u.Hits() > n, c.probed)
			want(t, flagsOf(st, 0), c.after)
		})
	}
	t.Run("mode 2, flag 8 alone (AP) is never probed; disabled ones never", func(t *testing.T) {
		u := newUAS(t, 200, 0)
		runProber(t, ProbingConfig{Probing: Probing{Mode: 2, ProbingThreshold: 1, InactiveThreshold: 1}},
			Entry{SetID: 1, URI: u.URI(), Flags: FlagProbing}, Entry{SetID: 1, URI: u.URI() + ";x=1", Flags: FlagDisabled | FlagInactive | FlagProbing})
		time.Sleep(5 * testInterval)
		want(t, u.Hits(), int64(0))
	})
}

// TestProberFailures: §4.3 "Failure = any other final code, including
// tm's local 408 … and a probe that could not be sent at all".
func TestProberFailures(t *testing.T) {
	closed := testutil.FreePort(t)
	for _, c := range []struct {
		name     string
		uri      func(t *testing.T) string
		code     int
		reason   string
		received bool
	}{
		{"a 503 reply is a failure", func(t *testing.T) string { return newUAS(t, 503, 0).URI() }, 503, "Whatever", true},
		{"a silent target ends with the local 408", func(t *testing.T) string { return newUAS(t, 0, 0).URI() }, 408, "Request Timeout", false},
		{"a closed port is a failure", func(*testing.T) string { return "sip:127.0.0.1:" + strconv.Itoa(closed) }, 503, "Service Unavailable", false},
		{"a probe that cannot be sent: code=500 reason=Sending keepalive failed", func(*testing.T) string {
			return "sip:127.0.0.1:" + strconv.Itoa(closed) + ";transport=tcp" // no tcp socket
		}, 500, sendFailed, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, ch := runProber(t, ProbingConfig{Probing: Probing{Mode: 1, ProbingThreshold: 1, InactiveThreshold: 1}},
				Entry{SetID: 2, URI: c.uri(t)})
			ev := nextEvent(t, ch)
			want(t, FlagsString(ev.New), "IP")
			want(t, ev.Down, true)
			want(t, ev.Code, c.code)
			want(t, ev.Reason, c.reason)
			want(t, ev.Received, c.received)
		})
	}
}

// TestProberReplyCodes: §1.4 "A reply counts as success when 200 ≤ code
// ≤ 299 or it matches the list": code=404 makes a 404 keep the destination
// up.
func TestProberReplyCodes(t *testing.T) {
	rc, _ := kamcfg.ParseReplyCodes("code=404")
	u := newUAS(t, 404, 0)
	_, st, ch := runProber(t, ProbingConfig{Probing: Probing{Mode: 1, ProbingThreshold: 1, InactiveThreshold: 1, ReplyCodes: rc}},
		Entry{SetID: 1, URI: u.URI()})
	ev := nextEvent(t, ch)
	want(t, FlagsString(ev.Old)+">"+FlagsString(ev.New), "AX>AP")
	want(t, ev.Code, 404)
	waitFor(t, "three probes", func() bool { return u.Hits() >= 3 })
	want(t, flagsOf(st, 0), "AP")
}

// TestProberLatency: §5.2 samples of a responder with a known delay, only
// for destinations with P, and TIMEOUT for 408s.
func TestProberLatency(t *testing.T) {
	const delay = 50 * time.Millisecond
	slow := newUAS(t, 200, delay)
	silent := newUAS(t, 0, 0)
	noP := newUAS(t, 200, 0)
	cfg := ProbingConfig{Probing: Probing{Mode: 3, ProbingThreshold: 1, InactiveThreshold: 1}, LatencyStats: true,
		Interval: 200 * time.Millisecond}
	_, st, _ := runProber(t, cfg,
		Entry{SetID: 1, URI: slow.URI(), Flags: FlagProbing},
		Entry{SetID: 1, URI: silent.URI(), Flags: FlagProbing},
		Entry{SetID: 1, URI: noP.URI()})
	set := st.Sets().At(0)
	byURI := map[string]*State{}
	for _, d := range set.All() {
		byURI[d.URI] = d.State()
	}
	waitFor(t, "five samples", func() bool { return byURI[slow.URI()].Latency().Count >= 5 })
	l := byURI[slow.URI()].Latency()
	if l.Avg < 50 || l.Avg > 2000 || l.Est < 50 || l.Max < 50 || l.Min < 50 {
		t.Errorf("latency %+v, want every figure ≥ 50 ms", l)
	}
	want(t, l.Timeout, uint32(0))
	waitFor(t, "two timeouts", func() bool { return byURI[silent.URI()].Latency().Timeout >= 2 })
	want(t, byURI[silent.URI()].Latency().Count, 0)
	want(t, byURI[noP.URI()].Latency(), Latency{})
	want(t, noP.Hits(), int64(0)) // mode 3 probes only P
}

// TestProberPingActive: §6.8 "Probing runs when the value is non-zero".
func TestProberPingActive(t *testing.T) {
	u := newUAS(t, 200, 0)
	p, _, _ := runProber(t, ProbingConfig{Probing: Probing{Mode: 3, ProbingThreshold: 1, InactiveThreshold: 1}},
		Entry{SetID: 1, URI: u.URI(), Flags: FlagProbing})
	waitFor(t, "a probe", func() bool { return u.Hits() >= 1 })
	want(t, p.SetPingActive(0), 1)
	want(t, p.PingActive(), 0)
	time.Sleep(3 * testInterval) // a probe in flight may still land
	n := u.Hits()
	time.Sleep(5 * testInterval)
	want(t, u.Hits(), n)
	want(t, p.SetPingActive(5), 0)
	waitFor(t, "probing again", func() bool { return u.Hits() > n })
}

// TestProberReload: a new snapshot adds new destinations to the schedule
// and removes the removed ones; kept ones keep their State.
func TestProberReload(t *testing.T) {
	a, b := newUAS(t, 200, 0), newUAS(t, 200, 0)
	p, st, _ := runProber(t, ProbingConfig{Probing: Probing{Mode: 3, ProbingThreshold: 1, InactiveThreshold: 1}},
		Entry{SetID: 1, URI: a.URI(), Flags: FlagProbing})
	waitFor(t, "a probed", func() bool { return a.Hits() >= 1 })
	want(t, b.Hits(), int64(0))

	next, _, err := Build([]Entry{{SetID: 1, URI: b.URI(), Flags: FlagProbing}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	st.Swap(next)
	p.Resync()
	waitFor(t, "b probed", func() bool { return b.Hits() >= 1 })
	time.Sleep(3 * testInterval)
	n := a.Hits()
	time.Sleep(5 * testInterval)
	want(t, a.Hits(), n)
	want(t, p.sched.Stats().Entries, 1)
}

// TestProbingFrom: §1.2 modparams and §8.2 timeout choice.
func TestProbingFrom(t *testing.T) {
	d := kamcfg.Dispatcher{DSProbingMode: 3, DSProbingThreshold: 2, DSInactiveThreshold: 4, DSPingInterval: 10,
		DSPingMethod: "INFO", DSPingFrom: "sip:a@b", DSPingLatencyStats: 1, DSLatencyEstimatorAlpha: 800,
		DSDefaultSocket: "udp:1.2.3.4:5060", DSDefaultSockname: "s1"}
	c := ProbingFrom(d, kamcfg.TM{FRTimerMS: 1000})
	want(t, c.Mode, 3)
	want(t, c.ProbingThreshold, 2)
	want(t, c.InactiveThreshold, 4)
	want(t, c.Interval, 10*time.Second)
	want(t, c.Method, "INFO")
	want(t, c.DefaultSocket, "s1")
	want(t, c.LatencyStats, true)
	want(t, c.Alpha, 0.8)
	want(t, c.Timeout, time.Second)
	d.DSPingFRTimeout = 8 // ticks of 1/16 s
	want(t, ProbingFrom(d, kamcfg.TM{FRTimerMS: 1000}).Timeout, 500*time.Millisecond)
}

// fakePinger answers every probe with code at once and counts the probes.
type fakePinger struct {
	code  int
	calls atomic.Int64
}

func (f *fakePinger) Probe(_ context.Context, _ *probe.Target) probe.Result {
	f.calls.Add(1)
	return probe.Result{Class: probe.ClassReply, Code: f.code, Reason: "Not Found", RTT: time.Millisecond}
}

// TestProberClock drives the Prober with a manual clock: §4.3 "the first
// time one interval after start", events stamped with the clock, and a
// full subscriber never blocks probing.
func TestProberClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mc := schedule.NewManualClock(start)
	sched := schedule.New(schedule.WithClock(mc), schedule.WithQuantum(0))
	sets, _, err := Build([]Entry{{SetID: 1, URI: "sip:192.0.2.1"}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fp := &fakePinger{code: 404}
	p := NewProber(NewStore(sets), fp, ProbingConfig{Probing: Probing{Mode: 1, ProbingThreshold: 2, InactiveThreshold: 1},
		Interval: 2 * time.Second}, WithScheduler(sched))
	ch, unsub, _ := p.Subscribe(1) // never drained until the end
	defer unsub()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the destination scheduled", func() bool { return sched.Stats().Entries == 1 })
	time.Sleep(50 * time.Millisecond) // let the scheduler arm its timer
	mc.Advance(time.Second)
	time.Sleep(50 * time.Millisecond)
	want(t, fp.calls.Load(), int64(0))
	mc.Advance(time.Second)
	waitFor(t, "the first probe", func() bool { return fp.calls.Load() == 1 })
	st := sets.At(0).At(0).State()
	waitFor(t, "TP", func() bool { return FlagsString(st.Flags()) == "TP" })
	mc.Advance(2 * time.Second)
	waitFor(t, "IP", func() bool { return FlagsString(st.Flags()) == "IP" })
	waitFor(t, "a dropped event", func() bool { return p.Dropped() == 1 })
	ev := <-ch
	want(t, ev.Time, start.Add(2*time.Second))
	want(t, FlagsString(ev.New), "TP")
}

// TestProberIntervalZero: §1.2 "0 disables probing entirely".
func TestProberIntervalZero(t *testing.T) {
	sets, _, _ := Build([]Entry{{SetID: 1, URI: "sip:192.0.2.1", Flags: FlagProbing}}, DefaultOptions())
	fp := &fakePinger{code: 200}
	p := NewProber(NewStore(sets), fp, ProbingConfig{Probing: Probing{Mode: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = p.Run(ctx)
	want(t, fp.calls.Load(), int64(0))
	want(t, FlagsString(sets.At(0).At(0).State().Flags()), "AP")
}

// TestProberRequest: §8.1 the probe's method is ds_ping_method, From is
// attr ping_from or ds_ping_from, To is the stored URI, and attr obproxy or
// outbound_proxy is the next hop.
func TestProberRequest(t *testing.T) {
	proxy := newUAS(t, 200, 0)
	direct := newUAS(t, 200, 0)
	for _, c := range []struct {
		name  string
		cfg   ProbingConfig
		entry Entry
		at    *uas
		want  string
	}{
		{"ds_ping_method and ds_ping_from", ProbingConfig{Method: "INFO", From: "sip:pinger@example.com"},
			Entry{SetID: 1, URI: direct.URI(), Flags: FlagProbing}, direct,
			"INFO sip:pinger@example.com " + direct.URI()},
		{"attr ping_from overrides ds_ping_from", ProbingConfig{From: "sip:pinger@example.com"},
			Entry{SetID: 1, URI: direct.URI(), Flags: FlagProbing, Attrs: "ping_from=sip:attr@example.org", HasAttrs: true}, direct,
			"OPTIONS sip:attr@example.org " + direct.URI()},
		{"attr obproxy is the next hop, R-URI/To unchanged", ProbingConfig{},
			Entry{SetID: 1, URI: "sip:192.0.2.1:5999", Flags: FlagProbing, Attrs: "obproxy=" + proxy.URI(), HasAttrs: true}, proxy,
			"OPTIONS sip:dispatcher@localhost sip:192.0.2.1:5999"},
		{"outbound_proxy is the next hop", ProbingConfig{OutboundProxy: proxy.URI()},
			Entry{SetID: 1, URI: "sip:192.0.2.2:5999", Flags: FlagProbing}, proxy,
			"OPTIONS sip:dispatcher@localhost sip:192.0.2.2:5999"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Probing = Probing{Mode: 3, ProbingThreshold: 1, InactiveThreshold: 1}
			runProber(t, c.cfg, c.entry)
			waitFor(t, c.want, func() bool { return c.at.Last() == c.want })
		})
	}
}
