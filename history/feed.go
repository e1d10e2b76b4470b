package history

import (
	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/keepalive"
)

// Kinds of Key.
const (
	KindDispatcher = "dispatcher"
	KindKeepalive  = "keepalive"
)

// DispatcherKey is the Key of a dispatcher destination.
func DispatcherKey(setid int, uri string) Key {
	return Key{Kind: KindDispatcher, SetID: setid, URI: uri}
}

// KeepaliveKey is the Key of a keepalive destination.
func KeepaliveKey(uri, owner string) Key {
	return Key{Kind: KindKeepalive, URI: uri, Owner: owner}
}

// FromDispatcher turns a dispatcher probe result into its Key and Record;
// the states are dispatcher FLAGS ("AP", "IP", ...).
func FromDispatcher(r dispatcher.Result) (Key, Record) {
	return DispatcherKey(r.SetID, r.URI), Record{Time: r.Time, Code: r.Code, Reason: r.Reason,
		Class: r.Class.String(), RTT: r.RTT,
		Before: dispatcher.FlagsString(r.Old), After: dispatcher.FlagsString(r.New)}
}

// FromKeepalive turns a keepalive probe result into its Key and Record;
// the states are "unknown", "up" or "down". A result without a final code
// (DNS failure, unsent) has code 0 and the error as its reason.
func FromKeepalive(r keepalive.Result) (Key, Record) {
	reason := r.Probe.Reason
	if reason == "" && r.Probe.Err != nil {
		reason = r.Probe.Err.Error()
	}
	return KeepaliveKey(r.URI, r.Owner), Record{Time: r.Time, Code: r.Probe.Code, Reason: reason,
		Class: r.Probe.Class.String(), RTT: r.Probe.RTT, Before: r.Old.String(), After: r.New.String()}
}

// AddDispatcher records a dispatcher probe result.
func (s *Store) AddDispatcher(r dispatcher.Result) {
	k, rec := FromDispatcher(r)
	s.Add(k, rec)
}

// AddKeepalive records a keepalive probe result.
func (s *Store) AddKeepalive(r keepalive.Result) {
	k, rec := FromKeepalive(r)
	s.Add(k, rec)
}

// Retain forgets every destination for which keep returns false (removed
// from the dispatcher snapshot or the keepalive list), so that the store
// only grows with the destinations that exist.
func (s *Store) Retain(keep func(Key) bool) int {
	n := 0
	for _, k := range s.Keys() {
		if !keep(k) {
			s.Forget(k)
			n++
		}
	}
	return n
}
