package dispatcher

import (
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/kamcfg"
)

// rounds plays probe rounds on one destination with the pure engine: in
// each round the destination is probed only if Probed says so, and the
// result (ok true/false, 'u' for unsent) goes through Request and Apply.
// It returns the FLAGS after each round, "-" marking an unprobed round.
func rounds(p Probing, flags, counter int, results string) (string, int) {
	var out []string
	for _, r := range results {
		if !p.Probed(flags) {
			out = append(out, "-")
			continue
		}
		want, keep := p.Request(flags, r == '+', r == 'u')
		if keep {
			flags, counter = p.Apply(flags, counter, want)
		}
		out = append(out, FlagsString(flags))
	}
	return strings.Join(out, " "), counter
}

// TestProbingTable plays the observed scenarios of spec §4.3, each named
// after the sentence it proves ('+' success, '-' failure, 'u' unsent).
func TestProbingTable(t *testing.T) {
	for _, c := range []struct {
		name        string
		mode        int
		pt, it      int
		flags, cntr int
		results     string
		want        string
	}{
		{name: "§4.3 mode 1, thresholds 1/1, target answers 404: AX → IP after the first probe",
			mode: 1, pt: 1, it: 1, results: "-", want: "IP"},
		{name: "§4.3 mode 1, silent target: IP after the 408",
			mode: 1, pt: 1, it: 1, results: "--", want: "IP IP"},
		{name: "§4.3 mode 1, probing_threshold=3: AX → TP → TP → IP on the 3rd failure",
			mode: 1, pt: 3, it: 1, results: "---", want: "TP TP IP"},
		{name: "§4.3 mode 1, inactive_threshold=2, target recovers: IP stays after 1st 2xx, AP after the 2nd",
			mode: 1, pt: 1, it: 2, flags: FlagInactive | FlagProbing, results: "++", want: "IP AP"},
		{name: "§4.3 mode 1, file flag 1 (IX), target OK: probed anyway → AP",
			mode: 1, pt: 1, it: 1, flags: FlagInactive, results: "+", want: "AP"},
		{name: "§4.3 mode 0, file flag 8, target OK: one probe, then AX; never probed again",
			mode: 0, pt: 1, it: 1, flags: FlagProbing, results: "++", want: "AX -"},
		{name: "§4.3 mode 0, file flag 8, target 404: one probe, then IX, never probed again",
			mode: 0, pt: 1, it: 1, flags: FlagProbing, results: "-+", want: "IX -"},
		{name: "§4.3 mode 0, file flag 9 (IP), OK: AX",
			mode: 0, pt: 1, it: 1, flags: FlagInactive | FlagProbing, results: "++", want: "AX -"},
		{name: "§4.3 mode 2, file flag 9 (IP), OK: AX, then never probed again",
			mode: 2, pt: 1, it: 1, flags: FlagInactive | FlagProbing, results: "++", want: "AX -"},
		{name: "§4.3 mode 2, flag 8 alone (AP) is never probed",
			mode: 2, pt: 1, it: 1, flags: FlagProbing, results: "+-", want: "- -"},
		{name: "§4.3 mode 2, IP target keeps failing: stays IP and is probed every round",
			mode: 2, pt: 1, it: 1, flags: FlagInactive | FlagProbing, results: "---", want: "IP IP IP"},
		{name: "§4.3 mode 3, flag 8: probed every round, P kept: OK → AP, 404 → IP",
			mode: 3, pt: 1, it: 1, flags: FlagProbing, results: "+-+", want: "AP IP AP"},
		{name: "§4.3 mode 3, flag 9: probed every round, P kept",
			mode: 3, pt: 1, it: 1, flags: FlagInactive | FlagProbing, results: "+", want: "AP"},
		{name: "§4.3 set_state ap after 2 of 3 failures: next failure → IP immediately (counter not reset by RPC)",
			mode: 1, pt: 3, it: 1, flags: FlagProbing, cntr: 2, results: "-", want: "IP"},
		{name: "§4.3 send failure applies T (+P unless mode 0) as a failure",
			mode: 0, pt: 2, it: 1, flags: FlagProbing, results: "u", want: "TX"},
		{name: "§4.3 disabled ones never probed",
			mode: 1, pt: 1, it: 1, flags: FlagDisabled | FlagProbing, results: "-+", want: "- -"},
		{name: "§4.3 a success resets the counter of failures",
			mode: 1, pt: 2, it: 1, results: "-+-", want: "TP AP TP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Probing{Mode: c.mode, ProbingThreshold: c.pt, InactiveThreshold: c.it}
			got, _ := rounds(p, c.flags, c.cntr, c.results)
			want(t, got, c.want)
		})
	}
}

