package probe

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// DefaultFrom is the From URI of a Target built without WithFrom.
const DefaultFrom = "sip:kamsidecar@localhost"

// Target is what to probe: a SIP URI as Kamailio stores it and the headers
// the caller wants (dispatcher's ds_ping_from and ds_ping_method,
// keepalive's ping_from). It is immutable once built, so one Target serves
// every probe of a destination.
type Target struct {
	uri         string
	ruri        sip.Uri
	from        sip.Uri
	method      sip.RequestMethod
	userAgent   string
	maxForwards int
	proxy       *sip.Uri
	socket      string
	transport   string // "UDP", "TCP", "TLS" or another uppercase name
	proto       string // transport in lowercase, as Socket.Proto
	ip          netip.Addr
	dest        string // host:port of the next hop, as sipgo would compute it
}

// TargetOption sets a header or the routing of a Target.
type TargetOption func(*Target) error

// WithFrom sets the From URI (keepalive's ping_from, dispatcher's
// ds_ping_from or the ping_from attr).
func WithFrom(uri string) TargetOption {
	return func(t *Target) error {
		u, err := parseSIPURI(uri)
		if err != nil {
			return fmt.Errorf("from %q: %w", uri, err)
		}
		t.from = u
		return nil
	}
}

// WithMethod sets the request method (dispatcher's ds_ping_method); the
// default is OPTIONS.
func WithMethod(m string) TargetOption {
	return func(t *Target) error {
		if m == "" || strings.ContainsAny(m, " \t\r\n") {
			return fmt.Errorf("method %q: %w", m, ErrBadTarget)
		}
		t.method = sip.RequestMethod(m)
		return nil
	}
}

// WithUserAgent adds a User-Agent header (Kamailio adds its
// server_signature); empty means none.
func WithUserAgent(ua string) TargetOption {
	return func(t *Target) error { t.userAgent = ua; return nil }
}

// WithMaxForwards sets Max-Forwards (default 70, as tm sends).
func WithMaxForwards(n int) TargetOption {
	return func(t *Target) error {
		if n < 0 || n > 255 {
			return fmt.Errorf("max-forwards %d: %w", n, ErrBadTarget)
		}
		t.maxForwards = n
		return nil
	}
}

// WithProxy sends the probe to this SIP URI instead of the Request-URI's
// host, with no Route header (dispatcher's outbound_proxy and obproxy attr,
// spec dispatcher.md §8.1).
func WithProxy(uri string) TargetOption {
	return func(t *Target) error {
		if uri == "" {
			t.proxy = nil
			return nil
		}
		u, err := parseSIPURI(uri)
		if err != nil {
			return fmt.Errorf("proxy %q: %w", uri, err)
		}
		t.proxy = &u
		return nil
	}
}

// WithSocket sends the probe from the configured socket of this name or
// "proto:host:port"; by default the first socket of the target's transport
// and address family is used.
func WithSocket(s string) TargetOption {
	return func(t *Target) error { t.socket = s; return nil }
}

// NewTarget parses uri (sip: or sips:, a host name or an IPv4 or IPv6
// address, optional port, parameters such as ;transport=tcp) and applies
// the options. An error wraps ErrBadTarget.
func NewTarget(uri string, opts ...TargetOption) (*Target, error) {
	u, err := parseSIPURI(uri)
	if err != nil {
		return nil, err
	}
	t := &Target{uri: uri, ruri: u, method: sip.OPTIONS, maxForwards: 70}
	t.from, _ = parseSIPURI(DefaultFrom)
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	next := t.ruri
	if t.proxy != nil {
		next = *t.proxy
	}
	t.transport = transportOf(next)
	t.proto = strings.ToLower(t.transport)
	t.ip, _ = netip.ParseAddr(strings.Trim(next.Host, "[]"))
	port := next.Port
	if port == 0 {
		port = sip.DefaultPort(t.transport)
	}
	t.dest = next.Host + ":" + strconv.Itoa(port)
	return t, nil
}

// URI returns the URI the Target was built from.
func (t *Target) URI() string { return t.uri }

// Transport returns the transport the probe uses: "udp", "tcp", "tls" (or
// another lowercase name that no socket supports).
func (t *Target) Transport() string { return t.proto }

// transportOf is RFC 3263 without NAPTR: ;transport= when given, else UDP
// for sip: and TLS for sips: (sipgo's Request.Transport does the same).
func transportOf(u sip.Uri) string {
	tp := "UDP"
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		tp = strings.ToUpper(v)
	}
	if u.IsEncrypted() && (tp == "TCP" || tp == "UDP") {
		tp = "TLS"
	}
	return tp
}

// parseSIPURI parses a sip: or sips: URI strictly enough that sipgo can
// send to it: a host made of host name characters or an IP address, a
// port in range, no white space.
func parseSIPURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if strings.ContainsAny(s, " \t\r\n<>\"") {
		return u, fmt.Errorf("uri %q contains white space or <>\": %w", s, ErrBadTarget)
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("uri %q: %v: %w", s, err, ErrBadTarget)
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return u, fmt.Errorf("uri %q: scheme must be sip or sips: %w", s, ErrBadTarget)
	}
	host := u.Host
	if host == "" {
		return u, fmt.Errorf("uri %q: no host: %w", s, ErrBadTarget)
	}
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil || !a.Is6() || !strings.HasSuffix(host, "]") {
			return u, fmt.Errorf("uri %q: bad IPv6 address %s: %w", s, host, ErrBadTarget)
		}
	} else {
		for _, c := range host {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return u, fmt.Errorf("uri %q: bad host %q: %w", s, host, ErrBadTarget)
			}
		}
	}
	if u.Port < 0 || u.Port > 65535 {
		return u, fmt.Errorf("uri %q: bad port: %w", s, ErrBadTarget)
	}
	return u, nil
}
