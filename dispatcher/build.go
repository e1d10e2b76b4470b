package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ErrBadDestination marks a destination that cannot be added (bad URI, bad
// attrs, bad or non-local socket, unresolvable host): skipped with
// ds_load_mode 0, fatal with 1 (spec §2.2 step 7).
var ErrBadDestination = errors.New("bad destination")

// ErrLoad is returned by Build when the whole load is refused; the caller
// keeps its old snapshot (spec §2.8).
var ErrLoad = errors.New("load refused")

// Resolver resolves a destination host at load (ds_dns_mode bit 1 or 4,
// spec §2.2 step 6). Tests inject one; NoDNS fails for every name.
type Resolver interface {
	// Resolve returns the first address of host (a name, never a literal).
	Resolve(ctx context.Context, host string) (netip.Addr, error)
}

// NoDNS is a Resolver without DNS: every name fails, as on the machine the
// corpus ground truth was taken on.
type NoDNS struct{}

// Resolve always fails.
func (NoDNS) Resolve(_ context.Context, host string) (netip.Addr, error) {
	return netip.Addr{}, fmt.Errorf("no dns for %q", host)
}

// SystemResolver resolves with the Go resolver (A/AAAA, first address).
type SystemResolver struct{}

// Resolve looks host up with net.DefaultResolver.
func (SystemResolver) Resolve(ctx context.Context, host string) (netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("no address for %q", host)
	}
	return addrs[0].Unmap(), nil
}

// Options are the settings the add path needs, as plain values (kamcfg's
// Dispatcher carries them as modparams, spec §1.1, §1.2).
type Options struct {
	// LoadMode is ds_load_mode: 0 skips a bad destination, 1 refuses the load.
	LoadMode int
	// AttrsNone is ds_attrs_none: a destination without attrs gets "none=yes".
	AttrsNone bool
	// DNSMode is ds_dns_mode; bit 1 or 4 resolves hosts at load. Kamailio's
	// default is 1.
	DNSMode int
	// TryIPv6 is core dns_try_ipv6: when false, IPv6 literal hosts are
	// dropped (Kamailio turns it off without an IPv6 listen socket, §2.2 step 3).
	TryIPv6 bool
	// Listen are the cfg's listen sockets that socket= and sockname= may name.
	Listen []ListenSocket
	// Resolver resolves host names; nil means NoDNS (no lookups at all).
	Resolver Resolver
	// Context bounds the DNS lookups; nil means context.Background().
	Context context.Context
}

// DefaultOptions are Kamailio 5.6.3's defaults: ds_load_mode 0,
// ds_attrs_none 0, ds_dns_mode 1, IPv4 only, no listen sockets.
func DefaultOptions() Options { return Options{DNSMode: 1} }

// maxHost is the longest host Kamailio accepts (§2.2 step 2).
const maxHost = 254

