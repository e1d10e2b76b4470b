// Package events turns the state changes of the dispatcher Prober and the
// keepalive Module into one neutral Event and fans each one out, without
// ever making an engine wait: to a structured log line (slog), to
// registered sinks such as webhooks, and to subscribers such as the
// Server-Sent Events clients of the status page (design.md: events ──►
// metrics, webhooks, /events, status page).
//
// Every hand-off is bounded. The Hub reads the engines' channels (whose
// overflow the engines count), a Sink must accept or refuse an event at
// once (a refusal is counted), and a subscriber that does not keep up is
// cut off (its channel is closed and counted) rather than buffered without
// bound. Dropped reports every counter, for metrics.
package events

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/keepalive"
)

// Kinds of Event.
const (
	// KindDispatcher marks a dispatcher destination's change of state bits.
	KindDispatcher = "dispatcher"
	// KindKeepalive marks a keepalive destination's change of state.
	KindKeepalive = "keepalive"
)

// Event is one state change of a monitored destination, the same for both
// engines. It is what webhooks POST and what /events streams, as JSON.
type Event struct {
	// Seq numbers the events the Hub published, from 1.
	Seq uint64 `json:"seq"`
	// Kind is KindDispatcher or KindKeepalive.
	Kind string `json:"kind"`
	// SetID is the dispatcher set (0 for keepalive).
	SetID int `json:"setid"`
	// URI is the destination's stored URI.
	URI string `json:"uri"`
	// Owner is the keepalive owner ("" for dispatcher).
	Owner string `json:"owner,omitempty"`
	// DUID is the dispatcher attr duid, when the destination has one.
	DUID string `json:"duid,omitempty"`
	// Old and New name the state before and after: dispatcher FLAGS
	// ("AP", "TP", "IP", ...), keepalive "unknown", "up" or "down".
	Old string `json:"old"`
	New string `json:"new"`
	// Up and Down: the destination became usable, or unusable.
	Up   bool `json:"up"`
	Down bool `json:"down"`
	// Stopped marks keepalive's delete_counter stop (Old equals New).
	Stopped bool `json:"stopped,omitempty"`
	// Code and Reason are the probe result's final code and reason
	// (408 for a local timeout).
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	// Latency is the probe's round-trip time in seconds (0 when unsent).
	Latency float64 `json:"latency"`
	// Time is when the engine applied the result.
	Time time.Time `json:"time"`
	// History are the destination's last probe results, oldest first,
	// when the Hub has a history store (issue 7: why it changed state).
	History []Result `json:"history,omitempty"`
}

// Result is one probe result of an Event's History.
type Result struct {
	Time   time.Time `json:"time"`
	Code   int       `json:"code"`
	Reason string    `json:"reason"`
	// Class is reply, timeout, transport, dns, unsent or canceled.
	Class string `json:"class"`
	// RTT is the round-trip time in seconds.
	RTT    float64 `json:"rtt"`
	Before string  `json:"before"`
	After  string  `json:"after"`
}

// withHistory attaches the history store's records of ev's destination.
func withHistory(ev Event, hs *history.Store) Event {
	if hs == nil {
		return ev
	}
	k := history.Key{Kind: ev.Kind, SetID: ev.SetID, URI: ev.URI, Owner: ev.Owner}
	for _, r := range hs.Get(k) {
		ev.History = append(ev.History, Result{Time: r.Time, Code: r.Code, Reason: r.Reason, Class: r.Class,
			RTT: r.RTT.Seconds(), Before: r.Before, After: r.After})
	}
	return ev
}

// FromDispatcher converts a dispatcher Event; duid is the destination's
// attr duid ("" when unknown).
func FromDispatcher(ev dispatcher.Event, duid string) Event {
	return Event{
		Kind:    KindDispatcher,
		SetID:   ev.SetID,
		URI:     ev.URI,
		DUID:    duid,
		Old:     dispatcher.FlagsString(ev.Old),
		New:     dispatcher.FlagsString(ev.New),
		Up:      ev.Up,
		Down:    ev.Down,
		Code:    ev.Code,
		Reason:  ev.Reason,
		Latency: ev.RTT.Seconds(),
		Time:    ev.Time,
	}
}

