package keepalive

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/keepalive/schedule"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMain(m *testing.M) {
	sip.SetDefaultLogger(quiet)
	m.Run()
}

func uris(ds []Destination) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.URI+"/"+d.Owner)
	}
	return strings.Join(s, " ")
}

// TestIdentity covers spec §2-§3 and §8: normalisation, identity by (uri
// as given, owner), newest-first order, ka_is_alive's lookup. Nothing is
// probed (Run is not called).
func TestIdentity(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Destinations = []ConfigDestination{{URI: "192.168.10.20", Pos: "k.cfg:10"}, {URI: "sip:127.0.0.1:5072", Pos: "k.cfg:11"},
		{URI: "127.0.0.1:5071", Pos: "k.cfg:12"}, {URI: "127.0.0.1:5071", Pos: "k.cfg:13"}, {URI: "sips:tls.example.com", Pos: "k.cfg:14"}}
	m, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "sips:tls.example.com/_params sip:127.0.0.1:5071/_params sip:127.0.0.1:5071/_params sip:127.0.0.1:5072/_params sip:192.168.10.20/_params"
	if got := uris(m.List()); got != want {
		t.Fatalf("list:\n%s\nwant\n%s", got, want)
	}
	if err := m.AddDestination("127.0.0.1:5071", "x"); err != nil {
		t.Fatal(err)
	}
	if err := m.AddDestination("127.0.0.1:5071", "x"); err != nil {
		t.Fatalf("scheme-less twice: %v", err)
	}
	if err := m.AddDestination("sip:127.0.0.1:5071", "x"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("sip: form of an existing entry: %v", err)
	}
	if err := m.AddDestination("sip:127.0.0.1:5071", "y"); err != nil {
		t.Fatalf("other owner: %v", err)
	}
	if err := m.DelDestination("127.0.0.1:5071", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("del without scheme: %v", err)
	}
	if _, err := m.Get("127.0.0.1:5071", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get without scheme: %v", err)
	}
	d, err := m.Get("sip:127.0.0.1:5071", "x")
	if err != nil || d.State != StateUnknown || d.Interval != DefaultPingInterval {
		t.Errorf("get: %+v %v", d, err)
	}
	for range 2 {
		if err := m.DelDestination("sip:127.0.0.1:5071", "x"); err != nil {
			t.Errorf("del: %v", err)
		}
	}
	if err := m.DelDestination("sip:127.0.0.1:5071", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("third del: %v", err)
	}
	// ka_is_alive: written without sip:, unknown counts as up.
	for arg, want := range map[string]int{
		"127.0.0.1:5071": 1, "sip:127.0.0.1:5071": -1, "192.168.10.20": 1, "nope": -1,
		":tls.example.com": 1, "tls.example.com": 1,
	} {
		if got := m.IsAlive(arg); got != want {
			t.Errorf("IsAlive(%q) = %d, want %d", arg, got, want)
		}
	}
	if got := m.DestinationState("127.0.0.1:5072"); got != 0 {
		t.Errorf("DestinationState = %d", got)
	}
	for _, bad := range []string{"", "bad uri", "sip:", "sip:h:99999"} {
		if err := m.AddDestination(bad, "x"); !errors.Is(err, ErrBadURI) {
			t.Errorf("add %q: %v", bad, err)
		}
	}
	m.Flush()
	if m.Len() != 0 || m.IsAlive("127.0.0.1:5071") != -1 {
		t.Errorf("after flush: %s", uris(m.List()))
	}
	if st := m.Scheduler().Stats(); st.Entries != 0 {
		t.Errorf("%d timers left after flush", st.Entries)
	}
}

// TestConfigErrors: a destination that cannot be added stops start-up
// with the modparam's position, as Kamailio refuses to start.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		dests []ConfigDestination
		want  string
		err   error
	}{
		{[]ConfigDestination{{URI: "sip:127.0.0.1:5071", Pos: "a.cfg:3"}, {URI: "sip:127.0.0.1:5071", Pos: "a.cfg:4"}}, "a.cfg:4: ", ErrDuplicate},
		{[]ConfigDestination{{URI: "sip:ok", Pos: "a.cfg:3"}, {URI: "sip:[::1", Pos: "inc/b.cfg:7:1"}}, "inc/b.cfg:7:1: ", ErrBadURI},
	} {
		cfg := DefaultConfig()
		cfg.Destinations = tc.dests
		_, err := New(cfg, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, tc.err) {
			t.Errorf("%v: err %v, want prefix %q", tc.dests, err, tc.want)
		}
	}
	cfg := DefaultConfig()
	cfg.PingFrom = "not a uri"
	if _, err := New(cfg, nil); err == nil {
		t.Error("bad ping_from accepted")
	}
}

