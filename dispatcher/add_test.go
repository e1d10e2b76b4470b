package dispatcher

import (
	"errors"
	"strings"
	"testing"
)

// TestAddRemove reproduces the verified rebuild orders of spec §2.5, §2.6,
// §6.6 and §6.7.
func TestAddRemove(t *testing.T) {
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	s, _, err := Load("a.list", strings.NewReader("1 sip:127.0.0.1:5071\n1 sip:127.0.0.1:5072\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	want(t, layout(s), "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071")
	add := func(s *Sets, setid int, uri string) *Sets {
		t.Helper()
		n, probs, err := s.Add(Entry{Source: "rpc", SetID: setid, URI: uri}, o)
		if err != nil || len(probs) != 0 {
			t.Fatal(err, probs)
		}
		return n
	}
	s1 := add(s, 1, "sip:127.0.0.1:5080")
	want(t, layout(s1), "1:sip:127.0.0.1:5080,sip:127.0.0.1:5071,sip:127.0.0.1:5072")
	s2 := add(s1, 1, "sip:127.0.0.1:5080")
	want(t, layout(s2), "1:sip:127.0.0.1:5080,sip:127.0.0.1:5072,sip:127.0.0.1:5071,sip:127.0.0.1:5080")
	want(t, layout(s), "1:sip:127.0.0.1:5072,sip:127.0.0.1:5071") // snapshots are immutable

	two, _, _ := Load("b.list", strings.NewReader("1 sip:1.1.1.1\n2 sip:2.2.2.2\n"), o)
	want(t, layout(two), "2:sip:2.2.2.2|1:sip:1.1.1.1")
	want(t, layout(add(two, 7, "sip:7.7.7.7")), "1:sip:1.1.1.1|7:sip:7.7.7.7|2:sip:2.2.2.2")

	// a rejected destination: mode 0 warns and adds nothing, mode 1 fails
	n, probs, err := s.Add(Entry{Source: "rpc", SetID: 1, URI: "sip:nohost"}, o)
	if err != nil || len(probs) != 1 || n.Destinations() != 2 {
		t.Fatal(err, probs)
	}
	o1 := o
	o1.LoadMode = 1
	if _, _, err := s.Add(Entry{Source: "rpc", SetID: 1, URI: "sip:nohost"}, o1); !errors.Is(err, ErrBadDestination) {
		t.Fatalf("err %v", err)
	}

	r, cnt, err := s2.Remove(1, "127.0.0.1:5080", o)
	if err != nil {
		t.Fatal(err)
	}
	want(t, cnt, 2)
	want(t, layout(r), "1:sip:127.0.0.1:5071,sip:127.0.0.1:5072")
	r, cnt, err = r.Remove(1, "sip:127.0.0.1:9999", o)
	if err != nil || cnt != 0 {
		t.Fatal(err, cnt)
	}
	r, _, _ = two.Remove(2, "sip:2.2.2.2", o)
	want(t, layout(r), "1:sip:1.1.1.1")
	if _, _, err := two.Remove(1, "sip:nonexistent.invalid", o); !errors.Is(err, ErrBadDestination) {
		t.Fatalf("err %v", err)
	}
	// state is shared by the rebuilt snapshot
	set, _ := s.Set(1)
	set.At(0).State().SetFlags(FlagDisabled)
	set1, _ := s1.Set(1)
	want(t, FlagsString(set1.At(2).State().Flags()), "DX")
}
