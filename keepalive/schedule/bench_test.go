package schedule

import (
	"context"
	"testing"
	"time"
)

// BenchmarkTake is the scheduling cost of one run with 10,000 entries in
// the heap (pop, re-arm, heap fix).
func BenchmarkTake(b *testing.B) {
	c := NewManualClock(t0)
	s := New(WithClock(c))
	for range 10000 {
		s.Add(time.Second, 0, func(context.Context) {})
	}
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		e, ok := s.take(now)
		if !ok {
			now = now.Add(time.Second / 10000)
			continue
		}
		s.done(e)
	}
}
