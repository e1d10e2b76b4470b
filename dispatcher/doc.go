// Package dispatcher models Kamailio 5.6's dispatcher module: destinations
// read from a dispatcher.list file (spec dispatcher.md §2) or from the SQL
// dispatcher table (§3), grouped into sets, kept in an immutable Sets
// snapshot whose order is exactly Kamailio's internal order (§2.5, §2.6),
// and swapped atomically on reload by a Store.
//
// The flow is ReadList (the exact §2.1 tokenizer) → []Entry → Build (the
// §2.2 add path shared by file rows, DB rows and dispatcher.add, with
// ds_load_mode, ds_attrs_none, listen-socket checks and an injectable
// Resolver) → *Sets. Sets.Add and Sets.Remove rebuild like dispatcher.add
// and dispatcher.remove. Each Destination points to a State holding what
// changes at run time (state bits, probe counters, latency, §4, §5); Carry
// and Store.Swap hand it to the same (setid, URI) in a new snapshot.
//
// Probing (§4.3, §5, §8) is split in two: Probing is the pure 5.6.3 state
// engine (which destinations a round probes, the state a result requests,
// thresholds and the shared counter), and Prober runs the probes of a
// Store's current snapshot on keepalive/schedule and keepalive/probe,
// applies the results to each State, keeps latency statistics, honours
// dispatcher.ping_active and publishes state changes as Events.
//
// The package knows Kamailio's semantics only; it knows nothing of JSON,
// BINRPC or HTTP (design.md).
package dispatcher
