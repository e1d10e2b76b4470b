package keepalive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/keepalive/schedule"
)

// Defaults of the keepalive modparams (spec §2).
const (
	DefaultPingInterval  = 30 * time.Second
	DefaultDeleteCounter = 5
	DefaultPingFrom      = "sip:keepalive@kamailio.org"
	// ParamsOwner is the owner of destinations from `destination`
	// modparams.
	ParamsOwner = "_params"
	// FirstTryDelay is KA_FIRST_TRY_DELAY: the first OPTIONS of a new
	// destination leaves this long after it is added.
	FirstTryDelay = 500 * time.Millisecond
)

// Errors of the destination API; the cfg function and RPC layers map them
// to Kamailio's return codes and fault strings.
var (
	// ErrDuplicate: (uri, owner) exists already (add returns -2).
	ErrDuplicate = errors.New("destination exists")
	// ErrNotFound: no destination has this (uri, owner) (del returns -1).
	ErrNotFound = errors.New("destination not found")
	// ErrBadURI: the URI cannot be probed (add returns -1).
	ErrBadURI = errors.New("bad destination uri")
)

// Config holds the keepalive settings read from kamailio.cfg
// (kamcfg.Keepalive maps onto it). Fields are taken as given; start from
// DefaultConfig for Kamailio's defaults.
type Config struct {
	// PingInterval is ping_interval (0 means the default, 30 s).
	PingInterval time.Duration
	// DeleteCounter is delete_counter: probing of a destination stops
	// after more than this many consecutive failures; 0 disables it.
	DeleteCounter int
	// PingFrom is ping_from, the From URI of every OPTIONS (empty means
	// the default).
	PingFrom string
	// Destinations are the destination modparams in cfg order.
	Destinations []ConfigDestination
	// Timeout is the deadline of one probe, tm's fr_timer (0: the
	// prober's default, 30 s).
	Timeout time.Duration
	// UserAgent is the User-Agent header of probes (Kamailio sends its
	// server_signature); empty means none.
	UserAgent string
}

// ConfigDestination is one `destination` modparam.
type ConfigDestination struct {
	// URI is the value as written in the modparam, not normalised:
	// Kamailio's duplicate rule (spec §2) compares it raw, so
	// "127.0.0.1:5071" twice is two entries, "sip:127.0.0.1:5071" twice a
	// start-up error.
	URI string
	// Pos is where the modparam is, "file:line[:col]", for messages.
	Pos string
}

// DefaultConfig returns Kamailio's defaults and no destination.
func DefaultConfig() Config {
	return Config{PingInterval: DefaultPingInterval, DeleteCounter: DefaultDeleteCounter,
		PingFrom: DefaultPingFrom, UserAgent: "kamsidecar"}
}

// Prober sends one probe; *probe.Prober is the real one.
type Prober interface {
	Probe(ctx context.Context, t *probe.Target) probe.Result
}

// Destination is a snapshot of one destination, as keepalive.get and
// keepalive.list show it plus what the C API stores.
type Destination struct {
	URI      string
	Owner    string
	Flags    int
	Interval time.Duration
	Status
	UserData any
}

// Module is the keepalive module: its destination list, their probing and
// their events. Reading (Get, List, IsAlive) never waits for probing: the
// list and each destination's Status are immutable snapshots swapped
// atomically.
type Module struct {
	cfg     Config
	machine Machine
	prober  Prober
	sched   *schedule.Scheduler
	clock   schedule.Clock

	mu   sync.Mutex // serialises writers of list
	list atomic.Pointer[[]*dest]

	subs   atomic.Pointer[[]*Subscription]
	subsMu sync.Mutex
	// resultSubs get every finished probe (events.go), inflight counts
	// the probes under way.
	resultSubs atomic.Pointer[[]*ResultSubscription]
	inflight   atomic.Int64
}

