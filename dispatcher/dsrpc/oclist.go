package dsrpc

import "github.com/kamsidecar/kamsidecar/rpc"

// dispatcher.oclist is Kamailio 6.0's view of the overload-control
// attributes of one group (spec §6.10). 5.6.3 does not have it; kamsidecar
// answers it with 6.0's reply layout and faults so that an operator moving
// to 6.x, or reading the ocmin/ocmax/ocrate attrs already in a 5.6 list,
// sees what 6.0 would load.
const (
	// MethodOCList is the 6.0 method name (spec §6, §6.10).
	MethodOCList = "dispatcher.oclist"
	// HelpOCList is kamsidecar's own help text for it.
	HelpOCList = "Return the overload control attributes of the destinations of a group"
	// FaultGroupNotFound is oclist's 404 fault message (spec §6.10).
	FaultGroupNotFound = "Destination Group Not Found"
	faultNotFound      = 404
)

// oclist is dispatcher.oclist group (spec §6.10): RET_ARRAY, one struct
// per destination of the group in list order, with the state flags as an
// integer and the overload-control attrs clamped as 6.0 loads them
// (spec §2.4, dispatcher.Attrs.OverloadControl). ocidx, ocseq and octime
// are the counters and the expiry that 6.0's ds_select algorithm 64 and
// the cfg function ds_oc_set_attrs move; kamsidecar routes no calls and
// runs no cfg script, so they keep their load-time value, zero.
func (d *Dispatcher) oclist(c *rpc.Call) {
	var group int
	if c.Scan("d", &group) < 1 {
		c.Fault(faultCode, FaultInvalidParams)
		return
	}
	set, ok := d.Store.Sets().Set(group)
	if !ok {
		c.Fault(faultNotFound, FaultGroupNotFound)
		return
	}
	c.Reserve(set.Len(), 11*set.Len())
	for _, dst := range set.All() {
		ocmin, ocmax, ocrate := dst.Attrs.OverloadControl()
		s := c.Struct()
		s.Grow(11)
		s.Add("group", rpc.Int(group))
		s.Add("uri", rpc.String(dst.URI))
		s.Add("flags", rpc.Int(dst.State().Flags()))
		s.Add("priority", rpc.Int(dst.Priority))
		s.Add("ocrate", rpc.Uint(uint32(ocrate)))
		s.Add("ocidx", rpc.Uint(0))
		s.Add("ocseq", rpc.Uint(0))
		s.Add("octime_sec", rpc.Long(0))
		s.Add("octime_usec", rpc.Long(0))
		s.Add("ocmin", rpc.Uint(uint32(ocmin)))
		s.Add("ocmax", rpc.Uint(uint32(ocmax)))
	}
}
