package dispatcher

import (
	"strconv"
	"strings"
)

// Transport protocol ids as dispatcher.list full prints them (PROTOID, §6.3).
const (
	ProtoNone = 0
	ProtoUDP  = 1
	ProtoTCP  = 2
	ProtoTLS  = 3
	ProtoSCTP = 4
	ProtoWS   = 5
	ProtoWSS  = 6
)

var protoNames = map[string]int{"udp": ProtoUDP, "tcp": ProtoTCP, "tls": ProtoTLS, "sctp": ProtoSCTP, "ws": ProtoWS, "wss": ProtoWSS}

// uriParts is what the add path needs from a destination URI.
type uriParts struct {
	host  string
	port  int
	proto int
}

// parseURI is a lenient SIP URI parser with the outcomes of Kamailio's
// parse_uri() that matter for the list (spec §2.2, checked against the
// corpus): scheme sip/sips/tel/tels/urn in any case, any host text
// (sip:{{ and sip:<name> parse), a port made only of digits.
func parseURI(s string) (uriParts, bool) {
	var u uriParts
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		return u, false
	}
	switch strings.ToLower(s[:colon]) {
	case "sip", "sips":
	case "tel", "tels", "urn":
		return u, len(s) > colon+1
	default:
		return u, false
	}
	rest := s[colon+1:]
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	hp, params, _ := strings.Cut(rest, ";")
	if strings.IndexByte(hp, '@') >= 0 { // sip:a@b@host is a bad uri (5.6.3 binary)
		return u, false
	}
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return u, false
		}
		u.host, hp = hp[:end+1], hp[end+1:]
		if hp != "" && hp[0] != ':' {
			return u, false
		}
	} else {
		h, _, _ := strings.Cut(hp, ":")
		u.host, hp = h, hp[len(h):]
	}
	if u.host == "" {
		return u, false
	}
	if len(hp) > 1 { // ":port"; "sip:host:" loads with port 0 (5.6.3 binary)
		p := hp[1:]
		for i := 0; i < len(p); i++ {
			if !isDigit(p[i]) {
				return u, false
			}
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 65535 {
			return u, false
		}
		u.port = n
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "transport") {
			u.proto = protoNames[strings.ToLower(strings.TrimSpace(v))]
		}
	}
	return u, true
}

// fixURI applies Kamailio's "uri without sip scheme - fixing it" rule (spec
// §2.2 step 1) and returns the URI to store and its parts.
func fixURI(s string) (string, uriParts, bool) {
	if u, ok := parseURI(s); ok {
		return s, u, true
	}
	if len(s) > 4 && !strings.HasPrefix(s, "sip:") && len(s) < 500 {
		f := "sip:" + s
		if u, ok := parseURI(f); ok {
			return f, u, true
		}
	}
	return s, uriParts{}, false
}

// ListenSocket is one of the cfg's listen sockets (kamcfg's listen=
// values), as a plain value: the socket= and sockname= attrs must name one
// of them (spec §2.2 step 5, cli.md "non-local socket").
type ListenSocket struct {
	// Proto is udp, tcp, tls, sctp, ws or wss; empty means every protocol
	// (a listen= without a protocol).
	Proto string
	// Host is the address or name as the cfg writes it.
	Host string
	// Port is the port (0: the protocol's default).
	Port int
	// Name is the socket's name (listen=... name "x"), matched case-insensitively.
	Name string
}

// parseSocket reads a socket attr value like Kamailio's parse_phostport():
// [proto:]host[:port], IPv6 hosts in brackets.
func parseSocket(s string) (proto int, host string, port int, ok bool) {
	rest := s
	if i := strings.IndexByte(rest, ':'); i >= 0 && !strings.HasPrefix(rest, "[") {
		if p, known := protoNames[strings.ToLower(rest[:i])]; known {
			proto, rest = p, rest[i+1:]
		} else if strings.Count(rest, ":") > 1 {
			return 0, "", 0, false
		}
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return 0, "", 0, false
		}
		host, rest = rest[:end+1], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return 0, "", 0, false
		}
	} else {
		h, _, _ := strings.Cut(rest, ":")
		host, rest = h, rest[len(h):]
	}
	if host == "" {
		return 0, "", 0, false
	}
	if rest != "" {
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n <= 0 || n > 65535 || rest[1] == '+' || rest[1] == '-' {
			return 0, "", 0, false
		}
		port = n
	}
	return proto, host, port, true
}

func defaultPort(proto int) int {
	if proto == ProtoTLS || proto == ProtoWSS {
		return 5061
	}
	return 5060
}

// findSocket returns the listen socket a socket= attr names, if any.
func findSocket(listen []ListenSocket, proto int, host string, port int) (ListenSocket, bool) {
	for _, l := range listen {
		lp := protoNames[strings.ToLower(l.Proto)]
		if proto != ProtoNone && lp != ProtoNone && lp != proto {
			continue
		}
		if !strings.EqualFold(strings.Trim(l.Host, "[]"), strings.Trim(host, "[]")) {
			continue
		}
		eff := lp // the protocol both sides speak decides the default port
		if eff == ProtoNone {
			eff = proto
		}
		if port == 0 { // socket=proto:host matches any port (5.6.3 binary)
			return l, true
		}
		have := l.Port
		if have == 0 {
			have = defaultPort(eff)
		}
		if port == have {
			return l, true
		}
	}
	return ListenSocket{}, false
}

// findSockname returns the listen socket called name (case-insensitive, §2.4).
func findSockname(listen []ListenSocket, name string) (ListenSocket, bool) {
	for _, l := range listen {
		if l.Name != "" && strings.EqualFold(l.Name, name) {
			return l, true
		}
	}
	return ListenSocket{}, false
}

// protoEnabled reports whether a socket= protocol is usable: Kamailio 5.6.3
// answers "bad protocol" (then "bad socket") for a protocol it has not
// enabled, e.g. tls without the tls module or sctp without sctp sockets
// (checked with the binary). udp and tcp are taken as always enabled;
// others only when one of the listen sockets uses them.
func protoEnabled(listen []ListenSocket, proto int) bool {
	if proto == ProtoNone || proto == ProtoUDP || proto == ProtoTCP {
		return true
	}
	for _, l := range listen {
		if protoNames[strings.ToLower(l.Proto)] == proto {
			return true
		}
	}
	return false
}
