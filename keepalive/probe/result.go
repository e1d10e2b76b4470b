package probe

import (
	"errors"
	"fmt"
	"time"
)

// Class says how a probe ended. Kamailio's tm folds everything into a
// final code (a local 408 or 503); the class keeps apart what the code
// hides, so that a caller can be faster than the timer when a transport
// tells at once that the peer is gone.
type Class uint8

const (
	// ClassReply: a final reply came back; Result.Code and Reason are the
	// peer's.
	ClassReply Class = iota + 1
	// ClassTimeout: no final reply before the deadline (tm's fr_timer);
	// Result.Code is tm's local 408.
	ClassTimeout
	// ClassTransport: the transport reported the peer unreachable (ICMP
	// port or host unreachable for UDP, TCP connection refused or reset,
	// TLS handshake failure); Result.Code is 503, as RFC 3261 8.1.3.1
	// requires a UAC to treat a fatal transport error.
	ClassTransport
	// ClassDNS: the host name did not resolve; no request was sent and
	// Result.Code is 0 (tm creates no transaction: Kamailio's keepalive
	// then changes nothing, dispatcher counts a failure with code 500).
	ClassDNS
	// ClassUnsent: the request could not be sent for a local reason (no
	// socket of the target's transport, a message too big for UDP); Code
	// is 0, like ClassDNS.
	ClassUnsent
	// ClassCanceled: the caller's context was cancelled before the
	// deadline (shutdown, destination removed); the probe says nothing
	// about the peer.
	ClassCanceled
)

var classNames = [...]string{"", "reply", "timeout", "transport", "dns", "unsent", "canceled"}

// String returns the lowercase name of the class.
func (c Class) String() string {
	if int(c) < len(classNames) && c != 0 {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Sentinel errors carried by Result.Err (wrapped with %w) for the failure
// classes.
var (
	// ErrTimeout: no final reply before the probe's deadline.
	ErrTimeout = errors.New("no final reply before the deadline")
	// ErrPortUnreachable: an ICMP port unreachable answered a UDP probe.
	ErrPortUnreachable = errors.New("icmp port unreachable")
	// ErrHostUnreachable: an ICMP host or network unreachable answered a
	// UDP probe.
	ErrHostUnreachable = errors.New("icmp host unreachable")
	// ErrTransport: the connection failed (refused, reset, closed, TLS).
	ErrTransport = errors.New("transport error")
	// ErrDNS: the host of the target did not resolve.
	ErrDNS = errors.New("dns resolution failed")
	// ErrNoSocket: no configured socket can send to the target.
	ErrNoSocket = errors.New("no socket for the transport")
	// ErrBadTarget: the target's URI cannot be probed.
	ErrBadTarget = errors.New("bad target")
)

// Result is what one probe found out.
type Result struct {
	// Class says how the probe ended.
	Class Class
	// Code is the final status code: the peer's for ClassReply, 408 for
	// ClassTimeout, 503 for ClassTransport, 0 otherwise.
	Code int
	// Reason is the peer's reason phrase, or a short local text for the
	// other classes.
	Reason string
	// Local is true when Code was made locally, not received (dispatcher's
	// $dsv(flags) is 0 then).
	Local bool
	// Sent is when the probe started.
	Sent time.Time
	// RTT is the time from the start of the probe (resolution and
	// connection setup included) to its end.
	RTT time.Duration
	// Err is the cause for every class but ClassReply; it wraps one of the
	// sentinel errors of this package.
	Err error
}

// Success reports whether the result is a 2xx reply, the only success
// Kamailio's keepalive knows (dispatcher adds ds_ping_reply_codes).
func (r Result) Success() bool { return r.Class == ClassReply && r.Code >= 200 && r.Code <= 299 }

// Final reports whether the result is a final outcome for the peer as
// Kamailio's tm sees it: a reply, or a locally made 408 or 503. DNS
// failures, unsent probes and cancelled ones are not.
func (r Result) Final() bool {
	return r.Class == ClassReply || r.Class == ClassTimeout || r.Class == ClassTransport
}

// String renders the result for logs: "200 OK", "408 timeout (local)".
func (r Result) String() string {
	switch r.Class {
	case ClassReply:
		return fmt.Sprintf("%d %s", r.Code, r.Reason)
	case ClassTimeout, ClassTransport:
		return fmt.Sprintf("%d %s (local)", r.Code, r.Reason)
	default:
		if r.Err != nil {
			return r.Class.String() + ": " + r.Err.Error()
		}
		return r.Class.String()
	}
}
