package jsonrpc

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// TestResultCache: a method with a Version called without parameters is
// answered from the encoding of an earlier reply while the version stands
// (the handler does not run; kept from the second call at a version),
// with each request's own id; a new version, parameters or a fault run
// the handler. Every reply is byte for byte the
// one a server without the cache prints.
func TestResultCache(t *testing.T) {
	var version, runs, fault atomic.Int64
	var observed atomic.Int64
	handler := func(c *rpc.Call) {
		runs.Add(1)
		if fault.Load() != 0 {
			c.Fault(500, "broken")
			return
		}
		var mode string
		c.Scan("*s", &mode)
		s := c.Struct()
		s.Add("V", rpc.Int(int(version.Load())))
		s.Add("MODE", rpc.String(mode))
		a := s.Array("L")
		a.Struct("E").Add("X", rpc.Double(1.5))
	}
	newReg := func(cached bool) *rpc.Registry {
		reg := rpc.NewRegistry()
		m := rpc.Method{Name: "t.v", Handler: handler}
		if cached {
			m.Version = func() uint64 { return uint64(version.Load()) }
		}
		if err := reg.Register(m); err != nil {
			t.Fatal(err)
		}
		return reg
	}
	for _, pretty := range []bool{true, false} {
		reg := newReg(true)
		reg.SetObserver(func(string, string, time.Duration, int) { observed.Add(1) })
		s := NewServer(reg, WithPretty(pretty))
		plain := NewServer(newReg(false), WithPretty(pretty))
		ctx := context.Background()
		step := func(name, doc string, wantRun bool) {
			t.Helper()
			before, obs := runs.Load(), observed.Load()
			got, ok := s.Handle(ctx, []byte(doc), "http")
			ran := runs.Load() != before
			want, _ := plain.Handle(ctx, []byte(doc), "http")
			if !ok || string(got) != string(want) {
				t.Errorf("pretty=%v %s: reply\n%s\nwant\n%s", pretty, name, got, want)
			}
			if ran != wantRun {
				t.Errorf("pretty=%v %s: handler ran %v, want %v", pretty, name, ran, wantRun)
			}
			if observed.Load() != obs+1 {
				t.Errorf("pretty=%v %s: the observer saw %d calls", pretty, name, observed.Load()-obs)
			}
		}
		version.Store(1)
		step("first call", `{"jsonrpc":"2.0","method":"t.v","id":1}`, true)
		step("second call", `{"jsonrpc":"2.0","method":"t.v","id":1}`, true)
		step("same version", `{"jsonrpc":"2.0","method":"t.v","id":2}`, false)
		step("string id", `{"jsonrpc":"2.0","method":"t.v","id":"a\"b"}`, false)
		step("no id", `{"jsonrpc":"2.0","method":"t.v"}`, false)
		step("empty params", `{"jsonrpc":"2.0","method":"t.v","params":[],"id":3}`, false)
		step("params", `{"jsonrpc":"2.0","method":"t.v","params":["full"],"id":4}`, true)
		step("after params", `{"jsonrpc":"2.0","method":"t.v","id":5}`, false)
		version.Store(2)
		step("new version", `{"jsonrpc":"2.0","method":"t.v","id":6}`, true)
		step("new version again", `{"jsonrpc":"2.0","method":"t.v","id":7}`, true)
		step("new version kept", `{"jsonrpc":"2.0","method":"t.v","id":7}`, false)
		version.Store(3)
		fault.Store(1)
		step("fault", `{"jsonrpc":"2.0","method":"t.v","id":8}`, true)
		step("fault not cached", `{"jsonrpc":"2.0","method":"t.v","id":9}`, true)
		fault.Store(0)
		step("after the fault", `{"jsonrpc":"2.0","method":"t.v","id":10}`, true)
		step("second after the fault", `{"jsonrpc":"2.0","method":"t.v","id":10}`, true)
		step("kept after the fault", `{"jsonrpc":"2.0","method":"t.v","id":10}`, false)
		if got, _ := s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"t.v","id":11}`), "http"); !strings.Contains(string(got), "3") {
			t.Errorf("pretty=%v: reply at version 3: %s", pretty, got)
		}
	}
}
