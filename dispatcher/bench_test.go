package dispatcher

import (
	"bytes"
	"fmt"
	"testing"
)

// genList writes n destinations over 100 sets, with priorities and attrs.
func genList(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%d sip:10.%d.%d.%d:5060;transport=udp %d %d duid=d%d;weight=%d\n",
			i%100, i>>16&255, i>>8&255, i&255, i%2*8, i%7, i, i%100+1)
	}
	return b.Bytes()
}

// BenchmarkLoad100k reads and builds a generated list of 100,000
// destinations (IP literal hosts, so no resolver work).
func BenchmarkLoad100k(b *testing.B) {
	data := genList(100_000)
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, probs, err := Load("bench.list", bytes.NewReader(data), o)
		if err != nil || len(probs) != 0 || s.Destinations() != 100_000 {
			b.Fatal(err, len(probs))
		}
	}
}

// BenchmarkReload100k measures a reload of 100,000 unchanged destinations,
// state carried over.
func BenchmarkReload100k(b *testing.B) {
	data := genList(100_000)
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	s, _, err := Load("bench.list", bytes.NewReader(data), o)
	if err != nil {
		b.Fatal(err)
	}
	st := NewStore(s)
	b.ReportAllocs()
	for b.Loop() {
		kept, _, err := st.Reload("bench.list", bytes.NewReader(data), o)
		if err != nil || kept != 100_000 {
			b.Fatal(err, kept)
		}
	}
}
