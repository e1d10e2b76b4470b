package dispatcher

import "sync/atomic"

// generation counts the changes of everything dispatcher.list shows: a
// snapshot published in a Store (reload, add, remove), the state bits of
// any destination when they change (set_state, probe transitions) and
// its latency statistics (probe results).
var generation atomic.Uint64

// changed is called after each such change has been made.
func changed() { generation.Add(1) }

// Generation returns a number that changes after every change of a
// published snapshot or of a destination's state bits or latency
// statistics, in any Store of the process: two equal readings mean that
// nothing dispatcher.list shows changed in between (rpc.Method.Version).
// A change made after a reading may or may not be seen by a read that
// follows it, until the change's call returns and the number moves.
func Generation() uint64 { return generation.Load() }
