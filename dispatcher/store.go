package dispatcher

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Store holds the current Sets snapshot behind an atomic pointer: readers
// never block (design.md), writers build a new snapshot aside, validate it
// and swap it in. A failed load keeps the old snapshot (spec §2.8).
type Store struct {
	cur atomic.Pointer[Sets]
	mu  sync.Mutex // serialises writers
	// reloadMu serialises ReloadFrom, so that an older load never
	// replaces a newer one (source.go).
	reloadMu sync.Mutex
}

// NewStore returns a store holding s (nil: zero sets).
func NewStore(s *Sets) *Store {
	st := &Store{}
	if s == nil {
		s = &Sets{}
	}
	st.cur.Store(s)
	changed()
	return st
}

// Sets returns the current snapshot; it never changes under the caller.
func (st *Store) Sets() *Sets { return st.cur.Load() }

// Carry gives every destination of next the run-time State of the
// destination of old with the same (setid, URI) — the k-th copy of a
// duplicate inherits from the k-th copy, in array order — and returns how
// many were carried. Unlike Kamailio 5.6.3, which resets states, probe
// counters and latency on reload (§2.8), kamsidecar keeps them for
// unchanged destinations. next must not be shared yet.
func Carry(old, next *Sets) int {
	if old == nil || next == nil {
		return 0
	}
	type key struct {
		setid int
		uri   string
	}
	prev := make(map[key][]*State, old.Destinations())
	for set := range old.All() {
		for _, d := range set.dests {
			k := key{d.SetID, d.URI}
			prev[k] = append(prev[k], d.state)
		}
	}
	n := 0
	for set := range next.All() {
		for _, d := range set.dests {
			k := key{d.SetID, d.URI}
			if q := prev[k]; len(q) > 0 {
				d.state, prev[k] = q[0], q[1:]
				n++
			}
		}
	}
	return n
}

// Swap carries state from the current snapshot into next (see Carry),
// publishes next and returns how many destinations kept their state.
func (st *Store) Swap(next *Sets) int {
	if next == nil {
		next = &Sets{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	n := Carry(st.cur.Load(), next)
	st.cur.Store(next)
	changed()
	return n
}

// Reload reads a list, builds the new snapshot aside and swaps it in only
// when the load is accepted (bad line, read error or a rejected
// destination with ds_load_mode 1 keep the old snapshot, §2.8). It returns
// the problems and how many destinations kept their state.
func (st *Store) Reload(name string, r io.Reader, opts Options) (int, []Problem, error) {
	next, probs, err := Load(name, r, opts)
	if err != nil {
		return 0, probs, fmt.Errorf("reload %s: %w", name, err)
	}
	return st.Swap(next), probs, nil
}
