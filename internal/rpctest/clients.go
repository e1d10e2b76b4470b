package rpctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// NoReply is what a client returns when the server sent nothing before the
// read timeout.
var NoReply = []byte("no reply\n")

// ReplyTimeout bounds every wait for a reply.
var ReplyTimeout = 3 * time.Second

// NoReplyTimeout is how long a client waits before it concludes that no
// reply will come (cases that expect none).
var NoReplyTimeout = 1500 * time.Millisecond

// BinrpcStream sends raw (one or more packets) over a stream socket
// (network "unix" or "tcp") and reads want reply packets. It also reports
// whether the server closed the connection after the last reply.
func BinrpcStream(network, addr string, raw []byte, want int, checkClose bool) ([][]byte, string, error) {
	c, err := net.DialTimeout(network, addr, ReplyTimeout)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	if _, err := c.Write(raw); err != nil {
		return nil, "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(ReplyTimeout))
	var buf []byte
	var pkts [][]byte
	tmp := make([]byte, 65536)
	for len(pkts) < want {
		n, _ := PacketLen(buf)
		if n > 0 && len(buf) >= n {
			pkts = append(pkts, append([]byte{}, buf[:n]...))
			buf = buf[n:]
			continue
		}
		m, err := c.Read(tmp)
		buf = append(buf, tmp[:m]...)
		if err != nil {
			if len(pkts) == 0 && len(buf) == 0 {
				return nil, "", nil
			}
			break
		}
	}
	state := ""
	if checkClose {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		m, err := c.Read(tmp)
		switch {
		case m > 0:
			state = "extra bytes: " + fmt.Sprintf("%x", tmp[:m])
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			state = "connection closed by server"
		default:
			state = "connection left open"
		}
	}
	if len(buf) > 0 {
		pkts = append(pkts, buf)
	}
	return pkts, state, nil
}

// BinrpcUDP sends raw as one datagram and returns the reply datagram(s)
// reassembled into one packet.
func BinrpcUDP(addr string, raw []byte) ([]byte, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return dgramExchange(c, raw, ReplyTimeout, true)
}

// BinrpcUnixgram sends raw from a socket bound at local to the unix
// datagram server at addr.
func BinrpcUnixgram(local, addr string, raw []byte) ([]byte, error) {
	c, err := dialUnixgram(local, addr)
	if err != nil {
		return nil, err
	}
	defer os.Remove(local)
	defer c.Close()
	return dgramExchange(c, raw, ReplyTimeout, true)
}

func dialUnixgram(local, addr string) (*net.UnixConn, error) {
	_ = os.Remove(local)
	la := &net.UnixAddr{Name: local, Net: "unixgram"}
	ra := &net.UnixAddr{Name: addr, Net: "unixgram"}
	return net.DialUnix("unixgram", la, ra)
}

// dgramExchange writes one datagram and reads the reply. For BINRPC
// (framed) it keeps reading datagrams until the packet is complete.
func dgramExchange(c net.Conn, raw []byte, timeout time.Duration, framed bool) ([]byte, error) {
	if _, err := c.Write(raw); err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var buf []byte
	tmp := make([]byte, 256*1024)
	for range 64 {
		m, err := c.Read(tmp)
		if err != nil {
			if len(buf) == 0 {
				return nil, nil
			}
			return buf, nil
		}
		buf = append(buf, tmp[:m]...)
		if !framed {
			return buf, nil
		}
		n, perr := PacketLen(buf)
		if perr != nil || (n > 0 && len(buf) >= n) {
			return buf, nil
		}
	}
	return buf, nil
}

// CmdResult is the outcome of running an external client.
type CmdResult struct {
	Stdout, Stderr []byte
	Exit           int
}

// Format renders r as golden text.
func (r CmdResult) Format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "exit: %d\n--- stdout\n", r.Exit)
	b.Write(r.Stdout)
	b.WriteString("--- stderr\n")
	b.Write(r.Stderr)
	return b.Bytes()
}

func runCmd(env []string, name string, args ...string) (CmdResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := CmdResult{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s timed out", name)
	}
	return res, nil
}

// RunKamcmd runs the real kamcmd against server (kamcmd -s syntax) with the
// given arguments (method first). A "--" is put before the method so that
// negative numbers are not taken as options.
func RunKamcmd(kamcmd, server string, args ...string) (CmdResult, error) {
	a := append([]string{"-s", server, "--"}, args...)
	return runCmd(nil, kamcmd, a...)
}

// RunKamctl runs the real `kamctl rpc` with RPCFIFOPATH set to fifo.
func RunKamctl(kamctl, fifo string, args ...string) (CmdResult, error) {
	a := append([]string{"rpc"}, args...)
	return runCmd([]string{"RPCFIFOPATH=" + fifo, "CTLENGINE=RPCFIFO"}, kamctl, a...)
}

