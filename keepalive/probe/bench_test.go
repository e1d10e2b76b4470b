package probe

import (
	"context"
	"net"
	"testing"
)

// BenchmarkProbeUDP is one OPTIONS transaction against a loopback UDP
// peer that answers 200 (the peer's work is in the same process here; see
// bench/keepalive.sh for the figures of a separate responder).
func BenchmarkProbeUDP(b *testing.B) {
	p, err := New(context.Background(), WithSockets(Socket{Proto: "udp", Host: "127.0.0.1"}), WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(replyTo(buf[:n], "200 OK"), from)
		}
	}()
	tg, err := NewTarget("sip:" + pc.LocalAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := p.Probe(context.Background(), tg); r.Code != 200 {
				b.Errorf("%+v", r)
				return
			}
		}
	})
}

// BenchmarkNewTarget parses a destination URI.
func BenchmarkNewTarget(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewTarget("sip:127.0.0.1:5060;transport=tcp", WithFrom("sip:keepalive@kamailio.org")); err != nil {
			b.Fatal(err)
		}
	}
}