// FromKeepalive converts a keepalive Event. Up and Down are set when the
// new state is up or down and differs from the old one.
func FromKeepalive(ev keepalive.Event) Event {
	return Event{
		Kind:    KindKeepalive,
		URI:     ev.URI,
		Owner:   ev.Owner,
		Old:     ev.Old.String(),
		New:     ev.New.String(),
		Up:      ev.New == keepalive.StateUp && ev.Old != keepalive.StateUp,
		Down:    ev.New == keepalive.StateDown && ev.Old != keepalive.StateDown,
		Stopped: ev.Stopped,
		Code:    ev.Result.Code,
		Reason:  ev.Reason,
		Latency: ev.RTT.Seconds(),
		Time:    ev.Time,
	}
}

// Usable reports whether the new state routes traffic: a dispatcher state
// without I or D, a keepalive state other than down.
func (e Event) Usable() bool {
	if e.Kind == KindKeepalive {
		return e.New != keepalive.StateDown.String()
	}
	return len(e.New) > 0 && e.New[0] != 'I' && e.New[0] != 'D'
}

// Sink receives every published event. Deliver must not block: it queues
// the event or refuses it at once (false), and the Hub counts refusals.
// *webhook.Sender is one.
type Sink interface {
	Deliver(Event) bool
}

// Options configure a Hub.
type Options struct {
	// Prober and Keepalive are the engines whose changes Run reads; either
	// may be nil.
	Prober    *dispatcher.Prober
	Keepalive *keepalive.Module
	// Store, when set, gives dispatcher events their attr duid.
	Store *dispatcher.Store
	// Logger receives one line per event (nil: slog.Default()).
	Logger *slog.Logger
	// Buffer is the room of the Hub's subscription to each engine
	// (default 256).
	Buffer int
	// History, when set, gives each event the destination's last probe
	// results (Event.History): the webhook and /events then say why.
	History *history.Store
}

// Hub fans events out to the log, sinks and subscribers. Create it with
// New; Run reads the engines, Publish injects an event directly.
type Hub struct {
	opts Options
	log  *slog.Logger

	seq       atomic.Uint64
	published atomic.Uint64
	subCut    atomic.Uint64
	kaSub     atomic.Pointer[keepalive.Subscription]

	mu     sync.Mutex
	sinks  []*sinkEntry
	subs   map[*Subscription]struct{}
	closed bool
}

type sinkEntry struct {
	name    string
	sink    Sink
	dropped atomic.Uint64
}

// New returns a Hub; nothing is read before Run.
func New(opts Options) *Hub {
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Hub{opts: opts, log: log, subs: map[*Subscription]struct{}{}}
}

// AddSink registers s under name (used as the key of Dropped); every later
// event is offered to it.
func (h *Hub) AddSink(name string, s Sink) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sinks = append(h.sinks, &sinkEntry{name: name, sink: s})
}

// Subscription receives events on C. A subscriber whose buffer is full
// when an event comes is cut off: C is closed (check Cut) and the Hub
// counts it; C is also closed by Close and when Run ends.
type Subscription struct {
	// C delivers the events.
	C   <-chan Event
	c   chan Event
	h   *Hub
	cut atomic.Bool
}

