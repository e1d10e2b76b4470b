// Package jsonrpc is kamsidecar's JSON-RPC server, answering Kamailio's RPC
// tools (kamctl, kamcli, curl) exactly as Kamailio 5.6.3's jsonrpcs module
// does (shared/spec/jsonrpc.md): the same request validation (§3), result
// mapping (§4.1), faults (§4.2) and byte-for-byte srjson output (§4.3), over
// HTTP (§5), a FIFO (§6) and datagram sockets (§7).
//
// The package builds on the transport-neutral rpc core: a Server holds an
// rpc.Registry, decodes each document, runs the method through
// rpc.Registry.Run and encodes the recorded reply.
//
// Deliberate differences from Kamailio, each documented where it is made:
// an unparsable HTTP body is answered with a -32700 "Parse Error" and the
// connection is closed (Kamailio sends nothing, §3); the FIFO reader
// resynchronises after a stray '}', a garbage line, an idle partial document
// or an over-long document instead of swallowing later requests (§6.1);
// a reply_name containing '.' is accepted (only '/' and '\' are refused, so
// kamcli's default "kamailio_rpc_reply.fifo" works, §6.4).
package jsonrpc
