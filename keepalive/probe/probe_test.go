package probe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMain(m *testing.M) {
	// sipgo logs some of its own warnings (connection reference counts)
	// through its package-wide logger.
	sip.SetDefaultLogger(quiet)
	m.Run()
}

// newProber opens a Prober on udp, tcp and tls sockets of 127.0.0.1 (free
// ports) and closes it when the test ends.
func newProber(t *testing.T, opts ...Option) *Prober {
	t.Helper()
	cert := testCert(t)
	base := []Option{
		WithSockets(Socket{Proto: "udp", Host: "127.0.0.1"}, Socket{Proto: "tcp", Host: "127.0.0.1"}, Socket{Proto: "tls", Host: "127.0.0.1"}),
		WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert.tls}, RootCAs: cert.pool}),
		WithLogger(quiet), WithTimeout(5 * time.Second),
	}
	p, err := New(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

type certs struct {
	tls  tls.Certificate
	pool *x509.CertPool
}

var (
	certOnce sync.Once
	certVal  certs
)

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t *testing.T) certs {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kamsidecar test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, DNSNames: []string{"localhost"},
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		c, _ := x509.ParseCertificate(der)
		pool := x509.NewCertPool()
		pool.AddCert(c)
		certVal = certs{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool: pool}
	})
	return certVal
}

// responder is a sipgo UAS answering OPTIONS with code on proto
// ("udp", "tcp", "tls") at 127.0.0.1; it returns the port.
func responder(t *testing.T, proto string, code int) int {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reasonOf(code), nil))
	})
	var port int
	var closer io.Closer
	done := make(chan struct{})
	switch proto {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port, closer = pc.LocalAddr().(*net.UDPAddr).Port, pc
		go func() { defer close(done); _ = srv.ServeUDP(pc) }()
	case "tcp", "tls":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port, closer = ln.Addr().(*net.TCPAddr).Port, ln
		if proto == "tls" {
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{testCert(t).tls}})
			go func() { defer close(done); _ = srv.ServeTLS(ln) }()
		} else {
			go func() { defer close(done); _ = srv.ServeTCP(ln) }()
		}
	}
	t.Cleanup(func() { closer.Close(); ua.Close(); <-done })
	return port
}

func reasonOf(code int) string {
	switch code {
	case 200:
		return "OK"
	case 404:
		return "Not Found"
	case 503:
		return "Service Unavailable"
	}
	return "Whatever"
}

