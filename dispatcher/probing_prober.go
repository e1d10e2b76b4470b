package dispatcher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/kamcfg"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/keepalive/schedule"
)

// Pinger sends one probe (spec §8.1) and waits for its outcome (§8.2);
// *probe.Prober is one.
type Pinger interface {
	Probe(ctx context.Context, t *probe.Target) probe.Result
}

// ProbingConfig are the probing modparams as plain values (spec §1.2).
type ProbingConfig struct {
	Probing
	// Interval is ds_ping_interval; 0 or less disables probing (§1.2).
	Interval time.Duration
	// Method is ds_ping_method ("" is OPTIONS).
	Method string
	// From is ds_ping_from, overridden per destination by attr ping_from
	// (§8.1); "" is sip:dispatcher@localhost.
	From string
	// OutboundProxy is outbound_proxy, overridden by attr obproxy (§8.1).
	OutboundProxy string
	// DefaultSocket is ds_default_sockname, else ds_default_socket: the
	// send socket of destinations without sockname or socket attr (§8.1).
	DefaultSocket string
	// Timeout is the final-response timeout of a probe: ds_ping_fr_timer
	// when set, else tm's fr_timer (§8.2); 0 leaves the Pinger's.
	Timeout time.Duration
	// LatencyStats is ds_ping_latency_stats (§5).
	LatencyStats bool
	// Alpha is ds_latency_estimator_alpha/1000, the weight of the old
	// estimate (§5.2); 0 is 0.9.
	Alpha float64
}

// ProbingFrom takes the probing settings from the cfg's dispatcher
// modparams and tm's fr_timer (spec §1.2, §1.6 ds_ping_fr_timer, §8.2).
func ProbingFrom(d kamcfg.Dispatcher, tm kamcfg.TM) ProbingConfig {
	c := ProbingConfig{
		Probing: Probing{Mode: d.DSProbingMode, ProbingThreshold: d.DSProbingThreshold,
			InactiveThreshold: d.DSInactiveThreshold, ReplyCodes: d.DSPingReplyCodes},
		Interval: d.PingInterval(), Method: d.DSPingMethod, From: d.DSPingFrom,
		OutboundProxy: d.OutboundProxy, DefaultSocket: d.DSDefaultSocket,
		Timeout: d.PingFRTimeout(), LatencyStats: d.DSPingLatencyStats != 0, Alpha: d.LatencyAlpha(),
	}
	if d.DSDefaultSockname != "" {
		c.DefaultSocket = d.DSDefaultSockname
	}
	if c.Timeout <= 0 {
		c.Timeout = tm.FRTimer()
	}
	return c
}

// Event is one change of a destination's state bits caused by a probe
// result (spec §4.3). Up and Down mark the usable transitions on which
// Kamailio runs event_route[dispatcher:dst-up] and [dispatcher:dst-down].
type Event struct {
	// Time is when the result was applied (the Prober's clock).
	Time time.Time
	// SetID and URI name the destination.
	SetID int
	URI   string
	// Old and New are the state bits before and after (FlagsString
	// renders them).
	Old, New int
	// Up and Down: the destination became usable, or unusable (§4.3).
	Up, Down bool
	// Code and Reason are $dsv(code) and $dsv(reason): the reply's, 408
	// for a timeout, 500 "Sending keepalive failed" for a probe that could
	// not be sent.
	Code   int
	Reason string
	// Received is $dsv(flags): a real reply was received.
	Received bool
	// RTT is the probe's round-trip time (0 when not sent).
	RTT time.Duration
}

// Prober probes the destinations of a Store's current snapshot on a
// keepalive scheduler (spec §4.3, §8), applies the results to their State,
// keeps latency statistics (§5) and publishes state changes to
// subscribers. Create it with NewProber and run it with Run.
type Prober struct {
	store  *Store
	pinger Pinger
	cfg    ProbingConfig
	sched  *schedule.Scheduler
	clock  schedule.Clock
	resync chan struct{}
	active atomic.Int64

	mu      sync.Mutex
	entries map[*State]*probeEntry
	seen    *Sets

	subMu   sync.Mutex
	subs    map[int]chan Event
	nextSub int
	dropped atomic.Uint64

	// results feeds every finished probe to SubscribeResults (results.go).
	results  resultFeed
	inflight atomic.Int64
}

// probeEntry is the scheduled probing of one destination record.
type probeEntry struct {
	entry  *schedule.Entry
	cancel context.CancelFunc
	cur    atomic.Pointer[probeDest]
}

// probeDest is a destination and the Target built from it.
type probeDest struct {
	d      *Destination
	target *probe.Target
	err    error
}

// ProberOption configures a Prober (spec §4.3).
type ProberOption func(*Prober)

