package binrpc

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kamsidecar/kamsidecar/rpc"
)

func fuzzSeeds(f *testing.F) {
	p, _ := Request(0x1234, "core.prints", "a", 5, -2, 1.5, []byte{1})
	f.Add(p)
	f.Add(append(p, p...))
	f.Add([]byte{0xa1, 0x30, 0x23, 0x00, 0x20, 0x01, 0x90})
	f.Add([]byte{0x03, 0x45, 'u', 'r', 'i', 0, 0x21, 'x', 0, 0x03, 0x10, 0x01, 0x83, 0x83, 0x04, 0x84})
	f.Add([]byte{0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb, 0x1e, 0x91, 0x09})
	p, _ = Request(1, "t.nested")
	f.Add(p)
	p, _ = Request(1, "core.echo", -1, "x", 1.5)
	f.Add(p)
}

// FuzzDecode feeds bytes to the header and record decoders (binrpc.md
// §3–4): they must not panic, and what the strict parser accepts must
// encode back to records that parse the same.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, n, err := ParseHeader(b); err == nil {
			if n < MinHeader || n > 10 {
				t.Fatalf("header size %d", n)
			}
			if again := AppendHeader(nil, h); len(again) > n {
				t.Fatalf("minimal header %d > read %d", len(again), n)
			}
		}
		for pos := 0; pos < len(b); {
			_, n, err := ReadRecord(b[pos:])
			if err != nil {
				break
			}
			if n <= 0 || n > len(b)-pos {
				t.Fatalf("record size %d at %d of %d", n, pos, len(b))
			}
			pos += n
		}
		recs, err := ParseBody(b, false)
		lrecs, lerr := ParseBody(b, true)
		if err == nil && lerr != nil {
			t.Fatalf("lenient refuses what strict accepts: %v", lerr)
		}
		_ = lrecs
		if err != nil {
			return
		}
		var enc []byte
		for _, r := range recs {
			enc = AppendRecord(enc, r)
		}
		again, err := ParseBody(enc, false)
		if err != nil || len(again) != len(recs) {
			t.Fatalf("re-encoded body does not parse: %v", err)
		}
		for i := range recs {
			a, b := recs[i], again[i]
			if a.Type == RecDouble {
				if math.Abs(a.Double-b.Double) > 0.0011 && !(a.Double > 9e15 || a.Double < -9e15) {
					t.Fatalf("double %v → %v", a.Double, b.Double)
				}
				continue
			}
			if a != b {
				t.Fatalf("record %d: %+v → %+v", i, a, b)
			}
		}
		var w bytes.Buffer
		(&Reply{Records: lrecs}).Print(&w)
		Format(&w, "%v|", &Reply{Records: lrecs})
	})
}

// fuzzRegistry has the core methods and the cheap test methods.
func fuzzRegistry(t testing.TB) *rpc.Registry {
	reg := rpc.NewRegistry()
	if err := rpc.RegisterCore(reg, rpc.Core{Name: "kamsidecar", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	full := testRegistry(t)
	for _, n := range []string{"t.struct", "t.nested", "t.unnamed", "t.empty", "t.double", "t.neg", "t.fault"} {
		if err := reg.Register(*full.Lookup(n)); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// FuzzServe feeds bytes to the stream and datagram request handlers of a
// server: no panic, every reply a well-formed packet, and bytes used never
// more than given.
func FuzzServe(f *testing.F) {
	fuzzSeeds(f)
	s := NewServer(fuzzRegistry(f))
	ctx := context.Background()
	check := func(t *testing.T, p []byte) {
		h, n, err := ParseHeader(p)
		if err != nil || h.Type == TypeRequest || int(h.Length) != len(p)-n {
			t.Fatalf("bad reply % x: %v", p, err)
		}
		if h.Type == TypeReply {
			if _, err := ParseBody(p[n:], true); err != nil {
				t.Fatalf("reply body % x: %v", p, err)
			}
		} else if err := decodeFault(p[n:]); err == nil {
			t.Fatalf("fault not decoded")
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ci := &ConnInfo{Transport: UnixStream}
		used, _ := s.processStream(ctx, ci, b, func(p []byte) error {
			check(t, p)
			return nil
		})
		if used < 0 || used > len(b) {
			t.Fatalf("used %d of %d", used, len(b))
		}
		if p := s.dgramPacket(ctx, b); p != nil {
			check(t, p)
		}
	})
}

// destinations builds a dispatcher.list-like reply of n destinations.
func destinations(n int) *rpc.Call {
	c := rpc.NewCall(context.Background(), &rpc.Method{Name: "dispatcher.list"}, TransportName, nil)
	top := c.Struct()
	top.Add("NRSETS", rpc.Int(10))
	recs := top.Struct("RECORDS")
	for set := range 10 {
		st := recs.Struct("SET")
		st.Add("ID", rpc.Int(set))
		tg := st.Struct("TARGETS")
		for i := range n / 10 {
			d := tg.Struct("DEST")
			d.Add("URI", rpc.String("sip:10.0."+strconv.Itoa(set)+"."+strconv.Itoa(i)+":5060"))
			d.Add("FLAGS", rpc.String("AP"))
			d.Add("PRIORITY", rpc.Int(i))
			a := d.Struct("ATTRS")
			a.Add("BODY", rpc.String("weight=50;duid=d"+strconv.Itoa(i)))
			a.Add("DUID", rpc.String("d"+strconv.Itoa(i)))
			a.Add("MAXLOAD", rpc.Int(0))
			a.Add("WEIGHT", rpc.Int(50))
			a.Add("RWEIGHT", rpc.Int(0))
			a.Add("SOCKET", rpc.Null())
			a.Add("LATENCY", rpc.Double(1.25))
		}
	}
	return c
}

// BenchmarkEncodeDestinations encodes a 1,000-destination nested reply.
func BenchmarkEncodeDestinations(b *testing.B) {
	c := destinations(1000)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(EncodeReply(1, c, nil))
	}
	b.SetBytes(int64(size))
}

// BenchmarkDecodeDestinations decodes the same reply leniently.
func BenchmarkDecodeDestinations(b *testing.B) {
	p := EncodeReply(1, destinations(1000), nil)
	_, n, _ := ParseHeader(p)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := ParseBody(p[n:], true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripUnix is one core.version call over a unix stream
// socket.
func BenchmarkRoundTripUnix(b *testing.B) {
	dir := shortDir(b)
	sock := filepath.Join(dir, "ctl")
	startServer(b, fuzzRegistry(b), []string{"unix:" + sock})
	cl, err := Dial(context.Background(), sock)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cl.Call(ctx, "core.version"); err != nil {
			b.Fatal(err)
		}
	}
}