type dest struct {
	uri, owner string
	flags      int
	interval   time.Duration
	target     *probe.Target
	onState    func(uri string, state State, user any)
	onResponse func(uri string, r probe.Result, user any)
	user       any

	mu      sync.Mutex // serialises updates of status and entry
	status  atomic.Pointer[Status]
	entry   *schedule.Entry
	removed atomic.Bool
}

// Option configures a Module.
type Option func(*Module)

// WithClock sets the clock of the probing timers and timestamps.
func WithClock(c schedule.Clock) Option { return func(m *Module) { m.clock = c } }

// WithScheduler makes the module fire its probes on s (whose clock it
// then uses) instead of a scheduler of its own.
func WithScheduler(s *schedule.Scheduler) Option { return func(m *Module) { m.sched = s } }

// New makes the module and adds the destination modparams, owner
// ParamsOwner, in cfg order. Like Kamailio, which refuses to start, it
// fails on the first destination that cannot be added, with its position.
// Nothing is probed before Run.
func New(cfg Config, prober Prober, opts ...Option) (*Module, error) {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingFrom == "" {
		cfg.PingFrom = DefaultPingFrom
	}
	if cfg.DeleteCounter < 0 {
		cfg.DeleteCounter = 0
	}
	if _, err := probe.NewTarget(cfg.PingFrom); err != nil {
		return nil, fmt.Errorf("keepalive: ping_from %q: %w", cfg.PingFrom, err)
	}
	m := &Module{cfg: cfg, machine: Machine{DeleteCounter: cfg.DeleteCounter}, prober: prober}
	for _, o := range opts {
		o(m)
	}
	if m.sched == nil {
		if m.clock == nil {
			m.clock = schedule.SystemClock()
		}
		m.sched = schedule.New(schedule.WithClock(m.clock))
	} else {
		m.clock = m.sched.Clock()
	}
	m.list.Store(&[]*dest{})
	for _, d := range cfg.Destinations {
		if err := m.AddDestination(d.URI, ParamsOwner); err != nil {
			pos := d.Pos
			if pos == "" {
				pos = "kamailio.cfg"
			}
			return nil, fmt.Errorf("%s: modparam keepalive destination %q: %w", pos, d.URI, err)
		}
	}
	return m, nil
}

// Config returns the settings in force (defaults filled in).
func (m *Module) Config() Config { return m.cfg }

// Scheduler returns the scheduler that fires the probes (for its Stats).
func (m *Module) Scheduler() *schedule.Scheduler { return m.sched }

// Run probes until ctx ends.
func (m *Module) Run(ctx context.Context) error { return m.sched.Run(ctx) }

// NormalizeURI is the URI Kamailio stores for an added one (spec §3): the
// input unchanged when it starts with sip: or sips: (any case), else with
// "sip:" prepended.
func NormalizeURI(uri string) string {
	if len(uri) >= 4 && (strings.EqualFold(uri[:4], "sip:") || len(uri) >= 5 && strings.EqualFold(uri[:5], "sips:")) {
		return uri
	}
	return "sip:" + uri
}

// DestOption sets what the C API's add_destination takes besides uri and
// owner.
type DestOption func(*dest)

// WithFlags stores flags (unused by the module, as in Kamailio).
func WithFlags(f int) DestOption { return func(d *dest) { d.flags = f } }

// WithInterval sets the ping interval of the destination; 0 means the
// module's ping_interval.
func WithInterval(iv time.Duration) DestOption { return func(d *dest) { d.interval = iv } }

// OnStateChange sets the statechanged_cb: called on every transition
// (including the first result after unknown) with the stored URI, the new
// state and the user data.
func OnStateChange(f func(uri string, state State, user any)) DestOption {
	return func(d *dest) { d.onState = f }
}

// OnResponse sets the response_cb: called for every final result (a reply,
// a local timeout or a transport error) with the stored URI.
func OnResponse(f func(uri string, r probe.Result, user any)) DestOption {
	return func(d *dest) { d.onResponse = f }
}

// WithUserData sets the opaque value given to the callbacks.
func WithUserData(v any) DestOption { return func(d *dest) { d.user = v } }