// WithScheduler runs the probes on s (for an injected clock); by default
// the Prober makes its own scheduler on the system clock (spec §4.3 Timer).
func WithScheduler(s *schedule.Scheduler) ProberOption {
	return func(p *Prober) { p.sched = s }
}

// NewProber returns a Prober of the destinations of store, sending with
// pinger. Probing is active (dispatcher.ping_active 1, spec §6.8).
func NewProber(store *Store, pinger Pinger, cfg ProbingConfig, opts ...ProberOption) *Prober {
	if cfg.Alpha <= 0 || cfg.Alpha >= 1 {
		cfg.Alpha = 0.9
	}
	if cfg.Method == "" {
		cfg.Method = "OPTIONS"
	}
	if cfg.From == "" {
		cfg.From = "sip:dispatcher@localhost"
	}
	p := &Prober{store: store, pinger: pinger, cfg: cfg, resync: make(chan struct{}, 1),
		entries: map[*State]*probeEntry{}, subs: map[int]chan Event{}}
	for _, o := range opts {
		o(p)
	}
	if p.sched == nil {
		p.sched = schedule.New()
	}
	p.clock = p.sched.Clock()
	p.active.Store(1)
	return p
}

// PingActive returns the dispatcher.ping_active value (spec §6.8).
func (p *Prober) PingActive() int { return int(p.active.Load()) }

// SetPingActive stores the dispatcher.ping_active value and returns the
// old one; probing runs while it is non-zero (spec §6.8).
func (p *Prober) SetPingActive(v int) int { return int(p.active.Swap(int64(v))) }

// Resync makes Run take the Store's current snapshot now instead of at
// its next check (call it after a reload, add or remove, spec §6.5-§6.7).
func (p *Prober) Resync() {
	select {
	case p.resync <- struct{}{}:
	default:
	}
}

// resyncEvery is how often Run looks for a new snapshot by itself.
const resyncEvery = time.Second

// Run probes until ctx ends (with ds_ping_interval 0 it only waits, spec
// §1.2), following the Store's snapshots, and returns ctx's error.
func (p *Prober) Run(ctx context.Context) error {
	if p.cfg.Interval <= 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.sched.Run(ctx) }()
	defer func() { cancel(); <-done }()
	timer := p.clock.NewTimer(resyncEvery)
	defer timer.Stop()
	for {
		p.sync()
		select {
		case <-ctx.Done():
			p.removeAll()
			return ctx.Err()
		case <-p.resync:
		case <-timer.C():
			timer.Reset(resyncEvery)
		}
	}
}

// sync schedules the destinations of the current snapshot that are not
// yet, points kept ones at their new Destination and unschedules the
// removed ones.
func (p *Prober) sync() {
	sets := p.store.Sets()
	p.mu.Lock()
	defer p.mu.Unlock()
	if sets == p.seen {
		return
	}
	p.seen = sets
	keep := make(map[*State]bool, sets.Destinations())
	for set := range sets.All() {
		for _, d := range set.dests {
			keep[d.state] = true
			pd := p.destFor(d)
			if e, ok := p.entries[d.state]; ok {
				if e.cur.Load().d != d {
					e.cur.Store(pd)
				}
				continue
			}
			e := &probeEntry{}
			e.cur.Store(pd)
			ectx, cancel := context.WithCancel(context.Background())
			e.cancel = cancel
			st := d.state
			// Kamailio's timer fires one interval after start (§4.3).
			e.entry = p.sched.Add(p.cfg.Interval, p.cfg.Interval, func(ctx context.Context) {
				p.probeOne(ctx, ectx, st, e)
			})
			p.entries[d.state] = e
		}
	}
	for st, e := range p.entries {
		if !keep[st] {
			p.sched.Remove(e.entry)
			e.cancel()
			delete(p.entries, st)
		}
	}
}

func (p *Prober) removeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for st, e := range p.entries {
		p.sched.Remove(e.entry)
		e.cancel()
		delete(p.entries, st)
	}
	p.seen = nil
}

// destFor builds the probe Target of d (spec §8.1): method, From from
// attr ping_from or ds_ping_from, next hop from attr obproxy or
// outbound_proxy, socket from attr sockname, socket or the default.
func (p *Prober) destFor(d *Destination) *probeDest {
	from := p.cfg.From
	if d.Attrs.Has("ping_from") && d.Attrs.PingFrom != "" {
		from = d.Attrs.PingFrom
	}
	proxy := p.cfg.OutboundProxy
	if d.Attrs.Has("obproxy") && d.Attrs.OBProxy != "" {
		proxy = d.Attrs.OBProxy
	}
	opts := []probe.TargetOption{probe.WithMethod(p.cfg.Method), probe.WithFrom(from), probe.WithProxy(proxy)}
	switch {
	case d.Attrs.Has("sockname") && d.Attrs.Sockname != "":
		opts = append(opts, probe.WithSocket(d.Attrs.Sockname))
	case d.Attrs.Has("socket") && d.Attrs.Socket != "":
		opts = append(opts, probe.WithSocket(d.Attrs.Socket))
	case p.cfg.DefaultSocket != "":
		opts = append(opts, probe.WithSocket(p.cfg.DefaultSocket))
	}
	t, err := probe.NewTarget(d.URI, opts...)
	return &probeDest{d: d, target: t, err: err}
}

