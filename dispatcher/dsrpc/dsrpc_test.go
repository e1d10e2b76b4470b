package dsrpc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// dump renders a reply value as a compact text tree: structs {k=v ...},
// arrays [k=v ...] (named members keep their names), scalars with their
// kind where the codecs tell them apart.
func dump(v rpc.Value) string {
	switch v.Kind {
	case rpc.KindInt:
		return strconv.FormatInt(v.I, 10)
	case rpc.KindUint:
		return "u" + strconv.FormatInt(v.I, 10)
	case rpc.KindLong:
		return "l" + strconv.FormatInt(v.I, 10)
	case rpc.KindDouble:
		return "f" + strconv.FormatFloat(v.F, 'f', -1, 64)
	case rpc.KindString:
		return strconv.Quote(v.S)
	case rpc.KindNull:
		return "null"
	case rpc.KindStruct, rpc.KindArray:
		var b strings.Builder
		open, end := "{", "}"
		if v.Kind == rpc.KindArray {
			open, end = "[", "]"
		}
		b.WriteString(open)
		for i, m := range v.C.Members {
			if i > 0 {
				b.WriteByte(' ')
			}
			if m.Named {
				b.WriteString(m.Name + "=")
			}
			b.WriteString(dump(m.Value))
		}
		b.WriteString(end)
		return b.String()
	}
	return fmt.Sprintf("%v(%d)", v.Kind, v.I)
}

// result is a call's outcome: "fault 500 msg" or its top-level values.
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

