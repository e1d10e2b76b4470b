package dsrpc

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/jsonrpc"
)

// TestListCache: dispatcher.list declares a Version, so the JSON-RPC codec
// reuses its encoded result; every change list shows (set_state, a probe
// transition, latency statistics, reload, add, remove) is in the very next
// reply, which is byte for byte the one a server with an empty cache
// prints.
func TestListCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.list")
	writeList(t, path, "1 sip:127.0.0.1:5071 0 0 duid=a\n1 sip:127.0.0.1:5072\n")
	f := newFixture(t, "1 sip:127.0.0.1:5071 0 0 duid=a\n1 sip:127.0.0.1:5072\n", func(c *Dispatcher) {
		c.LatencyStats = true
		c.Source = &dispatcher.FileSource{Path: path, Options: opts()}
	})
	if f.reg.Lookup(MethodList).Version == nil {
		t.Fatal("dispatcher.list declares no Version")
	}
	s := jsonrpc.NewServer(f.reg, jsonrpc.WithPretty(true))
	ctx := context.Background()
	id := 0
	rpcCall := func(method string, params string) string {
		t.Helper()
		id++
		doc := fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,%s"id":%d}`, method, params, id)
		b, ok := s.Handle(ctx, []byte(doc), "http")
		if !ok {
			t.Fatalf("%s: no reply", doc)
		}
		return string(b)
	}
	list := func() string {
		t.Helper()
		got := rpcCall(MethodList, "")
		fresh := jsonrpc.NewServer(f.reg, jsonrpc.WithPretty(true)) // empty cache
		want, _ := fresh.Handle(ctx, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"dispatcher.list","id":%d}`, id)), "http")
		if got != string(want) {
			t.Fatalf("cached reply\n%s\nwant\n%s", got, want)
		}
		return got
	}
	// noID is a reply without its id.
	noID := func(r string) string { return r[:strings.LastIndex(r, `"id":`)] }
	prev := list()
	if again := list(); noID(again) != noID(prev) {
		t.Fatalf("two replies without a change differ:\n%s\n%s", prev, again)
	}
	step := func(what string, change func()) {
		t.Helper()
		change()
		got := list()
		if noID(got) == noID(prev) {
			t.Errorf("%s: the next list did not change:\n%s", what, got)
		}
		prev = list()
	}
	step("set_state", func() { rpcCall(MethodSetState, `"params":["ip",1,"sip:127.0.0.1:5071"],`) })
	step("set_duid_state", func() { rpcCall(MethodSetDUIDState, `"params":["dx",1,"a"],`) })
	st := f.store.Sets().At(0).At(0).State()
	step("latency", func() {
		st.UpdateLatency(func(l dispatcher.Latency) dispatcher.Latency { return l.Add(42, 0.9) })
	})
	step("timeout count", func() { st.UpdateLatency(dispatcher.Latency.TimedOut) })
	step("flags", func() { st.SetFlags(dispatcher.FlagTrying) })
	step("add", func() { rpcCall(MethodAdd, `"params":[2,"sip:127.0.0.1:5080"],`) })
	step("remove", func() { rpcCall(MethodRemove, `"params":[2,"sip:127.0.0.1:5080"],`) })
	writeList(t, path, "3 sip:127.0.0.1:5090\n")
	step("reload", func() { rpcCall(MethodReload, "") })
}
