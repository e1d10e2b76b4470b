package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kamsidecar/kamsidecar/kamcfg"
)

// TestSIPSocketsFromCfg: --listen-from-cfg opens every protocol of a
// listen without one, keeps names and advertise, and leaves a tcp socket
// that carries xhttp to the HTTP server.
func TestSIPSocketsFromCfg(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.cfg")
	src := "listen=udp:127.0.0.1:5090 advertise 192.0.2.1:5060 name \"pub\"\n" +
		"listen=127.0.0.1:5092\n" +
		"listen=tcp:127.0.0.1:5094\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := kamcfg.Load(file, kamcfg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{listenFromCfg: true}
	got, err := sipSockets(f, cfg, map[string]bool{"127.0.0.1:5094": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"udp:127.0.0.1:5090 pub 192.0.2.1:5060", "udp:127.0.0.1:5092  ", "tcp:127.0.0.1:5092  "}
	if len(got) != len(want) {
		t.Fatalf("got %d sockets %+v, want %d", len(got), got, len(want))
	}
	for i, s := range got {
		if g := s.String() + " " + s.Name + " " + s.Advertise; g != want[i] {
			t.Errorf("socket %d: %q, want %q", i, g, want[i])
		}
	}
	if n := len(cfgSockets(cfg)); n != 4 {
		t.Errorf("core.sockets_list would show %d sockets, want 4 (the xhttp tcp one too)", n)
	}
}
