package dispatcher

import (
	"strings"
	"testing"
)

// TestGeneration: every change dispatcher.list shows moves Generation
// (state bits by set_state or a probe transition, latency statistics, a
// snapshot published by Swap, Reload or Update); reading, or a state
// update that leaves the bits as they were (the probe counter is not
// shown), does not.
func TestGeneration(t *testing.T) {
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	s, _, err := Load("a.list", strings.NewReader("1 sip:1.1.1.1\n1 sip:2.2.2.2\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(s)
	moves := func(what string, f func()) {
		t.Helper()
		g := Generation()
		f()
		if Generation() == g {
			t.Errorf("%s: Generation did not move", what)
		}
	}
	stays := func(what string, f func()) {
		t.Helper()
		g := Generation()
		f()
		if Generation() != g {
			t.Errorf("%s: Generation moved", what)
		}
	}
	state := st.Sets().At(0).At(0).State()
	stays("reads", func() {
		_ = st.Sets().At(0).At(0).State().Flags()
		_ = state.Latency()
		_ = state.Counter()
	})
	moves("SetFlags", func() { state.SetFlags(FlagInactive) })
	stays("SetFlags to the same bits", func() { state.SetFlags(FlagInactive) })
	moves("SetStateAll", func() { st.Sets().SetStateAll(1, FlagDisabled) })
	moves("transition", func() {
		state.transition(func(flags, counter int) (int, int) { return FlagTrying, counter + 1 })
	})
	stays("transition to the same bits", func() {
		state.transition(func(flags, counter int) (int, int) { return flags, counter + 1 })
	})
	moves("UpdateLatency", func() { state.UpdateLatency(func(l Latency) Latency { return l.Add(20, 0.9) }) })
	moves("Swap", func() {
		next, _, err := Load("b.list", strings.NewReader("1 sip:1.1.1.1\n"), o)
		if err != nil {
			t.Fatal(err)
		}
		st.Swap(next)
	})
	moves("Reload", func() {
		if _, _, err := st.Reload("c.list", strings.NewReader("2 sip:3.3.3.3\n"), o); err != nil {
			t.Fatal(err)
		}
	})
	moves("Update (add)", func() {
		err := st.Update(func(cur *Sets) (*Sets, error) {
			next, _, err := cur.Add(Entry{SetID: 2, URI: "sip:4.4.4.4"}, o)
			return next, err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	moves("NewStore", func() { NewStore(nil) })
}
