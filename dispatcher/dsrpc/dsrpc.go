// Package dsrpc answers the RPC methods of Kamailio 5.6.3's dispatcher
// module (shared/spec/dispatcher.md §6) on top of package dispatcher: it
// scans parameters, calls the dispatcher's Go methods and writes replies
// and faults exactly as 5.6.3 does, through the transport-neutral rpc core.
package dsrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// Method names, exactly as 5.6.3 registers them (spec §6); 6.0's
// dispatcher.oclist is MethodOCList.
const (
	MethodList         = "dispatcher.list"
	MethodReload       = "dispatcher.reload"
	MethodSetState     = "dispatcher.set_state"
	MethodSetDUIDState = "dispatcher.set_duid_state"
	MethodPingActive   = "dispatcher.ping_active"
	MethodAdd          = "dispatcher.add"
	MethodRemove       = "dispatcher.remove"
	MethodHash         = "dispatcher.hash"
)

// Help texts of system.methodHelp, verbatim including 5.6.3's typo
// (spec §6.11).
const (
	HelpList         = "Return the content of dispatcher sets"
	HelpReload       = "Reload dispatcher destination sets"
	HelpSetState     = "Set the state of a destination by address"
	HelpSetDUIDState = "Set the state of a destination by duid"
	HelpPingActive   = "Manage setting on/off the pinging (keepalive) of destinations"
	HelpAdd          = "Add a destination address in memory"
	HelpRemove       = "Remove a destination address from memory"
	HelpHash         = "Compute the hash if the values"
)

// Fault messages, all with code 500 (spec §6.12).
const (
	FaultNoSets         = "No Destination Sets"
	FaultInvalidParams  = "Invalid Parameters"
	FaultInvalidState   = "Invalid State Parameter"
	FaultUnknownState   = "Unknown State Value"
	FaultUpdateFailed   = "State Update Failed"
	FaultOngoingReload  = "Ongoing reload"
	FaultReloadFailed   = "Reload Failed"
	FaultAddFailed      = "Adding dispatcher dst failed"
	FaultRemoveFailed   = "Removing dispatcher dst failed"
	faultCode           = 500
	replyStateUpdated   = "Ok. Dispatcher state updated."
	replyReloaded       = "Ok. Dispatcher successfully reloaded."
	replyAdded          = "Ok. Dispatcher destination added."
	replyRemoved        = "Ok. Dispatcher destination removed."
	listModeShort       = "short"
	listModeFull        = "full"
	allDestinationsAddr = "all"
)

// ErrOngoingReload is returned by Reload when the previous reload, add or
// remove was accepted less than reload_delta seconds ago (spec §6.2).
var ErrOngoingReload = errors.New("dispatcher: ongoing reload")

// ErrNoSource is returned by Reload without a Source to reload from.
var ErrNoSource = errors.New("dispatcher: no source to reload from")

// Dispatcher holds what the handlers need (spec §1, §6) and their state:
// the rate limit's timestamp (§6.2) and dispatcher.ping_active when there
// is no Prober (§6.8). Fill the exported fields and do not copy it after
// first use; the zero value of every optional field is usable.
type Dispatcher struct {
	// Store holds the current sets; required.
	Store *dispatcher.Store
	// Prober probes the destinations; nil when probing is off. Handlers
	// call its Resync after a reload, add or remove and keep
	// dispatcher.ping_active in it (spec §6.8).
	Prober *dispatcher.Prober
	// Source is the list file or database dispatcher.reload reads (§6.5).
	Source dispatcher.Source
	// ReloadDelta is reload_delta (whole seconds count, as Kamailio
	// compares time(NULL) values); 0 disables the rate limit shared by
	// reload, add and remove (spec §6.2).
	ReloadDelta time.Duration
	// LatencyStats is ds_ping_latency_stats: dispatcher.list shows
	// LATENCY (spec §5.1, §6.3).
	LatencyStats bool
	// HashSize is ds_hash_size: dispatcher.list shows RUNTIME when > 0
	// (spec §6.3).
	HashSize int
	// Options are the add path's settings for dispatcher.add and
	// dispatcher.remove (spec §2.2, §6.6, §6.7).
	Options dispatcher.Options
	// Now is the clock of the rate limit; nil is time.Now.
	Now func() time.Time
	// Logger receives the problems of reloads, adds and removes; nil is
	// slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex // guards last, hasLast, ping and pingSet
	last    int64      // Unix seconds of the last accepted reload/add/remove
	hasLast bool
	ping    int // dispatcher.ping_active without a Prober
	pingSet bool
}

