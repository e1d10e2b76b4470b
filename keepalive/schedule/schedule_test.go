package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestSpread: a burst of entries added together gets phases spread over the
// interval, the first one keeping its exact first delay; an entry added an
// interval later starts a new burst.
func TestSpread(t *testing.T) {
	c := NewManualClock(t0)
	s := New(WithClock(c))
	var es []*Entry
	for range 1000 {
		es = append(es, s.Add(time.Second, 500*time.Millisecond, func(context.Context) {}))
	}
	first, _ := s.NextRun(es[0])
	if got := first.Sub(t0); got != 500*time.Millisecond {
		t.Fatalf("first entry of a burst: first run after %v, want 500ms", got)
	}
	// Count runs per 10 ms bucket of the interval: an even spread puts
	// about 10 in each, never a burst.
	var buckets [100]int
	for _, e := range es {
		n, _ := s.NextRun(e)
		off := n.Sub(t0) - 500*time.Millisecond
		if off < 0 || off >= time.Second {
			t.Fatalf("phase %v outside [0,1s)", off)
		}
		buckets[off/(10*time.Millisecond)]++
	}
	for i, b := range buckets {
		if b < 5 || b > 15 {
			t.Errorf("bucket %d has %d first runs, want about 10", i, b)
		}
	}
	c.Advance(time.Second)
	late := s.Add(time.Second, 500*time.Millisecond, func(context.Context) {})
	if n, _ := s.NextRun(late); n.Sub(c.Now()) != 500*time.Millisecond {
		t.Errorf("entry added one interval later: first run after %v, want 500ms", n.Sub(c.Now()))
	}
}

// TestTake is a table of the pure scheduling step: which entry runs at
// which time and when it runs next.
func TestTake(t *testing.T) {
	type step struct {
		at       time.Duration // clock offset from t0
		wantRun  bool
		wantNext time.Duration // next run offset of the entry after the step
		finish   bool          // the run returns before the next step
	}
	tests := []struct {
		name  string
		steps []step
		stats Stats
	}{
		{"not yet due", []step{{at: 400 * time.Millisecond, wantRun: false, wantNext: 500 * time.Millisecond}}, Stats{Entries: 1}},
		{"due then every interval", []step{
			{at: 500 * time.Millisecond, wantRun: true, wantNext: 1500 * time.Millisecond, finish: true},
			{at: 1500 * time.Millisecond, wantRun: true, wantNext: 2500 * time.Millisecond, finish: true},
		}, Stats{Runs: 2, Entries: 1}},
		{"fixed cadence when slightly late", []step{
			{at: 700 * time.Millisecond, wantRun: true, wantNext: 1500 * time.Millisecond, finish: true},
		}, Stats{Runs: 1, Entries: 1}},
		{"late by an interval slips", []step{
			{at: 1600 * time.Millisecond, wantRun: true, wantNext: 2600 * time.Millisecond, finish: true},
		}, Stats{Runs: 1, Late: 1, Entries: 1}},
		{"no overlap with itself", []step{
			{at: 500 * time.Millisecond, wantRun: true, wantNext: 1500 * time.Millisecond},
			{at: 1500 * time.Millisecond, wantRun: false, wantNext: 2500 * time.Millisecond, finish: true},
			{at: 2500 * time.Millisecond, wantRun: true, wantNext: 3500 * time.Millisecond, finish: true},
		}, Stats{Runs: 2, Overlaps: 1, Entries: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewManualClock(t0)
			s := New(WithClock(c))
			e := s.Add(time.Second, 500*time.Millisecond, nil)
			var running *Entry
			for i, st := range tt.steps {
				got, ok := s.take(t0.Add(st.at))
				if ok != st.wantRun || (ok && got != e) {
					t.Fatalf("step %d: run = %v, want %v", i, ok, st.wantRun)
				}
				if ok {
					running = got
				}
				if n, _ := s.NextRun(e); n.Sub(t0) != st.wantNext {
					t.Fatalf("step %d: next run at %v, want %v", i, n.Sub(t0), st.wantNext)
				}
				if st.finish && running != nil {
					s.done(running)
					running = nil
				}
			}
			if running != nil {
				s.done(running)
			}
			got := s.Stats()
			got.Running = 0
			if got != tt.stats {
				t.Errorf("stats = %+v, want %+v", got, tt.stats)
			}
		})
	}
}