// AddDestination adds uri (normalised, NormalizeURI) for owner
// (ka_add_destination, keepalive.add, the C API's add_destination). The
// first OPTIONS leaves FirstTryDelay later. An (uri, owner) that exists
// already, compared byte for byte between uri as given and the stored URI
// (so "127.0.0.1:5071" twice makes two entries, "sip:127.0.0.1:5071"
// twice does not), resets that entry's failure counter and returns
// ErrDuplicate; kamsidecar also resumes probing it if delete_counter had
// stopped it (Kamailio leaves it stuck).
func (m *Module) AddDestination(uri, owner string, opts ...DestOption) error {
	if uri == "" {
		return fmt.Errorf("empty uri: %w", ErrBadURI)
	}
	stored := NormalizeURI(uri)
	tg, err := probe.NewTarget(stored, probe.WithFrom(m.cfg.PingFrom), probe.WithUserAgent(m.cfg.UserAgent))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadURI, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.list.Load()
	if d := find(old, uri, owner); d != nil {
		d.mu.Lock()
		st, restart := m.machine.Readd(*d.status.Load())
		d.status.Store(&st)
		if restart && d.entry == nil && !d.removed.Load() {
			d.entry = m.sched.Add(d.interval, FirstTryDelay, m.job(d))
		}
		d.mu.Unlock()
		return ErrDuplicate
	}
	d := &dest{uri: stored, owner: owner, interval: m.cfg.PingInterval, target: tg}
	for _, o := range opts {
		o(d)
	}
	if d.interval <= 0 {
		d.interval = m.cfg.PingInterval
	}
	d.status.Store(&Status{})
	// New entries are prepended: keepalive.list shows newest first.
	list := make([]*dest, 0, len(old)+1)
	list = append(append(list, d), old...)
	m.list.Store(&list)
	d.mu.Lock()
	d.entry = m.sched.Add(d.interval, FirstTryDelay, m.job(d))
	d.mu.Unlock()
	return nil
}

// find returns the first (newest) destination whose stored URI equals uri
// as given and whose owner equals owner.
func find(list []*dest, uri, owner string) *dest {
	for _, d := range list {
		if d.uri == uri && d.owner == owner {
			return d
		}
	}
	return nil
}

// DelDestination removes the first exact (uri, owner) match and stops its
// probing (ka_del_destination, keepalive.del). A reply to a probe in
// flight is dropped.
func (m *Module) DelDestination(uri, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.list.Load()
	for i, d := range old {
		if d.uri == uri && d.owner == owner {
			list := make([]*dest, 0, len(old)-1)
			list = append(append(list, old[:i]...), old[i+1:]...)
			m.list.Store(&list)
			m.remove(d)
			return nil
		}
	}
	return ErrNotFound
}

// Flush removes every destination of every owner (keepalive.flush).
func (m *Module) Flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.list.Load()
	m.list.Store(&[]*dest{})
	for _, d := range old {
		m.remove(d)
	}
}

func (m *Module) remove(d *dest) {
	d.removed.Store(true)
	d.mu.Lock()
	if d.entry != nil {
		m.sched.Remove(d.entry)
	}
	d.mu.Unlock()
}

func (d *dest) snapshot() Destination {
	return Destination{URI: d.uri, Owner: d.owner, Flags: d.flags, Interval: d.interval, Status: *d.status.Load(), UserData: d.user}
}

// Get returns the destination (uri, owner), exact match
// (keepalive.get).
func (m *Module) Get(uri, owner string) (Destination, error) {
	if d := find(*m.list.Load(), uri, owner); d != nil {
		return d.snapshot(), nil
	}
	return Destination{}, ErrNotFound
}

// List returns every destination, newest first (keepalive.list).
func (m *Module) List() []Destination {
	list := *m.list.Load()
	out := make([]Destination, len(list))
	for i, d := range list {
		out[i] = d.snapshot()
	}
	return out
}

// Len returns the number of destinations.
func (m *Module) Len() int { return len(*m.list.Load()) }

