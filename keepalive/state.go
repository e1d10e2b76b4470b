package keepalive

import (
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// State is the state of a destination as Kamailio's keepalive module
// numbers it (KA_STATE_*), the value of `state` in keepalive.list.
type State int

const (
	// StateUnknown: no final reply seen yet (KA_STATE_UNKNOWN).
	StateUnknown State = 0
	// StateUp: the last final reply was a 2xx (KA_STATE_UP).
	StateUp State = 1
	// StateDown: the last final reply was anything else, including a local
	// timeout (KA_STATE_DOWN).
	StateDown State = 2
)

// String returns "unknown", "up" or "down".
func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	default:
		return "unknown"
	}
}

// Status is the probing state of one destination at one time. It is a
// value: Machine returns a new one for every event, so that readers can
// hold a Status while probing goes on.
type Status struct {
	State State
	// Counter is the number of consecutive failed probes (keepalive's
	// `counter`); a 2xx resets it.
	Counter int
	// LastChecked is when the last OPTIONS was sent (or tried).
	LastChecked time.Time
	// LastUp is when the last 2xx arrived. Kamailio 5.6.3 swaps LastUp and
	// LastDown; kamsidecar writes them as 5.6.6 and later do.
	LastUp time.Time
	// LastDown is when the last failure (non-2xx, timeout, transport
	// error) happened.
	LastDown time.Time
	// Stopped is true once delete_counter stopped the probing.
	Stopped bool
	// Last is the result of the last finished probe, whatever its class.
	Last probe.Result
}

// Machine applies the rules of Kamailio's keepalive module
// (shared/spec/keepalive.md §5) to a Status. It holds no clock: every
// method is given the time, so that it is tested without a network or a
// real clock.
type Machine struct {
	// DeleteCounter is the delete_counter modparam: after more than this
	// many consecutive failures probing stops. 0 disables the limit.
	DeleteCounter int
}

// Transition describes what one result did to a Status.
type Transition struct {
	Old, New State
	// Changed is true when New differs from Old: Kamailio runs the
	// dst-up/dst-down event route and the state-change callback then,
	// including for the first result after StateUnknown.
	Changed bool
	// Stopped is true when this result made probing stop (delete_counter).
	Stopped bool
	// Final is true when the result counted (a reply, a timeout or a
	// transport error); DNS failures and unsent probes do not.
	Final bool
}

// exceeded reports whether delete_counter has stopped probing.
func (m Machine) exceeded(s Status) bool {
	return m.DeleteCounter > 0 && s.Counter > m.DeleteCounter
}

// Ping is called when a destination's timer fires (spec §5 step 2). It
// returns the new Status and whether to send an OPTIONS now: not when more
// than DeleteCounter consecutive probes have failed, in which case the
// Status is marked Stopped. LastChecked is set whether or not the send will
// succeed, as Kamailio does.
func (m Machine) Ping(s Status, now time.Time) (Status, bool) {
	if m.exceeded(s) {
		s.Stopped = true
		return s, false
	}
	s.LastChecked = now
	return s, true
}

// Result applies the outcome of one probe at time now (spec §5 step 3):
// a 2xx makes the destination up and resets the counter; any other final
// reply, a timeout or a transport error makes it down and counts a
// failure; a DNS failure, an unsent or a cancelled probe changes nothing
// but Last (Kamailio runs no callback when tm cannot create the
// transaction).
func (m Machine) Result(s Status, r probe.Result, now time.Time) (Status, Transition) {
	s.Last = r
	tr := Transition{Old: s.State, New: s.State, Final: r.Final()}
	if !tr.Final {
		return s, tr
	}
	if r.Success() {
		s.State = StateUp
		s.Counter = 0
		s.LastUp = now
	} else {
		s.State = StateDown
		s.Counter++
		s.LastDown = now
	}
	tr.New = s.State
	tr.Changed = tr.New != tr.Old
	if !s.Stopped && m.exceeded(s) {
		s.Stopped = true
		tr.Stopped = true
	}
	return s, tr
}

// Readd is what a duplicate add does to an existing destination (spec §3):
// the failure counter goes back to 0. kamsidecar also lifts a
// delete_counter stop (Kamailio 5.6.3 leaves the timer stopped, so the
// destination stays down for good); the caller restarts probing when the
// returned bool is true.
func (m Machine) Readd(s Status) (Status, bool) {
	restart := s.Stopped
	s.Counter = 0
	s.Stopped = false
	return s, restart
}
