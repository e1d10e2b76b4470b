// Package probe sends SIP OPTIONS probes on sipgo: one probe is one
// non-INVITE client transaction (RFC 3261 17.1.2) from one of the
// configured local sockets, ended by its final reply, its deadline (a
// context, tm's fr_timer by default) or a transport error. The Prober also
// answers OPTIONS that arrive on its sockets with 200 OK, so that a
// Kamailio pinging kamsidecar sees it up.
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DefaultTimeout is the deadline of a probe whose context has none: tm's
// default fr_timer (30 s).
const DefaultTimeout = 30 * time.Second

// Prober owns the SIP sockets and sends probes from them. It is safe for
// concurrent use; Close releases the sockets.
type Prober struct {
	timeout   time.Duration
	userAgent string
	tlsConf   *tls.Config
	log       *slog.Logger
	resolver  *net.Resolver

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	sockets []*socket

	pending sync.Map // Via branch → context.CancelCauseFunc, UDP probes waiting

	rngMu sync.Mutex
	rng   *rand.ChaCha8

	stats struct {
		probes, icmp, unmatched atomic.Uint64
	}

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// socket is a Socket once opened.
type socket struct {
	Socket
	client  *sipgo.Client
	laddr   sip.Addr // the connection address given to sipgo
	viaHost string
	viaPort int
	closer  func() error
	family  int // 4 or 6; 0 for a wildcard that takes both
}

// Option configures a Prober.
type Option func(*Prober) error

// WithSockets adds local sockets (at least one is needed).
func WithSockets(ss ...Socket) Option {
	return func(p *Prober) error {
		for _, s := range ss {
			p.sockets = append(p.sockets, &socket{Socket: s})
		}
		return nil
	}
}

// WithTimeout sets the deadline of probes whose context has none (tm's
// fr_timer; default 30 s). Per-probe deadlines (dispatcher's
// ds_ping_fr_timer) are set on the context given to Probe.
func WithTimeout(d time.Duration) Option {
	return func(p *Prober) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v must be positive", d)
		}
		p.timeout = d
		return nil
	}
}

// WithServerName sets the Server header of the replies the Prober sends
// (Kamailio's server_signature); empty means none.
func WithServerName(ua string) Option {
	return func(p *Prober) error { p.userAgent = ua; return nil }
}

// WithTLSConfig sets the TLS configuration: its certificates serve the
// tls sockets, its RootCAs, InsecureSkipVerify and the like check peers.
func WithTLSConfig(c *tls.Config) Option {
	return func(p *Prober) error { p.tlsConf = c; return nil }
}

// WithLogger sets the logger of the Prober and of its sipgo layers.
func WithLogger(l *slog.Logger) Option {
	return func(p *Prober) error { p.log = l; return nil }
}

// WithResolver sets the DNS resolver sipgo uses for host names.
func WithResolver(r *net.Resolver) Option {
	return func(p *Prober) error { p.resolver = r; return nil }
}

// New opens the sockets and starts answering on them.
func New(ctx context.Context, opts ...Option) (*Prober, error) {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rand.Uint32())
	}
	p := &Prober{timeout: DefaultTimeout, log: slog.Default(), resolver: net.DefaultResolver, rng: rand.NewChaCha8(seed)}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if len(p.sockets) == 0 {
		return nil, errors.New("probe: no socket")
	}
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgentDNSResolver(p.resolver),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(p.log)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(p.log),
			// A late or retransmitted reply of a finished probe.
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) { p.stats.unmatched.Add(1) }),
			// A TCP or TLS connection that closes ends its probes at once.
			sip.WithTransactionLayerTerminateOnConnClose(),
		),
	}
	if p.tlsConf != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(p.tlsConf))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, err
	}
	p.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		ua.Close()
		return nil, err
	}
	p.srv = srv
	srv.OnOptions(p.answerOptions)
	srv.OnNoRoute(p.answerOther)
	for _, s := range p.sockets {
		if err := p.open(ctx, s); err != nil {
			p.Close()
			return nil, fmt.Errorf("probe: socket %s: %w", s.Socket, err)
		}
	}
	return p, nil
}