// newDestination checks an entry and turns it into a destination, or says
// why Kamailio rejects it; the message is pack_dest()'s (spec §2.2).
func newDestination(e Entry, o *Options) (*Destination, string) {
	uri, u, ok := fixURI(e.URI)
	if !ok {
		return nil, fmt.Sprintf("bad uri [%s]", e.URI)
	}
	if len(u.host) > maxHost {
		return nil, fmt.Sprintf("hostname in uri is too long [%s]", u.host)
	}
	if strings.HasPrefix(u.host, "[") && !o.TryIPv6 {
		return nil, fmt.Sprintf("skipping IPv6 record %s", u.host)
	}
	d := &Destination{SetID: e.SetID, URI: uri, Written: e.URI, Flags: e.Flags, Priority: e.Priority,
		Host: u.host, Port: u.port, Proto: u.proto, Source: e.Source, Line: e.Line}
	attrs, has := e.Attrs, e.HasAttrs && e.Attrs != ""
	if !has && o.AttrsNone {
		attrs, has = "none=yes", true
	}
	if has {
		a, err := ParseAttrs(attrs)
		if err != nil {
			return nil, fmt.Sprintf("cannot set attributes: %v", err)
		}
		d.Attrs = a
	}
	switch {
	case d.Attrs.Has("sockname"):
		l, ok := findSockname(o.Listen, d.Attrs.Sockname)
		if !ok {
			return nil, fmt.Sprintf("non-local socket name <%s>", d.Attrs.Sockname)
		}
		d.Socket = &l
	case d.Attrs.Has("socket"):
		proto, host, port, ok := parseSocket(d.Attrs.Socket)
		if !ok || !protoEnabled(o.Listen, proto) {
			return nil, fmt.Sprintf("bad socket <%s>", d.Attrs.Socket)
		}
		l, ok := findSocket(o.Listen, proto, host, port)
		if !ok {
			return nil, fmt.Sprintf("non-local socket <%s>", d.Attrs.Socket)
		}
		d.Socket = &l
	}
	if o.DNSMode&(1|4) != 0 && e.Flags&FlagNoDNS == 0 {
		if a, err := netip.ParseAddr(strings.Trim(u.host, "[]")); err == nil {
			d.IPAddr = a
		} else {
			r := o.Resolver
			if r == nil {
				r = NoDNS{}
			}
			ctx := o.Context
			if ctx == nil {
				ctx = context.Background()
			}
			a, err := r.Resolve(ctx, u.host)
			if err != nil {
				return nil, fmt.Sprintf("could not resolve %s (missing no-probing flag?!?)", u.host)
			}
			d.IPAddr = a
		}
	}
	return d, ""
}

// Build checks every entry through Kamailio's add path (spec §2.2) and
// returns the new snapshot in Kamailio's order (§2.5, §2.6). A rejected
// destination is a Warning problem with ds_load_mode 0; with 1 it is Fatal
// and Build returns nil and an error wrapping ErrLoad and ErrBadDestination.
// Every destination gets a fresh State; see Carry for reloads.
func Build(entries []Entry, opts Options) (*Sets, []Problem, error) {
	var probs []Problem
	dests := make([]*Destination, 0, len(entries))
	for _, e := range entries {
		d, ps, ok := checkEntry(e, &opts)
		probs = append(probs, ps...)
		if !ok {
			return nil, probs, fmt.Errorf("%w: %w: %s", ErrLoad, ErrBadDestination, ps[len(ps)-1])
		}
		if d != nil {
			d.state = newState(d)
			dests = append(dests, d)
		}
	}
	return assemble(dests), probs, nil
}

// checkEntry runs the add path for one entry: a nil destination with ok
// true is a skipped one (ds_load_mode 0), ok false refuses the load. The
// problems are Kamailio's log lines for it: the "fixing it" warning of a
// URI without scheme (Err nil), then the rejection.
func checkEntry(e Entry, opts *Options) (*Destination, []Problem, bool) {
	var probs []Problem
	if _, ok := parseURI(e.URI); !ok {
		if _, _, fixed := fixURI(e.URI); fixed {
			probs = append(probs, Problem{Source: e.Source, Line: e.Line, Severity: Warning,
				Msg: "uri without sip scheme - fixing it: " + e.URI})
		}
	}
	d, why := newDestination(e, opts)
	if d != nil {
		return d, probs, true
	}
	p := Problem{Source: e.Source, Line: e.Line, Severity: Warning, Err: ErrBadDestination,
		Msg: fmt.Sprintf("%s: unable to add destination %s to set %d -- skipping", why, e.URI, e.SetID)}
	if opts.LoadMode == 1 {
		p.Severity = Fatal
		p.Msg = fmt.Sprintf("%s: unable to add destination %s to set %d", why, e.URI, e.SetID)
		return nil, append(probs, p), false
	}
	return nil, append(probs, p), true
}

