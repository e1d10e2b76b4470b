// Package rpctest is the golden-reply harness for Kamailio's RPC
// transports: BINRPC (raw packets over the ctl unix stream, unix datagram,
// tcp and udp sockets, and the real kamcmd), JSON-RPC over HTTP (xhttp),
// the FIFO (raw documents and the real `kamctl rpc`) and datagrams (unix
// and UDP).
//
// The goldens under testdata/rpc/golden/<transport>/<case>.golden were
// captured from real Kamailio 5.6.3 serving testdata/rpc/kamailio.cfg:
//
//	go test ./internal/rpctest -run TestCapture -capture   # rewrite
//	go test ./internal/rpctest -run TestReplay -capture    # check stability
//
// Running the same cases against another implementation (kamsidecar):
//
//	for _, tr := range rpctest.Transports() {
//		tg := rpctest.NewTargetFor(t, tr)            // free ports, temp paths
//		// start the server with: -f rpctest.CfgPath() --listen-from-cfg
//		//   and "-A", d for every d in tg.Defines(); set tg.Pid to its pid
//		rpctest.WaitReady(tg, 20*time.Second, nil)   // sockets up, keepalive settled
//		got := rpctest.Run(t, tg, tr)                // normalized replies by case
//		rpctest.CheckAll(t, tr, got)                 // Exact / Subset / Semantic
//	}
//
// Every transport needs a fresh server: the last cases of each transport
// change dispatcher and keepalive state, and dispatcher.add/remove/reload
// depend on the cfg's reload_delta (3 s).
//
// Each Case says how it is compared (Case.Compare, reason in Case.Why):
// Exact after Normalize for almost everything; Subset for lists whose
// content depends on the implementation (system.listMethods, core.modules,
// core.ppdefines, the kamcmd "ls" alias); Semantic (reply vs fault and the
// first line only) for values that differ by implementation: core.version
// and the kamcmd "version" alias (version string), core.ps/core.psx and
// the "ps" alias (process list), core.pwd, core.arg, core.info,
// core.runinfo (build data, argv, cwd) and core.uptime (times).
package rpctest