// lookup is the lookup of ka_is_alive and destination_state (spec §8):
// the first (newest) destination whose stored URI without its scheme
// equals arg, owner ignored. Kamailio cuts the first 4 characters, so a
// sips: entry only matches ":host"; kamsidecar also matches it by "host".
func (m *Module) lookup(arg string) *dest {
	for _, d := range *m.list.Load() {
		if len(d.uri) >= 4 && d.uri[4:] == arg {
			return d
		}
		if len(d.uri) >= 5 && strings.EqualFold(d.uri[:5], "sips:") && d.uri[5:] == arg {
			return d
		}
	}
	return nil
}

// DestinationState is the C API's destination_state: the raw state (0, 1,
// 2) of the destination written without scheme, or -1 when there is none.
func (m *Module) DestinationState(dest string) int {
	d := m.lookup(dest)
	if d == nil {
		return -1
	}
	return int(d.status.Load().State)
}

// IsAlive is the cfg function ka_is_alive(destination): -1 when no
// destination matches (written without `sip:`), 1 when it is up or still
// unknown (a 0 would end the script), 2 when it is down. Any positive
// value is true in the script; compare with 1.
func (m *Module) IsAlive(dest string) int {
	switch st := m.DestinationState(dest); st {
	case -1:
		return -1
	case int(StateDown):
		return 2
	default:
		return 1
	}
}

// job is what the scheduler runs when d's timer fires (spec §5 step 2).
func (m *Module) job(d *dest) schedule.Job {
	return func(ctx context.Context) {
		if d.removed.Load() {
			return
		}
		d.mu.Lock()
		st, send := m.machine.Ping(*d.status.Load(), m.clock.Now())
		d.status.Store(&st)
		if !send {
			e := d.entry
			d.entry = nil
			d.mu.Unlock()
			m.stopped(d, st, e)
			return
		}
		d.mu.Unlock()
		pctx := ctx
		if m.cfg.Timeout > 0 {
			var cancel context.CancelFunc
			pctx, cancel = context.WithTimeout(ctx, m.cfg.Timeout)
			defer cancel()
		}
		m.inflight.Add(1)
		r := m.prober.Probe(pctx, d.target)
		m.inflight.Add(-1)
		if ctx.Err() != nil && r.Class == probe.ClassCanceled {
			return
		}
		m.apply(d, r)
	}
}

// apply records the result of one probe of d (spec §5 step 3).
func (m *Module) apply(d *dest, r probe.Result) {
	if d.removed.Load() {
		return // deleted meanwhile: Kamailio drops the reply
	}
	now := m.clock.Now()
	d.mu.Lock()
	st, tr := m.machine.Result(*d.status.Load(), r, now)
	d.status.Store(&st)
	var e *schedule.Entry
	if tr.Stopped {
		e, d.entry = d.entry, nil
	}
	d.mu.Unlock()
	m.publishResult(Result{Time: now, URI: d.uri, Owner: d.owner, Probe: r, Old: tr.Old, New: tr.New, Stopped: tr.Stopped})
	if tr.Changed {
		if d.onState != nil {
			d.onState(d.uri, tr.New, d.user)
		}
		m.publish(Event{Time: now, URI: d.uri, Owner: d.owner, Old: tr.Old, New: tr.New, Reason: r.String(), RTT: r.RTT, Result: r})
	}
	if tr.Final && d.onResponse != nil {
		d.onResponse(d.uri, r, d.user)
	}
	if tr.Stopped {
		m.stopped(d, st, e)
	}
}

// stopped ends the probing of d (its entry e, taken from d under d.mu)
// after delete_counter; the destination stays, down.
func (m *Module) stopped(d *dest, st Status, e *schedule.Entry) {
	if e == nil {
		return
	}
	m.sched.Remove(e)
	m.publish(Event{Time: m.clock.Now(), URI: d.uri, Owner: d.owner, Old: st.State, New: st.State, Stopped: true,
		Reason: fmt.Sprintf("delete_counter %d reached after %d failures", m.cfg.DeleteCounter, st.Counter), Result: st.Last})
}