// waitFor polls cond a bounded number of times (goroutines of Run need to
// be scheduled); it fails the test when cond never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never happened: %s", what)
}

// TestRun drives the loop with a ManualClock: runs happen when the clock
// reaches them, a removed entry stops, concurrency is bounded and Run
// returns after its jobs when ctx ends.
func TestRun(t *testing.T) {
	c := NewManualClock(t0)
	s := New(WithClock(c), WithConcurrency(2))
	var mu sync.Mutex
	runs := map[int]int{}
	release := make(chan struct{})
	var entries []*Entry
	for i := range 4 {
		entries = append(entries, s.Add(time.Second, 0, func(ctx context.Context) {
			mu.Lock()
			runs[i]++
			mu.Unlock()
			select {
			case <-release:
			case <-ctx.Done():
			}
		}))
	}
	count := func() (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range runs {
			n += v
		}
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	c.Advance(time.Second) // all four due; only two slots
	waitFor(t, "two jobs running", func() bool { return count() == 2 && s.Stats().Running == 2 })
	release <- struct{}{}
	release <- struct{}{}
	waitFor(t, "the other two run", func() bool { return count() == 4 })
	release <- struct{}{}
	release <- struct{}{}
	waitFor(t, "all done", func() bool { return s.Stats().Running == 0 })

	s.Remove(entries[0])
	s.Remove(entries[0])
	close(release) // later runs return at once
	for round := 1; round <= 3; round++ {
		c.Advance(time.Second)
		waitFor(t, "a round of the three entries left", func() bool { return count() == 4+3*round && s.Stats().Running == 0 })
	}
	mu.Lock()
	if runs[0] != 1 {
		t.Errorf("removed entry ran %d times, want 1", runs[0])
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v", err)
	}
	if st := s.Stats(); st.Entries != 3 {
		t.Errorf("entries = %d", st.Entries)
	}
}

// TestManualClock checks the timer semantics the loop relies on.
func TestManualClock(t *testing.T) {
	c := NewManualClock(t0)
	tm := c.NewTimer(time.Second)
	c.Advance(999 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Millisecond)
	select {
	case <-tm.C():
	default:
		t.Fatal("did not fire")
	}
	tm.Reset(0)
	select {
	case <-tm.C():
	default:
		t.Fatal("Reset(0) did not fire")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reported active")
	}
}

// racyClock is a ManualClock whose timers, once armed is set, see the
// clock advance by step just before their first Reset: a test's Advance
// from another goroutine landing between the loop's peek and its Reset.
type racyClock struct {
	*ManualClock
	step  time.Duration
	armed atomic.Bool
}

func (c *racyClock) NewTimer(d time.Duration) Timer {
	return racyTimer{c.ManualClock.NewTimer(d), c}
}

type racyTimer struct {
	Timer
	c *racyClock
}

func (t racyTimer) Reset(d time.Duration) bool {
	if t.c.armed.CompareAndSwap(true, false) {
		t.c.Advance(t.c.step)
	}
	return t.Timer.Reset(d)
}

// TestRunClockMovesBeforeReset: an entry that falls due while the loop
// arms its timer runs at once instead of waiting for a later tick (the
// race behind a flaky keepalive test).
func TestRunClockMovesBeforeReset(t *testing.T) {
	c := &racyClock{ManualClock: NewManualClock(t0), step: time.Second}
	s := New(WithClock(c))
	ran := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "the loop asleep", func() bool { return c.Timers() == 1 })
	c.armed.Store(true)
	s.Add(time.Hour, time.Second, func(context.Context) { ran <- struct{}{} })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the entry due during the Reset did not run")
	}
	cancel()
	<-done
}