// Register adds the eight 5.6.3 dispatcher methods to reg, with their
// help texts and without the RET_ARRAY flag (spec §6, §6.11), and 6.0's
// dispatcher.oclist, which has it (spec §6.10).
func Register(reg *rpc.Registry, d *Dispatcher) error {
	if reg == nil || d == nil || d.Store == nil {
		return errors.New("dsrpc: nil registry, dispatcher or store")
	}
	return reg.Register(
		rpc.Method{Name: MethodReload, Help: HelpReload, Handler: d.reload},
		// What list shows changes only with dispatcher.Generation: its
		// replies may be reused until it moves (rpc.Method.Version).
		rpc.Method{Name: MethodList, Help: HelpList, Handler: d.list, Version: dispatcher.Generation},
		rpc.Method{Name: MethodSetState, Help: HelpSetState, Handler: d.setState},
		rpc.Method{Name: MethodSetDUIDState, Help: HelpSetDUIDState, Handler: d.setDUIDState},
		rpc.Method{Name: MethodPingActive, Help: HelpPingActive, Handler: d.pingActiveRPC},
		rpc.Method{Name: MethodAdd, Help: HelpAdd, Handler: d.add},
		rpc.Method{Name: MethodRemove, Help: HelpRemove, Handler: d.remove},
		rpc.Method{Name: MethodHash, Help: HelpHash, Handler: d.hash},
		rpc.Method{Name: MethodOCList, Help: HelpOCList, Flags: rpc.RetArray, Handler: d.oclist},
	)
}

// allow is the rate limit shared by reload, add and remove (spec §6.2): a
// call is refused while the previous accepted one is less than
// ReloadDelta seconds old (last > now - delta); an accepted call stores
// now before its parameters are checked.
func (d *Dispatcher) allow() bool {
	nowf := d.Now
	if nowf == nil {
		nowf = time.Now
	}
	now := nowf().Unix()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hasLast && d.last > now-int64(d.ReloadDelta/time.Second) {
		return false
	}
	d.last, d.hasLast = now, true
	return true
}

func (d *Dispatcher) resync() {
	if d.Prober != nil {
		d.Prober.Resync()
	}
}

func (d *Dispatcher) logProblems(what string, probs []dispatcher.Problem) {
	for _, p := range probs {
		lvl := slog.LevelWarn
		if p.Severity == dispatcher.Fatal {
			lvl = slog.LevelError
		}
		log := d.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Log(context.Background(), lvl, "dispatcher "+what, "problem", p.String())
	}
}

// Reload is dispatcher.reload for the daemon's SIGHUP (spec §6.5, §2.8):
// it shares the rate limit of the RPC (ErrOngoingReload), loads the Source
// aside and swaps it in on success, then resyncs the Prober. A failed load
// keeps the current sets and returns why.
func (d *Dispatcher) Reload(ctx context.Context) error {
	if !d.allow() {
		return ErrOngoingReload
	}
	_, err := d.doReload(ctx)
	return err
}

// doReload loads and swaps; quirk reports the 5.6.3 DB reload quirk (§2.8):
// rows were skipped, the new list is active, and the RPC answers
// "Reload Failed" anyway.
func (d *Dispatcher) doReload(ctx context.Context) (quirk bool, err error) {
	if d.Source == nil {
		return false, ErrNoSource
	}
	_, probs, err := d.Store.ReloadFrom(ctx, d.Source)
	d.logProblems("reload", probs)
	if err != nil {
		return false, err
	}
	d.resync()
	if _, ok := d.Source.(*dispatcher.DBSource); ok {
		for _, p := range probs {
			if errors.Is(p.Err, dispatcher.ErrBadDestination) {
				return true, nil
			}
		}
	}
	return false, nil
}

