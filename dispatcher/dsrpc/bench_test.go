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

func benchServer(b *testing.B, n int) *jsonrpc.Server {
	b.Helper()
	sets, _, err := dispatcher.Load("bench.list", strings.NewReader(benchList(n)), opts())
	if err != nil {
		b.Fatal(err)
	}
	reg := rpc.NewRegistry()
	if err := Register(reg, &Dispatcher{Store: dispatcher.NewStore(sets), Options: opts(), Logger: quiet}); err != nil {
		b.Fatal(err)
	}
	return jsonrpc.NewServer(reg)
}

// benchList measures dispatcher.list over JSON-RPC: parse, handler and
// pretty encoding, as the HTTP transport runs them.
func benchDispatcherList(b *testing.B, n int) {
	s := benchServer(b, n)
	doc := []byte(`{"jsonrpc":"2.0","method":"dispatcher.list","id":1}`)
	ctx := context.Background()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		r, ok := s.Handle(ctx, doc, "http")
		if !ok {
			b.Fatal("no reply")
		}
		size = len(r)
	}
	b.SetBytes(int64(size))
}

func BenchmarkDispatcherList10(b *testing.B)   { benchDispatcherList(b, 10) }
func BenchmarkDispatcherList1000(b *testing.B) { benchDispatcherList(b, 1000) }