// HTTPReply is a raw HTTP reply.
type HTTPReply struct {
	Status      string
	ContentType string
	ContentLen  string
	Body        []byte
	None        bool
}

// Format renders the reply as golden text: status line, Content-Type, a
// check of Content-Length against the body, blank line, body.
func (h HTTPReply) Format() []byte {
	if h.None {
		return NoReply
	}
	cl := "Content-Length: matches body"
	if h.ContentLen != strconv.Itoa(len(h.Body)) {
		cl = "Content-Length: " + h.ContentLen + " (body has " + strconv.Itoa(len(h.Body)) + ")"
	}
	return []byte(h.Status + "\nContent-Type: " + h.ContentType + "\n" + cl + "\n\n" + string(h.Body))
}

// HTTPRaw sends one HTTP request (path, body) over a new TCP connection
// and reads one reply; no reply before timeout gives None.
func HTTPRaw(addr, path string, body []byte, timeout time.Duration) (HTTPReply, error) {
	c, err := net.DialTimeout("tcp", addr, ReplyTimeout)
	if err != nil {
		return HTTPReply{}, err
	}
	defer c.Close()
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, addr, len(body))
	if _, err := c.Write(append([]byte(req), body...)); err != nil {
		return HTTPReply{}, err
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		if status == "" {
			return HTTPReply{None: true}, nil
		}
		return HTTPReply{}, err
	}
	h := HTTPReply{Status: strings.TrimRight(status, "\r\n")}
	for range 100 {
		line, err := br.ReadString('\n')
		if err != nil {
			return h, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-type":
			h.ContentType = v
		case "content-length":
			h.ContentLen = v
		}
	}
	n, err := strconv.Atoi(h.ContentLen)
	if err != nil {
		return h, fmt.Errorf("bad Content-Length %q", h.ContentLen)
	}
	h.Body = make([]byte, n)
	_, err = io.ReadFull(br, h.Body)
	return h, err
}

var fifoSeq atomic.Int64

// ReplyName returns a fresh reply FIFO name (no '.', as Kamailio requires).
func ReplyName() string {
	return fmt.Sprintf("kamailio_receiver_rpctest%d_%d", os.Getpid(), fifoSeq.Add(1))
}

// openReplyFIFOs creates /tmp/<name> FIFOs (as kamctl does) and opens
// them for reading, non-blocking.
func openReplyFIFOs(names []string) ([]int, func(), error) {
	var fds []int
	var paths []string
	cleanup := func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		for _, p := range paths {
			os.Remove(p)
		}
	}
	for _, n := range names {
		p := filepath.Join("/tmp", n)
		_ = os.Remove(p)
		if err := syscall.Mkfifo(p, 0o666); err != nil {
			cleanup()
			return nil, nil, err
		}
		paths = append(paths, p)
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		fds = append(fds, fd)
	}
	return fds, cleanup, nil
}

// readReplyFIFO reads fd until the writer closes it after writing, or
// timeout; nil means nothing was written.
func readReplyFIFO(fd int, timeout time.Duration) []byte {
	deadline := time.Now().Add(timeout)
	var out []byte
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		n, err := syscall.Read(fd, buf)
		switch {
		case n > 0:
			out = append(out, buf[:n]...)
			continue
		case err == nil && n == 0:
			// no writer: not opened yet, or closed after writing
			if len(out) > 0 {
				return out
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return out
}

// FIFOExchange creates /tmp/<replyName> (when replyName is not empty),
// writes doc into the server FIFO and reads the reply FIFO until the
// server closes it. Nothing within timeout gives nil.
func FIFOExchange(server, replyName string, doc []byte, timeout time.Duration) ([]byte, error) {
	var fds []int
	if replyName != "" {
		var cleanup func()
		var err error
		fds, cleanup, err = openReplyFIFOs([]string{replyName})
		if err != nil {
			return nil, err
		}
		defer cleanup()
	}
	w, err := os.OpenFile(server, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = w.Write(doc)
	w.Close()
	if err != nil {
		return nil, err
	}
	if len(fds) == 0 {
		time.Sleep(timeout)
		return nil, nil
	}
	return readReplyFIFO(fds[0], timeout), nil
}

// JSONDgram sends doc from a unix datagram socket bound at local (or, when
// addr starts with "udp:", from an ephemeral UDP socket) and returns the
// reply datagram, nil when none came within timeout.
func JSONDgram(local, addr string, doc []byte, timeout time.Duration) ([]byte, error) {
	if a, ok := strings.CutPrefix(addr, "udp:"); ok {
		c, err := net.Dial("udp", a)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return dgramExchange(c, doc, timeout, false)
	}
	c, err := dialUnixgram(local, addr)
	if err != nil {
		return nil, err
	}
	defer os.Remove(local)
	defer c.Close()
	return dgramExchange(c, doc, timeout, false)
}
