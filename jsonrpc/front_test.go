package jsonrpc

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"testing"
)

func TestParseFastHead(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		ok         bool
		path       string
		length     int
	}{
		{"kamctl-like", "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", true, "/RPC", 12},
		{"rpc2", "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", true, "/RPC2", 0},
		{"get", "GET /RPC HTTP/1.1\r\nHost: x\r\n\r\n", false, "", 0},
		{"http10", "POST /RPC HTTP/1.0\r\nContent-Length: 1\r\n\r\n", false, "", 0},
		{"other path", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n", false, "", 0},
		{"chunked", "POST /RPC HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", false, "", 0},
		{"two lengths", "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, "", 0},
		{"no host", "POST /RPC HTTP/1.1\r\nContent-Length: 1\r\n\r\n", false, "", 0},
		{"bad length", "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", false, "", 0},
		{"escape", "POST /RPC%2F HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n", false, "", 0},
		{"expect", "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := parseFastHead([]byte(tc.head), "/RPC")
			if ok != tc.ok || (ok && (h.path != tc.path || h.length != tc.length)) {
				t.Errorf("got %+v %v, want ok=%v path %q length %d", h, ok, tc.ok, tc.path, tc.length)
			}
		})
	}
}

// FuzzFastHead checks the fast path never panics and never accepts a head
// that net/http reads differently (method, path, length).
func FuzzFastHead(f *testing.F) {
	for _, s := range []string{
		"POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n",
		"POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n",
		"POST /RPC?x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		h, ok := parseFastHead(head, "/RPC")
		if !ok {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("fast path accepted a head net/http refuses (%v): %q", err, head)
		}
		if r.Method != "POST" || r.URL.Path != h.path || r.ContentLength != int64(h.length) {
			t.Fatalf("fast path read %+v, net/http %s %s %s: %q", h, r.Method, r.URL.Path, strconv.FormatInt(r.ContentLength, 10), head)
		}
	})
}
