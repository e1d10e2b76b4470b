package rpc

import "sync"

// arena hands out the containers and members of one call's reply from
// two preallocated blocks, so that a handler building a large reply (such
// as dispatcher.list) makes two allocations instead of thousands. Arenas
// are recycled through arenaPool when the transport releases the call.
type arena struct {
	cs []Container
	cn int
	ms []Member
	mn int
}

var arenaPool sync.Pool

// maxPooledMembers bounds the arenas kept for reuse: a one-off huge reply
// does not pin its memory forever.
const maxPooledMembers = 1 << 20

// container returns a fresh container from the arena, or from the heap
// when the arena is nil or used up.
func (a *arena) container(array bool) *Container {
	if a == nil || a.cn >= len(a.cs) {
		return &Container{array: array}
	}
	c := &a.cs[a.cn]
	a.cn++
	*c = Container{array: array, arena: a}
	return c
}

// members returns an empty slice with room for n members, from the arena
// when it has room.
func (a *arena) members(n int) []Member {
	if a == nil || len(a.ms)-a.mn < n {
		return make([]Member, 0, n)
	}
	s := a.ms[a.mn : a.mn : a.mn+n]
	a.mn += n
	return s
}

// Reserve prepares room for a reply of about containers structs and
// arrays and members members in all (Container.Grow takes members from
// it). A handler that knows the size of its reply calls it first; the
// room is recycled when the transport calls Release. Reserving is only a
// hint: a reply larger than reserved still works.
func (c *Call) Reserve(containers, members int) {
	a := c.arena
	if a == nil {
		a, _ = arenaPool.Get().(*arena)
		if a == nil {
			a = &arena{}
		}
		c.arena = a
	}
	if len(a.cs)-a.cn < containers {
		a.cs, a.cn = make([]Container, containers), 0
	}
	if len(a.ms)-a.mn < members {
		a.ms, a.mn = make([]Member, members), 0
	}
}

// Release tells the call that its reply has been encoded: the room taken
// by Reserve is recycled. Neither the call's values nor any container of
// its reply may be used afterwards. Transports call it; handlers do not.
func (c *Call) Release() {
	a := c.arena
	if a == nil {
		return
	}
	c.arena = nil
	c.values = nil
	a.cn, a.mn = 0, 0
	if len(a.ms) <= maxPooledMembers {
		arenaPool.Put(a)
	}
}

// Grow makes room for n more members (a capacity hint, like
// slices.Grow), from the call's reserved room when there is some.
func (c *Container) Grow(n int) {
	if n <= 0 || cap(c.Members)-len(c.Members) >= n {
		return
	}
	if len(c.Members) == 0 {
		c.Members = c.arena.members(n)
		return
	}
	ms := c.arena.members(len(c.Members) + n)
	c.Members = append(ms, c.Members...)
}