func target(t *testing.T, uri string, opts ...TargetOption) *Target {
	t.Helper()
	tg, err := NewTarget(uri, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func uri(proto string, port int) string {
	switch proto {
	case "tcp":
		return "sip:127.0.0.1:" + strconv.Itoa(port) + ";transport=tcp"
	case "tls":
		return "sips:127.0.0.1:" + strconv.Itoa(port)
	}
	return "sip:127.0.0.1:" + strconv.Itoa(port)
}

// TestReplies probes sipgo responders over every transport: the class is
// a reply and the code and reason are the peer's.
func TestReplies(t *testing.T) {
	p := newProber(t)
	for _, proto := range []string{"udp", "tcp", "tls"} {
		for _, code := range []int{200, 404, 503} {
			t.Run(proto+"/"+strconv.Itoa(code), func(t *testing.T) {
				port := responder(t, proto, code)
				for i := range 3 { // the connection is reused
					r := p.Probe(context.Background(), target(t, uri(proto, port)))
					if r.Class != ClassReply || r.Code != code || r.Reason != reasonOf(code) || r.Local || r.Err != nil {
						t.Fatalf("probe %d: %+v", i, r)
					}
					if r.Success() != (code == 200) || !r.Final() || r.RTT <= 0 {
						t.Fatalf("probe %d: success %v final %v rtt %v", i, r.Success(), r.Final(), r.RTT)
					}
				}
			})
		}
	}
}

// rawUDP is a plain UDP peer: it records what arrives and answers with
// what reply returns (nothing when it returns nil).
func rawUDP(t *testing.T, network, addr string, reply func(req []byte) [][]byte) (*net.UDPConn, func() [][]byte) {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c := pc.(*net.UDPConn)
	var mu sync.Mutex
	var got [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			msg := append([]byte(nil), buf[:n]...)
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
			if reply != nil {
				for _, r := range reply(msg) {
					_, _ = c.WriteTo(r, from)
				}
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return c, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}
}

// TestWireFormat checks the request against the capture of Kamailio 5.6.3
// (spec keepalive.md §6): header order, CSeq 10, To without tag, a new
// Call-ID and From tag per probe, Via naming the probing socket, which is
// also the source address.
func TestWireFormat(t *testing.T) {
	p := newProber(t)
	var src []string
	var mu sync.Mutex
	c, got := rawUDP(t, "udp", "127.0.0.1:0", nil)
	_ = c
	port := c.LocalAddr().(*net.UDPAddr).Port
	tg := target(t, uri("udp", port), WithFrom("sip:keepalive@kamailio.org"), WithUserAgent("kamsidecar test"))
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		r := p.Probe(ctx, tg)
		cancel()
		if r.Class != ClassTimeout || r.Code != 408 || !r.Local || !errors.Is(r.Err, ErrTimeout) {
			t.Fatalf("silent peer: %+v %v", r, r.Err)
		}
	}
	_ = src
	_ = &mu
	msgs := got()
	if len(msgs) < 2 {
		t.Fatalf("%d requests received", len(msgs))
	}
	sock := p.Sockets()[0]
	var callIDs, tags []string
	for _, m := range msgs {
		lines := strings.Split(strings.TrimSuffix(string(m), "\r\n\r\n"), "\r\n")
		if lines[0] != "OPTIONS "+uri("udp", port)+" SIP/2.0" {
			t.Errorf("request line %q", lines[0])
		}
		var names []string
		for _, l := range lines[1:] {
			name, value, _ := strings.Cut(l, ": ")
			names = append(names, name)
			switch name {
			case "Via":
				want := "SIP/2.0/UDP 127.0.0.1:" + strconv.Itoa(sock.Port) + ";branch=z9hG4bK"
				if !strings.HasPrefix(value, want) {
					t.Errorf("Via %q, want prefix %q", value, want)
				}
			case "To":
				if value != "<"+uri("udp", port)+">" {
					t.Errorf("To %q", value)
				}
			case "From":
				if !strings.HasPrefix(value, "<sip:keepalive@kamailio.org>;tag=") {
					t.Errorf("From %q", value)
				}
				tags = append(tags, value)
			case "CSeq":
				if value != "10 OPTIONS" {
					t.Errorf("CSeq %q", value)
				}
			case "Call-ID":
				callIDs = append(callIDs, value)
			case "Max-Forwards":
				if value != "70" {
					t.Errorf("Max-Forwards %q", value)
				}
			case "Content-Length":
				if value != "0" {
					t.Errorf("Content-Length %q", value)
				}
			case "User-Agent":
				if value != "kamsidecar test" {
					t.Errorf("User-Agent %q", value)
				}
			}
		}
		want := "Via To From CSeq Call-ID Max-Forwards Content-Length User-Agent"
		if strings.Join(names, " ") != want {
			t.Errorf("headers %v, want %s", names, want)
		}
	}
	// Retransmissions repeat a request; two probes have two Call-IDs.
	uniq := map[string]bool{}
	for _, c := range callIDs {
		uniq[c] = true
	}
	if len(uniq) != 2 {
		t.Errorf("%d distinct Call-IDs over 2 probes: %v", len(uniq), callIDs)
	}
	utags := map[string]bool{}
	for _, c := range tags {
		utags[c] = true
	}
	if len(utags) != 2 {
		t.Errorf("%d distinct From tags over 2 probes", len(utags))
	}
}

// TestRetransmission: a silent UDP peer gets the request again after T1
// (RFC 3261 17.1.2.2); the probe ends at its context deadline as a
// timeout, not at sipgo's 32 s Timer F.
func TestRetransmission(t *testing.T) {
	p := newProber(t)
	c, got := rawUDP(t, "udp", "127.0.0.1:0", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	r := p.Probe(ctx, target(t, uri("udp", c.LocalAddr().(*net.UDPAddr).Port)))
	if r.Class != ClassTimeout || r.Code != 408 {
		t.Fatalf("%+v", r)
	}
	msgs := got()
	if len(msgs) < 2 {
		t.Fatalf("%d copies sent, want the request and at least one retransmission", len(msgs))
	}
	for _, m := range msgs[1:] {
		if !bytes.Equal(m, msgs[0]) {
			t.Errorf("retransmission differs:\n%s\n%s", m, msgs[0])
		}
	}
}

// TestTransportErrors: a closed UDP port (ICMP port unreachable), a
// closed TCP port (refused) and a TCP peer that closes the connection end
// the probe at once as transport errors, long before the deadline.
func TestTransportErrors(t *testing.T) {
	p := newProber(t, WithTimeout(time.Minute))
	closedPort := func(network string) int {
		if network == "udp" {
			pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
			port := pc.LocalAddr().(*net.UDPAddr).Port
			pc.Close()
			return port
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		return port
	}
	// A TCP peer that reads the request and closes the connection.
	closer := tcpPeer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
	})
	tests := []struct {
		name string
		uri  string
		want error
	}{
		{"udp port unreachable", uri("udp", closedPort("udp")), ErrPortUnreachable},
		{"tcp refused", uri("tcp", closedPort("tcp")), ErrTransport},
		{"tls refused", uri("tls", closedPort("tcp")), ErrTransport},
		{"tcp closed by peer", uri("tcp", closer), ErrTransport},
		{"tls handshake fails", uri("tls", closer), ErrTransport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Probe(context.Background(), target(t, tt.uri))
			if r.Class != ClassTransport || r.Code != 503 || !r.Local || !errors.Is(r.Err, tt.want) {
				t.Fatalf("%+v", r)
			}
		})
	}
}

// TestNoAnswer: DNS failures, transports without a socket and cancelled
// probes are not final results.
func TestNoAnswer(t *testing.T) {
	p := newProber(t)
	r := p.Probe(context.Background(), target(t, "sip:nonexistent.invalid:5060"))
	if r.Class != ClassDNS || r.Code != 0 || !errors.Is(r.Err, ErrDNS) || r.Final() {
		t.Errorf("dns: %+v", r)
	}
	r = p.Probe(context.Background(), target(t, "sip:127.0.0.1:5060;transport=sctp"))
	if r.Class != ClassUnsent || !errors.Is(r.Err, ErrNoSocket) || r.Final() {
		t.Errorf("sctp: %+v", r)
	}
	r = p.Probe(context.Background(), target(t, "sip:[::1]:5060"))
	if r.Class != ClassUnsent || !errors.Is(r.Err, ErrNoSocket) {
		t.Errorf("ipv6 without an ipv6 socket: %+v", r)
	}
	c, _ := rawUDP(t, "udp", "127.0.0.1:0", nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	r = p.Probe(ctx, target(t, uri("udp", c.LocalAddr().(*net.UDPAddr).Port)))
	if r.Class != ClassCanceled || r.Final() {
		t.Errorf("canceled: %+v", r)
	}
}

// TestHostsAndIPv6: a host name resolves as sipgo resolves it and an IPv6
// target is probed from an IPv6 socket.
func TestHostsAndIPv6(t *testing.T) {
	if ln, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		ln.Close()
	}
	p := newProber(t, WithSockets(Socket{Proto: "udp", Host: "::1"}))
	port := responder(t, "udp", 200)
	r := p.Probe(context.Background(), target(t, "sip:localhost:"+strconv.Itoa(port)))
	if r.Class != ClassReply || r.Code != 200 {
		t.Errorf("localhost: %+v", r)
	}
	c, got := rawUDP(t, "udp", "[::1]:0", func(req []byte) [][]byte { return [][]byte{replyTo(req, "200 OK")} })
	r = p.Probe(context.Background(), target(t, "sip:[::1]:"+strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)))
	if r.Class != ClassReply || r.Code != 200 {
		t.Fatalf("[::1]: %+v", r)
	}
	if via := header(got()[0], "Via"); !strings.HasPrefix(via, "SIP/2.0/UDP [::1]:") {
		t.Errorf("Via %q", via)
	}
}

