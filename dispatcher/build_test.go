package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/kamcfg"
)

// mapResolver resolves the names it knows and fails for all others.
type mapResolver map[string]string

func (m mapResolver) Resolve(_ context.Context, host string) (netip.Addr, error) {
	if a, ok := m[host]; ok {
		return netip.MustParseAddr(a), nil
	}
	return netip.Addr{}, fmt.Errorf("unknown host %q", host)
}

func load(t *testing.T, list string, o Options) (*Sets, []string, error) {
	t.Helper()
	if o.Resolver == nil {
		o.Resolver = NoDNS{}
	}
	s, probs, err := Load("t.list", strings.NewReader(list), o)
	var msgs []string
	for _, p := range probs {
		msgs = append(msgs, p.String())
	}
	return s, msgs, err
}

// layout renders a snapshot as "set:uri,uri|set:uri" for order checks.
func layout(s *Sets) string {
	var b strings.Builder
	for set := range s.All() {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%d:", set.ID())
		for i, d := range set.All() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(d.URI)
		}
	}
	return b.String()
}

// TestBuild covers the add path of spec §2.2 and the orders of §2.5/§2.6
// with exact messages.
func TestBuild(t *testing.T) {
	listen := []ListenSocket{
		{Proto: "udp", Host: "10.0.0.254", Port: 5060},
		{Proto: "tcp", Host: "10.0.0.254", Port: 5080, Name: "alt"},
	}
	tests := []struct {
		name   string
		list   string
		opts   func(*Options)
		layout string
		msgs   []string
		err    error
	}{
		{name: "equal priorities reverse load order", list: "1 sip:h:5071 0 0\n1 sip:h2:5072 0 5\n1 sip:h3:5073 0 5\n",
			opts:   func(o *Options) { o.DNSMode = 0 },
			layout: "1:sip:h3:5073,sip:h2:5072,sip:h:5071"},
		{name: "sets 1 2 print 2 1", list: "1 sip:1.1.1.1\n2 sip:2.2.2.2\n", layout: "2:sip:2.2.2.2|1:sip:1.1.1.1"},
		{name: "sets 1 2 3 print 1 3 2", list: "1 sip:1.1.1.1\n2 sip:2.2.2.2\n3 sip:3.3.3.3\n",
			layout: "1:sip:1.1.1.1|3:sip:3.3.3.3|2:sip:2.2.2.2"},
		{name: "uri without scheme fixed", list: "1 127.0.0.1:5074\n", layout: "1:sip:127.0.0.1:5074",
			msgs: []string{"t.list:1: uri without sip scheme - fixing it: 127.0.0.1:5074"}},
		{name: "upper-case scheme kept", list: "1 SIP:127.0.0.1:5075;transport=tcp\n", layout: "1:SIP:127.0.0.1:5075;transport=tcp"},
		{name: "four-char host rejected", list: "1 a.io\n", opts: func(o *Options) { o.DNSMode = 0 },
			msgs: []string{"t.list:1: bad uri [a.io]: unable to add destination a.io to set 1 -- skipping"}},
		{name: "bad port rejected", list: "1 sip:IP:SIP_PORT\n",
			msgs: []string{"t.list:1: bad uri [sip:IP:SIP_PORT]: unable to add destination sip:IP:SIP_PORT to set 1 -- skipping"}},
		{name: "host too long", list: "1 sip:" + strings.Repeat("a", 255) + "\n", opts: func(o *Options) { o.DNSMode = 0 },
			msgs: []string{"t.list:1: hostname in uri is too long [" + strings.Repeat("a", 255) + "]: unable to add destination sip:" + strings.Repeat("a", 255) + " to set 1 -- skipping"}},
		{name: "ipv6 dropped without ipv6", list: "1 sip:[::1]:5060\n2 sip:1.1.1.1\n", layout: "2:sip:1.1.1.1",
			msgs: []string{"t.list:1: skipping IPv6 record [::1]: unable to add destination sip:[::1]:5060 to set 1 -- skipping"}},
		{name: "ipv6 kept with ipv6", list: "1 sip:[::1]:5060\n", opts: func(o *Options) { o.TryIPv6 = true }, layout: "1:sip:[::1]:5060"},
		{name: "unresolvable skipped", list: "1 sip:carrier1:5060 0 5\n1 sip:gw.example:5060\n", layout: "1:sip:gw.example:5060",
			opts: func(o *Options) { o.Resolver = mapResolver{"gw.example": "192.0.2.7"} },
			msgs: []string{"t.list:1: could not resolve carrier1 (missing no-probing flag?!?): unable to add destination sip:carrier1:5060 to set 1 -- skipping"}},
		{name: "flag 16 skips dns", list: "1 sip:carrier1:5060 16\n", layout: "1:sip:carrier1:5060"},
		{name: "dns mode 0 skips dns", list: "1 sip:carrier1:5060\n", opts: func(o *Options) { o.DNSMode = 0 }, layout: "1:sip:carrier1:5060"},
		{name: "dns mode 4 resolves", list: "1 sip:carrier1:5060\n", opts: func(o *Options) { o.DNSMode = 4 },
			msgs: []string{"t.list:1: could not resolve carrier1 (missing no-probing flag?!?): unable to add destination sip:carrier1:5060 to set 1 -- skipping"}},
		{name: "load mode 1 refuses", list: "1 sip:1.1.1.1\n1 sip:carrier1\n", opts: func(o *Options) { o.LoadMode = 1 },
			msgs: []string{"t.list:2: could not resolve carrier1 (missing no-probing flag?!?): unable to add destination sip:carrier1 to set 1"},
			err:  ErrBadDestination},
		{name: "bad attrs rejected", list: "1 sip:1.1.1.1 0 0 duid=x;;\n",
			msgs: []string{`t.list:1: cannot set attributes: bad attrs: "duid=x;;" ends in more than one ';': unable to add destination sip:1.1.1.1 to set 1 -- skipping`}},
		{name: "local socket kept", list: "1 sip:1.1.1.1 0 0 socket=udp:10.0.0.254:5060\n", layout: "1:sip:1.1.1.1"},
		{name: "non-local socket", list: "1 sip:1.1.1.1 0 0 socket=udp:192.168.0.125:5060\n",
			msgs: []string{"t.list:1: non-local socket <udp:192.168.0.125:5060>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "socket wrong proto", list: "1 sip:1.1.1.1 0 0 socket=tcp:10.0.0.254:5060\n",
			msgs: []string{"t.list:1: non-local socket <tcp:10.0.0.254:5060>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "bad socket", list: "1 sip:1.1.1.1 0 0 socket=tls:MY_IP:SBC_PORT\n",
			msgs: []string{"t.list:1: bad socket <tls:MY_IP:SBC_PORT>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "sockname case-insensitive", list: "1 sip:1.1.1.1 0 0 sockname=ALT\n", layout: "1:sip:1.1.1.1"},
		{name: "sockname unknown", list: "1 sip:1.1.1.1 0 0 sockname=nope\n",
			msgs: []string{"t.list:1: non-local socket name <nope>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "sockname wins over socket", list: "1 sip:1.1.1.1 0 0 socket=udp:9.9.9.9:1;sockname=alt\n", layout: "1:sip:1.1.1.1"},
		{name: "listen without proto matches any", list: "1 sip:1.1.1.1 0 0 socket=tcp:10.0.0.9:5060\n", layout: "1:sip:1.1.1.1",
			opts: func(o *Options) { o.Listen = append(o.Listen, ListenSocket{Host: "10.0.0.9"}) }},
		{name: "empty port loads", list: "1 sip:127.0.0.1:\n", layout: "1:sip:127.0.0.1:"},
		{name: "two at signs", list: "1 sip:a@b@127.0.0.1\n",
			msgs: []string{"t.list:1: bad uri [sip:a@b@127.0.0.1]: unable to add destination sip:a@b@127.0.0.1 to set 1 -- skipping"}},
		{name: "port above 65535", list: "1 sip:127.0.0.1:99999\n",
			msgs: []string{"t.list:1: bad uri [sip:127.0.0.1:99999]: unable to add destination sip:127.0.0.1:99999 to set 1 -- skipping"}},
		{name: "tel and urn with flag 16", list: "3 tel:+123 16\n3 urn:x 16\n", layout: "3:urn:x,tel:+123"},
		{name: "socket without port matches any port", list: "1 sip:1.1.1.1 0 0 socket=tcp:10.0.0.254\n", layout: "1:sip:1.1.1.1"},
		{name: "socket without proto", list: "1 sip:1.1.1.1 0 0 socket=10.0.0.254:5080\n", layout: "1:sip:1.1.1.1"},
		{name: "socket proto not enabled", list: "1 sip:1.1.1.1 0 0 socket=sctp:10.0.0.254:5060\n",
			msgs: []string{"t.list:1: bad socket <sctp:10.0.0.254:5060>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "socket host name not resolved", list: "1 sip:1.1.1.1 0 0 socket=udp:localhost:5060\n",
			msgs: []string{"t.list:1: non-local socket <udp:localhost:5060>: unable to add destination sip:1.1.1.1 to set 1 -- skipping"}},
		{name: "duplicates kept", list: "1 sip:1.1.1.1\n1 sip:1.1.1.1\n", layout: "1:sip:1.1.1.1,sip:1.1.1.1"},
		{name: "empty list", list: "# nothing\n", layout: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Listen = listen
			if tt.opts != nil {
				tt.opts(&o)
			}
			s, msgs, err := load(t, tt.list, o)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrLoad) || s != nil {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got := layout(s); got != tt.layout {
				t.Errorf("layout %q, want %q", got, tt.layout)
			}
			if !reflect.DeepEqual(msgs, tt.msgs) {
				t.Errorf("messages:\n got %q\nwant %q", msgs, tt.msgs)
			}
		})
	}
}

// TestBuildFields checks the stored fields of a destination.
func TestBuildFields(t *testing.T) {
	o := DefaultOptions()
	o.Resolver = mapResolver{"gw.example": "192.0.2.7"}
	o.Listen = []ListenSocket{{Proto: "tcp", Host: "10.0.0.254", Port: 5080, Name: "alt"}}
	s, _, err := load(t, "3 gw.example:5070;transport=TCP 9 4 duid=d1;sockname=Alt;latency=50\n3 sip:10.1.1.1\n", o)
	if err != nil {
		t.Fatal(err)
	}
	set, ok := s.Set(3)
	if !ok || set.Len() != 2 {
		t.Fatal("set 3 missing")
	}
	d := set.At(0)
	want(t, d.URI, "sip:gw.example:5070;transport=TCP")
	want(t, d.Written, "gw.example:5070;transport=TCP")
	want(t, d.Host, "gw.example")
	want(t, d.Port, 5070)
	want(t, d.Proto, ProtoTCP)
	want(t, d.IPAddr, netip.MustParseAddr("192.0.2.7"))
	want(t, d.Flags, 9)
	want(t, FlagsString(d.State().Flags()), "IP")
	want(t, d.Priority, 4)
	want(t, d.Attrs.DUID, "d1")
	want(t, d.Socket.Name, "alt")
	want(t, d.State().Latency(), Latency{Avg: 50, Est: 50, Min: 50, Max: 50, Count: 10000})
	want(t, d.Line, 1)
	d2 := set.At(1)
	want(t, d2.Attrs.Present, false)
	want(t, d2.IPAddr, netip.MustParseAddr("10.1.1.1"))
	want(t, s.Destinations(), 2)
}

// TestAttrsNone checks ds_attrs_none (§1.1): only destinations without attrs
// get "none=yes".
func TestAttrsNone(t *testing.T) {
	o := DefaultOptions()
	o.AttrsNone = true
	s, _, err := load(t, "1 sip:1.1.1.1\n1 sip:2.2.2.2 0 1 duid=x\n", o)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := s.Set(1)
	want(t, set.At(0).Attrs.Body, "duid=x")
	want(t, set.At(1).Attrs.Body, "none=yes")
	want(t, set.At(1).Attrs.Present, true)
}

// TestFlagsString checks the FLAGS letters of spec §4.2.
func TestFlagsString(t *testing.T) {
	for flags, w := range map[int]string{0: "AX", 1: "IX", 2: "TX", 4: "DX", 8: "AP", 5: "IX", 6: "DX", 9: "IP", -1: "IP", 16: "AX", 32: "AX", 10: "TP", 12: "DP"} {
		want(t, FlagsString(flags), w)
	}
}

// TestSetOrderAVL compares the set order with a reference AVL post-order
// for insertion sequences, including negative ids from the DB (§2.6).
func TestSetOrderAVL(t *testing.T) {
	tests := []struct {
		name string
		ids  []int
		want []int
	}{
		{"one two", []int{1, 2}, []int{2, 1}},
		{"one two three", []int{1, 2, 3}, []int{1, 3, 2}},
		{"two one", []int{2, 1}, []int{1, 2}},
		{"negative left", []int{1, 2, -3}, []int{-3, 2, 1}},
		{"double rotation", []int{10, 5, 7}, []int{5, 10, 7}},
		{"seven ascending", []int{1, 2, 3, 4, 5, 6, 7}, []int{1, 3, 2, 5, 7, 6, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var entries []Entry
			for _, id := range tt.ids {
				entries = append(entries, Entry{SetID: id, URI: "sip:1.1.1.1"})
			}
			s, _, err := Build(entries, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for set := range s.All() {
				got = append(got, set.ID())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOptionsFrom checks the modparams mapping.
func TestOptionsFrom(t *testing.T) {
	o := OptionsFrom(kamcfg.Dispatcher{DSLoadMode: 1, DSAttrsNone: 1, DSDNSMode: 5}, []ListenSocket{{Host: "1.2.3.4"}}, true)
	want(t, o.LoadMode, 1)
	want(t, o.AttrsNone, true)
	want(t, o.DNSMode, 5)
	want(t, o.TryIPv6, true)
	want(t, len(o.Listen), 1)
}
