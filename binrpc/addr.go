package binrpc

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Transport names, as ctl.listen prints them (binrpc.md §8).
const (
	UnixStream = "unix_stream"
	UnixDgram  = "unix_dgram"
	TCP        = "tcp"
	UDP        = "udp"
)

// DefaultPort is the port of a tcp or udp address that gives none
// (binrpc.md §2).
const DefaultPort = 2049

// Addr is a parsed ctl address (binrpc.md §2).
type Addr struct {
	// Transport is UnixStream, UnixDgram, TCP or UDP.
	Transport string
	// Path is the socket file of a unix address.
	Path string
	// Host is the host of a tcp or udp address; "*" is any address.
	Host string
	// Port is the port of a tcp or udp address.
	Port int
}

// Network is the address' network for package net: unix, unixgram, tcp or
// udp.
func (a Addr) Network() string {
	switch a.Transport {
	case UnixStream:
		return "unix"
	case UnixDgram:
		return "unixgram"
	}
	return a.Transport
}

// Stream tells whether the transport is a stream (unix stream or TCP).
func (a Addr) Stream() bool { return a.Transport == UnixStream || a.Transport == TCP }

// Address is the address for net.Listen or net.Dial: the path, or
// host:port ("*" becomes the empty host).
func (a Addr) Address() string {
	if a.Transport == UnixStream || a.Transport == UnixDgram {
		return a.Path
	}
	h := a.Host
	if h == "*" {
		h = ""
	}
	return net.JoinHostPort(h, strconv.Itoa(a.Port))
}

// String is the address in ctl syntax (unix:/p, unixd:/p, tcp:h:p, udp:h:p).
func (a Addr) String() string {
	switch a.Transport {
	case UnixStream:
		return "unix:" + a.Path
	case UnixDgram:
		return "unixd:" + a.Path
	}
	h := a.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return a.Transport + ":" + h + ":" + strconv.Itoa(a.Port)
}

// ParseAddr parses a ctl listen address (binrpc.md §2): unix:/p,
// unixs:/p, unixd:/p, tcp:host:port, tcp:port, tcp:host, udp:…, [v6]:port,
// /path (unix stream), host:port (UDP), and a bare name, which ctl takes
// for a UDP host on port 2049. Protocol names are case-insensitive; a
// non-numeric port is looked up as a service name.
func ParseAddr(s string) (Addr, error) { return parseAddr(s, UDP) }

// ParseClientAddr parses an address as kamcmd's -s does: as ParseAddr, but
// a bare name is a unix stream socket path (binrpc.md §9.1).
func ParseClientAddr(s string) (Addr, error) { return parseAddr(s, UnixStream) }

func parseAddr(s, def string) (Addr, error) {
	if s == "" {
		return Addr{}, errors.New("empty address")
	}
	proto, rest := "", s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		switch p := strings.ToLower(s[:i]); p {
		case "unix", "unixs":
			proto = UnixStream
		case "unixd":
			proto = UnixDgram
		case "tcp", "udp":
			proto = p
		case "fifo":
			return Addr{}, fmt.Errorf("address %q: the fifo protocol is not supported", s)
		}
		if proto != "" {
			rest = s[i+1:]
		}
	}
	if proto == "" {
		switch {
		case strings.HasPrefix(s, "["):
			proto = UDP
		case strings.Contains(s, "/"):
			proto = UnixStream
		case strings.Contains(s, ":"):
			proto = UDP
		default:
			proto = def
		}
	}
	switch proto {
	case UnixStream, UnixDgram:
		if rest == "" {
			return Addr{}, fmt.Errorf("address %q: empty socket path", s)
		}
		return Addr{Transport: proto, Path: rest}, nil
	}
	host, port, err := splitHostPort(rest, proto)
	if err != nil {
		return Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	return Addr{Transport: proto, Host: host, Port: port}, nil
}

// splitHostPort splits host[:port], [v6][:port] or a lone port.
func splitHostPort(s, network string) (string, int, error) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, errors.New("missing ']'")
		}
		host = s[1:end]
		switch r := s[end+1:]; {
		case r == "":
		case r[0] == ':':
			port = r[1:]
		default:
			return "", 0, fmt.Errorf("unexpected %q after ']'", r)
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return "", 0, fmt.Errorf("bad host %q", host)
		}
	} else if _, err := strconv.Atoi(s); err == nil {
		host, port = "*", s
	}
	if host == "" {
		host = "*"
	}
	if port == "" {
		return host, DefaultPort, nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		p, err = net.LookupPort(network, port)
		if err != nil {
			return "", 0, fmt.Errorf("bad port %q: %w", port, err)
		}
	}
	if p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("port %d out of range", p)
	}
	return host, p, nil
}