// TestProbingRequest checks the "Requested new state" rules of §4.3.
func TestProbingRequest(t *testing.T) {
	for _, c := range []struct {
		name        string
		mode, flags int
		ok, unsent  bool
		want        int
		kept        bool
	}{
		{"§4.3 mode 3 and the destination no longer has P → the result is dropped entirely", 3, 0, true, false, 0, false},
		{"§4.3 the mode-3 check is not applied on the send-failure path", 3, 0, false, true, FlagTrying | FlagProbing, true},
		{"§4.3 success → 0 in mode 0", 0, FlagProbing, true, false, 0, true},
		{"§4.3 success → P in mode 1", 1, 0, true, false, FlagProbing, true},
		{"§4.3 success → 0 in mode 2", 2, FlagProbing | FlagInactive, true, false, 0, true},
		{"§4.3 success → P in mode 3", 3, FlagProbing, true, false, FlagProbing, true},
		{"§4.3 failure → T in mode 0", 0, FlagProbing, false, false, FlagTrying, true},
		{"§4.3 failure → T plus P unless mode 0", 2, FlagProbing, false, false, FlagTrying | FlagProbing, true},
		{"§4.3 if the destination is currently disabled the result is dropped", 1, FlagDisabled, true, false, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, kept := Probing{Mode: c.mode}.Request(c.flags, c.ok, c.unsent)
			want(t, kept, c.kept)
			want(t, got, c.want)
		})
	}
}

// TestProbingApply checks single steps of the §4.3 state engine,
// including the bits it clears and the counter.
func TestProbingApply(t *testing.T) {
	for _, c := range []struct {
		name               string
		old, counter, want int
		pt, it             int
		flags, newCounter  int
	}{
		{"§4.1 every state update clears the whole state mask (including 16)", FlagNoDNS | FlagProbing, 0, FlagProbing, 1, 1, FlagProbing, 0},
		{"§4.3 inactive stays inactive: T requested on I becomes I", FlagInactive | FlagProbing, 0, FlagTrying | FlagProbing, 3, 1, FlagInactive | FlagProbing, 0},
		{"§4.3 counter >= probing_threshold: T becomes I and the counter resets", FlagTrying, 1, FlagTrying, 2, 1, FlagInactive, 0},
		{"§4.3 probing_threshold <= 1: the first failure", 0, 0, FlagTrying, 0, 1, FlagInactive, 0},
		{"§4.3 success while inactive below inactive_threshold keeps I and P", FlagInactive | FlagProbing, 0, 0, 1, 3, FlagInactive | FlagProbing, 1},
		{"§4.3 success while inactive without P below threshold keeps only I", FlagInactive, 0, 0, 1, 3, FlagInactive, 1},
		{"§4.3 if want has D: flags += D", FlagTrying, 0, FlagDisabled | FlagProbing, 1, 1, FlagDisabled, 0},
		{"§4.3 otherwise the counter resets", FlagTrying, 2, FlagProbing, 3, 1, FlagProbing, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, n := Probing{ProbingThreshold: c.pt, InactiveThreshold: c.it}.Apply(c.old, c.counter, c.want)
			want(t, f, c.flags)
			want(t, n, c.newCounter)
		})
	}
}

// TestProbingSuccess: §1.4/§8.3 every 2xx, plus ds_ping_reply_codes, local
// codes included.
func TestProbingSuccess(t *testing.T) {
	rc, err := kamcfg.ParseReplyCodes("code=404;class=3;code=99;class=7;foo=1")
	if err != nil {
		t.Fatal(err)
	}
	p := Probing{ReplyCodes: rc}
	for code, ok := range map[int]bool{200: true, 299: true, 404: true, 302: true, 408: false, 503: false, 99: false, 700: false} {
		want(t, p.Success(code), ok)
	}
	p.ReplyCodes, _ = kamcfg.ParseReplyCodes("code=408")
	want(t, p.Success(408), true)
}

// TestStateTransitionCounter: §4.4 set_state does not reset the counter.
func TestStateTransitionCounter(t *testing.T) {
	s := &State{}
	p := Probing{Mode: 1, ProbingThreshold: 3, InactiveThreshold: 1}
	for range 2 {
		s.transition(func(f, c int) (int, int) { return p.Apply(f, c, FlagTrying|FlagProbing) })
	}
	want(t, FlagsString(s.Flags()), "TP")
	want(t, s.Counter(), 2)
	s.SetFlags(FlagProbing)
	want(t, s.Counter(), 2)
	old, cur := s.transition(func(f, c int) (int, int) { return p.Apply(f, c, FlagTrying|FlagProbing) })
	want(t, FlagsString(old), "AP")
	want(t, FlagsString(cur), "IP")
}
