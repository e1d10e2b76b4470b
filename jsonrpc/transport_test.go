package jsonrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// TestHTTPChecklist runs jsonrpc.md §12 over HTTP with a raw TCP client
// to see the status line (§5).
func TestHTTPChecklist(t *testing.T) {
	s := NewServer(testRegistry(t), WithPretty(false))
	addr := startHTTP(t, s)
	for _, c := range []struct{ body, status, want string }{
		{`{"jsonrpc":"2.0","method":"nosuch","id":1}`, "HTTP/1.1 500 Method Not Found", `{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["nosuch"],"id":1}`, "HTTP/1.1 400 command not found", `{"jsonrpc":"2.0","error":{"code":400,"message":"command not found"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.faultTwice","id":1}`, "HTTP/1.1 606 second", `{"jsonrpc":"2.0","error":{"code":606,"message":"second"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.fault0","id":1}`, "HTTP/1.1 500 Execution Error", `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Execution Error"},"id":1}`},
		{`{"jsonrpc":"1.0","method":"core.version","id":1}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`[{"jsonrpc":"2.0","method":"core.version","id":1}]`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":{}}`},
		{`{"jsonrpc":"2.0","method":"core.version"}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) "}`},
		{`{"jsonrpc":"2.0","method":"t.multi","id":null}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":3,"id":0}`},
		{`{"jsonrpc":"2.0","method":"t.noneA","id":true}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":[],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.sockets_list","id":1.5}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":[],"id":1.500000}`},
		{`{"jsonrpc":"2.0","method":"core.printi","params":["a"],"id":"s"}`, "HTTP/1.1 200 OK", `{"jsonrpc":"2.0","result":[0],"id":"s"}`},
		// Invalid JSON: kamsidecar answers a parse error and closes (Kamailio sends nothing).
		{`{"jsonrpc":`, "HTTP/1.1 500 Parse Error", `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse Error"}}`},
	} {
		r, err := rawPOST(addr, "/RPC", c.body, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if r.status != c.status || r.body != c.want || r.header["content-type"] != "application/json" {
			t.Errorf("%s\n got %q %q %v\nwant %q %q", c.body, r.status, r.body, r.header, c.status, c.want)
		}
	}
	// The parse error closes the connection.
	pc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	fmt.Fprint(pc, "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{x}")
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	pbr := bufio.NewReader(pc)
	if pr, err := readRaw(pbr); err != nil || pr.header["connection"] != "close" {
		t.Errorf("parse error reply: %+v %v", pr, err)
	}
	if _, err := pbr.ReadByte(); err == nil {
		t.Errorf("connection left open after a parse error")
	}
	r, err := rawPOST(addr, "/other", `{}`, 5*time.Second)
	if err != nil || !strings.HasPrefix(r.status, "HTTP/1.1 404") {
		t.Errorf("other path: %v %v", r, err)
	}
	r, err = rawPOST(addr, "/RPC2", `{"jsonrpc":"2.0","method":"core.version","id":1}`, 5*time.Second)
	if err != nil || r.status != "HTTP/1.1 200 OK" {
		t.Errorf("/RPC2: %v %v", r, err)
	}
}

// TestHTTPKeepAliveAndClient: several requests on one connection (faults
// included) and the Call helper.
func TestHTTPKeepAliveAndClient(t *testing.T) {
	s := NewServer(testRegistry(t))
	addr := startHTTP(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, m := range []string{"core.version", "nosuch", "core.version"} {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"id":%d}`, m, i)
		fmt.Fprintf(c, "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := readRaw(br)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if !strings.Contains(r.body, fmt.Sprintf("\"id\":\t%d\n}", i)) {
			t.Errorf("request %d: %q", i, r.body)
		}
	}
	ctx := context.Background()
	res, err := Call(ctx, "http://"+addr+"/RPC", "core.printi", 1, 2)
	if err != nil || string(res) != "[1, 2]" {
		t.Errorf("Call = %s, %v", res, err)
	}
	_, err = Call(ctx, "http://"+addr+"/RPC", "nosuch")
	var f rpc.Fault
	if !errors.As(err, &f) || f.Code != 500 || f.Message != "Method Not Found" {
		t.Errorf("Call fault = %v", err)
	}
}

// TestServeHTTPHijack: the net/http adapter writes Kamailio's status line
// for faults.
func TestServeHTTPHijack(t *testing.T) {
	s := NewServer(testRegistry(t), WithPretty(false))
	hs := httptest.NewServer(s)
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	r, err := rawPOST(addr, "/RPC", `{"jsonrpc":"2.0","method":"nosuch","id":1}`, 5*time.Second)
	if err != nil || r.status != "HTTP/1.1 500 Method Not Found" || r.body != `{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":1}` {
		t.Errorf("hijacked fault: %+v %v", r, err)
	}
	r, err = rawPOST(addr, "/RPC", `{"jsonrpc":"2.0","method":"core.printi","params":[7],"id":1}`, 5*time.Second)
	if err != nil || r.status != "HTTP/1.1 200 OK" || r.body != `{"jsonrpc":"2.0","result":[7],"id":1}` {
		t.Errorf("success: %+v %v", r, err)
	}
}

// TestHTTPLimits: body size 413, a slow client trickling headers does not
// block others, 100 concurrent clients.
func TestHTTPLimits(t *testing.T) {
	s := NewServer(testRegistry(t), WithPretty(false), WithMaxRequest(1000), WithTimeouts(2*time.Second, 2*time.Second, 2*time.Second))
	addr := startHTTP(t, s)
	r, err := rawPOST(addr, "/RPC", `{"jsonrpc":"2.0","method":"core.prints","params":["`+strings.Repeat("a", 2000)+`"]}`, 5*time.Second)
	if err != nil || !strings.HasPrefix(r.status, "HTTP/1.1 413 ") {
		t.Errorf("large body: %+v %v", r, err)
	}
	// Slow client: sends half a header line and stalls.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprint(slow, "POST /RPC HTTP/1.1\r\nHo")
	start := time.Now()
	r, err = rawPOST(addr, "/RPC", `{"jsonrpc":"2.0","method":"core.version","id":1}`, 5*time.Second)
	if err != nil || r.status != "HTTP/1.1 200 OK" || time.Since(start) > time.Second {
		t.Errorf("blocked by a slow client: %v %v %v", r.status, err, time.Since(start))
	}
	// The slow client is cut after the read timeout.
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 200)
	if n, err := slow.Read(b); err == nil {
		t.Errorf("slow client got data: %q", b[:n])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := rawPOST(addr, "/RPC", fmt.Sprintf(`{"jsonrpc":"2.0","method":"t.slow","id":%d}`, i), 10*time.Second)
			if err == nil && r.body != fmt.Sprintf(`{"jsonrpc":"2.0","result":"ok","id":%d}`, i) {
				err = fmt.Errorf("client %d: %q", i, r.body)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func startFIFO(t testing.TB, s *Server, path string) *fifoListener {
	l, err := s.listenFIFO(path, newFilePerm(nil))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Serve(context.Background()) }()
	t.Cleanup(func() { l.Close(); <-done })
	return l
}

// TestFIFO covers §6 and checklist item 7.
func TestFIFO(t *testing.T) {
	dir := shortTemp(t)
	s := NewServer(testRegistry(t), WithPretty(false), WithReplyDir(dir+"/"), WithTimeouts(300*time.Millisecond, time.Second, 0))
	path := filepath.Join(dir, "rpc.fifo")
	startFIFO(t, s, path)
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("fifo: %v %v", st, err)
	}
	x := func(name, doc string) string { return fifoExchange(t, path, dir, name, doc, time.Second) }
	if got := x("r1", `{"jsonrpc": "2.0", "method": "core.printi", "params": [1, 2], "reply_name": "r1", "id": 42}`+"\n"); got != `{"jsonrpc":"2.0","result":[1,2],"id":42}` {
		t.Errorf("kamctl-style: %q", got)
	}
	// Pretty multi-line input as kamcli writes it, with a dot in the name.
	if got := x("kamailio_rpc_reply.fifo", "{\n  \"jsonrpc\": \"2.0\",\n  \"method\": \"core.prints\",\n  \"params\": [\"a}{'\\\"\"],\n  \"reply_name\": \"kamailio_rpc_reply.fifo\",\n  \"id\": 7\n}\n"); got != `{"jsonrpc":"2.0","result":["a}{'\""],"id":7}` {
		t.Errorf("kamcli-style: %q", got)
	}
	if got := x("r2", `{"jsonrpc":"1.0","reply_name":"r2","id":1}`); got != "" {
		t.Errorf("bad version: %q", got)
	}
	if got := x("r3", `{"jsonrpc":"2.0","method":"nosuch","reply_name":"r3","id":1}`); got != `{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":1}` {
		t.Errorf("unknown: %q", got)
	}
	if got := x("r4", `{"jsonrpc":"2.0","method":"core.version","reply_name":"../r4","id":1}`); got != "" {
		t.Errorf("slash name answered: %q", got)
	}
	if got := x("r5", `{"jsonrpc":"2.0","method":"core.version","reply_name":"a\\r5","id":1}`); got != "" {
		t.Errorf("backslash name answered: %q", got)
	}
	// Garbage, a stray '}', an over-long document and a broken partial
	// document are dropped; the next well-formed request is answered.
	big := `{"jsonrpc":"2.0","method":"core.prints","params":["` + strings.Repeat("{", 9000) + `"],"reply_name":"r6","id":1}`
	if got := x("r6", "garbage line\n}"+big+`{"jsonrpc":"2.0","method":"core.printi","params":[6],"reply_name":"r6","id":6}`); got != `{"jsonrpc":"2.0","result":[6],"id":6}` {
		t.Errorf("resync: %q", got)
	}
	if got := x("r7", `{"jsonrpc":"2.0","method":"core.printi"`); got != "" {
		t.Errorf("partial: %q", got)
	}
	time.Sleep(500 * time.Millisecond) // partial dropped after the idle timeout
	if got := x("r7", `{"jsonrpc":"2.0","method":"core.printi","params":[7],"reply_name":"r7","id":7}`); got != `{"jsonrpc":"2.0","result":[7],"id":7}` {
		t.Errorf("after partial: %q", got)
	}
	// Two documents in one write, each answered.
	for _, n := range []string{"ra", "rb"} {
		os.Remove(filepath.Join(dir, n))
	}
	if got := x("r8", `{"jsonrpc":"2.0","method":"t.none","reply_name":"r8","id":1} {"jsonrpc":"2.0","method":"t.noneA","reply_name":"r8","id":2}`); !strings.HasPrefix(got, `{"jsonrpc":"2.0","result":{},"id":1}`) {
		t.Errorf("two docs: %q", got)
	}
	// A symlink or a regular file as reply target is refused.
	os.WriteFile(filepath.Join(dir, "plain"), nil, 0o600)
	os.Symlink(filepath.Join(dir, "plain"), filepath.Join(dir, "link"))
	for _, n := range []string{"plain", "link"} {
		if err := s.writeReplyFIFO(filepath.Join(dir, n), []byte("x")); err == nil {
			t.Errorf("%s accepted as reply fifo", n)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "plain")); len(b) != 0 {
		t.Errorf("wrote into a regular file")
	}
}

// TestFIFOFramer checks the framing state machine directly.
func TestFIFOFramer(t *testing.T) {
	var docs []string
	drops := 0
	f := &framer{max: 50, emit: func(d []byte) { docs = append(docs, string(d)) }, drop: func(string, int) { drops++ }}
	f.feed([]byte(" {\"a\":\"}\\\"'\"}\n{'x}'}xx\n}{\"b\":\"" + strings.Repeat("{", 60) + "\"}{}"))
	want := []string{" {\"a\":\"}\\\"'\"}", "{'x}'}", "{}"}
	if fmt.Sprint(docs) != fmt.Sprint(want) || drops != 3 {
		t.Errorf("docs %q drops %d", docs, drops)
	}
}

// TestKamctl runs the real kamctl rpc against the FIFO (§6.3).
func TestKamctl(t *testing.T) {
	kamctl := "/usr/sbin/kamctl"
	_, err := os.Stat(kamctl)
	testutil.Need(t, err == nil, "kamctl is not installed")
	dir := shortTemp(t)
	s := NewServer(testRegistry(t))
	path := filepath.Join(dir, "kamailio_rpc.fifo")
	startFIFO(t, s, path)
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kamctl, append([]string{"rpc"}, args...)...)
		cmd.Env = append(os.Environ(), "RPCFIFOPATH="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kamctl rpc %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("core.version")
	if !strings.Contains(out, `"result": "kamailio 5.6.3 (`) || !strings.Contains(out, `"id": `) {
		t.Errorf("kamctl rpc core.version:\n%s", out)
	}
	out = run("core.printi", "i:5", "7")
	if !strings.Contains(strings.Join(strings.Fields(out), ""), `"result":[5,7]`) {
		t.Errorf("kamctl rpc core.printi:\n%s", out)
	}
	out = run("system.methodHelp", "nosuch")
	if !strings.Contains(out, `"code": 400`) || !strings.Contains(out, "command not found") {
		t.Errorf("kamctl rpc methodHelp:\n%s", out)
	}
}

func startDgram(t testing.TB, s *Server, addr string) *dgramListener {
	l, err := s.listenDgram(addr, newFilePerm(nil))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Serve(context.Background()) }()
	t.Cleanup(func() { l.Close(); <-done })
	return l
}

// TestDgram covers §7 and checklist item 8 on unix and UDP sockets.
func TestDgram(t *testing.T) {
	dir := shortTemp(t)
	s := NewServer(testRegistry(t), WithPretty(false))
	sock := filepath.Join(dir, "rpc.sock")
	startDgram(t, s, sock)
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", st, err)
	}
	req := `{"jsonrpc":"2.0","method":"core.printi","params":[1],"reply_name":"ignored","id":9}` + "\n"
	got, err := dgramExchange("unixgram", filepath.Join(dir, "cl"), sock, req, 2*time.Second)
	if err != nil || got != `{"jsonrpc":"2.0","result":[1],"id":9}` {
		t.Errorf("unix: %q %v", got, err)
	}
	if got, err := dgramExchange("unixgram", filepath.Join(dir, "cl2"), sock, `{"jsonrpc":`, 300*time.Millisecond); err == nil {
		t.Errorf("unparsable answered: %q", got)
	}
	if got, err := dgramExchange("unixgram", "", sock, req, 300*time.Millisecond); err == nil {
		t.Errorf("unbound client answered: %q", got)
	}
	ul := startDgram(t, s, "udp:127.0.0.1:0")
	got, err = dgramExchange("udp", "", ul.Addr().String(), req, 2*time.Second)
	if err != nil || got != `{"jsonrpc":"2.0","result":[1],"id":9}` {
		t.Errorf("udp: %q %v", got, err)
	}
	// Close removes the unix socket file.
	s.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

var _ = http.MethodPost

// TestServeContext: the exported Listen*/Serve API serves every socket,
// Serve returns when its context ends and the FIFO and socket files are
// removed (jsonrpc.md §2).
func TestServeContext(t *testing.T) {
	dir := shortTemp(t)
	s := NewServer(testRegistry(t), WithPretty(false), WithReplyDir(dir+"/"))
	fifo, sock := filepath.Join(dir, "f"), filepath.Join(dir, "d")
	// fifo_user/fifo_group and dgram_user/dgram_group (jsonrpc.md §2).
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		uid, gid = 4321, 8765
	}
	if err := s.ListenFIFO(fifo, 0o640, WithFileOwner(uid, gid)); err != nil {
		t.Fatal(err)
	}
	if err := s.ListenDgram(sock, WithFileMode(0o660), WithFileOwner(uid, gid)); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{fifo: 0o640, sock: 0o660} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", p, st, err)
		}
		if sys := st.Sys().(*syscall.Stat_t); uid >= 0 && (int(sys.Uid) != uid || int(sys.Gid) != gid) {
			t.Errorf("%s owner %d:%d", p, sys.Uid, sys.Gid)
		}
	}
	if err := s.ListenDgram("udp:127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	haddr, err := s.ListenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if as := s.Addrs(); len(as) != 3 || as[2].String() != haddr.String() {
		t.Fatalf("Addrs = %v", as)
	}
	if st, err := os.Stat(fifo); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("fifo mode: %v %v", st, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	req := `{"jsonrpc":"2.0","method":"core.printi","params":[3],"id":1}`
	want := `{"jsonrpc":"2.0","result":[3],"id":1}`
	if got := fifoExchange(t, fifo, dir, "rr", strings.Replace(req, "{", `{"reply_name":"rr",`, 1), 2*time.Second); got != want {
		t.Errorf("fifo: %q", got)
	}
	if got, err := dgramExchange("unixgram", filepath.Join(dir, "c"), sock, req, 2*time.Second); got != want {
		t.Errorf("unix: %q %v", got, err)
	}
	if got, err := dgramExchange("udp", "", s.Addrs()[1].String(), req, 2*time.Second); got != want {
		t.Errorf("udp: %q %v", got, err)
	}
	if r, err := rawPOST(haddr.String(), "/RPC", req, 2*time.Second); r.body != want {
		t.Errorf("http: %+v %v", r, err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	for _, p := range []string{fifo, sock} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// TestCurl: curl's Expect: 100-continue on a larger body is honoured and
// the status line carries the fault text (jsonrpc.md §5).
func TestCurl(t *testing.T) {
	curl := testutil.LookPath(t, "curl")
	s := NewServer(testRegistry(t), WithPretty(false))
	addr := startHTTP(t, s)
	body := `{"jsonrpc":"2.0","method":"core.prints","params":["` + strings.Repeat("a", 3000) + `"],"id":1}`
	start := time.Now()
	out, err := exec.Command(curl, "-s", "-m", "5", "-X", "POST", "--data-binary", body, "http://"+addr+"/RPC").Output()
	if err != nil || string(out) != `{"jsonrpc":"2.0","result":["`+strings.Repeat("a", 3000)+`"],"id":1}` || time.Since(start) > 900*time.Millisecond {
		t.Errorf("curl big body: %v %.60q %v", err, out, time.Since(start))
	}
	out, err = exec.Command(curl, "-s", "-i", "-m", "5", "-X", "POST", "--data-binary", `{"jsonrpc":"2.0","method":"x","id":1}`, "http://"+addr+"/RPC").Output()
	if err != nil || !strings.HasPrefix(string(out), "HTTP/1.1 500 Method Not Found\r\n") {
		t.Errorf("curl fault: %v %q", err, out)
	}
}
