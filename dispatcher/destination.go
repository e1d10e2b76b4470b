package dispatcher

import (
	"iter"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Flag bits of the flags column and of the destination state (spec §2.3, §4.1).
const (
	// FlagInactive (1, I): the destination is inactive.
	FlagInactive = 1
	// FlagTrying (2, T): the destination is trying (still used for routing).
	FlagTrying = 2
	// FlagDisabled (4, D): admin-disabled, never selected nor probed.
	FlagDisabled = 4
	// FlagProbing (8, P): the destination is probed.
	FlagProbing = 8
	// FlagNoDNS (16): skip DNS resolution at load.
	FlagNoDNS = 16
	// FlagNoPing (32, N): 6.0+ only, never probed; 5.6.3 keeps it without meaning.
	FlagNoPing = 32
)

// StateMask is the 5.6.3 mask of state bits a state update clears (§4.1).
const StateMask = 31

// FlagsString is the two-letter FLAGS column of dispatcher.list for state
// bits (spec §4.2, 5.6.3: no N letter): first I, D, T or A, then P or X.
func FlagsString(flags int) string {
	b := [2]byte{'A', 'X'}
	switch {
	case flags&FlagInactive != 0:
		b[0] = 'I'
	case flags&FlagDisabled != 0:
		b[0] = 'D'
	case flags&FlagTrying != 0:
		b[0] = 'T'
	}
	if flags&FlagProbing != 0 {
		b[1] = 'P'
	}
	return string(b[:])
}

// Destination is one loaded destination of a set (spec §2.2). It is
// immutable; what changes at run time (state bits, probe counters, latency)
// lives in the State it points to, so that a reload can carry it over.
type Destination struct {
	// SetID is the set the destination belongs to.
	SetID int
	// URI is the stored URI: as written, or with "sip:" prepended (§2.2 step 1).
	URI string
	// Written is the destination text exactly as the list, row or RPC gave it.
	Written string
	// Flags is the flags column as given (§2.3).
	Flags int
	// Priority orders the set, higher first (§2.5).
	Priority int
	// Attrs are the parsed attributes (§2.4); Attrs.Present is false without a body.
	Attrs Attrs
	// Host, Port and Proto come from the URI (HOST, PORT, PROTOID of §6.3).
	Host  string
	Port  int
	Proto int
	// IPAddr is the address resolved at load; invalid when flag 16 or no DNS.
	IPAddr netip.Addr
	// Socket is the listen socket chosen by sockname= or socket=, if any.
	Socket *ListenSocket
	// Source and Line say where the destination was written.
	Source string
	Line   int

	state *State
}

// State returns the destination's run-time state (never nil in a Sets built
// by this package).
func (d *Destination) State() *State { return d.state }

// Latency is the latency statistics of a destination (spec §5). Avg, Std
// and Est are kept with 32-bit precision and M2 with 64, as 5.6.3 does.
type Latency struct {
	// Avg, Std and Est are the mean, standard deviation and estimate in ms
	// (AVG, STD, EST of dispatcher.list, §5.1).
	Avg, Std, Est float32
	// Min and Max are the smallest and largest samples in ms (Min is never
	// printed).
	Min, Max int
	// Timeout counts probe results with code 408 (TIMEOUT).
	Timeout uint32
	// Count is the number of samples (10000 once "trained", §5.2).
	Count int
	// M2 is the running sum of squared deviations.
	M2 float64
}

// trainedCount is the sample count a trained or seeded estimator jumps to
// (§5.2 step 3, attr latency=).
const trainedCount = 10000

// seedLatency is the statistics attr latency=N starts with: avg = est =
// min = max = N, std = 0, count 10000 (pre-trained, §5.2).
func seedLatency(n int) Latency {
	f := float32(n)
	return Latency{Avg: f, Est: f, Min: n, Max: n, Count: trainedCount}
}

// TimedOut counts one probe that ended with code 408 (§5.2: no sample,
// the counter saturates).
func (l Latency) TimedOut() Latency {
	if l.Timeout < ^uint32(0) {
		l.Timeout++
	}
	return l
}

// Add applies one sample in ms with the 5.6.3 update rule of spec §5.2;
// alpha is ds_latency_estimator_alpha/1000 (0.9 by default), the weight of
// the old estimate.
func (l Latency) Add(sample int, alpha float64) Latency {
	if l.Count < 2097152 {
		l.Count++
	} else {
		l.M2 -= l.M2 / float64(l.Count)
	}
	s := float32(sample)
	if l.Count == 1 {
		l.Avg, l.Est, l.Min, l.Max, l.Std, l.M2 = s, s, sample, sample, 0, 0
	}
	if l.Count > 10 && l.Count < trainedCount && l.Std < 0.5 {
		l.Count = trainedCount
	}
	l.Min, l.Max = min(l.Min, sample), max(l.Max, sample)
	if l.Count > 1 {
		d := s - l.Avg
		l.Avg += d / float32(l.Count)
		d2 := s - l.Avg
		l.M2 += float64(d) * float64(d2)
		l.Std = float32(math.Sqrt(l.M2 / float64(l.Count-1)))
	}
	if l.Count < 10 {
		l.Est = l.Avg
	} else {
		l.Est = float32(float64(l.Est)*alpha + float64(s)*(1-alpha))
	}
	return l
}

// State is the mutable run-time part of a destination: state bits, probe
// counters and latency. It is shared by reference between snapshots so
// that a reload keeps it for destinations whose (setid, URI) did not change.
type State struct {
	flags     atomic.Int64
	failures  atomic.Int64
	successes atomic.Int64

	mu      sync.Mutex
	latency Latency
	counter int // §4.3: one counter shared by failures and successes
}

func newState(d *Destination) *State {
	s := &State{}
	s.flags.Store(int64(d.Flags))
	if d.Attrs.Has("latency") && d.Attrs.Latency > 0 {
		s.latency = seedLatency(d.Attrs.Latency)
	}
	return s
}

// Flags returns the current state bits (the flags column at load, §4.1).
func (s *State) Flags() int { return int(s.flags.Load()) }

// SetFlags replaces the state bits as a 5.6.3 state update does: the bits
// of StateMask are cleared, then bits are set (§4.1).
func (s *State) SetFlags(bits int) {
	for {
		old := s.flags.Load()
		n := old&^StateMask | int64(bits&StateMask)
		if s.flags.CompareAndSwap(old, n) {
			if n != old {
				changed()
			}
			return
		}
	}
}

// Failures and Successes are the consecutive probe counters (§4.3).
func (s *State) Failures() int { return int(s.failures.Load()) }

// Successes returns the consecutive probe success counter (§4.3).
func (s *State) Successes() int { return int(s.successes.Load()) }

// RecordProbe counts one probe result: a success resets the failures and a
// failure resets the successes; it returns the new counter of that kind.
func (s *State) RecordProbe(ok bool) int {
	if ok {
		s.failures.Store(0)
		return int(s.successes.Add(1))
	}
	s.successes.Store(0)
	return int(s.failures.Add(1))
}

// Counter returns the probing counter of the 5.6.3 state engine, shared by
// failures and successes and not reset by set_state (spec §4.3, §4.4).
func (s *State) Counter() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counter
}

