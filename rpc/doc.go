// Package rpc is kamsidecar's transport-neutral RPC core, modelled on
// Kamailio's RPC interface (shared/spec/jsonrpc.md §1): a registry of
// methods with help texts and the RET_ARRAY flag, positional parameters read
// with Kamailio's scan formats, replies built as ordered values (top-level
// values, structs whose members keep their order and may repeat, arrays,
// nesting), and faults with a code and a message.
//
// A handler writes its reply once through a Call; the codecs (jsonrpc for
// JSON-RPC over HTTP, FIFO and datagrams, binrpc for kamcmd's ctl sockets)
// encode the same recorded reply each with Kamailio's own rules: JSON keeps
// only the last top-level value of a method without RET_ARRAY, BINRPC sends
// every value in order, and so on. Parameters are decoded by the codec and
// scanned by it too (Params), because Kamailio's scan rules differ per
// transport (a JSON string read as an int is 0, a BINRPC one is a fault).
//
// The package imports no transport and no module: dispatcher and keepalive
// handlers live in their own packages (dispatcher/dsrpc, keepalive/karpc) and
// register themselves on a Registry.
package rpc