// Subscribe returns a subscription with room for buf events (at least 1).
// After Run has ended, C is returned closed.
func (h *Hub) Subscribe(buf int) *Subscription {
	if buf < 1 {
		buf = 1
	}
	c := make(chan Event, buf)
	s := &Subscription{C: c, c: c, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Close ends the subscription and closes C (it may be called more than once).
func (s *Subscription) Close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// Cut reports whether the subscription was closed because it did not keep up.
func (s *Subscription) Cut() bool { return s.cut.Load() }

// Subscribers returns the number of live subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Published returns how many events were published.
func (h *Hub) Published() uint64 { return h.published.Load() }

// Dropped returns the drop counters by name, for metrics: "dispatcher" and
// "keepalive" (events the engines could not hand to the Hub),
// "subscribers" (subscribers cut off for not keeping up) and "sink:NAME"
// (events a sink refused).
func (h *Hub) Dropped() map[string]uint64 {
	m := map[string]uint64{"subscribers": h.subCut.Load()}
	if h.opts.Prober != nil {
		m[KindDispatcher] = h.opts.Prober.Dropped()
	}
	if s := h.kaSub.Load(); s != nil {
		m[KindKeepalive] = s.Dropped()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sinks {
		m["sink:"+s.name] = s.dropped.Load()
	}
	return m
}

// Publish numbers ev, logs it and offers it to every sink and subscriber.
// It never blocks on any of them.
func (h *Hub) Publish(ev Event) {
	ev.Seq = h.seq.Add(1)
	h.published.Add(1)
	h.logEvent(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sinks {
		if !s.sink.Deliver(ev) {
			s.dropped.Add(1)
		}
	}
	for s := range h.subs {
		select {
		case s.c <- ev:
		default:
			s.cut.Store(true)
			delete(h.subs, s)
			close(s.c)
			h.subCut.Add(1)
		}
	}
}

func (h *Hub) logEvent(ev Event) {
	level := slog.LevelInfo
	if ev.Down || !ev.Usable() {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("kind", ev.Kind),
		slog.String("uri", ev.URI),
	}
	if ev.Kind == KindDispatcher {
		attrs = append(attrs, slog.Int("setid", ev.SetID))
	} else {
		attrs = append(attrs, slog.String("owner", ev.Owner))
	}
	if ev.DUID != "" {
		attrs = append(attrs, slog.String("duid", ev.DUID))
	}
	attrs = append(attrs,
		slog.String("old", ev.Old), slog.String("new", ev.New),
		slog.Bool("up", ev.Up), slog.Bool("down", ev.Down),
		slog.Int("code", ev.Code), slog.String("reason", ev.Reason),
		slog.Float64("latency", ev.Latency))
	if ev.Stopped {
		attrs = append(attrs, slog.Bool("stopped", true))
	}
	h.log.LogAttrs(context.Background(), level, "destination state changed", attrs...)
}

// duid finds the attr duid of (setid, uri) in the Store's current snapshot.
func (h *Hub) duid(setid int, uri string) string {
	if h.opts.Store == nil {
		return ""
	}
	set, ok := h.opts.Store.Sets().Set(setid)
	if !ok {
		return ""
	}
	for _, d := range set.All() {
		if d.URI == uri {
			return d.Attrs.DUID
		}
	}
	return ""
}

// Run subscribes to the engines of Options and publishes their changes
// until ctx ends; then it closes every subscription and returns ctx's error.
func (h *Hub) Run(ctx context.Context) error {
	var dch <-chan dispatcher.Event
	if h.opts.Prober != nil {
		ch, unsub, err := h.opts.Prober.Subscribe(h.opts.Buffer)
		if err != nil {
			return err
		}
		defer unsub()
		dch = ch
	}
	var kch <-chan keepalive.Event
	if h.opts.Keepalive != nil {
		sub := h.opts.Keepalive.Subscribe(h.opts.Buffer)
		h.kaSub.Store(sub)
		defer sub.Close()
		kch = sub.C
	}
	defer h.shutdown()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-dch:
			if !ok {
				dch = nil
				continue
			}
			h.Publish(withHistory(FromDispatcher(ev, h.duid(ev.SetID, ev.URI)), h.opts.History))
		case ev := <-kch:
			h.Publish(withHistory(FromKeepalive(ev), h.opts.History))
		}
	}
}

// shutdown closes every subscription; later ones are born closed.
func (h *Hub) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
}
