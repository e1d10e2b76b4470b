package jsonrpc

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

const kamailioCfg = `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=2
auto_aliases=no
tcp_accept_no_cl=yes
dns=no
rev_dns=no
listen=tcp:127.0.0.1:%d
mpath="%s/"
loadmodule "sl.so"
loadmodule "xhttp.so"
loadmodule "jsonrpcs.so"
loadmodule "dispatcher.so"
modparam("jsonrpcs", "transport", 7)
modparam("jsonrpcs", "pretty_format", 1)
modparam("jsonrpcs", "fifo_name", "%s")
modparam("jsonrpcs", "fifo_reply_dir", "/tmp/")
modparam("jsonrpcs", "dgram_socket", "%s")
modparam("dispatcher", "list_file", "%s")
modparam("dispatcher", "ds_ping_interval", 0)
request_route { exit; }
event_route[xhttp:request] {
	if ($hu =~ "^/RPC") { jsonrpc_dispatch(); exit; }
	xhttp_reply("404", "Not Found", "text/plain", "not found\n");
}
`

const dsList = `1 sip:10.0.0.1:5060 0 0
1 sip:10.0.0.2:5060 8 5 duid=gw2;weight=50
2 sip:127.0.0.1:5071;transport=udp 8 0 duid=px1
`

// kamailioTarget is a running Kamailio 5.6.3 with jsonrpcs on HTTP, a FIFO
// and a unix datagram socket.
type kamailioTarget struct {
	http, fifo, dgram string
}

