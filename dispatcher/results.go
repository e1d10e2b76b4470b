package dispatcher

import (
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// Result is one finished probe of a destination, published to the
// SubscribeResults subscribers whether or not it changed the state (Event
// only carries changes). Metrics and the probe history are fed from it.
type Result struct {
	// Time is when the result was applied (the Prober's clock).
	Time time.Time
	// SetID and URI name the destination; DUID is its attr duid ("" when
	// unset).
	SetID int
	URI   string
	DUID  string
	// Class says how the probe ended (reply, timeout, transport, dns,
	// unsent).
	Class probe.Class
	// OK reports whether the result counted as a success: a 2xx or a code
	// of ds_ping_reply_codes (spec §8.3).
	OK bool
	// Code and Reason are $dsv(code) and $dsv(reason): the reply's, 408
	// for a timeout, 500 "Sending keepalive failed" for a probe that could
	// not be sent.
	Code   int
	Reason string
	// RTT is the probe's round-trip time (0 when not sent).
	RTT time.Duration
	// Old and New are the state bits (StateMask) before and after; equal
	// when the result changed nothing.
	Old, New int
}

// resultFeed fans finished probes out to subscribers without ever waiting
// for one: a result that does not fit a subscriber's buffer is dropped and
// counted.
type resultFeed struct {
	mu      sync.RWMutex // publish holds R; subscribe and cancel hold W
	subs    map[*resultSub]struct{}
	dropped uint64 // under mu (W) or atomically summed from subs
}

type resultSub struct {
	ch      chan Result
	mu      sync.Mutex
	dropped uint64
}

// SubscribeResults returns a channel receiving every finished probe
// (Result) with room for buf results (at least 1), and a function ending
// the subscription and closing the channel. Probing never waits for a
// subscriber: a result that does not fit is dropped and counted
// (ResultsDropped).
func (p *Prober) SubscribeResults(buf int) (<-chan Result, func()) {
	if buf < 1 {
		buf = 1
	}
	s := &resultSub{ch: make(chan Result, buf)}
	f := &p.results
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[*resultSub]struct{}{}
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, s)
			s.mu.Lock()
			f.dropped += s.dropped
			s.mu.Unlock()
			close(s.ch)
			f.mu.Unlock()
		})
	}
}

// ResultsDropped returns how many results did not fit a subscriber's
// buffer, over every subscription so far.
func (p *Prober) ResultsDropped() uint64 {
	f := &p.results
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.dropped
	for s := range f.subs {
		s.mu.Lock()
		n += s.dropped
		s.mu.Unlock()
	}
	return n
}

// InFlight returns how many probes are sent and not finished yet.
func (p *Prober) InFlight() int { return int(p.inflight.Load()) }

func (f *resultFeed) publish(r Result) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for s := range f.subs {
		select {
		case s.ch <- r:
		default:
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
		}
	}
}