// fixture is a Dispatcher on a store loaded from a list text, with a
// settable clock.
type fixture struct {
	reg   *rpc.Registry
	d     *Dispatcher
	store *dispatcher.Store
	now   atomic.Int64
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func opts() dispatcher.Options {
	o := dispatcher.DefaultOptions()
	o.Resolver = dispatcher.NoDNS{}
	o.Listen = []dispatcher.ListenSocket{{Proto: "udp", Host: "127.0.0.1", Port: 5090}}
	return o
}

func load(t *testing.T, list string) *dispatcher.Sets {
	t.Helper()
	s, _, err := dispatcher.Load("test.list", strings.NewReader(list), opts())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFixture(t *testing.T, list string, mod func(*Dispatcher)) *fixture {
	t.Helper()
	f := &fixture{reg: rpc.NewRegistry(), store: dispatcher.NewStore(load(t, list))}
	f.now.Store(1_700_000_000)
	f.d = &Dispatcher{Store: f.store, Options: opts(), Logger: quiet,
		Now: func() time.Time { return time.Unix(f.now.Load(), 0) }}
	if mod != nil {
		mod(f.d)
	}
	if err := Register(f.reg, f.d); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) call(t *testing.T, method string, args ...any) *rpc.Call {
	t.Helper()
	m := f.reg.Lookup(method)
	if m == nil {
		t.Fatalf("%s not registered", method)
	}
	c := rpc.NewCall(context.Background(), m, "test", rpc.NewArgs(args...))
	f.reg.Run(c)
	return c
}

func (f *fixture) flags(group, i int) string {
	set, ok := f.store.Sets().Set(group)
	if !ok || i >= set.Len() {
		return "-"
	}
	return dispatcher.FlagsString(set.At(i).State().Flags())
}

// layout is set ids and URIs in traversal order.
func layout(s *dispatcher.Sets) string {
	var sets []string
	for set := range s.All() {
		var us []string
		for _, d := range set.All() {
			us = append(us, d.URI)
		}
		sets = append(sets, strconv.Itoa(set.ID())+":"+strings.Join(us, ","))
	}
	return strings.Join(sets, "|")
}

const exampleList = `1 sip:10.0.0.1:5060 0 0
1 sip:10.0.0.2:5060 8 5 duid=gw2;weight=50;socket=udp:127.0.0.1:5090
2 sip:127.0.0.1:5071;transport=udp 8 0 duid=px1
`

const (
	dest2 = `DEST={URI="sip:127.0.0.1:5071;transport=udp" FLAGS="AP" PRIORITY=0 ATTRS={BODY="duid=px1" DUID="px1" MAXLOAD=0 WEIGHT=0 RWEIGHT=0 SOCKET=null SOCKNAME=null OBPROXY=null}}`
	dest1 = `DEST={URI="sip:10.0.0.2:5060" FLAGS="AP" PRIORITY=5 ATTRS={BODY="duid=gw2;weight=50;socket=udp:127.0.0.1:5090" DUID="gw2" MAXLOAD=0 WEIGHT=50 RWEIGHT=0 SOCKET="udp:127.0.0.1:5090" SOCKNAME=null OBPROXY=null}}`
	dest0 = `DEST={URI="sip:10.0.0.1:5060" FLAGS="AX" PRIORITY=0}`
)

// TestRegister: §6 the eight 5.6.3 names, §6.11 help texts, no RET_ARRAY;
// 6.0's oclist with RET_ARRAY (§6.10).
func TestRegister(t *testing.T) {
	f := newFixture(t, exampleList, nil)
	want := map[string]string{
		"dispatcher.list": "Return the content of dispatcher sets", "dispatcher.reload": "Reload dispatcher destination sets",
		"dispatcher.set_state": "Set the state of a destination by address", "dispatcher.set_duid_state": "Set the state of a destination by duid",
		"dispatcher.ping_active": "Manage setting on/off the pinging (keepalive) of destinations",
		"dispatcher.add":         "Add a destination address in memory", "dispatcher.remove": "Remove a destination address from memory",
		"dispatcher.hash": "Compute the hash if the values",
	}
	n := -1 // dispatcher.oclist, checked below
	for _, name := range f.reg.Names() {
		if strings.HasPrefix(name, "dispatcher.") {
			n++
		}
	}
	if n != len(want) {
		t.Fatalf("%d dispatcher methods, want %d", n, len(want))
	}
	for name, help := range want {
		m := f.reg.Lookup(name)
		if m == nil || m.Help != help || m.Flags != 0 {
			t.Errorf("%s: %+v", name, m)
		}
	}
	if m := f.reg.Lookup("dispatcher.oclist"); m == nil || m.Flags != rpc.RetArray || m.Help != HelpOCList {
		t.Errorf("dispatcher.oclist: %+v", m)
	}
	if err := Register(f.reg, f.d); err == nil {
		t.Error("second registration accepted")
	}
}

// TestList: §6.3 the example list in all modes, member order, ATTRS only
// with attrs, nulls, LATENCY, RUNTIME, full-mode fields, the fault.
func TestList(t *testing.T) {
	normal := `{NRSETS=2 RECORDS=[SET={ID=2 TARGETS=[` + dest2 + `]} SET={ID=1 TARGETS=[` + dest1 + ` ` + dest0 + `]}]}`
	short := `{NRSETS=2 RECORDS=[SET={ID=2 TARGETS=[DEST={URI="sip:127.0.0.1:5071;transport=udp" FLAGS="AP" PRIORITY=0}]} SET={ID=1 TARGETS=[DEST={URI="sip:10.0.0.2:5060" FLAGS="AP" PRIORITY=5} ` + dest0 + `]}]}`
	tests := []struct {
		name string
		list string
		mod  func(*Dispatcher)
		args []any
		want string
	}{
		{name: "normal", list: exampleList, want: normal},
		{name: "unknown mode is normal", list: exampleList, args: []any{"bogus"}, want: normal},
		{name: "non-string mode is normal", list: exampleList, args: []any{1}, want: normal},
		{name: "short", list: exampleList, args: []any{"short"}, want: short},
		{name: "SHORT case-insensitive", list: exampleList, args: []any{"ShOrT"}, want: short},
		{name: "full", list: "5 sip:10.0.0.9:5070;transport=tcp 16 0 duid=\n", args: []any{"FULL"},
			want: `{NRSETS=1 RECORDS=[SET={ID=5 TARGETS=[DEST={URI="sip:10.0.0.9:5070;transport=tcp" FLAGS="AX" PRIORITY=0 HOST="10.0.0.9" IPADDR="" PORT=5070 PROTOID=2 DNSTIME_SEC=l0 DNSTIME_USEC=l0 ATTRS={BODY="duid=" DUID="" MAXLOAD=0 WEIGHT=0 RWEIGHT=0 SOCKET=null SOCKNAME=null OBPROXY=null}}]}]}`},
		{name: "full resolved", list: "5 sip:10.0.0.9 0 0\n", args: []any{"full"},
			want: `{NRSETS=1 RECORDS=[SET={ID=5 TARGETS=[DEST={URI="sip:10.0.0.9" FLAGS="AX" PRIORITY=0 HOST="10.0.0.9" IPADDR="10.0.0.9" PORT=0 PROTOID=0 DNSTIME_SEC=l0 DNSTIME_USEC=l0}]}]}`},
		{name: "latency and runtime", list: "1 sip:10.0.0.1 8 0 latency=24\n", args: []any{"short"},
			mod:  func(c *Dispatcher) { c.LatencyStats, c.HashSize = true, 16 },
			want: `{NRSETS=1 RECORDS=[SET={ID=1 TARGETS=[DEST={URI="sip:10.0.0.1" FLAGS="AP" PRIORITY=0 LATENCY={AVG=f24 STD=f0 EST=f24 MAX=24 TIMEOUT=0} RUNTIME={DLGLOAD=0}}]}]}`},
		{name: "no sets", list: "", want: "fault 500 No Destination Sets"},
		{name: "no sets with mode", list: "# nothing\n", args: []any{"full"}, want: "fault 500 No Destination Sets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.list, tc.mod)
			if got := result(f.call(t, MethodList, tc.args...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestListContainers: §6.3 RECORDS and TARGETS are arrays whose elements
// are named SET and DEST structs (BINRPC prints them as repeated struct
// members, JSON as one-member objects); DNSTIME is a long; unset attrs are
// Null (BINRPC "<null string>", JSON null).
func TestListContainers(t *testing.T) {
	f := newFixture(t, exampleList, nil)
	c := f.call(t, MethodList, "full")
	vs := c.Values()
	if len(vs) != 1 || vs[0].Kind != rpc.KindStruct {
		t.Fatalf("values %v", vs)
	}
	recs := vs[0].C.Members[1]
	if recs.Name != "RECORDS" || recs.Value.Kind != rpc.KindArray || !recs.Value.C.IsArray() {
		t.Fatalf("RECORDS %+v", recs)
	}
	set := recs.Value.C.Members[0]
	if !set.Named || set.Name != "SET" || set.Value.Kind != rpc.KindStruct {
		t.Fatalf("SET %+v", set)
	}
	targets := set.Value.C.Members[1]
	if targets.Name != "TARGETS" || targets.Value.Kind != rpc.KindArray {
		t.Fatalf("TARGETS %+v", targets)
	}
	dest := targets.Value.C.Members[0]
	if dest.Name != "DEST" || dest.Value.Kind != rpc.KindStruct {
		t.Fatalf("DEST %+v", dest)
	}
	var names []string
	for _, m := range dest.Value.C.Members {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, ","); got != "URI,FLAGS,PRIORITY,HOST,IPADDR,PORT,PROTOID,DNSTIME_SEC,DNSTIME_USEC,ATTRS" {
		t.Errorf("DEST members %s", got)
	}
	if k := dest.Value.C.Members[7].Value.Kind; k != rpc.KindLong {
		t.Errorf("DNSTIME_SEC kind %v", k)
	}
}

// TestSetState: §6.4 parsing, matching, faults and the §4.4 effect.
func TestSetState(t *testing.T) {
	const list = "1 sip:127.0.0.1:5071 0 0 duid=d1\n1 sip:127.0.0.1:5072 0 0 duid=d2\n1 sip:127.0.0.1:5072 0 0 duid=d3\n2 sip:10.0.0.1 8 0\n"
	// array order of set 1: 5072(d3), 5072(d2), 5071(d1)
	tests := []struct {
		name   string
		method string
		args   []any
		want   string
		flags  string // set 1 in array order, then set 2
	}{
		{"inactive by uri", MethodSetState, []any{"i", 1, "sip:127.0.0.1:5071"}, "", "AX AX IX|AP"},
		{"case-insensitive uri, first match only", MethodSetState, []any{"ip", 1, "SIP:127.0.0.1:5072"}, "", "IP AX AX|AP"},
		{"no normalisation", MethodSetState, []any{"i", 1, "127.0.0.1:5071"}, "fault 500 State Update Failed", "AX AX AX|AP"},
		{"trailing chars ignored", MethodSetState, []any{"tpxyz", 1, "sip:127.0.0.1:5071"}, "", "AX AX TP|AP"},
		{"disabled ignores p", MethodSetState, []any{"DP", 1, "sip:127.0.0.1:5071"}, "", "AX AX DX|AP"},
		{"digit 0", MethodSetState, []any{"0", 1, "sip:127.0.0.1:5071"}, "", "AX AX IX|AP"},
		{"digit 2", MethodSetState, []any{"2", 1, "sip:127.0.0.1:5071"}, "", "AX AX DX|AP"},
		{"digit 3P", MethodSetState, []any{"3P", 1, "sip:127.0.0.1:5071"}, "", "AX AX TP|AP"},
		{"int state auto-converted", MethodSetState, []any{0, 1, "all"}, "", "IX IX IX|AP"},
		{"active clears probing", MethodSetState, []any{"a", 2, "sip:10.0.0.1"}, "", "AX AX AX|AX"},
		{"active probing", MethodSetState, []any{"1p", 2, "sip:10.0.0.1"}, "", "AX AX AX|AP"},
		{"all", MethodSetState, []any{"ip", 1, "all"}, "", "IP IP IP|AP"},
		{"all of a missing group is ok", MethodSetState, []any{"i", 99, "all"}, "", "AX AX AX|AP"},
		{"ALL is an address", MethodSetState, []any{"i", 1, "ALL"}, "fault 500 State Update Failed", "AX AX AX|AP"},
		{"unknown group", MethodSetState, []any{"i", 3, "sip:127.0.0.1:5071"}, "fault 500 State Update Failed", "AX AX AX|AP"},
		{"wrong group", MethodSetState, []any{"i", 2, "sip:127.0.0.1:5071"}, "fault 500 State Update Failed", "AX AX AX|AP"},
		{"unknown state", MethodSetState, []any{"x", 1, "all"}, "fault 500 Unknown State Value", "AX AX AX|AP"},
		{"empty state", MethodSetState, []any{"", 1, "all"}, "fault 500 Invalid State Parameter", "AX AX AX|AP"},
		{"two params", MethodSetState, []any{"i", 1}, "fault 500 Invalid Parameters", "AX AX AX|AP"},
		{"no params", MethodSetState, nil, "fault 500 Invalid Parameters", "AX AX AX|AP"},
		{"string group", MethodSetState, []any{"i", "1", "all"}, "fault 500 Invalid Parameters", "AX AX AX|AP"},
		{"int address", MethodSetState, []any{"i", 1, 5}, "fault 500 Invalid Parameters", "AX AX AX|AP"},
		{"duid", MethodSetDUIDState, []any{"i", 1, "D2"}, "", "AX IX AX|AP"},
		{"duid all", MethodSetDUIDState, []any{"d", 1, "all"}, "", "DX DX DX|AP"},
		{"duid no match", MethodSetDUIDState, []any{"i", 1, "d"}, "fault 500 State Update Failed", "AX AX AX|AP"},
		{"duid empty matches no-duid dest", MethodSetDUIDState, []any{"i", 2, ""}, "", "AX AX AX|IX"},
		{"duid unknown state", MethodSetDUIDState, []any{"q", 1, "d1"}, "fault 500 Unknown State Value", "AX AX AX|AP"},
		{"duid bad params", MethodSetDUIDState, []any{"i"}, "fault 500 Invalid Parameters", "AX AX AX|AP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, list, nil)
			want := tc.want
			if want == "" {
				want = `"Ok. Dispatcher state updated."`
			}
			if got := result(f.call(t, tc.method, tc.args...)); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			got := f.flags(1, 0) + " " + f.flags(1, 1) + " " + f.flags(1, 2) + "|" + f.flags(2, 0)
			if got != tc.flags {
				t.Errorf("flags %s, want %s", got, tc.flags)
			}
		})
	}
}

// TestSetStateKeepsOtherBits: §4.1/§4.4 only the state mask is replaced;
// the counter is not reset (checked with the Prober in TestSetStateProber).
func TestSetStateKeepsOtherBits(t *testing.T) {
	f := newFixture(t, "1 sip:10.0.0.1 48 0\n", nil) // 16 no-DNS + 32
	st := f.store.Sets().At(0).At(0).State()
	f.call(t, MethodSetState, "ip", 1, "all")
	if got := st.Flags(); got != 32|dispatcher.FlagInactive|dispatcher.FlagProbing {
		t.Errorf("flags %d", got)
	}
}

// TestHash: §6.9 and the §7.2 test vectors; hashid and slot are 'u'
// (BINRPC shows hashid -411503614, JSON 3883463682).
func TestHash(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"bob server.com", []any{4, "bob", "server.com"}, "{hashid=u3883463682 slot=u2}"},
		{"alice", []any{0, "alice", "server.com"}, "{hashid=u1412806172 slot=u0}"},
		{"one value", []any{10, "bob"}, "{hashid=u7222211 slot=u1}"},
		{"empty", []any{3, ""}, "{hashid=u1 slot=u1}"},
		{"utf-8 sign extension", []any{1, "é"}, "{hashid=u3760405700 slot=u0}"},
		{"utf-8 long", []any{-5, "ÿþýé€"}, "{hashid=u2517210750 slot=u0}"},
		{"one param", []any{4}, "fault 500 Invalid Parameters"},
		{"string nslots", []any{"4", "bob"}, "fault 500 Invalid Parameters"},
		{"int value", []any{4, 7}, "fault 500 Invalid Parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, exampleList, nil)
			if got := result(f.call(t, MethodHash, tc.args...)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// BINRPC has no unsigned: the 'u' value read as int32 is kamcmd's.
	f := newFixture(t, exampleList, nil)
	c := f.call(t, MethodHash, 4, "bob", "server.com")
	if v := c.Values()[0].C.Members[0].Value; v.Kind != rpc.KindUint || int32(uint32(v.I)) != -411503614 {
		t.Errorf("hashid %+v", v)
	}
}

// TestOCList: §6.10 one struct per destination of the group in list
// order, the attrs clamped as 6.0 loads them (§2.4), the two faults.
func TestOCList(t *testing.T) {
	const list = `1 sip:10.0.0.1:5060 0 0
1 sip:10.0.0.2:5060 8 5 ocmin=10;ocmax=80;ocrate=50
2 sip:10.0.0.3:5060 0 0 ocmax=150;ocrate=120
3 sip:10.0.0.4:5060 0 0 ocmin=90;ocmax=50;ocrate=70
`
	oc := func(group int, uri string, flags, prio, rate, lo, hi int) string {
		return fmt.Sprintf("{group=%d uri=%q flags=%d priority=%d ocrate=u%d ocidx=u0 ocseq=u0 octime_sec=l0 octime_usec=l0 ocmin=u%d ocmax=u%d}",
			group, uri, flags, prio, rate, lo, hi)
	}
	tests := []struct {
		name string
		args []any
		want string
	}{
		// List order is reversed within a set (§2.5), as dispatcher.list.
		{"group 1", []any{1}, oc(1, "sip:10.0.0.2:5060", 8, 5, 50, 10, 80) + " ; " + oc(1, "sip:10.0.0.1:5060", 0, 0, 0, 0, 100)},
		{"ocmax over 100, ocrate over 100", []any{2}, oc(2, "sip:10.0.0.3:5060", 0, 0, 0, 0, 100)},
		{"ocmin above ocmax", []any{3}, oc(3, "sip:10.0.0.4:5060", 0, 0, 50, 0, 50)},
		{"no such group", []any{7}, "fault 404 Destination Group Not Found"},
		{"no group", nil, "fault 500 Invalid Parameters"},
		{"string group", []any{"1"}, "fault 500 Invalid Parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, list, nil)
			if got := result(f.call(t, MethodOCList, tc.args...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// flags is the live state: a set_state shows in the next oclist.
	f := newFixture(t, list, nil)
	if got := result(f.call(t, MethodSetState, "d", 1, "sip:10.0.0.1:5060")); got != `"Ok. Dispatcher state updated."` {
		t.Fatalf("set_state: %s", got)
	}
	if got := result(f.call(t, MethodOCList, 2)); got != oc(2, "sip:10.0.0.3:5060", 0, 0, 0, 0, 100) {
		t.Errorf("after set_state: %s", got)
	}
	if got := result(f.call(t, MethodOCList, 1)); !strings.Contains(got, `uri="sip:10.0.0.1:5060" flags=4 `) {
		t.Errorf("after set_state d: %s", got)
	}
}

// TestPingActive: §6.8 without a Prober (probing off).
func TestPingActive(t *testing.T) {
	f := newFixture(t, exampleList, nil)
	steps := []struct {
		name string
		args []any
		want string
	}{
		{"read", nil, "{OldPingState=1}"},
		{"minus one reads", []any{-1}, "{OldPingState=1}"},
		{"string reads", []any{"1"}, "{OldPingState=1}"},
		{"set 5", []any{5}, "{NewPingState=5 OldPingState=1}"},
		{"read 5", nil, "{OldPingState=5}"},
		{"set 0", []any{0}, "{NewPingState=0 OldPingState=5}"},
		{"set -2", []any{-2}, "{NewPingState=-2 OldPingState=0}"},
	}
	for _, s := range steps {
		if got := result(f.call(t, MethodPingActive, s.args...)); got != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
	}
}

// blockPinger answers each probe with 404 once the test releases a token.
type blockPinger struct {
	tokens chan struct{}
	calls  atomic.Int64
}

func (b *blockPinger) Probe(ctx context.Context, _ *probe.Target) probe.Result {
	b.calls.Add(1)
	select {
	case <-b.tokens:
		return probe.Result{Class: probe.ClassReply, Code: 404, Reason: "Not Found", RTT: time.Millisecond}
	case <-ctx.Done():
		return probe.Result{Class: probe.ClassCanceled}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSetStateProber: §4.3 last row, "set_state ap after 2 of 3 failures:
// next failure → IP immediately (counter not reset by RPC)", on a running
// Prober; and §6.8 ping_active goes to the Prober.
func TestSetStateProber(t *testing.T) {
	store := dispatcher.NewStore(load(t, "1 sip:192.0.2.1 0 0\n"))
	bp := &blockPinger{tokens: make(chan struct{})}
	p := dispatcher.NewProber(store, bp, dispatcher.ProbingConfig{
		Probing:  dispatcher.Probing{Mode: 1, ProbingThreshold: 3, InactiveThreshold: 1},
		Interval: 20 * time.Millisecond, Timeout: 10 * time.Second})
	reg := rpc.NewRegistry()
	d := &Dispatcher{Store: store, Prober: p}
	if err := Register(reg, d); err != nil {
		t.Fatal(err)
	}
	call := func(method string, args ...any) string {
		c := rpc.NewCall(context.Background(), reg.Lookup(method), "test", rpc.NewArgs(args...))
		reg.Run(c)
		return result(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	st := store.Sets().At(0).At(0).State()
	release := func() {
		select {
		case bp.tokens <- struct{}{}:
		case <-time.After(10 * time.Second):
			t.Fatal("no probe waiting")
		}
	}
	release()
	waitFor(t, "first failure", func() bool { return st.Counter() == 1 })
	if got := dispatcher.FlagsString(st.Flags()); got != "TP" {
		t.Fatalf("after 1 failure %s", got)
	}
	release()
	waitFor(t, "second failure", func() bool { return st.Counter() == 2 })
	if got := call(MethodSetState, "ap", 1, "sip:192.0.2.1"); got != `"Ok. Dispatcher state updated."` {
		t.Fatal(got)
	}
	if got, n := dispatcher.FlagsString(st.Flags()), st.Counter(); got != "AP" || n != 2 {
		t.Fatalf("after set_state %s counter %d", got, n)
	}
	release()
	waitFor(t, "IP on the third failure", func() bool { return dispatcher.FlagsString(st.Flags()) == "IP" })

	if got := call(MethodPingActive, 0); got != "{NewPingState=0 OldPingState=1}" || p.PingActive() != 0 {
		t.Errorf("ping_active %s, prober %d", got, p.PingActive())
	}
	if got := call(MethodPingActive); got != "{OldPingState=0}" {
		t.Errorf("ping_active read %s", got)
	}
}

// TestAddRemove: §6.6, §6.7 replies, faults, rebuild and Store swap, with
// the rate limit off.
func TestAddRemove(t *testing.T) {
	const list = "1 sip:127.0.0.1:5071\n1 sip:127.0.0.1:5072\n"
	tests := []struct {
		name     string
		loadMode int
		method   string
		args     []any
		want     string
		layout   string
	}{
		{"add", 0, MethodAdd, []any{1, "sip:127.0.0.1:5080"}, "Ok. Dispatcher destination added.", "1:sip:127.0.0.1:5080,sip:127.0.0.1:5071,sip:127.0.0.1:5072"},
		{"add new set", 0, MethodAdd, []any{7, "127.0.0.1:5080", 8, 3, "duid=x"}, "Ok. Dispatcher destination added.", "7:sip:127.0.0.1:5080|1:sip:127.0.0.1:5071,sip:127.0.0.1:5072"},
		{"add rejected mode 0", 0, MethodAdd, []any{1, "sip:nohost.invalid"}, "Ok. Dispatcher destination added.", "1:sip:127.0.0.1:5071,sip:127.0.0.1:5072"},
		{"add rejected mode 1", 1, MethodAdd, []any{1, "sip:nohost.invalid"}, "fault 500 Adding dispatcher dst failed", "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071"},
		{"add one param", 0, MethodAdd, []any{1}, "fault 500 Invalid Parameters", "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071"},
		{"add string group", 0, MethodAdd, []any{"1", "sip:1.2.3.4"}, "fault 500 Invalid Parameters", "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071"},
		{"remove normalised", 0, MethodRemove, []any{1, "127.0.0.1:5071"}, "Ok. Dispatcher destination removed.", "1:sip:127.0.0.1:5072"},
		{"remove no match", 0, MethodRemove, []any{1, "sip:127.0.0.1:5999"}, "Ok. Dispatcher destination removed.", "1:sip:127.0.0.1:5071,sip:127.0.0.1:5072"},
		{"remove case-sensitive", 0, MethodRemove, []any{1, "SIP:127.0.0.1:5071"}, "Ok. Dispatcher destination removed.", "1:sip:127.0.0.1:5071,sip:127.0.0.1:5072"},
		{"remove unresolvable", 0, MethodRemove, []any{1, "sip:nonexistent.invalid"}, "fault 500 Removing dispatcher dst failed", "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071"},
		{"remove one param", 0, MethodRemove, []any{1}, "fault 500 Invalid Parameters", "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, list, func(c *Dispatcher) { c.Options.LoadMode = tc.loadMode })
			got := result(f.call(t, tc.method, tc.args...))
			if !strings.HasPrefix(got, "fault") {
				got, _ = strconv.Unquote(got)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if l := layout(f.store.Sets()); l != tc.layout {
				t.Errorf("layout %s, want %s", l, tc.layout)
			}
		})
	}
	// the last destination of a set removed: the set disappears
	f := newFixture(t, "1 sip:1.1.1.1\n2 sip:2.2.2.2\n", nil)
	f.call(t, MethodRemove, 2, "sip:2.2.2.2")
	if l := layout(f.store.Sets()); l != "1:sip:1.1.1.1" {
		t.Errorf("layout %s", l)
	}
	// attrs given with five params only
	f = newFixture(t, list, nil)
	f.call(t, MethodAdd, 3, "sip:3.3.3.3", 8, 2)
	set, _ := f.store.Sets().Set(3)
	if d := set.At(0); d.Attrs.Present || d.Flags != 8 || d.Priority != 2 {
		t.Errorf("added %+v", d)
	}
}

// TestAddKeepsState: add rebuilds the list; the existing destinations keep
// their State (kamsidecar, see Sets.Add).
func TestAddKeepsState(t *testing.T) {
	f := newFixture(t, "1 sip:127.0.0.1:5071\n", nil)
	f.call(t, MethodSetState, "ip", 1, "all")
	f.call(t, MethodAdd, 1, "sip:127.0.0.1:5072")
	if got := f.flags(1, 0) + " " + f.flags(1, 1); got != "AX IP" {
		t.Errorf("flags %s", got)
	}
}

func writeList(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReload: §6.5, §2.8 replies and faults.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.list")
	tests := []struct {
		name   string
		file   string // "" : no file
		src    bool
		want   string
		layout string
	}{
		{"ok", "2 sip:2.2.2.2\n", true, `"Ok. Dispatcher successfully reloaded."`, "2:sip:2.2.2.2"},
		{"empty file", "# none\n", true, `"Ok. Dispatcher successfully reloaded."`, ""},
		{"bad line", "2\n", true, "fault 500 Reload Failed", "1:sip:1.1.1.1"},
		{"missing file", "", true, "fault 500 Reload Failed", "1:sip:1.1.1.1"},
		{"no source", "", false, "fault 500 Reload Failed", "1:sip:1.1.1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(path)
			if tc.file != "" {
				writeList(t, path, tc.file)
			}
			f := newFixture(t, "1 sip:1.1.1.1\n", func(c *Dispatcher) {
				if tc.src {
					c.Source = &dispatcher.FileSource{Path: path, Options: opts()}
				}
			})
			if got := result(f.call(t, MethodReload, "ignored")); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if l := layout(f.store.Sets()); l != tc.layout {
				t.Errorf("layout %q, want %q", l, tc.layout)
			}
		})
	}
}

// TestRateLimit: §6.2 one timestamp shared by reload, add, remove and
// Reload; refused while last > now - delta; updated before params are
// checked; list, set_state, hash, ping_active not limited; delta 0 off.
func TestRateLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.list")
	writeList(t, path, "1 sip:1.1.1.1\n")
	f := newFixture(t, "1 sip:1.1.1.1\n", func(c *Dispatcher) {
		c.ReloadDelta = 5 * time.Second
		c.Source = &dispatcher.FileSource{Path: path, Options: opts()}
	})
	const ongoing = "fault 500 Ongoing reload"
	steps := []struct {
		name    string
		advance int64
		method  string
		args    []any
		want    string
	}{
		{"first add with bad params consumes the slot", 0, MethodAdd, []any{1}, "fault 500 Invalid Parameters"},
		{"valid add refused", 0, MethodAdd, []any{1, "sip:2.2.2.2"}, ongoing},
		{"reload refused", 1, MethodReload, nil, ongoing},
		{"remove refused at delta-1", 3, MethodRemove, []any{1, "sip:1.1.1.1"}, ongoing},
		{"list not limited", 0, MethodList, []any{"short"}, `{NRSETS=1 RECORDS=[SET={ID=1 TARGETS=[DEST={URI="sip:1.1.1.1" FLAGS="AX" PRIORITY=0}]}]}`},
		{"set_state not limited", 0, MethodSetState, []any{"a", 1, "all"}, `"Ok. Dispatcher state updated."`},
		{"hash not limited", 0, MethodHash, []any{4, "bob", "server.com"}, "{hashid=u3883463682 slot=u2}"},
		{"ping_active not limited", 0, MethodPingActive, nil, "{OldPingState=1}"},
		{"reload at exactly delta", 1, MethodReload, nil, `"Ok. Dispatcher successfully reloaded."`},
		{"add right after refused", 0, MethodAdd, []any{1, "sip:2.2.2.2"}, ongoing},
		{"add after delta", 5, MethodAdd, []any{1, "sip:2.2.2.2"}, `"Ok. Dispatcher destination added."`},
	}
	for _, s := range steps {
		f.now.Add(s.advance)
		if got := result(f.call(t, s.method, s.args...)); got != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
	}
	if err := f.d.Reload(context.Background()); err != ErrOngoingReload {
		t.Errorf("Reload within delta: %v", err)
	}
	f.now.Add(5)
	if err := f.d.Reload(context.Background()); err != nil {
		t.Errorf("Reload: %v", err)
	}
	if got := result(f.call(t, MethodRemove, 1, "sip:1.1.1.1")); got != ongoing {
		t.Errorf("remove after SIGHUP reload: %s", got)
	}

	// reload_delta 0: never limited
	g := newFixture(t, "1 sip:1.1.1.1\n", nil)
	for i := range 3 {
		if got := result(g.call(t, MethodAdd, 1, "sip:2.2.2."+strconv.Itoa(i))); got != `"Ok. Dispatcher destination added."` {
			t.Errorf("delta 0 add %d: %s", i, got)
		}
	}
}

// TestReloadErrors: Reload without a Source fails (§6.5).
func TestReloadErrors(t *testing.T) {
	f := newFixture(t, "1 sip:1.1.1.1\n", nil)
	if err := f.d.Reload(context.Background()); err != ErrNoSource {
		t.Errorf("no source: %v", err)
	}
}

// TestIPAddrString: ip_addr2a's formats for IPADDR (§6.3).
func TestIPAddrString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"10.0.0.1", "10.0.0.1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"2001:db8::1", "2001:db8:0:0:0:0:0:1"},
		{"fe80::abcd:1", "fe80:0:0:0:0:0:abcd:1"},
	}
	for _, tc := range tests {
		var a netip.Addr
		if tc.in != "" {
			a = netip.MustParseAddr(tc.in)
		}
		if got := IPAddrString(a); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestConcurrent: list, set_state, add and remove at once, with a running
// Prober, are race-free (run with -race).
func TestConcurrent(t *testing.T) {
	store := dispatcher.NewStore(load(t, "1 sip:192.0.2.1 8 0\n1 sip:192.0.2.2 8 0\n"))
	bp := &blockPinger{tokens: make(chan struct{})}
	p := dispatcher.NewProber(store, bp, dispatcher.ProbingConfig{
		Probing:  dispatcher.Probing{Mode: 1, ProbingThreshold: 2, InactiveThreshold: 1},
		Interval: 5 * time.Millisecond, Timeout: 10 * time.Second, LatencyStats: true})
	reg := rpc.NewRegistry()
	if err := Register(reg, &Dispatcher{Store: store, Prober: p, Options: opts(), LatencyStats: true, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	call := func(method string, args ...any) {
		c := rpc.NewCall(context.Background(), reg.Lookup(method), "test", rpc.NewArgs(args...))
		reg.Run(c)
	}
	finished := make(chan struct{})
	workers := []func(i int){
		func(int) { call(MethodList, "full") },
		func(i int) { call(MethodSetState, []string{"ip", "a", "t"}[i%3], 1, "all") },
		func(i int) { call(MethodAdd, 1, "sip:192.0.2."+strconv.Itoa(10+i%5)) },
		func(i int) { call(MethodRemove, 1, "sip:192.0.2."+strconv.Itoa(10+i%5)) },
		func(int) {
			select {
			case bp.tokens <- struct{}{}:
			case <-time.After(time.Millisecond):
			}
		},
	}
	for _, w := range workers {
		go func() {
			defer func() { finished <- struct{}{} }()
			for i := range 200 {
				w(i)
			}
		}()
	}
	for range workers {
		<-finished
	}
}
