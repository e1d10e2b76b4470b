package history

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

func TestRPC(t *testing.T) {
	s := New(2)
	reg := rpc.NewRegistry()
	if err := Register(reg, s, Exists{Keepalive: func(uri, owner string) bool { return uri == "sip:known" }}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(reg.Names(), MethodDispatcherHistory) || !slices.Contains(reg.Names(), MethodHistorySize) {
		t.Fatal("methods not listed")
	}
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		s.Add(DispatcherKey(1, "sip:a"), Record{Time: t0.Add(time.Duration(i) * time.Second), Code: 200 + i, Class: "reply",
			RTT: 1500 * time.Microsecond, Before: "AP", After: "AP"})
	}
	call := func(m string, args ...any) *rpc.Call {
		c := rpc.NewCall(context.Background(), reg.Lookup(m), "binrpc", rpc.NewArgs(args...))
		reg.Run(c)
		return c
	}
	c := call(MethodDispatcherHistory, 1, "sip:a")
	if len(c.Values()) != 2 {
		t.Fatalf("%d records, want the last 2", len(c.Values()))
	}
	m := c.Values()[0].C.Members
	if m[0].Value.S != "2026-11-23T12:00:01.000Z" || m[2].Value.I != 201 || m[5].Value.F != 1.5 {
		t.Errorf("first record %+v", m)
	}
	if f, ok := call(MethodDispatcherHistory, 1, "sip:b").LastFault(); !ok || f.Code != 404 {
		t.Errorf("unknown: %v %v", f, ok)
	}
	if f, ok := call(MethodDispatcherHistory, "x").LastFault(); !ok || f.Code != 400 {
		t.Errorf("bad params: %v %v", f, ok)
	}
	if c := call(MethodKeepaliveHistory, "sip:known", "o"); len(c.Values()) != 0 {
		t.Error("known destination without records")
	} else if _, ok := c.LastFault(); ok {
		t.Error("known destination faulted")
	}
	if v := call(MethodHistorySize).Values(); len(v) != 1 || v[0].I != 2 {
		t.Errorf("size %v", v)
	}
}
