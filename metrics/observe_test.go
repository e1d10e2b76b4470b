package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestObserveRPCSeries checks that ObserveRPC counts each call in its own
// series whatever the order of calls: the last-call shortcut must not
// count a call in the series of the one before.
func TestObserveRPCSeries(t *testing.T) {
	type call struct {
		transport, method string
		fault             int
	}
	tests := []struct {
		name  string
		calls []call
		want  map[call]float64
	}{
		{"one method repeated", []call{{"binrpc", "core.version", 0}, {"binrpc", "core.version", 0}, {"binrpc", "core.version", 0}},
			map[call]float64{{"binrpc", "core.version", 0}: 3}},
		{"alternating methods", []call{{"binrpc", "a", 0}, {"binrpc", "b", 0}, {"binrpc", "a", 0}, {"binrpc", "b", 0}, {"binrpc", "b", 0}},
			map[call]float64{{"binrpc", "a", 0}: 2, {"binrpc", "b", 0}: 3}},
		{"same method, then a fault", []call{{"binrpc", "a", 0}, {"binrpc", "a", 404}, {"binrpc", "a", 0}},
			map[call]float64{{"binrpc", "a", 0}: 2, {"binrpc", "a", 404}: 1}},
		{"same method, other transport", []call{{"binrpc", "a", 0}, {"jsonrpc", "a", 0}, {"jsonrpc", "a", 0}},
			map[call]float64{{"binrpc", "a", 0}: 1, {"jsonrpc", "a", 0}: 2}},
		{"equal strings from other memory", []call{{"binrpc", "a.b", 0}, {"binrpc", strings.Clone("a.b"), 0}},
			map[call]float64{{"binrpc", "a.b", 0}: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{})
			for _, c := range tc.calls {
				m.ObserveRPC(c.transport, c.method, time.Millisecond, c.fault)
			}
			for c, want := range tc.want {
				f := "none"
				if c.fault != 0 {
					f = "404"
				}
				var pb dto.Metric
				if err := m.rpcReqs.WithLabelValues(c.transport, c.method, f).Write(&pb); err != nil {
					t.Fatal(err)
				}
				if got := pb.GetCounter().GetValue(); got != want {
					t.Errorf("%v: %v requests, want %v", c, got, want)
				}
			}
			if got, want := count(m.rpcReqs), len(tc.want); got != want {
				t.Errorf("%d series, want %d", got, want)
			}
		})
	}
}

// count is the number of series c has.
func count(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	return len(ch)
}
