package rpctest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// Target says where one server's RPC sockets are. NewTarget fills it with
// free ports and paths in a fresh directory; Defines turns it into the -A
// arguments of testdata/rpc/kamailio.cfg, so that real Kamailio and
// kamsidecar (serve --listen-from-cfg -A ...) open the same sockets.
type Target struct {
	Dir        string // runtime/work dir; client sockets are created here too
	SIPPort    int    // udp+tcp SIP listener; HTTP (xhttp) is served on its TCP side
	KADownPort int    // closed port used as the "down" keepalive destination
	CtlUnix    string // BINRPC unix stream socket path
	CtlUnixd   string // BINRPC unix datagram socket path
	CtlTCP     string // BINRPC tcp host:port
	CtlUDP     string // BINRPC udp host:port
	FIFO       string // JSON-RPC FIFO path
	Dgram      string // JSON-RPC datagram: unix path, or "udp:host:port"
	DSList     string // dispatcher list file (copy of testdata/rpc/dispatcher.list with the SIP port)
	Pretty     int    // jsonrpcs pretty_format
	Pid        int    // main process pid (0 if unknown)
	Extra      map[string]string
}

// HTTPAddr is the host:port where JSON-RPC over HTTP is served.
func (tg *Target) HTTPAddr() string { return "127.0.0.1:" + strconv.Itoa(tg.SIPPort) }

// CfgPath is testdata/rpc/kamailio.cfg.
func CfgPath() string { return filepath.Join(testutil.RepoRoot(), "testdata", "rpc", "kamailio.cfg") }

// shortDir returns a directory with a short path (unix socket paths are
// limited to 104 bytes by kamcmd), removed at the end of the test.
func shortDir(t testing.TB) string {
	d := t.TempDir()
	if len(d) <= 50 {
		return d
	}
	d, err := os.MkdirTemp("", "krpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// NewTarget allocates free loopback ports and socket paths for one server
// instance; dgramUDP puts the JSON-RPC datagram socket on UDP.
func NewTarget(t testing.TB, dgramUDP bool) *Target {
	t.Helper()
	d := shortDir(t)
	tg := &Target{
		Dir:        d,
		SIPPort:    testutil.FreePort(t),
		KADownPort: testutil.FreePort(t),
		CtlUnix:    filepath.Join(d, "ctl"),
		CtlUnixd:   filepath.Join(d, "ctld"),
		CtlTCP:     "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t)),
		CtlUDP:     "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t)),
		FIFO:       filepath.Join(d, "rpc_fifo"),
		Dgram:      filepath.Join(d, "rpc_sock"),
		DSList:     filepath.Join(d, "dispatcher.list"),
		Pretty:     1,
	}
	if dgramUDP {
		tg.Dgram = "udp:127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	}
	src, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "rpc", "dispatcher.list"))
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("127.0.0.1:5090"), []byte("127.0.0.1:"+strconv.Itoa(tg.SIPPort)))
	if err := os.WriteFile(tg.DSList, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return tg
}

// Defines returns the -A arguments (NAME=VALUE, without "-A") that make
// testdata/rpc/kamailio.cfg open tg's sockets.
func (tg *Target) Defines() []string {
	q := strconv.Quote
	d := []string{
		"SIP_PORT=" + strconv.Itoa(tg.SIPPort),
		"KA_UP=" + q("sip:127.0.0.1:"+strconv.Itoa(tg.SIPPort)),
		"KA_DOWN=" + q("sip:127.0.0.1:"+strconv.Itoa(tg.KADownPort)),
		"CTL_UNIX=" + q("unix:"+tg.CtlUnix),
		"CTL_UNIXD=" + q("unixd:"+tg.CtlUnixd),
		"CTL_TCP=" + q("tcp:"+tg.CtlTCP),
		"CTL_UDP=" + q("udp:"+tg.CtlUDP),
		"RPC_FIFO=" + q(tg.FIFO),
		"RPC_DGRAM=" + q(tg.Dgram),
		"DS_LIST=" + q(tg.DSList),
		"PRETTY=" + strconv.Itoa(tg.Pretty),
	}
	for k, v := range tg.Extra {
		d = append(d, k+"="+v)
	}
	return d
}

// StartKamailio runs the real Kamailio 5.6.3 with testdata/rpc/kamailio.cfg
// on tg (foreground, own process group, runtime and work dir tg.Dir), waits
// until its sockets answer and the keepalive states are settled (own SIP
// socket up, closed port down), and kills the process group at cleanup.
// Missing kamailio is a skip, or a failure in CI.
func StartKamailio(t testing.TB, tg *Target) {
	t.Helper()
	args := []string{"-f", CfgPath(), "-Y", tg.Dir, "-w", tg.Dir, "-DD", "-E",
		"-L", testutil.KamailioModules}
	for _, d := range tg.Defines() {
		args = append(args, "-A", d)
	}
	k := testutil.StartKamailio(t, testutil.RepoRoot(), []string{"TZ=UTC"}, args...)
	tg.Pid = k.Pid
	done, log := k.Done, k.Log
	if err := WaitReady(tg, 20*time.Second, done); err != nil {
		t.Fatalf("kamailio not ready: %v\nlog:\n%s", err, log.String())
	}
}

// WaitReady polls tg until every RPC socket answers and keepalive shows
// the own SIP socket up (1) and the closed port down (2). done, when not
// nil, aborts the wait when the server exits.
func WaitReady(tg *Target, limit time.Duration, done <-chan struct{}) error {
	deadline := time.Now().Add(limit)
	up := "sip:127.0.0.1:" + strconv.Itoa(tg.SIPPort)
	down := "sip:127.0.0.1:" + strconv.Itoa(tg.KADownPort)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("server exited")
		default:
		}
		last = readyOnce(tg, up, down)
		if last == "" {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timeout: %s", last)
}

func readyOnce(tg *Target, up, down string) string {
	for _, p := range []string{tg.FIFO, tg.CtlUnix, tg.CtlUnixd} {
		if _, err := os.Stat(p); err != nil {
			return err.Error()
		}
	}
	if !strings.HasPrefix(tg.Dgram, "udp:") {
		if _, err := os.Stat(tg.Dgram); err != nil {
			return err.Error()
		}
	}
	for _, pair := range [][2]string{{up, "1"}, {down, "2"}} {
		pkts, _, err := BinrpcStream("unix", tg.CtlUnix, EncodeRequest(Cookie, "keepalive.get", S(pair[0]), S("_params")), 1, false)
		if err != nil || len(pkts) != 1 {
			return fmt.Sprintf("keepalive.get %s: %v", pair[0], err)
		}
		dump := Dump(pkts[0])
		if !strings.Contains(dump, `"state": INT `+pair[1]+"\n") {
			return "keepalive state of " + pair[0] + ": " + dump
		}
	}
	if _, err := HTTPRaw(tg.HTTPAddr(), "/RPC", []byte(`{"jsonrpc":"2.0","method":"core.version","id":1}`), ReplyTimeout); err != nil {
		return "http: " + err.Error()
	}
	for _, a := range []string{tg.CtlTCP} {
		if _, _, err := BinrpcStream("tcp", a, EncodeRequest(Cookie, "core.version"), 1, false); err != nil {
			return err.Error()
		}
	}
	return ""
}