// reload is dispatcher.reload (spec §6.5): rate limit, then reload.
func (d *Dispatcher) reload(c *rpc.Call) {
	if !d.allow() {
		c.Fault(faultCode, FaultOngoingReload)
		return
	}
	quirk, err := d.doReload(c.Context())
	if err != nil || quirk {
		c.Fault(faultCode, FaultReloadFailed)
		return
	}
	c.Add(rpc.String(replyReloaded))
}

// list is dispatcher.list [mode] (spec §6.3).
func (d *Dispatcher) list(c *rpc.Call) {
	var mode string
	short, full := false, false
	if c.Scan("*S", &mode) == 1 {
		short = strings.EqualFold(mode, listModeShort)
		full = strings.EqualFold(mode, listModeFull)
	}
	sets := d.Store.Sets()
	if sets.Len() == 0 {
		c.Fault(faultCode, FaultNoSets)
		return
	}
	// Size the reply up front: two allocations (recycled by the
	// transport) instead of a few per destination.
	perDest, contPerDest := 3, 1 // URI FLAGS PRIORITY in DEST
	if full {
		perDest += 6
	}
	if !short {
		perDest += 1 + 8 // ATTRS and its members, when present
		contPerDest++
	}
	if d.LatencyStats {
		perDest += 1 + 5
		contPerDest++
	}
	if d.HashSize > 0 {
		perDest += 1 + 1
		contPerDest++
	}
	nsets, ndst := sets.Len(), sets.Destinations()
	c.Reserve(2+2*nsets+contPerDest*ndst, 2+3*nsets+(1+perDest)*ndst)
	top := c.Struct()
	top.Grow(2)
	top.Add("NRSETS", rpc.Int(nsets))
	recs := top.Array("RECORDS")
	recs.Grow(nsets)
	for set := range sets.All() {
		s := recs.Struct("SET")
		s.Grow(2)
		s.Add("ID", rpc.Int(set.ID()))
		targets := s.Array("TARGETS")
		targets.Grow(set.Len())
		for _, dst := range set.All() {
			d.dest(targets.Struct("DEST"), dst, short, full)
		}
	}
}

// flagsStrings are dispatcher.FlagsString's results, indexed by
// flagsIndex, so that dispatcher.list allocates no string per destination.
var flagsStrings = func() (t [8]string) {
	for i, f := range [8]int{0, dispatcher.FlagProbing,
		dispatcher.FlagInactive, dispatcher.FlagInactive | dispatcher.FlagProbing,
		dispatcher.FlagDisabled, dispatcher.FlagDisabled | dispatcher.FlagProbing,
		dispatcher.FlagTrying, dispatcher.FlagTrying | dispatcher.FlagProbing} {
		t[i] = dispatcher.FlagsString(f)
	}
	return t
}()

// flagsString is dispatcher.FlagsString(flags) without an allocation.
func flagsString(flags int) string {
	i := 0
	switch {
	case flags&dispatcher.FlagInactive != 0:
		i = 2
	case flags&dispatcher.FlagDisabled != 0:
		i = 4
	case flags&dispatcher.FlagTrying != 0:
		i = 6
	}
	if flags&dispatcher.FlagProbing != 0 {
		i++
	}
	return flagsStrings[i]
}

