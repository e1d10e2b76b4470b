package dispatcher

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestReloadKeepsState checks that unchanged (setid, URI) keep their state,
// duplicates pair in order, new destinations start fresh, and a refused
// reload keeps the old snapshot.
func TestReloadKeepsState(t *testing.T) {
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	s, _, err := Load("a.list", strings.NewReader("1 sip:1.1.1.1 8\n1 sip:2.2.2.2\n1 sip:2.2.2.2\n2 sip:3.3.3.3 0 0 latency=10\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(s)
	set1, _ := st.Sets().Set(1)
	one := set1.At(2) // sip:1.1.1.1 (reverse load order)
	want(t, one.URI, "sip:1.1.1.1")
	one.State().SetFlags(FlagInactive | FlagProbing)
	one.State().RecordProbe(false)
	dupFirst := set1.At(0).State()
	dupFirst.RecordProbe(true)

	kept, probs, err := st.Reload("b.list", strings.NewReader("1 sip:1.1.1.1\n1 sip:2.2.2.2\n2 sip:4.4.4.4\n3 sip:3.3.3.3\n"), o)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	want(t, kept, 2)
	set1, _ = st.Sets().Set(1)
	var got1 *Destination
	for _, d := range set1.All() {
		if d.URI == "sip:1.1.1.1" {
			got1 = d
		}
	}
	want(t, got1.State(), one.State())
	want(t, FlagsString(got1.State().Flags()), "IP")
	want(t, got1.State().Failures(), 1)
	for _, d := range set1.All() {
		if d.URI == "sip:2.2.2.2" {
			want(t, d.State(), dupFirst)
		}
	}
	set3, _ := st.Sets().Set(3)
	want(t, set3.At(0).State().Flags(), 0) // moved to another set: fresh state

	before := st.Sets()
	_, _, err = st.Reload("c.list", strings.NewReader("1 sip:1.1.1.1\n7\n"), o)
	if !errors.Is(err, ErrBadLine) {
		t.Fatalf("err %v, want ErrBadLine", err)
	}
	if st.Sets() != before {
		t.Fatal("refused reload replaced the snapshot")
	}
	o.LoadMode = 1
	_, _, err = st.Reload("d.list", strings.NewReader("1 sip:nohost\n"), o)
	if !errors.Is(err, ErrBadDestination) || st.Sets() != before {
		t.Fatalf("err %v, snapshot replaced %v", err, st.Sets() != before)
	}
	if n := st.Swap(nil); n != 0 || st.Sets().Len() != 0 {
		t.Fatal("empty swap")
	}
}

// TestConcurrentReload runs readers and state writers against repeated
// reloads; run with -race.
func TestConcurrentReload(t *testing.T) {
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	list := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%d sip:10.0.%d.%d:5060 0 %d\n", i%5, i/250, i%250, i%3)
		}
		return b.String()
	}
	s, _, err := Load("x.list", strings.NewReader(list(50)), o)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(s)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for set := range st.Sets().All() {
					for _, d := range set.All() {
						_ = FlagsString(d.State().Flags())
						if r%2 == 0 {
							d.State().SetFlags(FlagProbing)
							d.State().RecordProbe(r == 0)
							d.State().UpdateLatency(func(l Latency) Latency { l.Count++; return l })
						}
						_ = d.State().Latency()
					}
				}
			}
		}()
	}
	for i := range 200 {
		if _, _, err := st.Reload("x.list", strings.NewReader(list(40+i%20)), o); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
