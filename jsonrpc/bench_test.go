package jsonrpc

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// benchSets is a dispatcher.list-shaped reply with 1,000 destinations in
// 10 sets (dispatcher.md §6.3).
func benchSets() [][]dest {
	sets := make([][]dest, 10)
	for i := range sets {
		for j := 0; j < 100; j++ {
			sets[i] = append(sets[i], dest{uri: fmt.Sprintf("sip:10.0.%d.%d:5060", i, j), flags: "AP", prio: j % 7,
				body: fmt.Sprintf("duid=d%d;weight=%d", j, j), duid: fmt.Sprintf("d%d", j), weight: j})
		}
	}
	return sets
}

func BenchmarkEncodeDispatcherListPretty(b *testing.B)  { benchEncode(b, true) }
func BenchmarkEncodeDispatcherListCompact(b *testing.B) { benchEncode(b, false) }

func benchEncode(b *testing.B, pretty bool) {
	c := dsCall(benchSets())
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(EncodeResult(c, 1, pretty))
	}
	b.SetBytes(int64(n))
}

// BenchmarkHTTPRoundTrip is one core.version request over a keep-alive
// loopback connection (jsonrpc.md §5).
func BenchmarkHTTPRoundTrip(b *testing.B) {
	s := NewServer(testRegistry(b))
	addr := startHTTP(b, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	body := `{"jsonrpc":"2.0","method":"core.version","id":1}`
	req := []byte(fmt.Sprintf("POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	b.ReportAllocs()
	for b.Loop() {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := readRaw(br); err != nil {
			b.Fatal(err)
		}
	}
}
