package binrpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// shortDir is a fresh directory with a short path (kamcmd limits unix
// socket paths to 104 bytes), removed at the end of the test.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "brpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// testRegistry holds the core methods and the test methods whose kamcmd
// output the tests compare.
func testRegistry(t testing.TB) *rpc.Registry {
	t.Helper()
	reg := rpc.NewRegistry()
	if err := rpc.RegisterCore(reg, rpc.Core{Name: "kamsidecar", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	err := reg.Register(
		rpc.Method{Name: "t.struct", Handler: func(c *rpc.Call) {
			c.Struct().Add("a", rpc.Int(1)).Add("b", rpc.String("x y")).Add("c", rpc.Double(1.5)).Add("d", rpc.String(""))
		}},
		rpc.Method{Name: "t.nested", Handler: func(c *rpc.Call) {
			s := c.Struct()
			s.Struct("a").Add("b", rpc.Int(1))
			s.Add("c", rpc.String("x"))
		}},
		rpc.Method{Name: "t.unnamed", Handler: func(c *rpc.Call) {
			a := c.Array()
			a.Append(rpc.Int(1)).Append(rpc.String("two"))
			a.AppendStruct().Add("k", rpc.String("v"))
			a.Array("arr").Append(rpc.Int(3))
		}},
		rpc.Method{Name: "t.empty", Handler: func(c *rpc.Call) {}},
		rpc.Method{Name: "t.double", Handler: func(c *rpc.Call) {
			c.Add(rpc.Double(1.5), rpc.Double(2), rpc.Double(-1.25), rpc.Long(5), rpc.Double(0.001))
		}},
		rpc.Method{Name: "t.neg", Handler: func(c *rpc.Call) {
			c.Add(rpc.Int(-2), rpc.Uint(4294967295), rpc.Null(), rpc.Bool(true), rpc.String("l1\nl2"))
		}},
		rpc.Method{Name: "t.fault", Handler: func(c *rpc.Call) {
			c.Add(rpc.Int(1))
			c.Fault(499, "nope %d", 1)
			c.Fault(500, "second")
		}},
		rpc.Method{Name: "t.big", Handler: func(c *rpc.Call) {
			n := 0
			c.Scan("d", &n)
			s := c.Struct()
			for i := range n {
				s.Struct("dest").Add("uri", rpc.String("sip:10.0.0."+strconv.Itoa(i%250)+":5060;transport=udp")).Add("flags", rpc.String("AP")).Add("priority", rpc.Int(i))
			}
		}},
		rpc.Method{Name: "t.sleep", Handler: func(c *rpc.Call) {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-c.Context().Done():
			}
			c.Add(rpc.String("slept"))
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// startServer listens on addrs and serves until the test ends.
func startServer(t testing.TB, reg *rpc.Registry, addrs []string, opts ...Option) *Server {
	t.Helper()
	s := NewServer(reg, opts...)
	for _, a := range addrs {
		if err := s.Listen(a); err != nil {
			s.Close()
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	for i := 0; i < 500; i++ { // until Serve has started (bounded: 5 s)
		s.mu.Lock()
		serving := s.serving != nil
		s.mu.Unlock()
		if serving {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return s
}

func kamcmdPath(t testing.TB) string {
	t.Helper()
	_, err := os.Stat("/usr/sbin/kamcmd")
	if err == nil {
		return "/usr/sbin/kamcmd"
	}
	return testutil.LookPath(t, "kamcmd")
}

// runKamcmd runs the real kamcmd and returns its stdout.
func runKamcmd(t testing.TB, bin, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-s", addr}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Errorf("kamcmd %v: %v; stderr %q stdout %q", args, err, errb.String(), out.String())
	}
	return out.String()
}

// kamcmdCases are kamcmd command lines and the output binrpc.md §9.3 and
// real Kamailio (for the core methods, checked by hand) give.
var kamcmdCases = []struct {
	args []string
	want string
}{
	{[]string{"core.version"}, "kamsidecar test (x86_64/linux) \n"},
	{[]string{"t.struct"}, "{\n\ta: 1\n\tb: x y\n\tc: 1.500000\n\td: \n}\n"},
	{[]string{"t.nested"}, "{\n\ta: {\n\t\tb: 1\n\t}\n\tc: x\n}\n"},
	{[]string{"t.unnamed"}, "{\n\t1\n\ttwo\n\t{\n\t\tk: v\n\t}\n\tarr: {\n\t\t3\n\t}\n}\n"},
	{[]string{"t.empty"}, ""},
	{[]string{"t.double"}, "1.500000\n2\n-1.250000\n5\n0.001000\n"},
	{[]string{"t.neg"}, "-2\n-1\n<null string>\n1\nl1\nl2\n"},
	{[]string{"t.fault"}, "error: 499 - nope 1\n"},
	{[]string{"no.such.method"}, "error: 500 - command no.such.method not found\n"},
	{[]string{"core.printi", "a"}, "error: 400 - error at parameter 0: expected integer type but record doesn't match type\n"},
	{[]string{"core.printi", "1", "a"}, "1\n"},
	{[]string{"core.printi", "0x10"}, "error: 400 - error at parameter 0: expected integer type but record doesn't match type\n"},
	{[]string{"core.prints", "1"}, "error: 400 - error at parameter 0: expected string type but record doesn't match type\n"},
	{[]string{"core.prints", "s:1", ""}, "1\n"},
	{[]string{"core.prints", "a", "b"}, "a\nb\n"},
	{[]string{"--", "core.echo", "-1", "2147483648", "s:", "x"}, "18446744073709551615\n18446744071562067968\n\nx\n"},
	{[]string{"core.echo", "1.5"}, "error: 400 - error at parameter 0: expected float type but bug -- internal error\n"},
	{[]string{"-f", `%v:%v\n`, "core.prints", "a", "b", "c"}, "a:b\nc:\n"},
	{[]string{"system.methodHelp"}, "error: 400 - Method Name Expected\n"},
}

func TestKamcmdAgainstServer(t *testing.T) {
	bin := kamcmdPath(t)
	dir := shortDir(t)
	port := testutil.FreePort(t)
	addrs := map[string]string{
		"unix":  "unix:" + filepath.Join(dir, "ctl"),
		"unixd": "unixd:" + filepath.Join(dir, "ctld"),
		"tcp":   "tcp:127.0.0.1:" + strconv.Itoa(port),
		"udp":   "udp:127.0.0.1:" + strconv.Itoa(port),
	}
	startServer(t, testRegistry(t), []string{addrs["unix"], addrs["unixd"], addrs["tcp"], addrs["udp"]})
	for name, addr := range addrs {
		t.Run(name, func(t *testing.T) {
			for _, tc := range kamcmdCases {
				got := runKamcmd(t, bin, addr, append([]string{"-D", dir}, tc.args...)...)
				if got != tc.want {
					t.Errorf("kamcmd %v:\n got %q\nwant %q", tc.args, got, tc.want)
				}
			}
		})
	}
	t.Run("ctl", func(t *testing.T) {
		got := runKamcmd(t, bin, addrs["unix"], "ctl.listen")
		want := "binrpc\nunix_stream\n" + filepath.Join(dir, "ctl") + "\n\nbinrpc\nunix_dgram\n" + filepath.Join(dir, "ctld") +
			"\n\nbinrpc\ntcp\n127.0.0.1\n" + strconv.Itoa(port) + "\nbinrpc\nudp\n127.0.0.1\n" + strconv.Itoa(port) + "\n"
		if got != want {
			t.Errorf("ctl.listen %q want %q", got, want)
		}
		if got := runKamcmd(t, bin, addrs["unix"], "ctl.who"); got != "binrpc\nunix_stream\n<anonymous unix socket>\n\n"+filepath.Join(dir, "ctl")+"\n\n" {
			t.Errorf("ctl.who %q", got)
		}
		if got := runKamcmd(t, bin, addrs["unix"], "ctl.connections"); got != "1\n" {
			t.Errorf("ctl.connections %q", got)
		}
		if got := runKamcmd(t, bin, addrs["udp"], "ctl.connections"); got != "0\n" {
			t.Errorf("ctl.connections over udp %q", got)
		}
		if got := runKamcmd(t, bin, addrs["unixd"], "-D", dir, "ctl.who"); got != "error: 400 - no open stream connection\n" {
			t.Errorf("ctl.who over dgram %q", got)
		}
		got = runKamcmd(t, bin, addrs["tcp"], "ctl.who")
		if !strings.HasPrefix(got, "binrpc\ntcp\n127.0.0.1\n") || !strings.HasSuffix(got, "\n127.0.0.1\n"+strconv.Itoa(port)+"\n") {
			t.Errorf("ctl.who over tcp %q", got)
		}
	})
}

// TestClientPrintMatchesKamcmd checks that Reply.Print gives kamcmd's text
// for the same reply, including a reply bigger than kamcmd's 128 KiB (which
// kamcmd refuses and our client reads), on every transport.
func TestClientPrintMatchesKamcmd(t *testing.T) {
	bin := kamcmdPath(t)
	dir := shortDir(t)
	port := testutil.FreePort(t)
	addrs := []string{"unix:" + filepath.Join(dir, "ctl"), "unixd:" + filepath.Join(dir, "ctld"), "tcp:127.0.0.1:" + strconv.Itoa(port), "udp:127.0.0.1:" + strconv.Itoa(port)}
	startServer(t, testRegistry(t), addrs)
	for _, addr := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cl, err := Dial(ctx, addr)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		for _, tc := range kamcmdCases {
			args, format := tc.args, ""
			switch args[0] {
			case "-f":
				format, args = Unescape(args[1]), args[2:]
			case "--":
				args = args[1:]
			}
			ps := make([]any, 0, len(args)-1)
			for _, a := range args[1:] {
				ps = append(ps, ParseArg(a))
			}
			var b strings.Builder
			r, err := cl.Call(ctx, args[0], ps...)
			var f rpc.Fault
			switch {
			case errors.As(err, &f):
				PrintFault(&b, f)
			case err != nil:
				t.Fatalf("%s %v: %v", addr, tc.args, err)
			case format != "":
				Format(&b, format, r)
			default:
				r.Print(&b)
			}
			if b.String() != tc.want {
				t.Errorf("%s %v: Print %q want %q", addr, tc.args, b.String(), tc.want)
			}
		}
		// A reply of about 300 KiB.
		r, err := cl.Call(ctx, "t.big", 3000)
		if err != nil {
			t.Fatalf("%s t.big: %v", addr, err)
		}
		if len(r.Records) != 2+3000*5 {
			t.Errorf("%s t.big: %d records", addr, len(r.Records))
		}
		var b bytes.Buffer
		r.Print(&b)
		if b.Len() < 128<<10 {
			t.Errorf("t.big printed only %d bytes", b.Len())
		}
		// kamcmd prints the same for smaller ones; 1500 destinations take
		// about 100 KiB, two datagrams on unixd and udp, which kamcmd joins.
		for _, n := range []int{1500, 20} {
			r, err = cl.Call(ctx, "t.big", n)
			if err != nil {
				t.Fatal(err)
			}
			b.Reset()
			r.Print(&b)
			if got := runKamcmd(t, bin, addr, "-D", dir, "t.big", strconv.Itoa(n)); got != b.String() {
				t.Errorf("%s t.big %d: kamcmd %d bytes, Print %d bytes", addr, n, len(got), b.Len())
			}
		}
		vs := r.Values()
		if len(vs) != 1 || vs[0].Kind != rpc.KindStruct || len(vs[0].C.Members) != 20 || vs[0].C.Members[3].Value.C.Members[2].Value.I != 3 {
			t.Errorf("Values: %+v", vs)
		}
		cl.Close()
		cancel()
	}
	if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "kamsidecar_*")); len(m) > 0 {
		t.Logf("left reply sockets (maybe from other tests): %v", m)
	}
}

// rawConn dials a stream address and returns the connection.
func rawConn(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// readPackets reads n packets from c.
func readPackets(t testing.TB, c net.Conn, n int) [][]byte {
	t.Helper()
	var buf []byte
	var out [][]byte
	tmp := make([]byte, 65536)
	for len(out) < n {
		h, hn, err := ParseHeader(buf)
		if err == nil && len(buf) >= hn+int(h.Length) {
			out = append(out, buf[:hn+int(h.Length)])
			buf = buf[hn+int(h.Length):]
			continue
		}
		k, err := c.Read(tmp)
		buf = append(buf, tmp[:k]...)
		if err != nil {
			t.Fatalf("read after %d packets: %v", len(out), err)
		}
	}
	return out
}

// expectClosed checks that the peer closes c without sending more.
func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 16)
	n, err := c.Read(b)
	if err != io.EOF && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Errorf("connection not closed: %d bytes % x, %v", n, b[:n], err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

func TestStreamProtocol(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "ctl")
	startServer(t, testRegistry(t), []string{"unix:" + sock})
	req := func(cookie uint32, m string, ps ...any) []byte {
		p, err := Request(cookie, m, ps...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("pipelining", func(t *testing.T) {
		c := rawConn(t, "unix", sock)
		c.Write(append(req(1, "core.prints", "a"), req(0x1234, "t.empty")...))
		ps := readPackets(t, c, 2)
		if hex.EncodeToString(ps[0]) != "a1100301216100" || hex.EncodeToString(ps[1]) != "a111001234" {
			t.Errorf("replies % x / % x", ps[0], ps[1])
		}
		// Many requests on one connection, with a 4-byte cookie written wide.
		for i := range 20 {
			p := unhex(t, "a1 0f 00 00 00 0e 00 00 00 07")
			p = append(p, AppendString(nil, "core.printi")...)
			p = AppendInt(p, int32(i))
			p[5] = byte(len(p) - 10)
			c.Write(p)
			r := readPackets(t, c, 1)[0]
			h, hn, _ := ParseHeader(r)
			recs, _ := ParseBody(r[hn:], true)
			if h.Cookie != 7 || h.Type != TypeReply || len(recs) != 1 || recs[0].Int != int32(i) {
				t.Fatalf("reply % x", r)
			}
		}
	})
	t.Run("bad magic", func(t *testing.T) {
		c := rawConn(t, "unix", sock)
		c.Write(unhex(t, "b1 00 00 00"))
		got := readPackets(t, c, 1)[0]
		want := unhex(t, "a1 30 23 00 20 01 90 91 1e"+hex.EncodeToString([]byte("bad request: corrupted packet\x00")))
		if !bytes.Equal(got, want) {
			t.Errorf("got % x", got)
		}
		expectClosed(t, c)
	})
	t.Run("reply type", func(t *testing.T) {
		c := rawConn(t, "unix", sock)
		p := req(0x4321, "core.version")
		p[1] |= 0x10
		c.Write(p)
		got := readPackets(t, c, 1)[0]
		want := unhex(t, "a1 31 23 43 21 20 01 90 91 1e"+hex.EncodeToString([]byte("bad request: corrupted packet\x00")))
		if !bytes.Equal(got, want) {
			t.Errorf("got % x", got)
		}
		expectClosed(t, c)
	})
	t.Run("oversized", func(t *testing.T) {
		c := rawConn(t, "unix", sock)
		c.Write(unhex(t, "a1 08 01 11 70 01 41 78 2e 79 00"))
		expectClosed(t, c)
	})
	t.Run("pipelined big replies to a slow reader", func(t *testing.T) {
		// The replies are larger than the socket buffer: the server keeps
		// what does not fit, answers the next packets in order once it is
		// written, and serves other clients meanwhile.
		c := rawConn(t, "unix", sock)
		var p []byte
		for i := range 3 {
			p = append(p, req(uint32(10+i), "t.big", 20000)...)
		}
		p = append(p, req(13, "core.prints", "end")...)
		c.Write(p)
		otherClientServed(t, sock)
		ps := readPackets(t, c, 4)
		for i, r := range ps {
			h, hn, _ := ParseHeader(r)
			if h.Cookie != uint32(10+i) || h.Type != TypeReply {
				t.Fatalf("reply %d: cookie %d type %d", i, h.Cookie, h.Type)
			}
			if i < 3 && len(r) < 1<<20 {
				t.Errorf("reply %d: %d bytes", i, len(r))
			}
			if i == 3 {
				recs, _ := ParseBody(r[hn:], true)
				if len(recs) != 1 || recs[0].Str != "end" {
					t.Errorf("last reply % x", r)
				}
			}
		}
	})
	t.Run("idle close and slow client", func(t *testing.T) {
		c := rawConn(t, "unix", sock)
		c.Write([]byte{0xa1, 0x01}) // half a header
		cl, ctx := otherClientServed(t, sock)
		if r, err := cl.Call(ctx, "ctl.connections"); err != nil || r.Records[0].Int != 2 {
			t.Errorf("ctl.connections: %+v %v", r, err)
		}
	})
}

func TestMethodAsIntAndIdle(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "ctl")
	startServer(t, testRegistry(t), []string{"unix:" + sock}, WithIdleTimeout(300*time.Millisecond))
	c := rawConn(t, "unix", sock)
	c.Write(AppendPacket(nil, TypeRequest, 9, AppendInt(nil, 5)))
	got := readPackets(t, c, 1)[0]
	want := faultPacket(9, rpc.Fault{Code: 400, Message: "bad request method: record doesn't match type"})
	if !bytes.Equal(got, want) {
		t.Errorf("method as int: % x", got)
	}
	expectClosed(t, c)
	// Idle close.
	c2 := rawConn(t, "unix", sock)
	start := time.Now()
	expectClosed(t, c2)
	if d := time.Since(start); d < 200*time.Millisecond || d > 4*time.Second {
		t.Errorf("idle close after %v", d)
	}
}

func TestMaxConnections(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "ctl")
	startServer(t, testRegistry(t), []string{"unix:" + sock})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cls []*Client
	defer func() {
		for _, c := range cls {
			c.Close()
		}
	}()
	for i := range DefaultMaxConns {
		cl, err := Dial(ctx, "unix:"+sock)
		if err != nil {
			t.Fatal(err)
		}
		cls = append(cls, cl)
		if _, err := cl.Call(ctx, "core.version"); err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
	}
	extra := rawConn(t, "unix", sock)
	expectClosed(t, extra)
	r, err := cls[0].Call(ctx, "ctl.connections")
	if err != nil || r.Records[0].Int != DefaultMaxConns {
		t.Fatalf("ctl.connections %+v %v", r, err)
	}
	cls[1].Close()
	// Once the server has seen the close, a new connection is served.
	for i := 0; ; i++ {
		r, err := cls[0].Call(ctx, "ctl.connections")
		if err == nil && r.Records[0].Int == DefaultMaxConns-1 {
			break
		}
		if i > 200 {
			t.Fatalf("connection count stays %+v %v", r, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cl, err := Dial(ctx, "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Call(ctx, "core.version"); err != nil {
		t.Fatal(err)
	}
}

func TestSocketFiles(t *testing.T) {
	dir := shortDir(t)
	sock, dsock := filepath.Join(dir, "ctl"), filepath.Join(dir, "ctld")
	if err := os.WriteFile(sock, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewServer(testRegistry(t))
	if err := s.Listen("unix:" + sock); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("unixd:" + dsock); err != nil {
		t.Fatal(err)
	}
	s2 := NewServer(testRegistry(t), WithMode(0o660))
	if err := s2.Listen(filepath.Join(dir, "ctl2")); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 { // ctl's user and group (binrpc.md §1)
		s3 := NewServer(testRegistry(t), WithMode(0o640), WithOwner(4321, 8765))
		p := filepath.Join(dir, "ctl3")
		if err := s3.Listen("unixd:" + p); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o640 || fi.Sys().(*syscall.Stat_t).Uid != 4321 || fi.Sys().(*syscall.Stat_t).Gid != 8765 {
			t.Errorf("%s: %v %+v %v", p, fi.Mode(), fi.Sys(), err)
		}
		s3.Close()
	}
	for p, mode := range map[string]os.FileMode{sock: 0o600, dsock: 0o600, filepath.Join(dir, "ctl2"): 0o660} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	if ls := s.Listeners(); len(ls) != 2 || ls[0].Addr.Transport != UnixStream || ls[1].Addr.Transport != UnixDgram {
		t.Errorf("Listeners %+v", ls)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	s2.Close()
	for _, p := range []string{sock, dsock, filepath.Join(dir, "ctl2")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if err := s.Listen("unix:" + sock); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Listen after Close: %v", err)
	}
}

func TestCtlOtherTransport(t *testing.T) {
	reg := testRegistry(t)
	NewServer(reg)
	c := rpc.NewCall(t.Context(), reg.Lookup("ctl.listen"), "jsonrpc", nil)
	reg.Run(c)
	if _, _, ok := c.FirstFault(); ok || len(c.Values()) != 0 {
		t.Errorf("ctl.listen over JSON: want an empty reply as 5.6.3 gives")
	}
	for _, m := range []string{"ctl.connections", "ctl.who"} {
		c := rpc.NewCall(t.Context(), reg.Lookup(m), "jsonrpc", nil)
		reg.Run(c)
		f, _, ok := c.FirstFault()
		if !ok || f.Code != 606 || f.Message != "rpc available only over binrpc (ctl)" {
			t.Errorf("%s: %+v %v", m, f, ok)
		}
	}
}

func TestDatagramBadPackets(t *testing.T) {
	port := testutil.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	startServer(t, testRegistry(t), []string{addr})
	c := rawConn(t, "udp", addr)
	c.Write(unhex(t, "b1 00 00 00"))
	got := readPackets(t, c, 1)[0]
	if !bytes.Equal(got, faultPacket(0, rpc.Fault{Code: 400, Message: "bad request: corrupted packet"})) {
		t.Errorf("bad magic % x", got)
	}
	c.Write(unhex(t, "a1 00 20 05 41"))
	got = readPackets(t, c, 1)[0]
	if !bytes.Equal(got, faultPacket(5, rpc.Fault{Code: 400, Message: "bad request: more data needed"})) {
		t.Errorf("short % x", got)
	}
	p, _ := Request(77, "core.prints", "x")
	c.Write(p)
	if got := readPackets(t, c, 1)[0]; !bytes.Equal(got, unhex(t, "a1 10 03 4d 21 78 00")) {
		t.Errorf("reply % x", got)
	}
}

func TestAutoConversion(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "ctl")
	startServer(t, testRegistry(t), []string{"unix:" + sock}, WithAutoConversion(true))
	cl, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := cl.Call(ctx, "core.printi", "12", 3.7)
	if err != nil || len(r.Records) != 2 || r.Records[0].Int != 12 || r.Records[1].Int != 3 {
		t.Errorf("printi: %+v %v", r, err)
	}
	r, err = cl.Call(ctx, "core.prints", 5, "x")
	if err != nil || len(r.Records) != 2 || r.Records[0].Str != "5" {
		t.Errorf("prints: %+v %v", r, err)
	}
}

func TestListenWhileServing(t *testing.T) {
	dir := shortDir(t)
	s := startServer(t, testRegistry(t), []string{"unix:" + filepath.Join(dir, "ctl")})
	dsock := filepath.Join(dir, "ctld")
	if err := s.Listen("unixd:" + dsock); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("second Serve accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := Dial(ctx, "unixd:"+dsock)
	if err != nil {
		t.Fatal(err)
	}
	reply := cl.reply
	if _, err := os.Stat(reply); err != nil || filepath.Dir(reply) != filepath.Clean(os.TempDir()) {
		t.Errorf("reply socket %q: %v", reply, err)
	}
	r, err := cl.Call(ctx, "core.prints", "dgram")
	if err != nil || r.Records[0].Str != "dgram" {
		t.Errorf("call: %+v %v", r, err)
	}
	cl.Close()
	if _, err := os.Stat(reply); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reply socket not removed: %v", err)
	}
}

// otherClientServed checks that a new client on sock is answered while
// another connection is busy or stalled, and returns it, open until the
// test ends, with a context for more calls.
func otherClientServed(t *testing.T, sock string) (*Client, context.Context) {
	t.Helper()
	cl, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	if r, err := cl.Call(ctx, "core.prints", "ok"); err != nil || r.Records[0].Str != "ok" {
		t.Errorf("other client not served: %v", err)
	}
	return cl, ctx
}