func startKamailio(t *testing.T, dir string) kamailioTarget {
	testutil.LookPath(t, "kamailio")
	_, err := os.Stat(filepath.Join(testutil.KamailioModules, "jsonrpcs.so"))
	testutil.Need(t, err == nil, "kamailio modules are not installed")
	port := testutil.FreePort(t)
	kt := kamailioTarget{http: fmt.Sprintf("127.0.0.1:%d", port), fifo: filepath.Join(dir, "k.fifo"), dgram: filepath.Join(dir, "k.sock")}
	list := filepath.Join(dir, "ds.list")
	if err := os.WriteFile(list, []byte(dsList), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "k.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(kamailioCfg, port, testutil.KamailioModules, kt.fifo, kt.dgram, list)), 0o600); err != nil {
		t.Fatal(err)
	}
	k := testutil.StartKamailio(t, dir, nil, "-f", cfg, "-DD", "-E", "-Y", dir, "-w", dir)
	done, log := k.Done, k.Log
	for i := 0; i < 100; i++ {
		select {
		case <-done:
			t.Fatalf("kamailio exited:\n%s", log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", kt.http, 100*time.Millisecond)
		_, ferr := os.Stat(kt.fifo)
		_, derr := os.Stat(kt.dgram)
		if err == nil {
			c.Close()
			if ferr == nil && derr == nil {
				return kt
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kamailio did not start:\n%s", log.String())
	return kt
}

// TestCompareKamailio sends the same documents to real Kamailio 5.6.3 and
// to kamsidecar over HTTP, FIFO and a unix datagram socket and compares the
// bytes (status line and body over HTTP).
func TestCompareKamailio(t *testing.T) {
	dir := shortTemp(t)
	kt := startKamailio(t, dir)

	s := NewServer(testRegistry(t))
	addr := startHTTP(t, s)
	fifo := filepath.Join(dir, "s.fifo")
	startFIFO(t, s, fifo)
	sock := filepath.Join(dir, "s.sock")
	startDgram(t, s, sock)

	docs := []string{
		`{"jsonrpc":"2.0","method":"nosuch","id":1}`,
		`{"jsonrpc":"1.0","method":"core.version","id":1}`,
		`{"jsonrpc":"2.0","id":1}`,
		`{"method":"core.version","id":1}`,
		`[{"jsonrpc":"2.0","method":"core.version","id":1}]`,
		`{"jsonrpc":"2.0","method":"core.version"}`,
		`{"jsonrpc":"2.0","method":"core.version","id":null}`,
		`{"jsonrpc":"2.0","method":"core.version","id":true}`,
		`{"jsonrpc":"2.0","method":"core.version","id":1.5}`,
		`{"jsonrpc":"2.0","method":"core.version","id":"x\"\u00e9\/"}`,
		`{"jsonrpc":"2.0","method":"core.version","id":12345678901}`,
		`{"jsonrpc":"2.0","method":"core.version","id":1e-7}`,
		`{"jsonrpc":"2.0","method":"core.version","params":"x","id":1}`,
		`{"jsonrpc":"2.0","method":"core.echo","params":"x","id":1}`,
		`{"jsonrpc":"2.0","method":"core.echo","params":{"b":1,"a":"z","c":-1,"d":2.5},"id":1}`,
		`{"jsonrpc":"2.0","method":"core.printi","params":["a", 3000000000, 2.9, true, 1e400],"id":1}`,
		`{"jsonrpc":"2.0","method":"core.prints","params":["a\u0001\t\\ /", "é"],"id":1}`,
		`{"jsonrpc":"2.0","method":"jsonrpc.echo","params":[2.5,"x"],"id":1}`,
		`{"jsonrpc":"2.0","method":"system.methodHelp","params":["nosuch"],"id":1}`,
		`{"jsonrpc":"2.0","method":"system.methodHelp","id":1}`,
		`{"jsonrpc":"2.0","method":"system.methodSignature","id":1}`,
		`{"JSONRPC":"2.0","METHOD":"core.version","id":1,"id":2} trailing`,
	}
	for _, d := range docs {
		kr, err := rawPOST(kt.http, "/RPC", d, 5*time.Second)
		if err != nil {
			t.Fatalf("kamailio %s: %v", d, err)
		}
		sr, err := rawPOST(addr, "/RPC", d, 5*time.Second)
		if err != nil {
			t.Fatalf("kamsidecar %s: %v", d, err)
		}
		if kr.status != sr.status || kr.body != sr.body {
			t.Errorf("http %s\nkamailio   %q %q\nkamsidecar %q %q", d, kr.status, kr.body, sr.status, sr.body)
		}
		kd, kerr := dgramExchange("unixgram", filepath.Join(dir, "ck"), kt.dgram, d, 2*time.Second)
		sd, serr := dgramExchange("unixgram", filepath.Join(dir, "cs"), sock, d, 2*time.Second)
		if kd != sd || (kerr == nil) != (serr == nil) {
			t.Errorf("dgram %s\nkamailio   %q %v\nkamsidecar %q %v", d, kd, kerr, sd, serr)
		}
		if strings.HasPrefix(d, "{") && !strings.Contains(d, "trailing") {
			fd := strings.Replace(d, "{", `{"reply_name":"ksdcmp`+fmt.Sprint(os.Getpid())+`",`, 1)
			kf := fifoExchange(t, kt.fifo, "/tmp", "ksdcmp"+fmt.Sprint(os.Getpid()), fd, time.Second)
			sf := fifoExchange(t, fifo, "/tmp", "ksdcmp"+fmt.Sprint(os.Getpid()), fd, time.Second)
			if kf != sf {
				t.Errorf("fifo %s\nkamailio   %q\nkamsidecar %q", fd, kf, sf)
			}
		}
	}
	// dispatcher.list built with rpc containers prints as Kamailio's.
	kr, err := rawPOST(kt.http, "/RPC", `{"jsonrpc":"2.0","method":"dispatcher.list","id":1}`, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The list has no socket= attr: Kamailio drops a destination whose
	// socket it does not listen on.
	sets := [][]dest{specSets[0], {specSets[1][0], specSets[1][1]}}
	sets[1][0].body, sets[1][0].socket = "duid=gw2;weight=50", ""
	if want := string(EncodeResult(dsCall(sets), 1, true)); kr.body != want {
		t.Errorf("dispatcher.list\nkamailio   %q\nkamsidecar %q", kr.body, want)
	}
}