// open binds one socket, serves it and makes its client.
func (p *Prober) open(ctx context.Context, s *socket) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	ip, err := netip.ParseAddr(s.Host)
	if err != nil {
		return err
	}
	if !ip.IsUnspecified() {
		s.family = 4
		if ip.Is6() && !ip.Is4In6() {
			s.family = 6
		}
	}
	var local net.Addr
	switch s.Proto {
	case "udp":
		pc, err := listenUDP(ctx, addr, p.onICMP)
		if err != nil {
			return err
		}
		local = pc.LocalAddr()
		s.closer = pc.Close
		// Room for a burst of replies (Kamailio raises SO_RCVBUF too).
		if b, ok := pc.(interface{ SetReadBuffer(int) error }); ok {
			_ = b.SetReadBuffer(4 << 20)
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); _ = p.srv.ServeUDP(pc) }()
		// sipgo registers the listener in its connection pool from the
		// serving goroutine; probes find it there, so wait for it.
		if err := p.waitListener(ctx, pc.LocalAddr().String()); err != nil {
			return err
		}
	case "tcp", "tls":
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		local = ln.Addr()
		s.closer = ln.Close
		if s.Proto == "tls" {
			if p.tlsConf == nil || (len(p.tlsConf.Certificates) == 0 && p.tlsConf.GetCertificate == nil) {
				ln.Close()
				return errors.New("a tls socket needs a certificate (WithTLSConfig)")
			}
			ln = tls.NewListener(ln, p.tlsConf)
			p.wg.Add(1)
			go func() { defer p.wg.Done(); _ = p.srv.ServeTLS(ln) }()
		} else {
			p.wg.Add(1)
			go func() { defer p.wg.Done(); _ = p.srv.ServeTCP(ln) }()
		}
	default:
		return fmt.Errorf("unsupported protocol %q", s.Proto)
	}
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return err
	}
	s.Port = int(ap.Port())
	s.viaHost, s.viaPort = s.Host, s.Port
	if ip.IsUnspecified() {
		// Via must name an address the peer can reach: without advertise
		// take the one the host routes from by default.
		s.viaHost = outboundIP(ip.Is6()).String()
	}
	if s.Advertise != "" {
		h, pt, err := net.SplitHostPort(s.Advertise)
		if err != nil {
			return fmt.Errorf("advertise %q: %w", s.Advertise, err)
		}
		s.viaHost = h
		s.viaPort, _ = strconv.Atoi(pt)
	}
	if a, err := netip.ParseAddr(s.viaHost); err == nil && a.Is6() {
		s.viaHost = "[" + s.viaHost + "]"
	}
	if s.Proto == "udp" {
		// Probes leave from the listening socket itself: sipgo finds it in
		// its pool by this local address.
		s.client, err = sipgo.NewClient(p.ua, sipgo.WithClientConnectionAddr(local.String()))
		s.laddr = sip.Addr{IP: net.IP(ip.AsSlice()), Port: s.Port}
	} else {
		// A stream connects from the socket's address and an ephemeral
		// port, as Kamailio does; Via names the listening port, where the
		// peer may connect back.
		s.client, err = sipgo.NewClient(p.ua)
		s.laddr = sip.Addr{IP: net.IP(ip.AsSlice())}
	}
	return err
}

