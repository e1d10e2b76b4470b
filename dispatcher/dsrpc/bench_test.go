package dsrpc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/jsonrpc"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// benchList is a list like bench/rpc's: n destinations in 10 sets with
// duid and weight attrs.
func benchList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d sip:10.%d.%d.%d:5060 0 %d duid=gw%04d;weight=%d\n", 1+i%10, i>>16&255, i>>8&255, i&255, i%5, i, 10+i%90)
	}
	return b.String()
}

func benchServer(b *testing.B, n int) (*jsonrpc.Server, *dispatcher.Store) {
	b.Helper()
	sets, _, err := dispatcher.Load("bench.list", strings.NewReader(benchList(n)), opts())
	if err != nil {
		b.Fatal(err)
	}
	reg := rpc.NewRegistry()
	store := dispatcher.NewStore(sets)
	if err := Register(reg, &Dispatcher{Store: store, Options: opts(), Logger: quiet}); err != nil {
		b.Fatal(err)
	}
	return jsonrpc.NewServer(reg), store
}

// benchList measures dispatcher.list over JSON-RPC as the HTTP transport
// runs it: parse, then the encoded result of the previous call while
// nothing changed (rpc.Method.Version). With changed, a destination's
// latency statistics are updated before every call, so that every call
// runs the handler and the pretty encoding.
func benchDispatcherList(b *testing.B, n int, changed bool) {
	s, store := benchServer(b, n)
	st := store.Sets().At(0).At(0).State()
	doc := []byte(`{"jsonrpc":"2.0","method":"dispatcher.list","id":1}`)
	ctx := context.Background()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		if changed {
			st.UpdateLatency(func(l dispatcher.Latency) dispatcher.Latency { return l })
		}
		r, ok := s.Handle(ctx, doc, "http")
		if !ok {
			b.Fatal("no reply")
		}
		size = len(r)
	}
	b.SetBytes(int64(size))
}

func BenchmarkDispatcherList10(b *testing.B)          { benchDispatcherList(b, 10, false) }
func BenchmarkDispatcherList1000(b *testing.B)        { benchDispatcherList(b, 1000, false) }
func BenchmarkDispatcherListChanged10(b *testing.B)   { benchDispatcherList(b, 10, true) }
func BenchmarkDispatcherListChanged1000(b *testing.B) { benchDispatcherList(b, 1000, true) }
