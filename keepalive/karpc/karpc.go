// Package karpc answers the RPC methods of Kamailio 5.6.3's keepalive
// module (shared/spec/keepalive.md §9) on top of keepalive.Module, through
// the transport-neutral rpc core, plus kamsidecar's own keepalive.is_alive.
package karpc

import (
	"errors"
	"strings"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// Method names (spec §9); MethodIsAlive is kamsidecar's own.
const (
	MethodList    = "keepalive.list"
	MethodAdd     = "keepalive.add"
	MethodDel     = "keepalive.del"
	MethodGet     = "keepalive.get"
	MethodFlush   = "keepalive.flush"
	MethodIsAlive = "keepalive.is_alive"
)

// Help texts of system.methodHelp, verbatim (spec §9 "Help strings");
// HelpIsAlive documents kamsidecar's own method.
const (
	HelpList    = "Return the content of keepalive destination groups"
	HelpAdd     = "add new destination to keepalive memory. Usage: keepalive.add sip:user@domain listname"
	HelpDel     = "delete destination from keepalive memory. Usage: keepalive.del sip:user@domain listname"
	HelpGet     = "get destination details from keepalive memory. Usage: keepalive.get sip:user@domain listname"
	HelpFlush   = "Flush data from keepalive memory. Usage: keepalive.flush"
	HelpIsAlive = "kamsidecar: ka_is_alive() of a destination, with or without sip: (owner ignored). " +
		"Returns 1 up or not yet known, 2 down, -1 not found. Usage: keepalive.is_alive sip:host[:port]"
)

// Fault messages, all with code 500 (spec §9 "Common faults").
const (
	FaultParams   = "Not enough parameters or wrong format"
	FaultEmpty    = "parameter is len less than 1"
	FaultAdd      = "couldn't add data to list"
	FaultDel      = "couldn't delete data from list"
	FaultGet      = "couldn't get data from list"
	faultCode     = 500
	replyAdded    = "Ok. Destination added."
	replyRemoved  = "Ok. Destination removed."
	replyFlushed  = "Ok. Destination list flushed."
	ctimeLayout   = "Mon Jan _2 15:04:05 2006\n"
	keyLastCheck  = "last checked"
	keyLastUp     = "last up"
	keyLastDown   = "last down"
	keyURI        = "uri"
	keyOwner      = "owner"
	keyState      = "state"
	scanTwoString = "SS"
)

// Register adds keepalive.list, add, del, get, flush (spec §9, none with
// RET_ARRAY) and keepalive.is_alive for m to reg.
func Register(reg *rpc.Registry, m *keepalive.Module) error {
	if reg == nil || m == nil {
		return errors.New("karpc: nil registry or module")
	}
	h := handlers{m: m}
	return reg.Register(
		rpc.Method{Name: MethodList, Help: HelpList, Handler: h.list},
		rpc.Method{Name: MethodAdd, Help: HelpAdd, Handler: h.add},
		rpc.Method{Name: MethodDel, Help: HelpDel, Handler: h.del},
		rpc.Method{Name: MethodGet, Help: HelpGet, Handler: h.get},
		rpc.Method{Name: MethodFlush, Help: HelpFlush, Handler: h.flush},
		rpc.Method{Name: MethodIsAlive, Help: HelpIsAlive, Handler: h.isAlive},
	)
}

type handlers struct{ m *keepalive.Module }

// Ctime renders t as C's ctime() does in the process' local time zone
// (time.Local), trailing newline included; the zero time is the Unix
// epoch, as a never-set time_t (spec §9 keepalive.list).
func Ctime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.In(time.Local).Format(ctimeLayout)
}

// list is keepalive.list (spec §9): one top-level struct per destination,
// newest first. Without RET_ARRAY, JSON-RPC keeps only the last (oldest)
// one, as 5.6.3 does. kamsidecar fills `last up` and `last down` the right
// way round (5.6.3 swaps them, keepalive.md §12).
func (h handlers) list(c *rpc.Call) {
	for _, d := range h.m.List() {
		s := c.Struct()
		s.Add(keyURI, rpc.String(d.URI))
		s.Add(keyOwner, rpc.String(d.Owner))
		s.Add(keyLastCheck, rpc.String(Ctime(d.LastChecked)))
		s.Add(keyLastUp, rpc.String(Ctime(d.LastUp)))
		s.Add(keyLastDown, rpc.String(Ctime(d.LastDown)))
		s.Add(keyState, rpc.Int(int(d.State)))
	}
}

// args scans the two strings of add, del and get (spec §9): no
// auto-conversion, both non-empty.
func args(c *rpc.Call) (uri, owner string, ok bool) {
	if c.Scan(scanTwoString, &uri, &owner) < 2 {
		c.Fault(faultCode, FaultParams)
		return "", "", false
	}
	if uri == "" || owner == "" {
		c.Fault(faultCode, FaultEmpty)
		return "", "", false
	}
	return uri, owner, true
}

// add is keepalive.add sip_uri owner (spec §9): a bad URI or an existing
// (uri, owner) is a fault.
func (h handlers) add(c *rpc.Call) {
	uri, owner, ok := args(c)
	if !ok {
		return
	}
	if err := h.m.AddDestination(uri, owner); err != nil {
		c.Fault(faultCode, FaultAdd)
		return
	}
	c.Add(rpc.String(replyAdded))
}

// del is keepalive.del sip_uri owner (spec §9).
func (h handlers) del(c *rpc.Call) {
	uri, owner, ok := args(c)
	if !ok {
		return
	}
	if err := h.m.DelDestination(uri, owner); err != nil {
		c.Fault(faultCode, FaultDel)
		return
	}
	c.Add(rpc.String(replyRemoved))
}

// get is keepalive.get sip_uri owner (spec §9): {uri, owner, state}.
func (h handlers) get(c *rpc.Call) {
	uri, owner, ok := args(c)
	if !ok {
		return
	}
	d, err := h.m.Get(uri, owner)
	if err != nil {
		c.Fault(faultCode, FaultGet)
		return
	}
	c.Struct().Add(keyURI, rpc.String(d.URI)).Add(keyOwner, rpc.String(d.Owner)).Add(keyState, rpc.Int(int(d.State)))
}

// flush is keepalive.flush (spec §9).
func (h handlers) flush(c *rpc.Call) {
	h.m.Flush()
	c.Add(rpc.String(replyFlushed))
}

// isAlive is kamsidecar's keepalive.is_alive destination: ka_is_alive()
// (spec §8) as an int: 1 up or unknown, 2 down, -1 not found.
func (h handlers) isAlive(c *rpc.Call) {
	var dest string
	if c.Scan("S", &dest) < 1 {
		c.Fault(faultCode, FaultParams)
		return
	}
	st := h.m.IsAlive(dest)
	if st == -1 && len(dest) > 4 && strings.EqualFold(dest[:4], "sip:") {
		// ka_is_alive takes the destination without its scheme; operators
		// ask with the URI as they wrote it in the modparam.
		st = h.m.IsAlive(dest[4:])
	}
	c.Add(rpc.Int(st))
}
