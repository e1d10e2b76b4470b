package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// Linux reports ICMP errors of an unconnected UDP socket only when
// IP_RECVERR (IPV6_RECVERR) is set: each one is queued on the socket's
// error queue with the original destination and the start of the original
// datagram, and the next recvfrom or sendto fails once with its errno. The
// queue is read here so that a probe to a closed port fails at once
// (RFC 3261 8.1.3.1, 18.4) instead of after fr_timer as in Kamailio.

const (
	soEEOriginICMP  = 2 // SO_EE_ORIGIN_ICMP
	soEEOriginICMP6 = 3 // SO_EE_ORIGIN_ICMP6
	ipv6RecvErr     = 25
)

// icmpHandler receives one ICMP error: the destination the datagram was
// sent to, the start of its payload and the errno the kernel maps it to.
type icmpHandler func(dst netip.AddrPort, payload []byte, errno syscall.Errno)

// listenUDP opens a UDP socket with the error queue enabled. The returned
// conn is what sipgo reads and writes: it hides the queued errors from
// sipgo (whose read loop would stop on them) and hands them to h.
func listenUDP(ctx context.Context, addr string, h icmpHandler) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if e := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1); e != nil && network != "udp6" {
				serr = e
			}
			if network != "udp4" {
				// Only IPv6 sockets know the IPv6 option.
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, ipv6RecvErr, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	uc := pc.(*net.UDPConn)
	raw, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	return &icmpConn{UDPConn: uc, raw: raw, h: h}, nil
}

type icmpConn struct {
	*net.UDPConn
	raw syscall.RawConn
	h   icmpHandler
}

// asyncErr reports whether err may be a queued ICMP error rather than a
// failure of this call.
func asyncErr(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTDOWN) ||
		errors.Is(err, syscall.EPROTO)
}

// ReadFrom reads the next datagram, draining the error queue whenever the
// kernel reports a queued ICMP error instead.
func (c *icmpConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(b)
		if err == nil || !asyncErr(err) {
			return n, addr, err
		}
		c.drain()
	}
}

// WriteTo sends b; when the kernel hands it a pending ICMP error of an
// earlier datagram, the queue is drained and b is sent again.
func (c *icmpConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, addr)
	if err != nil && asyncErr(err) && c.drain() > 0 {
		n, err = c.UDPConn.WriteTo(b, addr)
	}
	return n, err
}

// drain reads the whole error queue and returns how many entries it held.
func (c *icmpConn) drain() int {
	count := 0
	var buf [1500]byte
	var oob [512]byte
	// Control, not Read: the read lock of the socket is held by sipgo's
	// reader blocked in ReadFrom; MSG_DONTWAIT keeps this from blocking.
	_ = c.raw.Control(func(fd uintptr) {
		for range 4096 {
			n, oobn, _, from, err := syscall.Recvmsg(int(fd), buf[:], oob[:], syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
			if err != nil {
				return // EAGAIN: empty
			}
			count++
			c.handle(buf[:n], oob[:oobn], from)
		}
	})
	return count
}

func (c *icmpConn) handle(payload, oob []byte, from syscall.Sockaddr) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	var dst netip.AddrPort
	switch sa := from.(type) {
	case *syscall.SockaddrInet4:
		dst = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		dst = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	for _, m := range msgs {
		ip4 := m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_RECVERR
		ip6 := m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == ipv6RecvErr
		if (!ip4 && !ip6) || len(m.Data) < 16 {
			continue
		}
		// struct sock_extended_err: u32 ee_errno, u8 ee_origin, ...
		errno := syscall.Errno(binary.NativeEndian.Uint32(m.Data[0:4]))
		origin := m.Data[4]
		if origin != soEEOriginICMP && origin != soEEOriginICMP6 {
			continue // a local error (EMSGSIZE...) was already returned by sendto
		}
		if c.h != nil {
			c.h(dst, payload, errno)
		}
	}
}