// dest writes one DEST struct of dispatcher.list (spec §6.3).
func (d *Dispatcher) dest(v *rpc.Container, dst *dispatcher.Destination, short, full bool) {
	st := dst.State()
	n := 3
	if full {
		n += 6
	}
	if !short && dst.Attrs.Present {
		n++
	}
	if d.LatencyStats {
		n++
	}
	if d.HashSize > 0 {
		n++
	}
	v.Grow(n)
	v.Add("URI", rpc.String(dst.URI))
	v.Add("FLAGS", rpc.String(flagsString(st.Flags())))
	v.Add("PRIORITY", rpc.Int(dst.Priority))
	if full {
		v.Add("HOST", rpc.String(dst.Host))
		v.Add("IPADDR", rpc.String(IPAddrString(dst.IPAddr)))
		v.Add("PORT", rpc.Int(dst.Port))
		v.Add("PROTOID", rpc.Int(dst.Proto))
		// No timer-driven DNS refresh (ds_dns_mode 4): always 0.
		v.Add("DNSTIME_SEC", rpc.Long(0))
		v.Add("DNSTIME_USEC", rpc.Long(0))
	}
	if !short && dst.Attrs.Present {
		a := &dst.Attrs
		attrs := v.Struct("ATTRS")
		attrs.Grow(8)
		attrs.Add("BODY", rpc.String(a.Body))
		attrs.Add("DUID", strAttr(a, "duid", a.DUID))
		attrs.Add("MAXLOAD", rpc.Int(a.MaxLoad))
		attrs.Add("WEIGHT", rpc.Int(a.Weight))
		attrs.Add("RWEIGHT", rpc.Int(a.RWeight))
		attrs.Add("SOCKET", strAttr(a, "socket", a.Socket))
		attrs.Add("SOCKNAME", strAttr(a, "sockname", a.Sockname))
		attrs.Add("OBPROXY", strAttr(a, "obproxy", a.OBProxy))
	}
	if d.LatencyStats {
		l := st.Latency()
		lat := v.Struct("LATENCY")
		lat.Grow(5)
		lat.Add("AVG", rpc.Double(float64(l.Avg)))
		lat.Add("STD", rpc.Double(float64(l.Std)))
		lat.Add("EST", rpc.Double(float64(l.Est)))
		lat.Add("MAX", rpc.Int(l.Max))
		lat.Add("TIMEOUT", rpc.Int(int(l.Timeout)))
	}
	if d.HashSize > 0 {
		// kamsidecar routes no calls: the call-load counter stays 0.
		rt := v.Struct("RUNTIME")
		rt.Grow(1)
		rt.Add("DLGLOAD", rpc.Int(0))
	}
}

// strAttr is a string attr as 5.6.3 prints it: null when never given
// (spec §6.3), else its value, even empty.
func strAttr(a *dispatcher.Attrs, name, val string) rpc.Value {
	if !a.Has(name) {
		return rpc.Null()
	}
	return rpc.String(val)
}

// IPAddrString prints an address as Kamailio's ip_addr2a does for IPADDR
// (spec §6.3): dotted IPv4; IPv6 as eight lower-case hex groups without
// leading zeros and without "::" compression; "" when unresolved.
func IPAddrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	return sb.String()
}

// setState is dispatcher.set_state state group address (spec §6.4).
func (d *Dispatcher) setState(c *rpc.Call) { d.setStateBy(c, false) }

// setDUIDState is dispatcher.set_duid_state state group duid (spec §6.4).
func (d *Dispatcher) setDUIDState(c *rpc.Call) { d.setStateBy(c, true) }

func (d *Dispatcher) setStateBy(c *rpc.Call, byDUID bool) {
	var state, addr string
	var group int
	if c.Scan(".SdS", &state, &group, &addr) < 3 {
		c.Fault(faultCode, FaultInvalidParams)
		return
	}
	bits, err := dispatcher.ParseAdminState(state)
	switch {
	case errors.Is(err, dispatcher.ErrEmptyState):
		c.Fault(faultCode, FaultInvalidState)
		return
	case err != nil:
		c.Fault(faultCode, FaultUnknownState)
		return
	}
	sets := d.Store.Sets()
	switch {
	case addr == allDestinationsAddr:
		sets.SetStateAll(group, bits)
	case byDUID:
		if !sets.SetStateByDUID(group, addr, bits) {
			c.Fault(faultCode, FaultUpdateFailed)
			return
		}
	default:
		if !sets.SetStateByURI(group, addr, bits) {
			c.Fault(faultCode, FaultUpdateFailed)
			return
		}
	}
	c.Add(rpc.String(replyStateUpdated))
}

