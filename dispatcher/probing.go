package dispatcher

import "github.com/kamsidecar/kamsidecar/kamcfg"

// Probing is the pure probing state engine of Kamailio 5.6.3 (spec §4.3):
// which destinations a round probes, which state a result requests and how
// the request is applied with the thresholds. It holds no state and reads
// no clock; the Prober feeds it.
type Probing struct {
	// Mode is ds_probing_mode, 0 to 3 (§1.2, §4.3).
	Mode int
	// ProbingThreshold is ds_probing_threshold: consecutive failures before
	// an active destination becomes inactive (≤ 1: the first one).
	ProbingThreshold int
	// InactiveThreshold is ds_inactive_threshold: consecutive successes
	// before an inactive destination becomes active again.
	InactiveThreshold int
	// ReplyCodes is ds_ping_reply_codes: codes counted as success besides
	// every 2xx (§1.4, §8.3).
	ReplyCodes kamcfg.ReplyCodes
}

// Probed reports whether a destination with state bits flags is probed in
// a round (spec §4.3 "Which destinations are probed"): never when
// disabled; mode 1 all; mode 2 those with P and I; modes 0 and 3 (and any
// other value, which 5.6.3 treats as 0) those with P.
func (p Probing) Probed(flags int) bool {
	if flags&FlagDisabled != 0 {
		return false
	}
	switch p.Mode {
	case 1:
		return true
	case 2:
		return flags&FlagProbing != 0 && flags&FlagInactive != 0
	default:
		return flags&FlagProbing != 0
	}
}

// Success reports whether a final code counts as a successful probe
// (spec §8.3): every 2xx plus ds_ping_reply_codes, local codes included.
func (p Probing) Success(code int) bool { return p.ReplyCodes.Success(code) }

// Request returns the state a probe result requests for a destination
// whose bits are now flags (spec §4.3 "Requested new state"), or false
// when the result is dropped: a disabled destination, or mode 3 and the
// destination no longer has P. unsent marks a probe that could not be sent
// (§4.3 "Send failure"), for which the mode-3 check is not applied.
func (p Probing) Request(flags int, ok, unsent bool) (int, bool) {
	if !unsent && p.Mode == 3 && flags&FlagProbing == 0 {
		return 0, false
	}
	if flags&FlagDisabled != 0 {
		return 0, false
	}
	if ok {
		if p.Mode == 1 || p.Mode == 3 {
			return FlagProbing, true
		}
		return 0, true
	}
	if p.Mode == 0 {
		return FlagTrying, true
	}
	return FlagTrying | FlagProbing, true
}

// Apply runs the 5.6.3 state engine (spec §4.3 "Applying a requested
// state") on the state bits old and the destination's one counter shared
// by failures and successes; it returns the new bits and counter.
func (p Probing) Apply(old, counter, want int) (int, int) {
	orig := want
	flags := old &^ StateMask
	if want&FlagTrying != 0 && old&FlagInactive != 0 {
		want = want&^FlagTrying | FlagInactive
	}
	if want&FlagDisabled != 0 {
		flags |= FlagDisabled
	} else {
		flags |= want & StateMask
	}
	switch {
	case want&FlagTrying != 0:
		counter++
		if counter >= p.ProbingThreshold {
			flags = flags&^FlagTrying | FlagInactive
			counter = 0
		}
	case orig&FlagTrying == 0 && old&FlagInactive != 0:
		counter++
		if counter < p.InactiveThreshold {
			flags |= FlagInactive
			if old&FlagProbing != 0 {
				flags |= FlagProbing
			}
		} else {
			counter = 0
		}
	default:
		counter = 0
	}
	return flags, counter
}

// Usable reports whether a destination with state bits flags is used for
// routing: neither I nor D (spec §4.1).
func Usable(flags int) bool { return flags&(FlagInactive|FlagDisabled) == 0 }