// assemble builds a snapshot from destinations in insertion order: sets go
// into an AVL tree by first appearance and are walked in post-order
// (§2.6); each set's array is sorted by priority descending, later
// insertions first among equals (§2.5).
func assemble(dests []*Destination) *Sets {
	var root *avlNode
	type group struct {
		id    int
		dests []*Destination
	}
	var groups []*group
	index := map[int]int{}
	for _, d := range dests {
		gi, ok := index[d.SetID]
		if !ok {
			gi = len(groups)
			index[d.SetID] = gi
			groups = append(groups, &group{id: d.SetID})
			root = avlInsert(root, d.SetID, gi)
		}
		groups[gi].dests = append(groups[gi].dests, d)
	}
	s := &Sets{byID: make(map[int]*Set, len(groups))}
	for _, gi := range postOrder(root, make([]int, 0, len(groups))) {
		g := groups[gi]
		ds := g.dests
		slices.Reverse(ds)
		// Kamailio's list is ascending by priority with later ties after
		// earlier ones and is copied backwards: descending priority, later
		// insertions first among equals (§2.5).
		slices.SortStableFunc(ds, func(a, b *Destination) int {
			switch {
			case a.Priority > b.Priority:
				return -1
			case a.Priority < b.Priority:
				return 1
			}
			return 0
		})
		set := &Set{id: g.id, dests: ds}
		s.sets = append(s.sets, set)
		s.byID[g.id] = set
		s.n += len(ds)
	}
	return s
}

// flatten lists the destinations as Kamailio's rebuild re-inserts them:
// sets in post-order, each in array order (§2.5, §2.6).
func (s *Sets) flatten(skip func(*Destination) bool) []*Destination {
	out := make([]*Destination, 0, s.Destinations()+1)
	for set := range s.All() {
		for _, d := range set.dests {
			if skip == nil || !skip(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// Add returns a new snapshot with e added the way dispatcher.add does
// (spec §6.6): e goes through the add path (§2.2), then the whole list is
// rebuilt by re-inserting the current destinations in traversal order and
// e last, which flips equal-priority destinations and puts e first among
// its priority. A rejected e with ds_load_mode 0 returns the same
// destinations and a Warning; with 1 an error wrapping ErrBadDestination.
// Existing destinations keep their State (5.6.3 resets probe counters and
// latency; kamsidecar keeps them as on reload).
func (s *Sets) Add(e Entry, opts Options) (*Sets, []Problem, error) {
	d, probs, ok := checkEntry(e, &opts)
	if !ok {
		return nil, probs, fmt.Errorf("%w: %s", ErrBadDestination, probs[len(probs)-1])
	}
	dests := s.flatten(nil)
	if d != nil {
		d.state = newState(d)
		dests = append(dests, d)
	}
	return assemble(dests), probs, nil
}

// Remove returns a new snapshot without every destination of set setid
// whose stored URI equals uri after the add path's normalisation and DNS
// check (spec §6.7: a missing "sip:" is added; an unresolvable host is an
// error wrapping ErrBadDestination). Nothing matched is not an error; a set
// left empty disappears. The rest is rebuilt as by Add.
func (s *Sets) Remove(setid int, uri string, opts Options) (*Sets, int, error) {
	opts.LoadMode = 1
	d, probs, ok := checkEntry(Entry{Source: "dispatcher.remove", SetID: setid, URI: uri}, &opts)
	if !ok || d == nil {
		return nil, 0, fmt.Errorf("%w: %s", ErrBadDestination, probs[len(probs)-1])
	}
	n := 0
	dests := s.flatten(func(x *Destination) bool {
		if x.SetID == setid && x.URI == d.URI {
			n++
			return true
		}
		return false
	})
	return assemble(dests), n, nil
}

// Load reads a list file and builds its snapshot: ReadList then Build. A
// bad line or a read error refuses the load whatever ds_load_mode says
// (§2.8); the error wraps ErrLoad and the cause.
func Load(name string, r io.Reader, opts Options) (*Sets, []Problem, error) {
	entries, probs := ReadList(name, r)
	for _, p := range probs {
		if p.Severity == Fatal {
			return nil, probs, fmt.Errorf("%w: %w", ErrLoad, p)
		}
	}
	s, more, err := Build(entries, opts)
	return s, append(probs, more...), err
}
