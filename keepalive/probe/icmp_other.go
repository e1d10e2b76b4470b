//go:build !linux

package probe

import (
	"context"
	"net"
	"net/netip"
	"syscall"
)

type icmpHandler func(dst netip.AddrPort, payload []byte, errno syscall.Errno)

// listenUDP opens a plain UDP socket: outside Linux ICMP errors of an
// unconnected socket are not reported, and a probe to a closed UDP port
// ends with the timeout, as in Kamailio.
func listenUDP(ctx context.Context, addr string, _ icmpHandler) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, "udp", addr)
}