func header(msg []byte, name string) string {
	for _, l := range strings.Split(string(msg), "\r\n") {
		if n, v, ok := strings.Cut(l, ": "); ok && strings.EqualFold(n, name) {
			return v
		}
	}
	return ""
}

// replyTo builds a reply to a raw request by copying Via, From, To,
// Call-ID and CSeq.
func replyTo(req []byte, status string) []byte {
	var b bytes.Buffer
	b.WriteString("SIP/2.0 " + status + "\r\n")
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		b.WriteString(h + ": " + header(req, h) + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// TestBadPeers: garbage, oversized and malformed answers never stop the
// engine; a probe after them still works.
func TestBadPeers(t *testing.T) {
	p := newProber(t, WithTimeout(300*time.Millisecond))
	big := bytes.Repeat([]byte("X"), 60000)
	bad := func(req []byte) [][]byte {
		good := replyTo(req, "200 OK")
		return [][]byte{
			[]byte("garbage\x00\xff\r\n\r\n"),
			big,
			append([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKnope\r\nContent-Length: 0\r\n"), 0),
			[]byte("SIP/2.0 200 OK\r\nCSeq: 10 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
			[]byte("SIP/2.0 99999 Weird\r\n" + string(good[len("SIP/2.0 200 OK\r\n"):])),
			append(good[:len(good)-4:len(good)-4], []byte("\r\nX-Big: "+string(big[:1400])+"\r\n\r\n")...),
			[]byte("\r\n\r\n"),
		}
	}
	c, _ := rawUDP(t, "udp", "127.0.0.1:0", bad)
	tg := target(t, uri("udp", c.LocalAddr().(*net.UDPAddr).Port))
	for range 3 {
		r := p.Probe(context.Background(), tg)
		if r.Class != ClassTimeout && r.Class != ClassReply {
			t.Fatalf("%+v", r)
		}
	}
	// TCP: garbage and a never-ending header on a stream.
	garbage := tcpPeer(t, func(conn net.Conn) {
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf)
		_, _ = conn.Write([]byte("HTTP/1.1 400 Bad\r\n\r\n"))
		for range 40 {
			if _, err := conn.Write(big[:4096]); err != nil {
				return
			}
		}
	})
	for range 2 {
		r := p.Probe(context.Background(), target(t, uri("tcp", garbage)))
		if r.Class != ClassTransport && r.Class != ClassTimeout {
			t.Fatalf("tcp garbage: %+v", r)
		}
	}
	port := responder(t, "udp", 200)
	if r := p.Probe(context.Background(), target(t, uri("udp", port))); r.Class != ClassReply || r.Code != 200 {
		t.Fatalf("after bad peers: %+v", r)
	}
	tport := responder(t, "tcp", 200)
	if r := p.Probe(context.Background(), target(t, uri("tcp", tport))); r.Class != ClassReply || r.Code != 200 {
		t.Fatalf("tcp after bad peers: %+v", r)
	}
}

// TestAnswering: the Prober's own sockets answer OPTIONS with 200 and
// other requests with a proper error, over UDP and TCP.
func TestAnswering(t *testing.T) {
	p := newProber(t, WithServerName("kamsidecar"))
	ua, _ := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	defer ua.Close()
	cl, _ := sipgo.NewClient(ua, sipgo.WithClientLogger(quiet))
	for _, s := range p.Sockets() {
		if s.Proto == "tls" {
			continue
		}
		for _, tc := range []struct {
			method sip.RequestMethod
			code   int
		}{{sip.OPTIONS, 200}, {sip.INVITE, 405}, {sip.REGISTER, 405}, {"FOO", 501}} {
			u := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: s.Port}
			if s.Proto == "tcp" {
				u.UriParams = sip.NewParams()
				u.UriParams.Add("transport", "tcp")
			}
			req := sip.NewRequest(tc.method, u)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			res, err := cl.Do(ctx, req)
			cancel()
			if err != nil {
				t.Fatalf("%s %s: %v", s.Proto, tc.method, err)
			}
			if res.StatusCode != tc.code {
				t.Errorf("%s %s: %d %s, want %d", s.Proto, tc.method, res.StatusCode, res.Reason, tc.code)
			}
			if tc.code == 200 && (res.GetHeader("Allow") == nil || res.GetHeader("Server") == nil) {
				t.Errorf("200 without Allow or Server: %s", res)
			}
		}
	}
}

// TestTargets covers the URIs Kamailio accepts and the ones refused.
func TestTargets(t *testing.T) {
	good := map[string]string{
		"sip:127.0.0.1":                     "udp",
		"sip:127.0.0.1:5071":                "udp",
		"SIP:host.example.com":              "udp",
		"sip:user@sip.provider.com:5080":    "udp",
		"sip:h;transport=tcp":               "tcp",
		"sip:h;transport=TLS":               "tls",
		"sips:h":                            "tls",
		"sip:[2001:db8::1]:5060":            "udp",
		"sip:[::1];transport=tcp;lr":        "tcp",
		"sip:127.0.0.1:5060;transport=sctp": "sctp",
	}
	for u, tp := range good {
		tg, err := NewTarget(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if tg.Transport() != tp {
			t.Errorf("%s: transport %s, want %s", u, tg.Transport(), tp)
		}
	}
	for _, u := range []string{"", "127.0.0.1", "sip:", "sip:bad uri", "http://x", "sip:[::1", "sip:[zz]:5060", "sip:h:99999", "sip:h:port", "sip:a/b", "tel:+123"} {
		if _, err := NewTarget(u); !errors.Is(err, ErrBadTarget) {
			t.Errorf("%q: err %v, want ErrBadTarget", u, err)
		}
	}
	if _, err := NewTarget("sip:h", WithFrom("nope")); !errors.Is(err, ErrBadTarget) {
		t.Errorf("bad from: %v", err)
	}
}

// TestParseSocket reads --sip values.
func TestParseSocket(t *testing.T) {
	for in, want := range map[string]Socket{
		"udp:127.0.0.1:5070": {Proto: "udp", Host: "127.0.0.1", Port: 5070},
		"TCP:0.0.0.0:5060":   {Proto: "tcp", Host: "0.0.0.0", Port: 5060},
		"tls:[::1]:5061":     {Proto: "tls", Host: "::1", Port: 5061},
		"tls:127.0.0.1":      {Proto: "tls", Host: "127.0.0.1", Port: 5061},
		"udp:[::1]":          {Proto: "udp", Host: "::1", Port: 5060},
	} {
		got, err := ParseSocket(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"127.0.0.1:5060", "sctp:127.0.0.1:5060", "udp:host:5060", "udp:127.0.0.1:x", "udp:127.0.0.1:70000"} {
		if _, err := ParseSocket(in); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

// TestWildcardSocket: a socket on 0.0.0.0 probes 127.0.0.1 and puts a
// real address, not 0.0.0.0, in Via.
func TestWildcardSocket(t *testing.T) {
	p, err := New(context.Background(), WithSockets(Socket{Proto: "udp", Host: "0.0.0.0"}), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, got := rawUDP(t, "udp", "127.0.0.1:0", func(req []byte) [][]byte { return [][]byte{replyTo(req, "200 OK")} })
	r := p.Probe(context.Background(), target(t, "sip:"+c.LocalAddr().String()))
	if r.Class != ClassReply || r.Code != 200 {
		t.Fatalf("%+v", r)
	}
	if via := header(got()[0], "Via"); strings.Contains(via, "0.0.0.0") {
		t.Errorf("Via %q", via)
	}
}

// tcpPeer listens on 127.0.0.1, runs handle on every accepted connection
// and closes it afterwards; it returns the port and stops with the test.
func tcpPeer(t *testing.T, handle func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