// sendFailed is the reason of a probe that could not be sent (§4.3).
const sendFailed = "Sending keepalive failed"

// probeOne is the scheduled job of one destination: it probes when
// ping_active is on and the mode selects the destination, then applies
// the result.
func (p *Prober) probeOne(ctx, ectx context.Context, st *State, e *probeEntry) {
	if p.active.Load() == 0 || !p.cfg.Probed(st.Flags()) {
		return
	}
	pd := e.cur.Load()
	var res probe.Result
	if pd.err != nil {
		res = probe.Result{Class: probe.ClassUnsent, Err: pd.err}
	} else {
		p.inflight.Add(1)
		pctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(ectx, cancel)
		if p.cfg.Timeout > 0 {
			var c2 context.CancelFunc
			pctx, c2 = context.WithTimeout(pctx, p.cfg.Timeout)
			defer c2()
		}
		res = p.pinger.Probe(pctx, pd.target)
		stop()
		cancel()
		p.inflight.Add(-1)
	}
	if res.Class == probe.ClassCanceled || ctx.Err() != nil || ectx.Err() != nil {
		return // shutdown or removal: says nothing about the peer
	}
	p.apply(pd.d, st, res)
}

// apply feeds one probe result to the state engine (spec §4.3) and the
// latency statistics (§5.2), then publishes the result (SubscribeResults)
// and a change (Subscribe).
func (p *Prober) apply(d *Destination, st *State, res probe.Result) {
	unsent := res.Class == probe.ClassDNS || res.Class == probe.ClassUnsent
	code, reason := res.Code, res.Reason
	if unsent {
		code, reason = 500, sendFailed
	}
	ok := !unsent && p.cfg.Success(code)
	if p.cfg.LatencyStats && !unsent && st.Flags()&FlagProbing != 0 {
		st.UpdateLatency(func(l Latency) Latency {
			if res.Class != probe.ClassReply {
				// tm ends a timed-out or unreachable probe with a local 408.
				return l.TimedOut()
			}
			return l.Add(int(res.RTT/time.Millisecond), p.cfg.Alpha)
		})
	}
	var changed bool
	old, cur := st.transition(func(flags, counter int) (int, int) {
		changed = false
		want, keep := p.cfg.Request(flags, ok, unsent)
		if !keep {
			return flags, counter
		}
		changed = true
		return p.cfg.Apply(flags, counter, want)
	})
	now := p.clock.Now()
	p.results.publish(Result{Time: now, SetID: d.SetID, URI: d.URI, DUID: d.Attrs.DUID, Class: res.Class, OK: ok,
		Code: code, Reason: reason, RTT: res.RTT, Old: old & StateMask, New: cur & StateMask})
	if !changed || old&StateMask == cur&StateMask {
		return
	}
	p.publish(Event{Time: now, SetID: d.SetID, URI: d.URI, Old: old & StateMask, New: cur & StateMask,
		Up: !Usable(old) && Usable(cur), Down: Usable(old) && !Usable(cur),
		Code: code, Reason: reason, Received: res.Class == probe.ClassReply, RTT: res.RTT})
}

// errNoBuffer refuses a subscription without room for one event.
var errNoBuffer = errors.New("subscription buffer must be positive")

// Subscribe returns a channel receiving every state change (Event, spec
// §4.3) with room for buf events, and a function ending the subscription
// and closing the channel. Probing never waits for a subscriber: an event that does
// not fit is dropped and counted (Dropped).
func (p *Prober) Subscribe(buf int) (<-chan Event, func(), error) {
	if buf <= 0 {
		return nil, nil, errNoBuffer
	}
	ch := make(chan Event, buf)
	p.subMu.Lock()
	id := p.nextSub
	p.nextSub++
	p.subs[id] = ch
	p.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			p.subMu.Lock()
			delete(p.subs, id)
			p.subMu.Unlock()
			close(ch)
		})
	}, nil
}

// Dropped returns how many events (spec §4.3 Event routes) did not fit a
// subscriber's buffer.
func (p *Prober) Dropped() uint64 { return p.dropped.Load() }

func (p *Prober) publish(ev Event) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for _, ch := range p.subs {
		select {
		case ch <- ev:
		default:
			p.dropped.Add(1)
		}
	}
}
