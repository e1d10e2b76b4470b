// Package keepalive monitors SIP destinations with OPTIONS the way
// Kamailio's keepalive module does (shared/spec/keepalive.md): destinations
// identified by (uri, owner), states 0 unknown / 1 up / 2 down, the
// ping_interval, delete_counter and ping_from modparams, ka_is_alive, the
// state-change and response callbacks of its C API, and events for
// in-process subscribers.
//
// It knows Kamailio's semantics, not JSON or RPC. The probing itself is
// done by keepalive/probe (one OPTIONS transaction on sipgo) on the timers
// of keepalive/schedule; the state rules are the pure type Machine.
//
// Where Kamailio 5.6.3 is wrong kamsidecar deviates, each deviation named
// in the doc comment of the code that makes it and listed in README.md:
//   - last_up and last_down are written the right way round (5.6.3 swaps
//     them; fixed in 5.6.6).
//   - a destination stopped by delete_counter is probed again when it is
//     added again (5.6.3 and master reset its counter but leave it stuck
//     at down with no timer).
//   - a transport error (ICMP port unreachable, TCP refused or reset, TLS
//     failure) is a failure at once, not a local 408 after fr_timer.
//   - first probes of destinations added together are spread over the
//     interval instead of all leaving 500 ms after start.
//   - a probe is not sent while the previous one to the same destination
//     still waits for its reply (UDP retransmissions keep it alive).
package keepalive
