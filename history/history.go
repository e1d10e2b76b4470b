// Package history keeps the last N probe results of every monitored
// destination (issue 7): when, the final reply code and reason or the
// failure class, the round-trip time, and the state before and after. It
// answers "why did this carrier go inactive" where Kamailio only counts
// timeouts. It knows nothing of SIP or RPC encodings; serve feeds it from
// the probe engines and the status page, webhooks and RPC read it.
package history

import (
	"slices"
	"sync"
	"time"
)

// DefaultSize is how many results are kept per destination by default.
const DefaultSize = 20

// Key names a destination: a dispatcher destination by set and URI, a
// keepalive destination by URI and owner.
type Key struct {
	// Kind is "dispatcher" or "keepalive".
	Kind  string
	SetID int
	URI   string
	Owner string
}

// Record is one probe result.
type Record struct {
	Time time.Time
	// Code and Reason are the final reply's, or Kamailio's local ones
	// (408 for a timeout, 500 when the probe could not be sent).
	Code   int
	Reason string
	// Class is the result class: "reply", "timeout", "transport", "dns",
	// "unsent" or "canceled".
	Class string
	RTT   time.Duration
	// Before and After are the state before and after the result, as the
	// module names it (dispatcher FLAGS such as "AP"/"IP", keepalive
	// "unknown"/"up"/"down").
	Before, After string
}

// Store holds a ring of the last Size records per destination. It is safe
// for concurrent use; Add never blocks on readers for long.
type Store struct {
	size int
	mu   sync.RWMutex
	ring map[Key]*ring
}

type ring struct {
	recs []Record
	next int
	full bool
}

// New returns a store keeping n results per destination (DefaultSize when
// n <= 0).
func New(n int) *Store {
	if n <= 0 {
		n = DefaultSize
	}
	return &Store{size: n, ring: map[Key]*ring{}}
}

// Size is the number of results kept per destination.
func (s *Store) Size() int { return s.size }

// Add records r for k, dropping the oldest record when the ring is full.
func (s *Store) Add(k Key, r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.ring[k]
	if rg == nil {
		rg = &ring{recs: make([]Record, 0, s.size)}
		s.ring[k] = rg
	}
	if len(rg.recs) < s.size {
		rg.recs = append(rg.recs, r)
		return
	}
	rg.recs[rg.next] = r
	rg.next = (rg.next + 1) % s.size
	rg.full = true
}

// Get returns k's records, oldest first.
func (s *Store) Get(k Key) []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rg := s.ring[k]
	if rg == nil {
		return nil
	}
	if !rg.full {
		return slices.Clone(rg.recs)
	}
	out := make([]Record, 0, len(rg.recs))
	out = append(out, rg.recs[rg.next:]...)
	return append(out, rg.recs[:rg.next]...)
}

// Keys returns every destination with records.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ks := make([]Key, 0, len(s.ring))
	for k := range s.ring {
		ks = append(ks, k)
	}
	return ks
}

// Forget drops k's records (the destination was removed).
func (s *Store) Forget(k Key) {
	s.mu.Lock()
	delete(s.ring, k)
	s.mu.Unlock()
}