// transition replaces the state bits and the probing counter with what f
// returns, atomically with respect to other transitions; a concurrent
// SetFlags makes f run again on the new bits. It returns the old and new
// bits.
func (s *State) transition(f func(flags, counter int) (int, int)) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		old := s.flags.Load()
		bits, counter := f(int(old), s.counter)
		n := old&^StateMask | int64(bits&StateMask)
		if s.flags.CompareAndSwap(old, n) {
			s.counter = counter
			if n != old { // the counter is not shown
				changed()
			}
			return int(old), int(n)
		}
	}
}

// Latency returns a copy of the latency statistics.
func (s *State) Latency() Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// UpdateLatency replaces the latency statistics with what f returns; the
// estimator itself belongs to the probe engine (§5.2).
func (s *State) UpdateLatency(f func(Latency) Latency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = f(s.latency)
	changed()
}

// Set is one destination set (group): its id and its destinations in
// Kamailio's array order (§2.5). It is immutable.
type Set struct {
	id    int
	dests []*Destination
}

// ID is the set id.
func (s *Set) ID() int { return s.id }

// Len is the number of destinations in the set.
func (s *Set) Len() int { return len(s.dests) }

// At returns the i-th destination in array order.
func (s *Set) At(i int) *Destination { return s.dests[i] }

// All yields the destinations in array order (§2.5).
func (s *Set) All() iter.Seq2[int, *Destination] {
	return func(yield func(int, *Destination) bool) {
		for i, d := range s.dests {
			if !yield(i, d) {
				return
			}
		}
	}
}

// Sets is an immutable snapshot of every loaded set, in Kamailio's
// traversal order (AVL post-order by set id, §2.6). A nil *Sets is empty.
type Sets struct {
	sets []*Set
	byID map[int]*Set
	n    int
}

// Len is the number of sets (NRSETS).
func (s *Sets) Len() int {
	if s == nil {
		return 0
	}
	return len(s.sets)
}

// Destinations is the number of destinations over all sets.
func (s *Sets) Destinations() int {
	if s == nil {
		return 0
	}
	return s.n
}

// At returns the i-th set in traversal order.
func (s *Sets) At(i int) *Set { return s.sets[i] }

// Set returns the set with the given id.
func (s *Sets) Set(id int) (*Set, bool) {
	if s == nil {
		return nil, false
	}
	set, ok := s.byID[id]
	return set, ok
}

// All yields the sets in traversal order (§2.6).
func (s *Sets) All() iter.Seq[*Set] {
	return func(yield func(*Set) bool) {
		if s == nil {
			return
		}
		for _, set := range s.sets {
			if !yield(set) {
				return
			}
		}
	}
}
