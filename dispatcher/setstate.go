package dispatcher

import "errors"

// Errors of ParseAdminState (spec §6.4).
var (
	// ErrEmptyState is an empty state parameter ("Invalid State Parameter").
	ErrEmptyState = errors.New("empty state")
	// ErrUnknownState is a state whose first character is not one of
	// 0123iatdIATD ("Unknown State Value").
	ErrUnknownState = errors.New("unknown state")
)

// ParseAdminState reads the state parameter of dispatcher.set_state and
// set_duid_state (spec §6.4): the first character decides (0/i inactive,
// 1/a active, 2/d disabled, 3/t trying, case-insensitive), a second
// character p or P adds probing except to disabled, the rest is ignored.
func ParseAdminState(s string) (int, error) {
	if s == "" {
		return 0, ErrEmptyState
	}
	var bits int
	switch s[0] {
	case '0', 'i', 'I':
		bits = FlagInactive
	case '1', 'a', 'A':
		bits = 0
	case '2', 'd', 'D':
		return FlagDisabled, nil
	case '3', 't', 'T':
		bits = FlagTrying
	default:
		return 0, ErrUnknownState
	}
	if len(s) > 1 && (s[1] == 'p' || s[1] == 'P') {
		bits |= FlagProbing
	}
	return bits, nil
}

// SetStateAll replaces the state bits of every destination of set group
// with bits (set_state with address "all", spec §4.4, §6.4): no
// thresholds, no events, probe counters kept. A missing set changes
// nothing; the RPC answers OK anyway.
func (s *Sets) SetStateAll(group, bits int) {
	set, ok := s.Set(group)
	if !ok {
		return
	}
	for _, d := range set.dests {
		d.state.SetFlags(bits)
	}
}

// SetStateByURI replaces the state bits of the first destination of set
// group (array order) whose stored URI equals uri ignoring ASCII case,
// with no normalisation (spec §4.4, §6.4). It reports whether one matched.
func (s *Sets) SetStateByURI(group int, uri string, bits int) bool {
	return s.setFirst(group, bits, func(d *Destination) bool { return asciiEqualFold(d.URI, uri) })
}

// SetStateByDUID is SetStateByURI matching the duid attr instead
// (set_duid_state, spec §6.4); a destination without duid has an empty one.
func (s *Sets) SetStateByDUID(group int, duid string, bits int) bool {
	return s.setFirst(group, bits, func(d *Destination) bool { return asciiEqualFold(d.Attrs.DUID, duid) })
}

func (s *Sets) setFirst(group, bits int, match func(*Destination) bool) bool {
	set, ok := s.Set(group)
	if !ok {
		return false
	}
	for _, d := range set.dests {
		if match(d) {
			d.state.SetFlags(bits)
			return true
		}
	}
	return false
}

// asciiEqualFold is C's length check plus strncasecmp: equal lengths and
// equal bytes after ASCII lower-casing.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
