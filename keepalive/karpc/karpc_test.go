package karpc

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/keepalive/schedule"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// fakeProber answers 200 to URIs containing "up", 404 to the others.
type fakeProber struct{ calls atomic.Int64 }

func (f *fakeProber) Probe(_ context.Context, t *probe.Target) probe.Result {
	f.calls.Add(1)
	if strings.Contains(t.URI(), "up") {
		return probe.Result{Class: probe.ClassReply, Code: 200, Reason: "OK"}
	}
	return probe.Result{Class: probe.ClassReply, Code: 404, Reason: "Not Found"}
}

func dump(v rpc.Value) string {
	switch v.Kind {
	case rpc.KindInt:
		return strconv.FormatInt(v.I, 10)
	case rpc.KindString:
		return strconv.Quote(v.S)
	case rpc.KindStruct:
		var parts []string
		for _, m := range v.C.Members {
			parts = append(parts, m.Name+"="+dump(m.Value))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%v", v.Kind)
}

func result(c *rpc.Call) string {
	if f, _, ok := c.FirstFault(); ok {
		return fmt.Sprintf("fault %d %s", f.Code, f.Message)
	}
	var parts []string
	for _, v := range c.Values() {
		parts = append(parts, dump(v))
	}
	return strings.Join(parts, " ; ")
}

type fixture struct {
	reg *rpc.Registry
	m   *keepalive.Module
}

// newFixture makes a Module that is never run, with dests as modparams.
func newFixture(t *testing.T, dests ...string) *fixture {
	t.Helper()
	cfg := keepalive.DefaultConfig()
	for _, d := range dests {
		cfg.Destinations = append(cfg.Destinations, keepalive.ConfigDestination{URI: d})
	}
	m, err := keepalive.New(cfg, &fakeProber{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: rpc.NewRegistry(), m: m}
	if err := Register(f.reg, m); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) call(t *testing.T, method string, args ...any) string {
	t.Helper()
	m := f.reg.Lookup(method)
	if m == nil {
		t.Fatalf("%s not registered", method)
	}
	c := rpc.NewCall(context.Background(), m, "test", rpc.NewArgs(args...))
	f.reg.Run(c)
	return result(c)
}

func uris(m *keepalive.Module) string {
	var us []string
	for _, d := range m.List() {
		us = append(us, d.URI+"/"+d.Owner)
	}
	return strings.Join(us, ",")
}

// TestRegister: §9 names, help strings, no RET_ARRAY; is_alive documented.
func TestRegister(t *testing.T) {
	f := newFixture(t)
	want := map[string]string{
		"keepalive.list":  "Return the content of keepalive destination groups",
		"keepalive.add":   "add new destination to keepalive memory. Usage: keepalive.add sip:user@domain listname",
		"keepalive.del":   "delete destination from keepalive memory. Usage: keepalive.del sip:user@domain listname",
		"keepalive.get":   "get destination details from keepalive memory. Usage: keepalive.get sip:user@domain listname",
		"keepalive.flush": "Flush data from keepalive memory. Usage: keepalive.flush",
	}
	for name, help := range want {
		m := f.reg.Lookup(name)
		if m == nil || m.Help != help || m.Flags != 0 {
			t.Errorf("%s: %+v", name, m)
		}
	}
	if m := f.reg.Lookup("keepalive.is_alive"); m == nil || m.Flags != 0 || !strings.Contains(m.Help, "-1 not found") {
		t.Errorf("is_alive: %+v", m)
	}
	if err := Register(f.reg, f.m); err == nil {
		t.Error("second registration accepted")
	}
}

// TestHandlers: §9 replies and the fault table, §8 ka_is_alive mapping.
func TestHandlers(t *testing.T) {
	const a = "sip:127.0.0.1:5071"
	tests := []struct {
		name   string
		method string
		args   []any
		want   string
		list   string // uris after the call
	}{
		{"add", MethodAdd, []any{"sip:10.0.0.1", "me"}, `"Ok. Destination added."`, "sip:10.0.0.1/me,sip:127.0.0.1:5071/_params"},
		{"add normalises", MethodAdd, []any{"10.0.0.1", "me"}, `"Ok. Destination added."`, "sip:10.0.0.1/me,sip:127.0.0.1:5071/_params"},
		{"add same uri other owner", MethodAdd, []any{a, "me"}, `"Ok. Destination added."`, "sip:127.0.0.1:5071/me,sip:127.0.0.1:5071/_params"},
		{"add duplicate", MethodAdd, []any{a, "_params"}, "fault 500 couldn't add data to list", "sip:127.0.0.1:5071/_params"},
		{"add bad uri", MethodAdd, []any{"sip:", "me"}, "fault 500 couldn't add data to list", "sip:127.0.0.1:5071/_params"},
		{"add one param", MethodAdd, []any{a}, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"add no params", MethodAdd, nil, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"add int owner", MethodAdd, []any{a, 1}, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"add empty owner", MethodAdd, []any{a, ""}, "fault 500 parameter is len less than 1", "sip:127.0.0.1:5071/_params"},
		{"add empty uri", MethodAdd, []any{"", "me"}, "fault 500 parameter is len less than 1", "sip:127.0.0.1:5071/_params"},
		{"add extra params ignored", MethodAdd, []any{"sip:10.0.0.2", "me", "x", 3}, `"Ok. Destination added."`, "sip:10.0.0.2/me,sip:127.0.0.1:5071/_params"},
		{"del", MethodDel, []any{a, "_params"}, `"Ok. Destination removed."`, ""},
		{"del needs scheme", MethodDel, []any{"127.0.0.1:5071", "_params"}, "fault 500 couldn't delete data from list", "sip:127.0.0.1:5071/_params"},
		{"del wrong owner", MethodDel, []any{a, "me"}, "fault 500 couldn't delete data from list", "sip:127.0.0.1:5071/_params"},
		{"del int uri", MethodDel, []any{5, "me"}, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"del empty", MethodDel, []any{a, ""}, "fault 500 parameter is len less than 1", "sip:127.0.0.1:5071/_params"},
		{"get", MethodGet, []any{a, "_params"}, `{uri="sip:127.0.0.1:5071" owner="_params" state=0}`, "sip:127.0.0.1:5071/_params"},
		{"get not found", MethodGet, []any{a, "x"}, "fault 500 couldn't get data from list", "sip:127.0.0.1:5071/_params"},
		{"get one param", MethodGet, []any{a}, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"get empty", MethodGet, []any{"", ""}, "fault 500 parameter is len less than 1", "sip:127.0.0.1:5071/_params"},
		{"flush", MethodFlush, []any{"ignored"}, `"Ok. Destination list flushed."`, ""},
		{"is_alive unknown is 1", MethodIsAlive, []any{"127.0.0.1:5071"}, "1", "sip:127.0.0.1:5071/_params"},
		{"is_alive with scheme", MethodIsAlive, []any{a}, "1", "sip:127.0.0.1:5071/_params"},
		{"is_alive not found", MethodIsAlive, []any{"sip:127.0.0.1:1"}, "-1", "sip:127.0.0.1:5071/_params"},
		{"is_alive missing", MethodIsAlive, nil, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
		{"is_alive int", MethodIsAlive, []any{1}, "fault 500 Not enough parameters or wrong format", "sip:127.0.0.1:5071/_params"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, a)
			if got := f.call(t, tc.method, tc.args...); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if got := uris(f.m); got != tc.list {
				t.Errorf("list %s, want %s", got, tc.list)
			}
		})
	}
}

// TestList: §9 keepalive.list, one top-level struct per destination,
// newest first, ctime strings with "\n" in time.Local, epoch when never
// set; an empty list adds nothing. With probing: up and down states and
// their times; is_alive 1 and 2.
func TestList(t *testing.T) {
	f := newFixture(t)
	if got := f.call(t, MethodList); got != "" {
		t.Errorf("empty list: %q", got)
	}
	// Run a module on a manual clock so that the times are known.
	start := time.Date(2026, 11, 22, 22, 55, 59, 0, time.UTC)
	mc := schedule.NewManualClock(start)
	sched := schedule.New(schedule.WithClock(mc), schedule.WithQuantum(0))
	fp := &fakeProber{}
	m, err := keepalive.New(keepalive.DefaultConfig(), fp, keepalive.WithScheduler(sched))
	if err != nil {
		t.Fatal(err)
	}
	f = &fixture{reg: rpc.NewRegistry(), m: m}
	if err := Register(f.reg, m); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{{"sip:up.invalid:5060", "o1"}, {"sip:down.invalid:5060", "o2"}, {"sip:later.invalid", "o3"}} {
		if got := f.call(t, MethodAdd, args...); got != `"Ok. Destination added."` {
			t.Fatal(got)
		}
	}
	epoch := Ctime(time.Time{})
	before := f.call(t, MethodList)
	wantBefore := fmt.Sprintf(`{uri="sip:later.invalid" owner="o3" last checked=%[1]q last up=%[1]q last down=%[1]q state=0} ; `+
		`{uri="sip:down.invalid:5060" owner="o2" last checked=%[1]q last up=%[1]q last down=%[1]q state=0} ; `+
		`{uri="sip:up.invalid:5060" owner="o1" last checked=%[1]q last up=%[1]q last down=%[1]q state=0}`, epoch)
	if before != wantBefore {
		t.Errorf("list before probing:\n got %s\nwant %s", before, wantBefore)
	}
	// Only the first two get probed: the third is deleted first.
	if got := f.call(t, MethodDel, "sip:later.invalid", "o3"); got != `"Ok. Destination removed."` {
		t.Fatal(got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	applied := func() bool {
		up, _ := m.Get("sip:up.invalid:5060", "o1")
		down, _ := m.Get("sip:down.invalid:5060", "o2")
		return up.State == keepalive.StateUp && down.State == keepalive.StateDown
	}
	// The scheduler spreads a burst's first probes over one interval:
	// step the clock until both were probed (bounded).
	for i := 0; i < 400 && !applied(); i++ {
		waitFor(t, "timers armed", func() bool { return mc.Timers() > 0 })
		mc.Advance(100 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "two probes applied", applied)
	up, _ := m.Get("sip:up.invalid:5060", "o1")
	down, _ := m.Get("sip:down.invalid:5060", "o2")
	if up.LastChecked.Before(start.Add(keepalive.FirstTryDelay)) || !up.LastUp.Equal(up.LastChecked) ||
		down.LastChecked.IsZero() || !down.LastDown.Equal(down.LastChecked) {
		t.Fatalf("statuses %+v %+v", up.Status, down.Status)
	}
	after := f.call(t, MethodList)
	wantAfter := fmt.Sprintf(`{uri="sip:down.invalid:5060" owner="o2" last checked=%[1]q last up=%[2]q last down=%[1]q state=2} ; `+
		`{uri="sip:up.invalid:5060" owner="o1" last checked=%[3]q last up=%[3]q last down=%[2]q state=1}`,
		Ctime(down.LastChecked), epoch, Ctime(up.LastChecked))
	if after != wantAfter {
		t.Errorf("list after probing:\n got %s\nwant %s", after, wantAfter)
	}
	for _, tc := range []struct{ arg, want string }{{"up.invalid:5060", "1"}, {"down.invalid:5060", "2"}, {"later.invalid", "-1"}} {
		if got := f.call(t, MethodIsAlive, tc.arg); got != tc.want {
			t.Errorf("is_alive %s: %s, want %s", tc.arg, got, tc.want)
		}
	}
	if got := f.call(t, MethodGet, "sip:down.invalid:5060", "o2"); got != `{uri="sip:down.invalid:5060" owner="o2" state=2}` {
		t.Errorf("get: %s", got)
	}
}

// TestCtime: C's ctime() layout: day padded with a space, "\n" at the end,
// time.Local.
func TestCtime(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "Thu Jan  1 00:00:00 1970\n"},
		{time.Unix(0, 0), "Thu Jan  1 00:00:00 1970\n"},
		{time.Date(2026, 11, 22, 22, 55, 59, 0, time.UTC), "Sun Nov 22 22:55:59 2026\n"},
	} {
		if got := Ctime(tc.in); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
	time.Local = time.FixedZone("X", 3600)
	if got := Ctime(time.Time{}); got != "Thu Jan  1 01:00:00 1970\n" {
		t.Errorf("epoch at +1: %q", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