func (p *Prober) waitListener(ctx context.Context, addr string) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range 10000 {
		if c, err := p.ua.TransportLayer().GetConnection("udp", addr); err == nil {
			_, _ = c.TryClose() // GetConnection took a reference
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return errors.New("udp listener not served")
}

// outboundIP is the source address of the default route (no packet is
// sent: connecting a UDP socket only looks the route up), or loopback.
func outboundIP(v6 bool) netip.Addr {
	dst, lo := "192.0.2.1:9", netip.MustParseAddr("127.0.0.1")
	if v6 {
		dst, lo = "[2001:db8::1]:9", netip.IPv6Loopback()
	}
	c, err := net.Dial("udp", dst)
	if err != nil {
		return lo
	}
	defer c.Close()
	if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return lo
}

// Sockets returns the sockets as bound (a port 0 replaced by the real one).
func (p *Prober) Sockets() []Socket {
	out := make([]Socket, len(p.sockets))
	for i, s := range p.sockets {
		out[i] = s.Socket
	}
	return out
}

// Stats counts probes sent, ICMP errors received and replies that matched
// no probe (late or retransmitted).
type Stats struct {
	Probes, ICMP, Unmatched uint64
}

// Stats returns the counters.
func (p *Prober) Stats() Stats {
	return Stats{Probes: p.stats.probes.Load(), ICMP: p.stats.icmp.Load(), Unmatched: p.stats.unmatched.Load()}
}

// Close stops answering, ends the probes in flight and closes the sockets.
func (p *Prober) Close() error {
	var err error
	p.closeOnce.Do(func() {
		for _, s := range p.sockets {
			if s.closer != nil {
				err = errors.Join(err, s.closer())
			}
		}
		if p.ua != nil {
			err = errors.Join(err, p.ua.Close())
		}
		p.wg.Wait()
	})
	return err
}

// pick chooses the socket for t: the one it names, else the first of its
// transport whose address family fits the target's address. A socket name
// that is none of ours (beside Kamailio, a socket= attr names one of
// Kamailio's listen sockets, cli.md) falls back to our own socket of the
// same transport.
func (p *Prober) pick(t *Target) *socket {
	tp := t.Transport()
	if t.socket != "" {
		for _, s := range p.sockets {
			if s.Proto == tp && (t.socket == s.Name || t.socket == s.Socket.String()) {
				return s
			}
		}
	}
	for _, s := range p.sockets {
		if s.Proto != tp {
			continue
		}
		if s.family == 0 || !t.ip.IsValid() {
			return s
		}
		if (s.family == 6) == (t.ip.Is6() && !t.ip.Is4In6()) {
			return s
		}
	}
	return nil
}

func (p *Prober) random(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	p.rngMu.Lock()
	for i := 0; i < n; i += 16 {
		v := p.rng.Uint64()
		for j := i; j < n && j < i+16; j++ {
			b[j] = hex[v&15]
			v >>= 4
		}
	}
	p.rngMu.Unlock()
	return string(b)
}

// request builds the probe the way tm's t_request does (spec keepalive.md
// §6): Via, To, From, CSeq, Call-ID, Max-Forwards, Content-Length,
// User-Agent in that order; To without tag; a new Call-ID and From tag
// every time; CSeq 10.
func (p *Prober) request(t *Target, s *socket, branch string) *sip.Request {
	req := sip.NewRequest(t.method, t.ruri)
	via := &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: t.transport,
		Host: s.viaHost, Port: s.viaPort, Params: sip.NewParams(),
	}
	via.Params.Add("branch", branch)
	req.AppendHeader(via)
	req.AppendHeader(&sip.ToHeader{Address: t.ruri, Params: sip.NewParams()})
	from := &sip.FromHeader{Address: t.from, Params: sip.NewParams()}
	from.Params.Add("tag", p.random(32))
	req.AppendHeader(from)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 10, MethodName: t.method})
	callID := sip.CallIDHeader(p.random(16) + "@" + s.Host)
	req.AppendHeader(&callID)
	mf := sip.MaxForwardsHeader(t.maxForwards)
	req.AppendHeader(&mf)
	req.SetBody(nil) // Content-Length: 0
	if t.userAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", t.userAgent))
	}
	// Computed once per Target: sipgo's Request.Destination formats it
	// for every use otherwise.
	req.SetDestination(t.dest)
	req.SetTransport(t.transport)
	req.Laddr = s.laddr
	return req
}

// Probe sends one request to t and waits for its final reply, the end of
// ctx or a transport error. Without a deadline on ctx the Prober's timeout
// (fr_timer) applies. UDP requests are retransmitted by sipgo's client
// transaction per RFC 3261 17.1.2.1 (T1 = 500 ms doubling up to T2 = 4 s).
func (p *Prober) Probe(ctx context.Context, t *Target) Result {
	start := time.Now()
	res := Result{Sent: start}
	end := func(c Class, code int, reason string, err error) Result {
		res.Class, res.Code, res.Reason, res.Err = c, code, reason, err
		res.Local = c != ClassReply
		res.RTT = time.Since(start)
		return res
	}
	s := p.pick(t)
	if s == nil {
		return end(ClassUnsent, 0, "no socket", fmt.Errorf("%s to %s: %w", t.Transport(), t.uri, ErrNoSocket))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	branch := sip.RFC3261BranchMagicCookie + p.random(24)
	if s.Proto == "udp" {
		p.pending.Store(branch, cancel)
		defer p.pending.Delete(branch)
	}
	req := p.request(t, s, branch)
	p.stats.probes.Add(1)
	tx, err := s.client.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		c, code, reason, err := classify(ctx, err)
		return end(c, code, reason, err)
	}
	defer tx.Terminate()
	for {
		select {
		case r := <-tx.Responses():
			if r.IsProvisional() {
				continue
			}
			return end(ClassReply, r.StatusCode, r.Reason, nil)
		case <-tx.Done():
			c, code, reason, err := classify(ctx, tx.Err())
			return end(c, code, reason, err)
		case <-ctx.Done():
			c, code, reason, err := classify(ctx, context.Cause(ctx))
			return end(c, code, reason, err)
		}
	}
}

