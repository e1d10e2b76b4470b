package rpc

import (
	"sync"
	"sync/atomic"
)

// ReplyCache keeps, for a codec, the last encoding of the reply of each
// method that declares a Version (Method.Version), with the version it was
// built at. A codec reads the version before it runs the handler, and
// offers the encoding under that version: a change during the run makes
// the next lookup miss, never hit a stale reply. An encoding is kept from
// the second time the same version is offered, so that a reply that
// changes at every call costs no copy. Safe for concurrent use; the zero
// value is ready.
type ReplyCache struct {
	m sync.Map // *Method -> *cacheEntry
}

type cacheEntry struct {
	cur atomic.Pointer[cachedReply]
	// seen is 1 + the version last offered without being kept.
	seen atomic.Uint64
}

type cachedReply struct {
	version uint64
	b       []byte
}

// Get returns the encoding kept for m at version, if any. The caller
// must not modify it.
func (c *ReplyCache) Get(m *Method, version uint64) ([]byte, bool) {
	v, ok := c.m.Load(m)
	if !ok {
		return nil, false
	}
	r := v.(*cacheEntry).cur.Load()
	if r == nil || r.version != version {
		return nil, false
	}
	return r.b, true
}

// Put offers b as m's encoding at version: the second offer of the same
// version keeps a copy of it, replacing the one kept before.
func (c *ReplyCache) Put(m *Method, version uint64, b []byte) {
	v, ok := c.m.Load(m)
	if !ok {
		v, _ = c.m.LoadOrStore(m, new(cacheEntry))
	}
	e := v.(*cacheEntry)
	if old := e.cur.Load(); old != nil && old.version == version {
		return // the same reply, by Method.Version's contract
	}
	if e.seen.Swap(version+1) != version+1 {
		return // first offer of this version
	}
	e.cur.Store(&cachedReply{version: version, b: append([]byte(nil), b...)})
}
