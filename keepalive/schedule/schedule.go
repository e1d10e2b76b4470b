package schedule

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Job is the work of one entry, run in its own goroutine each time the
// entry is due. ctx is cancelled when the Scheduler stops.
type Job func(ctx context.Context)

// Entry is one periodic job of a Scheduler (one destination of keepalive or
// dispatcher). It is created by Add and ends with Remove.
type Entry struct {
	interval time.Duration
	next     time.Time
	job      Job
	index    int  // position in the heap; -1 once removed
	running  bool // a run of job has not returned yet
}

// Interval returns the time between two runs of the entry.
func (e *Entry) Interval() time.Duration { return e.interval }

// Stats counts what a Scheduler did since it was created.
type Stats struct {
	// Runs is how many times a job was started.
	Runs uint64
	// Overlaps is how many due runs were not started because the previous
	// run of the same entry had not returned (a probe still waiting for its
	// reply): a job never overlaps itself.
	Overlaps uint64
	// Late is how many runs were due a whole interval or more before the
	// Scheduler could start them (overload); such an entry keeps its
	// interval from the late start instead of firing the missed runs.
	Late uint64
	// Running is how many jobs run now.
	Running int
	// Entries is how many entries are scheduled.
	Entries int
}

// DefaultConcurrency is how many jobs run at once unless WithConcurrency
// says otherwise.
const DefaultConcurrency = 16384

// golden is the fractional part of the golden ratio; k*golden mod 1 spreads
// any number of points evenly over [0,1) whatever k stops at (Weyl sequence).
const golden = 0.6180339887498949

// Scheduler runs the jobs of its entries at their intervals from a single
// goroutine (Run): no goroutine waits per entry, only running jobs have one.
//
// Spreading: entries added within one interval of the first of them form a
// burst; the k-th entry of a burst gets a phase of frac(k*golden)*interval
// added to its first delay, so a burst of 10,000 destinations added at start
// fires evenly over the interval, while a single destination added later
// (k = 0) fires after exactly its first delay (Kamailio's 500 ms).
type Scheduler struct {
	clock       Clock
	concurrency int

	mu         sync.Mutex
	entries    entryHeap
	burstStart time.Time
	burstN     int
	stats      Stats

	wake    chan struct{}
	slots   chan struct{}
	work    chan *Entry // hands an entry to an idle worker
	quantum time.Duration
}

// idleWorker is how long a worker goroutine waits for more work before it
// exits (real time): workers are reused so that a probe runs on a grown
// stack, yet a burst leaves no crowd of parked goroutines behind.
const idleWorker = 10 * time.Second

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithClock sets the time source (default: SystemClock).
func WithClock(c Clock) Option { return func(s *Scheduler) { s.clock = c } }

// WithConcurrency bounds how many jobs run at once (default
// DefaultConcurrency). A due entry waits for a free slot.
func WithConcurrency(n int) Option {
	return func(s *Scheduler) {
		if n > 0 {
			s.concurrency = n
		}
	}
}

// DefaultQuantum is the granularity of the loop's sleeps unless
// WithQuantum says otherwise.
const DefaultQuantum = 5 * time.Millisecond

// WithQuantum sets the granularity of the loop's sleeps (default
// DefaultQuantum): entries due within one quantum start together, so
// 10,000 probes a second cost 200 wake-ups of the loop, not 10,000. A run
// starts at most one quantum late.
func WithQuantum(d time.Duration) Option {
	return func(s *Scheduler) {
		if d >= 0 {
			s.quantum = d
		}
	}
}

// New returns a Scheduler; it fires nothing until Run is called.
func New(opts ...Option) *Scheduler {
	s := &Scheduler{clock: SystemClock(), concurrency: DefaultConcurrency, wake: make(chan struct{}, 1),
		work: make(chan *Entry), quantum: DefaultQuantum}
	for _, o := range opts {
		o(s)
	}
	s.slots = make(chan struct{}, s.concurrency)
	return s
}

// Clock returns the scheduler's time source.
func (s *Scheduler) Clock() Clock { return s.clock }

