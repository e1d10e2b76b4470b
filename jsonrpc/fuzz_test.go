package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// FuzzRequest parses and dispatches arbitrary documents over a registry
// with the core methods (jsonrpc.md §3, §4): no panic, and every reply is
// valid JSON carrying jsonrpc 2.0 (repeated keys aside).
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","method":"core.version","id":1}`,
		`{"jsonrpc":"2.0","method":"core.echo","params":{"a":1,"b":"x"},"id":"q"}`,
		`{"jsonrpc":"2.0","method":"core.printi","params":["a",1e400,-],"id":1.5}`,
		`{"jsonrpc":"2.0","method":"system.methodHelp","params":["nosuch"]}`,
		`[{"jsonrpc":"2.0"}]`, `{"jsonrpc":"2.0","method":"core.prints","params":["\ud800\u0000\x"]}`,
	} {
		f.Add([]byte(s), true)
	}
	reg := testRegistry(f)
	pretty := NewServer(reg)
	compact := NewServer(reg, WithPretty(false))
	f.Fuzz(func(t *testing.T, doc []byte, p bool) {
		s := compact
		if p {
			s = pretty
		}
		out, err := s.process(context.Background(), doc, "fuzz", bytes.Contains(doc, []byte("reply_name")))
		if err != nil || out.body == nil {
			return
		}
		if !json.Valid(out.body) {
			t.Fatalf("invalid reply %q for %q", out.body, doc)
		}
		if !bytes.HasPrefix(out.body, []byte(`{"jsonrpc":"2.0",`)) && !bytes.HasPrefix(out.body, []byte("{\n\t\"jsonrpc\":\t\"2.0\",\n")) {
			t.Fatalf("bad envelope %q", out.body)
		}
	})
}

// FuzzFIFOFraming feeds arbitrary bytes, split at an arbitrary point, to the
// FIFO framer (jsonrpc.md §6.1): no panic, every document starts with '{'
// after optional garbage, ends with '}' and fits the limit.
func FuzzFIFOFraming(f *testing.F) {
	f.Add([]byte(`{"a":"}"}{'x'}`), uint16(3))
	f.Add([]byte("garbage\n}{\"b\":\"\\\"\"}"), uint16(0))
	f.Add(bytes.Repeat([]byte("{"), 9000), uint16(100))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		fr := &framer{max: 64}
		fr.emit = func(d []byte) {
			if len(d) > 64+1 || d[len(d)-1] != '}' || !bytes.Contains(d, []byte("{")) {
				t.Fatalf("bad document %q", d)
			}
		}
		fr.drop = func(string, int) {}
		c := int(cut) % (len(in) + 1)
		fr.feed(in[:c])
		fr.feed(in[c:])
		fr.abandon("end")
		if fr.pending() {
			t.Fatal("pending after abandon")
		}
	})
}
