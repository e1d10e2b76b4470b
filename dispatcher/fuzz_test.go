package dispatcher

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadList feeds arbitrary bytes to the list reader and the add path:
// nothing may panic, and what comes out must respect the tokenizer (§2.1).
func FuzzReadList(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "lists", "*.list"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("1 sip:a@[::1]:5060;transport=tls 31 -1 duid=\"x;y\";weight=50;;socket=udp:1.2.3.4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, probs := ReadList("fuzz.list", bytes.NewReader(data))
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for _, e := range entries {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("line %d out of 1..%d", e.Line, lines)
			}
			if e.URI == "" || strings.ContainsAny(e.URI, " \t\r\n#\x00") {
				t.Fatalf("bad uri token %q", e.URI)
			}
			if strings.ContainsAny(e.Attrs, " \t\r\n\x00") || e.HasAttrs && e.Attrs == "" {
				t.Fatalf("bad attrs token %q", e.Attrs)
			}
			_, _ = ParseAttrs(e.Attrs)
		}
		for _, p := range probs {
			if !strings.HasPrefix(p.String(), "fuzz.list:") {
				t.Fatalf("message %q", p)
			}
		}
		for _, mode := range []int{0, 1} {
			o := Options{LoadMode: mode, DNSMode: 1, TryIPv6: mode == 1, Resolver: NoDNS{},
				Listen: []ListenSocket{{Proto: "udp", Host: "127.0.0.1", Port: 5060, Name: "a"}}}
			s, _, err := Build(entries, o)
			if err == nil && s.Destinations() > len(entries) {
				t.Fatal("more destinations than entries")
			}
		}
	})
}
