package jsonrpc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// testRegistry has the system and core methods plus a few shape probes.
func testRegistry(t testing.TB) *rpc.Registry {
	reg := rpc.NewRegistry()
	if err := rpc.RegisterCore(reg, rpc.Core{Name: "kamailio", Version: "5.6.3"}); err != nil {
		t.Fatal(err)
	}
	err := reg.Register(
		rpc.Method{Name: "t.multi", Handler: func(c *rpc.Call) { c.Add(rpc.Int(1), rpc.String("two"), rpc.Int(3)) }},
		rpc.Method{Name: "t.multiA", Flags: rpc.RetArray, Handler: func(c *rpc.Call) { c.Add(rpc.Int(1), rpc.String("two"), rpc.Int(3)) }},
		rpc.Method{Name: "t.none", Handler: func(c *rpc.Call) {}},
		rpc.Method{Name: "t.noneA", Flags: rpc.RetArray, Handler: func(c *rpc.Call) {}},
		rpc.Method{Name: "t.wrap", Handler: func(c *rpc.Call) {
			a := c.Array()
			a.Add("x", rpc.Int(1)).Add("y", rpc.String("z"))
			s := c.Struct()
			s.Append(rpc.Int(9)) // array_add on a struct: dropped
			s.Add("k", rpc.Bool(true))
			s.Add("k", rpc.Null())
			s.Add("t", rpc.Time(time.Unix(0, 0)))
			s.Add("arr", a.Members[0].Value)
		}},
		rpc.Method{Name: "t.fault0", Handler: func(c *rpc.Call) { c.Add(rpc.Int(1)); c.Fault(0, "x") }},
		rpc.Method{Name: "t.faultEmpty", Handler: func(c *rpc.Call) { c.Fault(404, "") }},
		rpc.Method{Name: "t.faultLong", Handler: func(c *rpc.Call) { c.Fault(400, "%s", strings.Repeat("a", 200)) }},
		rpc.Method{Name: "t.faultTable", Handler: func(c *rpc.Call) { c.Fault(-32602, "ignored") }},
		rpc.Method{Name: "t.faultTwice", Handler: func(c *rpc.Call) { c.Fault(400, "first"); c.Fault(606, "second") }},
		rpc.Method{Name: "t.scanStruct", Handler: func(c *rpc.Call) { var s string; c.Scan("{", &s) }},
		rpc.Method{Name: "t.scanBad", Handler: func(c *rpc.Call) { var s string; c.Scan("sq", &s) }},
		rpc.Method{Name: "t.scan", Flags: rpc.RetArray, Handler: func(c *rpc.Call) {
			var d, u int
			var f float64
			var l int64
			var s string
			n := c.Scan("dufl.s", &d, &u, &f, &l, &s)
			c.Add(rpc.Int(n), rpc.Int(d), rpc.Int(u), rpc.Double(f), rpc.Long(l), rpc.String(s))
		}},
		rpc.Method{Name: "t.slow", Handler: func(c *rpc.Call) { time.Sleep(50 * time.Millisecond); c.Add(rpc.String("ok")) }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// shortTemp returns a short temporary directory (unix socket paths are
// limited to about 100 bytes).
func shortTemp(t testing.TB) string {
	d, err := os.MkdirTemp("", "jrpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startHTTP serves s on a loopback port until the test ends.
func startHTTP(t testing.TB, s *Server) string {
	l, err := s.listenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Serve(context.Background()) }()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String()
}

// rawHTTP is one HTTP exchange over a fresh TCP connection: the status
// line, the headers and the body as bytes.
type rawReply struct {
	status string
	header map[string]string
	body   string
}

func rawPOST(addr, path, body string, timeout time.Duration) (rawReply, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return rawReply{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
	return readRaw(bufio.NewReader(c))
}

func readRaw(br *bufio.Reader) (rawReply, error) {
	var r rawReply
	line, err := br.ReadString('\n')
	if err != nil {
		return r, err
	}
	r.status = strings.TrimRight(line, "\r\n")
	r.header = map[string]string{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return r, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		r.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	n, _ := strconv.Atoi(r.header["content-length"])
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return r, err
	}
	r.body = string(b)
	return r, nil
}

// fifoExchange writes doc to the server FIFO and reads the reply from a
// reply FIFO called name in dir (the server's reply dir); "" when nothing
// came before timeout.
func fifoExchange(t testing.TB, server, dir, name, doc string, timeout time.Duration) string {
	t.Helper()
	rp := filepath.Join(dir, name)
	os.Remove(rp)
	if err := syscall.Mkfifo(rp, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(rp)
	r, err := os.OpenFile(rp, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(server, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return readFIFO(r, timeout)
}

// readFIFO reads until the writer closes (EOF after data) or timeout.
func readFIFO(r *os.File, timeout time.Duration) string {
	var out []byte
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65536)
	got := false
	for time.Now().Before(deadline) {
		_ = r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if n > 0 {
			got = true
		}
		if err == io.EOF && got {
			break
		}
		if err == io.EOF {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return string(out)
}

// dgramExchange sends doc from a unix socket bound at local (or unbound
// when local is "") or from UDP, and reads one reply.
func dgramExchange(network, local, server, doc string, timeout time.Duration) (string, error) {
	var c net.Conn
	var err error
	switch network {
	case "unixgram":
		var la *net.UnixAddr
		if local != "" {
			la = &net.UnixAddr{Name: local, Net: "unixgram"}
			defer os.Remove(local)
		}
		c, err = net.DialUnix("unixgram", la, &net.UnixAddr{Name: server, Net: "unixgram"})
	default:
		c, err = net.Dial("udp", server)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(doc)); err != nil {
		return "", err
	}
	buf := make([]byte, 70000)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

func itoa(n int) string { return strconv.Itoa(n) }
func osPid() int        { return os.Getpid() }