// PingActive returns dispatcher.ping_active (spec §6.8): the Prober's,
// or the handlers' own value when probing is off.
func (d *Dispatcher) PingActive() int {
	if d.Prober != nil {
		return d.Prober.PingActive()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pingSet {
		return 1
	}
	return d.ping
}

func (d *Dispatcher) setPingActive(v int) int {
	if d.Prober != nil {
		return d.Prober.SetPingActive(v)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := 1
	if d.pingSet {
		old = d.ping
	}
	d.ping, d.pingSet = v, true
	return old
}

// pingActiveRPC is dispatcher.ping_active [state] (spec §6.8).
func (d *Dispatcher) pingActiveRPC(c *rpc.Call) {
	state := -1
	if c.Scan("*d", &state) != 1 {
		state = -1
	}
	if state == -1 {
		c.Struct().Add("OldPingState", rpc.Int(d.PingActive()))
		return
	}
	old := d.setPingActive(state)
	c.Struct().Add("NewPingState", rpc.Int(state)).Add("OldPingState", rpc.Int(old))
}

// add is dispatcher.add group address [flags [priority [attrs]]]
// (spec §6.6).
func (d *Dispatcher) add(c *rpc.Call) {
	if !d.allow() {
		c.Fault(faultCode, FaultOngoingReload)
		return
	}
	var group, flags, priority int
	var addr, attrs string
	n := c.Scan("dS*ddS", &group, &addr, &flags, &priority, &attrs)
	if n < 2 {
		c.Fault(faultCode, FaultInvalidParams)
		return
	}
	if n < 4 {
		priority = 0
	}
	if n < 3 {
		flags = 0
	}
	e := dispatcher.Entry{Source: MethodAdd, SetID: group, URI: addr, Flags: flags, Priority: priority}
	if n >= 5 {
		e.Attrs, e.HasAttrs = attrs, true
	}
	opts := d.Options
	opts.Context = c.Context()
	err := d.Store.Update(func(cur *dispatcher.Sets) (*dispatcher.Sets, error) {
		next, probs, err := cur.Add(e, opts)
		d.logProblems("add", probs)
		return next, err
	})
	if err != nil {
		c.Fault(faultCode, FaultAddFailed)
		return
	}
	d.resync()
	c.Add(rpc.String(replyAdded))
}

// remove is dispatcher.remove group address (spec §6.7).
func (d *Dispatcher) remove(c *rpc.Call) {
	if !d.allow() {
		c.Fault(faultCode, FaultOngoingReload)
		return
	}
	var group int
	var addr string
	if c.Scan("dS", &group, &addr) < 2 {
		c.Fault(faultCode, FaultInvalidParams)
		return
	}
	opts := d.Options
	opts.Context = c.Context()
	err := d.Store.Update(func(cur *dispatcher.Sets) (*dispatcher.Sets, error) {
		next, _, err := cur.Remove(group, addr, opts)
		if err != nil {
			d.logProblems("remove", []dispatcher.Problem{{Source: MethodRemove, Severity: dispatcher.Warning,
				Msg: fmt.Sprintf("cannot remove %s from set %d: %v", addr, group, err), Err: err}})
		}
		return next, err
	})
	if err != nil {
		c.Fault(faultCode, FaultRemoveFailed)
		return
	}
	d.resync()
	c.Add(rpc.String(replyRemoved))
}

// hash is dispatcher.hash nslots val1 [val2] (spec §6.9, §7.2).
func (d *Dispatcher) hash(c *rpc.Call) {
	var nslots int
	var v1, v2 string
	n := c.Scan("dS*S", &nslots, &v1, &v2)
	if n < 2 {
		c.Fault(faultCode, FaultInvalidParams)
		return
	}
	var h uint32
	if n >= 3 {
		h = dispatcher.Hash(v1, v2)
	} else {
		h = dispatcher.Hash(v1)
	}
	var slot uint32
	if nslots > 0 {
		slot = h % uint32(nslots)
	}
	c.Struct().Add("hashid", rpc.Uint(h)).Add("slot", rpc.Uint(slot))
}
