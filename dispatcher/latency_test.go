package dispatcher

import (
	"math"
	"testing"
)

// TestLatency follows the 5.6.3 update rule of spec §5.2 step by step.
func TestLatency(t *testing.T) {
	var l Latency
	l = l.Add(20, 0.9)
	want(t, l, Latency{Avg: 20, Est: 20, Min: 20, Max: 20, Count: 1})
	l = l.Add(30, 0.9)
	want(t, l.Count, 2)
	want(t, l.Avg, float32(25))
	want(t, l.Est, float32(25)) // count < 10: est follows avg
	want(t, l.Min, 20)
	want(t, l.Max, 30)
	if math.Abs(float64(l.Std)-math.Sqrt(50)) > 1e-5 {
		t.Errorf("std %v, want sqrt(50)", l.Std)
	}

	// eleven equal samples: std < 0.5 after the 11th, so count jumps to 10000
	var c Latency
	for range 11 {
		c = c.Add(40, 0.9)
	}
	want(t, c.Count, 10000)
	c = c.Add(50, 0.9)
	want(t, c.Count, 10001)
	want(t, c.Avg, float32(40)+float32(10)/10001)
	want(t, c.Est, float32(float64(float32(40))*0.9+50*0.1))

	// seeded by latency=24: pre-trained, the mean moves by d/10001
	s := seedLatency(24).Add(64, 0.9)
	want(t, s.Count, 10001)
	want(t, s.Avg, float32(24)+float32(40)/10001)

	to := Latency{Timeout: math.MaxUint32 - 1}.TimedOut().TimedOut()
	want(t, to.Timeout, uint32(math.MaxUint32))
}
