package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Socket is one local SIP socket (the `--sip` flag, or a `listen=` of the
// cfg in stand-in mode): probes of its transport leave from it and requests
// that arrive on it are answered.
type Socket struct {
	// Proto is "udp", "tcp" or "tls".
	Proto string
	// Host is the IP address to bind ("0.0.0.0" or "::" for all).
	Host string
	// Port is the port to bind; 0 picks a free one (tests).
	Port int
	// Advertise is the "host:port" put in Via instead of the bound address
	// (Kamailio's `advertise`); empty means the bound address.
	Advertise string
	// Name is the socket's name (Kamailio's `name`), used to select it.
	Name string
}

// String renders the socket as Kamailio writes one: "udp:127.0.0.1:5070".
func (s Socket) String() string {
	return s.Proto + ":" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// ParseSocket reads a socket in Kamailio's form PROTO:HOST[:PORT]
// ("udp:127.0.0.1:5070", "tls:[::1]:5061"). The host must be an IP
// address; a missing port is 5060 (5061 for tls).
func ParseSocket(s string) (Socket, error) {
	proto, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Socket{}, fmt.Errorf("socket %q: want proto:host:port", s)
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "udp", "tcp", "tls":
	default:
		return Socket{}, fmt.Errorf("socket %q: unsupported protocol %q (udp, tcp, tls)", s, proto)
	}
	port := 5060
	if proto == "tls" {
		port = 5061
	}
	host := rest
	if h, p, err := net.SplitHostPort(rest); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return Socket{}, fmt.Errorf("socket %q: bad port %q", s, p)
		}
		host, port = h, n
	} else if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		host = rest[1 : len(rest)-1]
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return Socket{}, fmt.Errorf("socket %q: host must be an IP address", s)
	}
	return Socket{Proto: proto, Host: host, Port: port}, nil
}
