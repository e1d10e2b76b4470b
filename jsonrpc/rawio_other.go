//go:build !linux

package jsonrpc

import "net"

// rawIO is the Linux raw socket reader and writer (rawio_linux.go); other
// systems use the net.Conn itself.
type rawIO struct{ net.Conn }

func newRawIO(c net.Conn) *rawIO { return nil }
