// Package binrpc speaks BINRPC, the binary protocol of Kamailio's ctl module
// and of kamcmd (shared/spec/binrpc.md), as Kamailio 5.6.3 does.
//
// It holds the codec (packet header, binrpc.md §3; records, §4), a Server
// that answers the methods of an rpc.Registry on the ctl addresses (unix
// stream and datagram, TCP, UDP; §2, §5–§8), and a Client with kamcmd's
// argument typing and output (§9).
//
// Unlike Kamailio, the server puts no limit on the size of a reply (ctl
// fails a reply bigger than binrpc_max_body_size); requests are still
// bounded by the 65535-byte read buffer of §2.
package binrpc