// classify maps what ended a probe without a reply to its class, local
// code and reason.
func classify(ctx context.Context, err error) (Class, int, string, error) {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrPortUnreachable), errors.Is(err, ErrHostUnreachable):
		return ClassTransport, 503, "Service Unavailable", err
	case errors.As(err, &dnsErr):
		return ClassDNS, 0, "dns", fmt.Errorf("%w: %w", ErrDNS, err)
	case errors.Is(err, sip.ErrTransactionTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return ClassTimeout, 408, "Request Timeout", fmt.Errorf("%w: %w", ErrTimeout, err)
	case ctx.Err() != nil:
		return ClassCanceled, 0, "canceled", err
	case errors.Is(err, sip.ErrUDPMTUCongestion):
		return ClassUnsent, 0, "too big for udp", fmt.Errorf("%w: %w", ErrBadTarget, err)
	default:
		// The socket was chosen before sipgo saw the request, so what is
		// left is the network: a refused, reset or closed connection, a
		// TLS failure, a failed write.
		return ClassTransport, 503, "Service Unavailable", fmt.Errorf("%w: %w", ErrTransport, err)
	}
}

// onICMP fails the UDP probe whose datagram drew an ICMP error. The probe
// is found by the Via branch quoted in the ICMP message.
func (p *Prober) onICMP(dst netip.AddrPort, payload []byte, errno syscall.Errno) {
	p.stats.icmp.Add(1)
	branch := viaBranch(payload)
	if branch == "" {
		return
	}
	v, ok := p.pending.Load(branch)
	if !ok {
		return
	}
	sentinel := ErrHostUnreachable
	if errno == syscall.ECONNREFUSED {
		sentinel = ErrPortUnreachable
	}
	v.(context.CancelCauseFunc)(fmt.Errorf("%w from %s (%v)", sentinel, dst, errno))
}

// viaBranch returns the branch parameter of the first Via in the start of
// a SIP message, or "".
func viaBranch(msg []byte) string {
	const key = ";branch="
	for i := 0; i+len(key) <= len(msg); i++ {
		if msg[i] != ';' || string(msg[i:i+len(key)]) != key {
			continue
		}
		j := i + len(key)
		k := j
		for k < len(msg) && msg[k] != ';' && msg[k] != ',' && msg[k] != '\r' && msg[k] != '\n' && msg[k] != ' ' {
			k++
		}
		if k == len(msg) {
			return "" // cut off by the ICMP quote
		}
		return string(msg[j:k])
	}
	return ""
}

// answerOptions answers an OPTIONS with 200 OK (RFC 3261 11.2): sipgo's
// default for a method without handler is 405, which Kamailio's keepalive
// and dispatcher count as down.
func (p *Prober) answerOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "OPTIONS"))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	if p.userAgent != "" {
		res.AppendHeader(sip.NewHeader("Server", p.userAgent))
	}
	_ = tx.Respond(res)
}

// answerOther answers every other request: nothing to an ACK (RFC 3261
// 17.2.1), 481 to a CANCEL that matches no transaction (9.2), 405 with
// Allow to a method of RFC 3261 and its extensions (8.2.1) and 501 to an
// unknown one (21.5.2).
func (p *Prober) answerOther(req *sip.Request, tx sip.ServerTransaction) {
	var res *sip.Response
	switch req.Method {
	case sip.ACK:
		return
	case sip.CANCEL:
		res = sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
	case sip.INVITE, sip.BYE, sip.REGISTER, sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO,
		sip.MESSAGE, sip.PRACK, sip.UPDATE, sip.PUBLISH:
		res = sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", "OPTIONS"))
	default:
		res = sip.NewResponseFromRequest(req, sip.StatusNotImplemented, "Not Implemented", nil)
		res.AppendHeader(sip.NewHeader("Allow", "OPTIONS"))
	}
	if p.userAgent != "" {
		res.AppendHeader(sip.NewHeader("Server", p.userAgent))
	}
	_ = tx.Respond(res)
}