// Add schedules job every interval, the first time first (plus the burst
// phase, see Scheduler) after now. A non-positive interval is one second.
func (s *Scheduler) Add(interval, first time.Duration, job Job) *Entry {
	if interval <= 0 {
		interval = time.Second
	}
	s.mu.Lock()
	now := s.clock.Now()
	if s.burstN == 0 || now.Sub(s.burstStart) >= interval {
		s.burstStart, s.burstN = now, 0
	}
	phase := spread(s.burstN, interval)
	s.burstN++
	e := &Entry{interval: interval, next: now.Add(first + phase), job: job}
	heap.Push(&s.entries, e)
	s.mu.Unlock()
	s.poke()
	return e
}

// spread returns the phase of the k-th entry of a burst.
func spread(k int, interval time.Duration) time.Duration {
	f := float64(k) * golden
	f -= float64(int64(f))
	return time.Duration(f * float64(interval))
}

// Remove unschedules e; a run in progress finishes. Removing twice is a
// no-op.
func (s *Scheduler) Remove(e *Entry) {
	s.mu.Lock()
	if e.index >= 0 && e.index < len(s.entries) && s.entries[e.index] == e {
		heap.Remove(&s.entries, e.index)
	}
	e.index = -1
	s.mu.Unlock()
	s.poke()
}

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Entries = len(s.entries)
	return st
}

// NextRun returns when e runs next, or false once it was removed.
func (s *Scheduler) NextRun(e *Entry) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.index < 0 {
		return time.Time{}, false
	}
	return e.next, true
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the first due entry that is not running and moves every due
// entry it passes to its next time. It is the pure part of the loop: it
// reads only now.
func (s *Scheduler) take(now time.Time) (e *Entry, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.entries) > 0 {
		top := s.entries[0]
		if top.next.After(now) {
			return nil, false
		}
		next := top.next.Add(top.interval)
		if !next.After(now) {
			next = now.Add(top.interval)
			s.stats.Late++
		}
		top.next = next
		heap.Fix(&s.entries, 0)
		if top.running {
			s.stats.Overlaps++
			continue
		}
		top.running = true
		s.stats.Runs++
		s.stats.Running++
		return top, true
	}
	return nil, false
}

func (s *Scheduler) done(e *Entry) {
	s.mu.Lock()
	e.running = false
	s.stats.Running--
	s.mu.Unlock()
}

// peek reports whether an entry is due at now, or else how long until the
// first one is (-1: no entry).
func (s *Scheduler) peek(now time.Time) (due bool, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return false, -1
	}
	if d := s.entries[0].next.Sub(now); d > 0 {
		return false, d
	}
	return true, 0
}

// Run fires due entries until ctx is done, then waits for the running jobs
// (whose ctx is cancelled) and returns ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		now := s.clock.Now()
		due, wait := s.peek(now)
		if due {
			// Bounded concurrency: wait for a slot before taking the entry,
			// so that a removal meanwhile is honoured.
			select {
			case s.slots <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			e, ok := s.take(s.clock.Now())
			if !ok {
				<-s.slots
				continue
			}
			select {
			case s.work <- e: // an idle worker takes it
			default:
				wg.Add(1)
				go func() { defer wg.Done(); s.worker(ctx, e) }()
			}
			continue
		}
		if wait < 0 {
			wait = time.Hour
		}
		wait = max(wait, s.quantum)
		timer.Reset(wait)
		if s.clock.Now().Sub(now) >= wait {
			// The clock passed the deadline between the peek and the
			// Reset, which then armed the timer from the later time: look
			// again rather than sleep past due entries (a ManualClock
			// advanced by another goroutine; a real clock stalled).
			continue
		}
		select {
		case <-timer.C():
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// worker runs e, then every entry handed to it, until it has been idle
// for idleWorker or ctx ends.
func (s *Scheduler) worker(ctx context.Context, e *Entry) {
	idle := time.NewTimer(idleWorker)
	defer idle.Stop()
	for {
		e.job(ctx)
		s.done(e)
		<-s.slots
		idle.Reset(idleWorker)
		select {
		case e = <-s.work:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

type entryHeap []*Entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *entryHeap) Push(x any) {
	e := x.(*Entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}
