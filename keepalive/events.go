package keepalive

import (
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// Event is published to subscribers on every state transition of a
// destination (where Kamailio runs event_route[keepalive:dst-up] or
// [keepalive:dst-down]) and once when delete_counter stops its probing.
type Event struct {
	Time  time.Time
	URI   string // stored URI, $ru in Kamailio's event route
	Owner string
	// Old and New are the states before and after; they differ except in
	// a Stopped event.
	Old, New State
	// Stopped is true for the event that says probing stopped
	// (delete_counter); the destination stays down.
	Stopped bool
	// Reason says why: "200 OK", "408 Request Timeout (local)", ...
	Reason string
	// RTT is the round-trip time of the probe that caused the event.
	RTT time.Duration
	// Result is that probe's full result (class, code, error).
	Result probe.Result
}

// Subscription receives events on C until Close. A subscriber that does
// not keep up loses events (counted by Dropped): publishing never waits,
// so a slow subscriber never delays probing.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	m       *Module
	dropped atomic.Uint64
	closed  atomic.Bool
}

// Subscribe returns a subscription whose channel buffers buffer events
// (at least 1).
func (m *Module) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, m: m}
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	var cur []*Subscription
	if p := m.subs.Load(); p != nil {
		cur = *p
	}
	next := append(append([]*Subscription(nil), cur...), s)
	m.subs.Store(&next)
	return s
}

// Dropped returns how many events this subscriber lost.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription; C is not closed (a publish may race), so
// stop reading it.
func (s *Subscription) Close() {
	if s.closed.Swap(true) {
		return
	}
	m := s.m
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	var next []*Subscription
	for _, x := range *m.subs.Load() {
		if x != s {
			next = append(next, x)
		}
	}
	m.subs.Store(&next)
}

func (m *Module) publish(e Event) {
	p := m.subs.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Result is one finished probe of a destination, published to the
// SubscribeResults subscribers whether or not it changed the state (Event
// only carries changes). Metrics and the probe history are fed from it.
type Result struct {
	// Time is when the result was applied (the module's clock).
	Time  time.Time
	URI   string // stored URI
	Owner string
	// Probe is the probe's full result: class, code, reason, RTT, error.
	Probe probe.Result
	// Old and New are the states before and after; equal when the result
	// changed nothing (always for a result that does not count: DNS
	// failure, unsent probe).
	Old, New State
	// Stopped is true when this result made delete_counter stop probing.
	Stopped bool
}

// ResultSubscription receives every finished probe on C until Close. A
// subscriber that does not keep up loses results (counted by Dropped):
// publishing never waits, so a slow subscriber never delays probing.
type ResultSubscription struct {
	C       <-chan Result
	c       chan Result
	m       *Module
	dropped atomic.Uint64
	closed  atomic.Bool
}

// SubscribeResults returns a subscription to every finished probe whose
// channel buffers buffer results (at least 1).
func (m *Module) SubscribeResults(buffer int) *ResultSubscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan Result, buffer)
	s := &ResultSubscription{C: c, c: c, m: m}
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	var cur []*ResultSubscription
	if p := m.resultSubs.Load(); p != nil {
		cur = *p
	}
	next := append(append([]*ResultSubscription(nil), cur...), s)
	m.resultSubs.Store(&next)
	return s
}

// Dropped returns how many results this subscriber lost.
func (s *ResultSubscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription; C is not closed (a publish may race), so
// stop reading it.
func (s *ResultSubscription) Close() {
	if s.closed.Swap(true) {
		return
	}
	m := s.m
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	var next []*ResultSubscription
	for _, x := range *m.resultSubs.Load() {
		if x != s {
			next = append(next, x)
		}
	}
	m.resultSubs.Store(&next)
}

// InFlight returns how many probes are sent and not finished yet.
func (m *Module) InFlight() int { return int(m.inflight.Load()) }

func (m *Module) publishResult(r Result) {
	p := m.resultSubs.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		select {
		case s.c <- r:
		default:
			s.dropped.Add(1)
		}
	}
}