// peer is a sipgo UAS on a UDP port of 127.0.0.1 that answers OPTIONS
// with a code that can change; it can be killed and revived on the same
// port.
type peer struct {
	t     *testing.T
	port  int
	code  atomic.Int32
	count atomic.Int32
	mu    sync.Mutex
	stop  func()
}

func newPeer(t *testing.T, code int) *peer {
	p := &peer{t: t}
	p.code.Store(int32(code))
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *peer) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ua, _ := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		p.count.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, int(p.code.Load()), "Test", nil))
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p.port))
	if err != nil {
		p.t.Fatal(err)
	}
	p.port = pc.LocalAddr().(*net.UDPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(pc) }()
	p.stop = func() { pc.Close(); ua.Close(); <-done }
}

func (p *peer) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		p.stop()
		p.stop = nil
	}
}

func (p *peer) uri() string { return "sip:127.0.0.1:" + strconv.Itoa(p.port) }

// rig is a Module on a real Prober with a ManualClock driving its timers.
type rig struct {
	t      *testing.T
	prober *probe.Prober
	clock  *schedule.ManualClock
	m      *Module
	sub    *Subscription
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	pr, err := probe.New(context.Background(), probe.WithSockets(probe.Socket{Proto: "udp", Host: "127.0.0.1"}, probe.Socket{Proto: "tcp", Host: "127.0.0.1"}),
		probe.WithLogger(quiet), probe.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	clock := schedule.NewManualClock(time.Date(2026, 11, 22, 22, 55, 59, 0, time.UTC))
	m, err := New(cfg, pr, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, prober: pr, clock: clock, m: m, sub: m.Subscribe(64)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; pr.Close() })
	return r
}

// event waits (bounded) for the next event.
func (r *rig) event() Event {
	r.t.Helper()
	select {
	case e := <-r.sub.C:
		return e
	case <-time.After(10 * time.Second):
		r.t.Fatal("no event")
	}
	return Event{}
}

