package history

import (
	"time"

	"github.com/kamsidecar/kamsidecar/rpc"
)

// RPC method names. They live in the sidecar.* namespace, which Kamailio
// does not use, so they never collide with a Kamailio command.
const (
	MethodDispatcherHistory = "sidecar.dispatcher_history"
	MethodKeepaliveHistory  = "sidecar.keepalive_history"
	MethodHistorySize       = "sidecar.history_size"
)

// Exists tells the RPC methods whether a destination exists now, so that
// a known destination without results yet answers an empty list instead
// of a fault. A nil function treats destinations without records as
// unknown.
type Exists struct {
	Dispatcher func(setid int, uri string) bool
	Keepalive  func(uri, owner string) bool
}

// Register adds the history RPC methods answering from s:
//
//	sidecar.dispatcher_history setid uri  -> one struct per result, oldest first
//	sidecar.keepalive_history uri owner   -> one struct per result, oldest first
//	sidecar.history_size                  -> how many results are kept per destination
//
// Each struct has time (RFC 3339, UTC, ms), time_unix, code, reason,
// class, rtt_ms, before and after.
func Register(reg *rpc.Registry, s *Store, ex Exists) error {
	return reg.Register(
		rpc.Method{Name: MethodDispatcherHistory, Flags: rpc.RetArray,
			Help: "Returns the last probe results of a dispatcher destination, oldest first: time, code, reason, class, rtt_ms, state before and after. Parameters: setid uri.",
			Handler: func(c *rpc.Call) {
				var setid int
				var uri string
				if c.Scan("ds", &setid, &uri) < 2 {
					c.Fault(400, "Invalid Parameters: setid and uri expected")
					return
				}
				k := DispatcherKey(setid, uri)
				recs := s.Get(k)
				if recs == nil && (ex.Dispatcher == nil || !ex.Dispatcher(setid, uri)) {
					c.Fault(404, "Destination not found")
					return
				}
				addRecords(c, recs)
			}},
		rpc.Method{Name: MethodKeepaliveHistory, Flags: rpc.RetArray,
			Help: "Returns the last probe results of a keepalive destination, oldest first: time, code, reason, class, rtt_ms, state before and after. Parameters: uri owner.",
			Handler: func(c *rpc.Call) {
				var uri, owner string
				if c.Scan("ss", &uri, &owner) < 2 {
					c.Fault(400, "Invalid Parameters: uri and owner expected")
					return
				}
				recs := s.Get(KeepaliveKey(uri, owner))
				if recs == nil && (ex.Keepalive == nil || !ex.Keepalive(uri, owner)) {
					c.Fault(404, "Destination not found")
					return
				}
				addRecords(c, recs)
			}},
		rpc.Method{Name: MethodHistorySize, Help: "Returns how many probe results are kept per destination.",
			Handler: func(c *rpc.Call) { c.Add(rpc.Int(s.Size())) }},
	)
}

func addRecords(c *rpc.Call, recs []Record) {
	for _, r := range recs {
		st := c.Struct()
		st.Add("time", rpc.String(r.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")))
		st.Add("time_unix", rpc.Long(r.Time.Unix()))
		st.Add("code", rpc.Int(r.Code))
		st.Add("reason", rpc.String(r.Reason))
		st.Add("class", rpc.String(r.Class))
		st.Add("rtt_ms", rpc.Double(float64(r.RTT)/float64(time.Millisecond)))
		st.Add("before", rpc.String(r.Before))
		st.Add("after", rpc.String(r.After))
	}
}