// tick moves the clock by d and waits until the probes it fired are done.
func (r *rig) tick(d time.Duration) {
	r.t.Helper()
	before := r.m.Scheduler().Stats().Runs
	r.clock.Advance(d)
	for range 5000 {
		st := r.m.Scheduler().Stats()
		if st.Runs > before && st.Running == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKillRevive probes a real peer: up, killed (ICMP port unreachable:
// down at the next probe, not after fr_timer), revived (up again), with
// one event and one state callback per transition.
func TestKillRevive(t *testing.T) {
	p := newPeer(t, 200)
	cfg := DefaultConfig()
	cfg.PingInterval = time.Second
	cfg.Destinations = []ConfigDestination{{URI: p.uri()}}
	r := newRig(t, cfg)
	var mu sync.Mutex
	var changes []State
	var responses int
	if err := r.m.AddDestination(p.uri(), "test", OnStateChange(func(uri string, s State, user any) {
		mu.Lock()
		defer mu.Unlock()
		if uri != p.uri() || user != "u" {
			t.Errorf("callback uri %q user %v", uri, user)
		}
		changes = append(changes, s)
	}), OnResponse(func(string, probe.Result, any) { mu.Lock(); responses++; mu.Unlock() }), WithUserData("u")); err != nil {
		t.Fatal(err)
	}
	if got := r.m.IsAlive(p.uri()[4:]); got != 1 {
		t.Fatalf("unknown: is_alive %d", got)
	}
	r.tick(FirstTryDelay + time.Second) // both first probes (the second one is spread)
	for range 2 {
		e := r.event()
		if e.Old != StateUnknown || e.New != StateUp || e.Result.Code != 200 || e.RTT <= 0 {
			t.Fatalf("first event %+v", e)
		}
	}
	d, _ := r.m.Get(p.uri(), "test")
	if d.State != StateUp || d.LastUp.IsZero() || !d.LastDown.IsZero() || d.LastChecked.IsZero() {
		t.Fatalf("after 200: %+v", d)
	}

	p.kill()
	r.tick(time.Second)
	for range 2 {
		e := r.event()
		if e.Old != StateUp || e.New != StateDown || e.Result.Class != probe.ClassTransport || !errors.Is(e.Result.Err, probe.ErrPortUnreachable) {
			t.Fatalf("after kill: %+v", e)
		}
	}
	if got := r.m.IsAlive(p.uri()[4:]); got != 2 {
		t.Errorf("down: is_alive %d", got)
	}
	d, _ = r.m.Get(p.uri(), "test")
	if d.Counter != 1 || d.LastDown.IsZero() {
		t.Errorf("after kill: %+v", d)
	}

	p.start()
	r.tick(time.Second)
	for range 2 {
		if e := r.event(); e.Old != StateDown || e.New != StateUp {
			t.Fatalf("after revive: %+v", e)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 3 || changes[0] != StateUp || changes[1] != StateDown || changes[2] != StateUp {
		t.Errorf("state callbacks %v", changes)
	}
	if responses != 3 {
		t.Errorf("%d response callbacks, want 3", responses)
	}
}

// TestDeleteCounter: with delete_counter 2 a peer answering 404 gets 3
// probes, then none; the destination stays down; adding it again resumes
// probing (where Kamailio leaves it stuck).
func TestDeleteCounter(t *testing.T) {
	p := newPeer(t, 404)
	cfg := DefaultConfig()
	cfg.PingInterval = time.Second
	cfg.DeleteCounter = 2
	r := newRig(t, cfg)
	if err := r.m.AddDestination(p.uri(), "o"); err != nil {
		t.Fatal(err)
	}
	r.tick(FirstTryDelay)
	if e := r.event(); e.New != StateDown || e.Result.Code != 404 {
		t.Fatalf("%+v", e)
	}
	r.tick(time.Second)
	r.tick(time.Second)
	if e := r.event(); !e.Stopped || e.New != StateDown {
		t.Fatalf("no stop event: %+v", e)
	}
	for range 3 {
		r.clock.Advance(time.Second)
	}
	if n := p.count.Load(); n != 3 {
		t.Errorf("%d probes with delete_counter 2, want 3", n)
	}
	d, _ := r.m.Get(p.uri(), "o")
	if !d.Stopped || d.State != StateDown || d.Counter != 3 || r.m.IsAlive(p.uri()[4:]) != 2 {
		t.Errorf("stopped destination: %+v", d)
	}
	p.code.Store(200)
	if err := r.m.AddDestination(p.uri(), "o"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("re-add: %v", err)
	}
	r.tick(FirstTryDelay)
	if e := r.event(); e.Old != StateDown || e.New != StateUp {
		t.Fatalf("after re-add: %+v", e)
	}
	if d, _ := r.m.Get(p.uri(), "o"); d.Stopped || d.Counter != 0 {
		t.Errorf("after re-add: %+v", d)
	}
}

// TestTimeoutAndDNS: a silent peer goes down with the local 408 at the
// deadline; an unresolvable host stays unknown (is_alive 1) with no event,
// as in Kamailio.
func TestTimeoutAndDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	cfg := DefaultConfig()
	cfg.PingInterval = 5 * time.Second
	cfg.Timeout = 300 * time.Millisecond
	r := newRig(t, cfg)
	silent := "sip:" + pc.LocalAddr().String()
	if err := r.m.AddDestination("nonexistent.invalid", "o"); err != nil {
		t.Fatal(err)
	}
	if err := r.m.AddDestination(silent, "o"); err != nil {
		t.Fatal(err)
	}
	r.tick(FirstTryDelay + 5*time.Second)
	e := r.event()
	if e.URI != silent || e.New != StateDown || e.Result.Code != 408 || e.Result.Class != probe.ClassTimeout {
		t.Fatalf("%+v", e)
	}
	d, _ := r.m.Get("sip:nonexistent.invalid", "o")
	if d.State != StateUnknown || d.Counter != 0 || d.Last.Class != probe.ClassDNS || d.LastChecked.IsZero() {
		t.Errorf("dns destination: %+v", d)
	}
	if got := r.m.IsAlive("nonexistent.invalid"); got != 1 {
		t.Errorf("is_alive of an unresolvable host %d, want 1", got)
	}
	select {
	case e := <-r.sub.C:
		t.Errorf("unexpected event %+v", e)
	default:
	}
}

// TestSubscription: a full subscriber loses events instead of blocking;
// a closed one gets none.
func TestSubscription(t *testing.T) {
	m, _ := New(DefaultConfig(), nil)
	s1 := m.Subscribe(1)
	s2 := m.Subscribe(4)
	for range 3 {
		m.publish(Event{URI: "sip:x"})
	}
	if s1.Dropped() != 2 || len(s2.C) != 3 {
		t.Errorf("dropped %d, buffered %d", s1.Dropped(), len(s2.C))
	}
	s2.Close()
	s2.Close()
	m.publish(Event{})
	if len(s2.C) != 3 {
		t.Error("closed subscription got an event")
	}
}
