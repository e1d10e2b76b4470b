package rpctest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Transport names a client path to a server; it is also the golden
// sub-directory.
type Transport string

// Transports.
const (
	BinUnix     Transport = "binrpc-unix"  // raw BINRPC over the ctl unix stream socket
	BinUnixd    Transport = "binrpc-unixd" // raw BINRPC over the ctl unix datagram socket
	BinTCP      Transport = "binrpc-tcp"   // raw BINRPC over ctl tcp
	BinUDP      Transport = "binrpc-udp"   // raw BINRPC over ctl udp
	Kamcmd      Transport = "kamcmd"       // real kamcmd over the unix stream socket (text output)
	KamcmdUnixd Transport = "kamcmd-unixd" // real kamcmd over unixd (subset)
	KamcmdTCP   Transport = "kamcmd-tcp"   // real kamcmd over tcp (subset)
	KamcmdUDP   Transport = "kamcmd-udp"   // real kamcmd over udp (subset)
	HTTP        Transport = "http"         // JSON-RPC over HTTP (xhttp), pretty_format 1
	HTTPCompact Transport = "http-compact" // JSON-RPC over HTTP with pretty_format 0 (subset)
	FIFO        Transport = "fifo"         // JSON-RPC over the FIFO, raw documents
	Kamctl      Transport = "kamctl"       // real `kamctl rpc` over the FIFO
	Dgram       Transport = "dgram"        // JSON-RPC over the unix datagram socket
	DgramUDP    Transport = "dgram-udp"    // JSON-RPC over a UDP datagram socket (subset)
)

// Transports lists every transport, in capture order.
func Transports() []Transport {
	return []Transport{BinUnix, BinUnixd, BinTCP, BinUDP, Kamcmd, KamcmdUnixd, KamcmdTCP, KamcmdUDP,
		HTTP, HTTPCompact, FIFO, Kamctl, Dgram, DgramUDP}
}

func (tr Transport) isBinrpc() bool { return strings.HasPrefix(string(tr), "binrpc-") }
func (tr Transport) isKamcmd() bool { return strings.HasPrefix(string(tr), "kamcmd") }
func (tr Transport) isJSON() bool {
	return tr == HTTP || tr == HTTPCompact || tr == FIFO || tr == Dgram || tr == DgramUDP
}
func (tr Transport) isStream() bool { return tr == BinUnix || tr == BinTCP }

// Compare says how a reply is compared with its golden.
type Compare int

const (
	// Exact: byte for byte after Normalize.
	Exact Compare = iota
	// Subset: the items (quoted strings, or lines) of the reply must all
	// occur in the golden; used for lists whose content depends on what an
	// implementation provides (system.listMethods, core.modules,
	// core.ppdefines).
	Subset
	// Semantic: only the shape is compared (reply vs fault, HTTP status,
	// exit status, first line), because the values differ by
	// implementation (version strings, process lists, cwd, argv).
	Semantic
)

func (c Compare) String() string {
	return [...]string{"exact", "subset", "semantic"}[c]
}

// Case is one request on one transport.
type Case struct {
	Name      string    // unique within the transport; golden file <Name>.golden
	Transport Transport // where it is sent
	Method    string    // method, when built from Method+Params
	Params    []Param   // typed params (nil: none; JSON omits "params")
	// Raw: BINRPC packet bytes, or a JSON document; for FIFO the
	// placeholders @REPLY1@, @REPLY2@ are replaced by fresh reply FIFO
	// names (each is created and read).
	Raw        []byte
	Args       []string      // kamcmd/kamctl arguments (method first) when not derived from Method+Params
	Path       string        // HTTP path (default /RPC)
	Replies    int           // BINRPC stream: reply packets to read (default 1)
	CheckClose bool          // BINRPC stream: record whether the server closed the connection afterwards
	ExpectNone bool          // no reply is expected; wait only NoReplyTimeout
	Wait       time.Duration // sleep before the case (rate limits)
	Compare    Compare
	Why        string   // why Subset/Semantic, or what the case shows
	Mask       []string // regexps whose first group is replaced by <V> (volatile values)
	Pids       bool     // numbers in [pid, pid+200] are replaced by <PID>
}

// call is a method invocation expanded onto every transport.
type call struct {
	name    string
	method  string
	params  []Param
	cmp     Compare
	why     string
	mask    []string
	pids    bool
	wait    time.Duration
	noShell bool // not sent through kamctl (its printf/quoting would break the document)
	subset  bool // also run on the subset transports
}

func p(ps ...Param) []Param {
	if ps == nil {
		return []Param{}
	}
	return ps
}

const reloadWait = 3100 * time.Millisecond // > reload_delta (3 s) of the cfg; kamctl needs > 1 s per call

var uptimeMask = []string{
	`"?uptime"?:\s*(?:INT )?(\d+)`,
	`"?uptime_secs"?:\s*(?:INT )?(\d+)`,
	`"?utime_days"?:\s*(?:STR )?("?[^"\n]*"?)`,
	`"?time_now"?:\s*(?:STR )?("?[^"\n]*"?)`,
	`"?time_started"?:\s*(?:STR )?("?[^"\n]*"?)`,
}

func readonlyCalls() []call {
	var c []call
	add := func(x call) { c = append(c, x) }
	add(call{name: "system.listMethods", method: "system.listMethods", cmp: Subset, why: "every method an implementation lists must be one real Kamailio (with this cfg) lists", subset: true})
	add(call{name: "system.methodHelp-core.version", method: "system.methodHelp", params: p(S("core.version"))})
	add(call{name: "system.methodHelp-dispatcher.list", method: "system.methodHelp", params: p(S("dispatcher.list"))})
	add(call{name: "system.methodHelp-dispatcher.hash", method: "system.methodHelp", params: p(S("dispatcher.hash"))})
	add(call{name: "system.methodHelp-keepalive.add", method: "system.methodHelp", params: p(S("keepalive.add"))})
	add(call{name: "system.methodHelp-ctl.who", method: "system.methodHelp", params: p(S("ctl.who"))})
	add(call{name: "system.methodHelp-unknown", method: "system.methodHelp", params: p(S("nosuch"))})
	add(call{name: "system.methodHelp-missing", method: "system.methodHelp"})
	add(call{name: "system.methodHelp-int", method: "system.methodHelp", params: p(I(1))})
	add(call{name: "system.methodSignature", method: "system.methodSignature"})
	add(call{name: "system.methodSignature-arg", method: "system.methodSignature", params: p(S("core.version"))})
	add(call{name: "core.version", method: "core.version", cmp: Semantic, why: "version string differs by implementation (normalized to <VERSION> anyway)", subset: true})
	add(call{name: "core.echo-strings", method: "core.echo", params: p(S("a"), S("b c"))})
	add(call{name: "core.echo-int", method: "core.echo", params: p(I(5))})
	add(call{name: "core.echo-negative", method: "core.echo", params: p(I(-1))})
	add(call{name: "core.echo-double", method: "core.echo", params: p(F(1.5))})
	add(call{name: "core.echo-mixed", method: "core.echo", params: p(S("x"), I(2), F(2.5), S("y"))})
	add(call{name: "core.echo-none", method: "core.echo"})
	add(call{name: "core.prints", method: "core.prints", params: p(S("a"), S("b")), subset: true})
	add(call{name: "core.prints-none", method: "core.prints"})
	add(call{name: "core.prints-empty", method: "core.prints", params: p(S(""))})
	add(call{name: "core.prints-escapes", method: "core.prints", params: p(S("tab\tnl\nq\"bs\\sl/é\x01")), noShell: true})
	add(call{name: "core.prints-int", method: "core.prints", params: p(I(1))})
	add(call{name: "core.prints-long", method: "core.prints", params: p(S(strings.Repeat("x", 300)))})
	add(call{name: "core.printi", method: "core.printi", params: p(I(1), I(2))})
	add(call{name: "core.printi-string", method: "core.printi", params: p(S("a"))})
	add(call{name: "core.printi-int-string", method: "core.printi", params: p(I(1), S("a"))})
	add(call{name: "core.printi-negative", method: "core.printi", params: p(I(-3))})
	add(call{name: "core.printi-double", method: "core.printi", params: p(F(2.5))})
	add(call{name: "core.printi-max", method: "core.printi", params: p(I(2147483647), I(300), I(70000), I(0))})
	add(call{name: "core.printi-none", method: "core.printi"})
	add(call{name: "core.uptime", method: "core.uptime", cmp: Semantic, why: "times differ", mask: uptimeMask})
	add(call{name: "core.ps", method: "core.ps", cmp: Semantic, why: "process list differs by implementation", pids: true})
	add(call{name: "core.psx", method: "core.psx", cmp: Semantic, why: "process list differs by implementation", pids: true})
	add(call{name: "core.pwd", method: "core.pwd", cmp: Semantic, why: "working directory differs by implementation"})
	add(call{name: "core.arg", method: "core.arg", cmp: Semantic, why: "argv differs by implementation"})
	add(call{name: "core.modules", method: "core.modules", cmp: Subset, why: "an implementation may report fewer modules"})
	add(call{name: "core.ppdefines", method: "core.ppdefines", cmp: Subset, why: "built-in defines differ by implementation"})
	add(call{name: "core.info", method: "core.info", cmp: Semantic, why: "build info differs by implementation"})
	add(call{name: "core.runinfo", method: "core.runinfo", cmp: Semantic, why: "build info and times differ", mask: uptimeMask})
	add(call{name: "core.sockets_list", method: "core.sockets_list"})
	add(call{name: "jsonrpc.echo", method: "jsonrpc.echo", params: p(S("hello"), I(7))})
	add(call{name: "jsonrpc.echo-none", method: "jsonrpc.echo"})
	add(call{name: "ctl.listen", method: "ctl.listen", subset: true})
	add(call{name: "ctl.connections", method: "ctl.connections", wait: 200 * time.Millisecond})
	add(call{name: "ctl.who", method: "ctl.who", wait: 200 * time.Millisecond, // the close of an earlier connection must be seen first
		mask: []string{`"127\.0\.0\.1"\n\s*STR "(\d+)"`, `\] tcp: 127\.0\.0\.1 (\d+) ->`, `127\.0\.0\.1\n(\d+)\n`}})
	add(call{name: "unknown-method", method: "no.such.method", subset: true})
	add(call{name: "unknown-method-case", method: "Core.Version"})
	add(call{name: "dispatcher.list", method: "dispatcher.list", subset: true})
	add(call{name: "dispatcher.list-short", method: "dispatcher.list", params: p(S("short"))})
	add(call{name: "dispatcher.list-full", method: "dispatcher.list", params: p(S("full"))})
	add(call{name: "dispatcher.list-SHORT", method: "dispatcher.list", params: p(S("SHORT"))})
	add(call{name: "dispatcher.list-badmode", method: "dispatcher.list", params: p(S("bad"))})
	add(call{name: "dispatcher.list-int", method: "dispatcher.list", params: p(I(1))})
	add(call{name: "dispatcher.hash-example", method: "dispatcher.hash", params: p(I(4), S("bob"), S("server.com")), subset: true})
	add(call{name: "dispatcher.hash-zero-slots", method: "dispatcher.hash", params: p(I(0), S("bob"))})
	add(call{name: "dispatcher.hash-one", method: "dispatcher.hash", params: p(I(7), S("alice"))})
	add(call{name: "dispatcher.hash-missing", method: "dispatcher.hash", params: p(I(4))})
	add(call{name: "dispatcher.hash-string-slots", method: "dispatcher.hash", params: p(S("4"), S("bob"))})
	add(call{name: "dispatcher.hash-none", method: "dispatcher.hash"})
	add(call{name: "keepalive.list", method: "keepalive.list", subset: true})
	add(call{name: "keepalive.get-up", method: "keepalive.get", params: p(S("sip:127.0.0.1:@SIP_PORT@"), S("_params")), subset: true})
	add(call{name: "keepalive.get-down", method: "keepalive.get", params: p(S("sip:127.0.0.1:@KA_DOWN_PORT@"), S("_params"))})
	add(call{name: "keepalive.get-unknown", method: "keepalive.get", params: p(S("sip:127.0.0.1:1"), S("_params"))})
	add(call{name: "keepalive.get-owner", method: "keepalive.get", params: p(S("sip:127.0.0.1:@SIP_PORT@"), S("other"))})
	add(call{name: "keepalive.get-none", method: "keepalive.get"})
	add(call{name: "keepalive.get-one", method: "keepalive.get", params: p(S("sip:127.0.0.1:@SIP_PORT@"))})
	add(call{name: "keepalive.get-empty", method: "keepalive.get", params: p(S(""), S("x"))})
	add(call{name: "keepalive.get-int", method: "keepalive.get", params: p(I(1), S("x"))})
	add(call{name: "dispatcher.ping_active", method: "dispatcher.ping_active"})
	add(call{name: "dispatcher.ping_active-minus1", method: "dispatcher.ping_active", params: p(I(-1))})
	add(call{name: "dispatcher.ping_active-0", method: "dispatcher.ping_active", params: p(I(0))})
	add(call{name: "dispatcher.ping_active-after0", method: "dispatcher.ping_active"})
	add(call{name: "dispatcher.ping_active-1", method: "dispatcher.ping_active", params: p(I(1))})
	add(call{name: "dispatcher.ping_active-s1", method: "dispatcher.ping_active", params: p(S("1"))})
	add(call{name: "dispatcher.ping_active-5", method: "dispatcher.ping_active", params: p(I(5))})
	add(call{name: "dispatcher.ping_active-restore", method: "dispatcher.ping_active", params: p(I(1))})
	return c
}

// mutatingCalls change dispatcher and keepalive state; they run last, in
// this order, on a fresh server per transport.
func mutatingCalls() []call {
	var c []call
	add := func(x call) { c = append(c, x) }
	st := "dispatcher.set_state"
	add(call{name: "set_state-ok", method: st, params: p(S("ip"), I(1), S("sip:10.0.0.1:5060"))})
	add(call{name: "set_state-case", method: st, params: p(S("d"), I(1), S("SIP:10.0.0.2:5060"))})
	add(call{name: "set_state-noscheme", method: st, params: p(S("a"), I(1), S("10.0.0.1:5060"))})
	add(call{name: "set_state-all", method: st, params: p(S("t"), I(2), S("all"))})
	add(call{name: "set_state-all-unknown-group", method: st, params: p(S("a"), I(99), S("all"))})
	add(call{name: "set_state-unknown-group", method: st, params: p(S("a"), I(99), S("sip:10.0.0.1:5060"))})
	add(call{name: "set_state-bad-state", method: st, params: p(S("x"), I(1), S("sip:10.0.0.1:5060"))})
	add(call{name: "set_state-empty-state", method: st, params: p(S(""), I(1), S("sip:10.0.0.1:5060"))})
	add(call{name: "set_state-missing", method: st, params: p(S("a"), I(1))})
	add(call{name: "set_state-none", method: st})
	add(call{name: "set_state-int-state", method: st, params: p(I(0), I(3), S("sip:10.0.1.2:5080"))})
	add(call{name: "set_state-string-group", method: st, params: p(S("a"), S("1"), S("all"))})
	add(call{name: "set_state-ipxyz", method: st, params: p(S("ipxyz"), I(3), S("all"))})
	add(call{name: "set_state-int-address", method: st, params: p(S("a"), I(1), I(5))})
	ds := "dispatcher.set_duid_state"
	add(call{name: "set_duid_state-ok", method: ds, params: p(S("i"), I(1), S("gw3"))})
	add(call{name: "set_duid_state-case", method: ds, params: p(S("a"), I(1), S("GW3"))})
	add(call{name: "set_duid_state-unknown", method: ds, params: p(S("a"), I(1), S("nosuch"))})
	add(call{name: "set_duid_state-missing", method: ds, params: p(S("a"), I(1))})
	add(call{name: "dispatcher.list-after-set_state", method: "dispatcher.list", params: p(S("short"))})

	ka := "keepalive."
	add(call{name: "keepalive.add", method: ka + "add", params: p(S("sip:127.0.0.1:5071"), S("rpctest"))})
	add(call{name: "keepalive.add-duplicate", method: ka + "add", params: p(S("sip:127.0.0.1:5071"), S("rpctest"))})
	add(call{name: "keepalive.add-noscheme", method: ka + "add", params: p(S("127.0.0.1:5072"), S("rpctest"))})
	add(call{name: "keepalive.add-empty", method: ka + "add", params: p(S(""), S("rpctest"))})
	add(call{name: "keepalive.add-one", method: ka + "add", params: p(S("sip:127.0.0.1:5073"))})
	add(call{name: "keepalive.add-int", method: ka + "add", params: p(I(1), S("rpctest"))})
	add(call{name: "keepalive.del", method: ka + "del", params: p(S("sip:127.0.0.1:5071"), S("rpctest"))})
	add(call{name: "keepalive.del-again", method: ka + "del", params: p(S("sip:127.0.0.1:5071"), S("rpctest"))})
	add(call{name: "keepalive.del-noscheme", method: ka + "del", params: p(S("127.0.0.1:5072"), S("rpctest"))})
	add(call{name: "keepalive.del-none", method: ka + "del"})
	add(call{name: "keepalive.flush", method: ka + "flush"})
	add(call{name: "keepalive.list-after-flush", method: ka + "list"})
	add(call{name: "keepalive.get-after-flush", method: ka + "get", params: p(S("sip:127.0.0.1:@SIP_PORT@"), S("_params"))})

	d := "dispatcher."
	add(call{name: "dispatcher.add", method: d + "add", params: p(I(4), S("sip:10.0.4.1:5060")), wait: reloadWait})
	add(call{name: "dispatcher.add-ongoing", method: d + "add", params: p(I(4), S("sip:10.0.4.2:5060"))})
	add(call{name: "dispatcher.add-full", method: d + "add", params: p(I(4), S("sip:10.0.4.2:5060"), I(8), I(3), S("duid=n2;weight=7")), wait: reloadWait})
	add(call{name: "dispatcher.list-after-add", method: d + "list"})
	add(call{name: "dispatcher.remove", method: d + "remove", params: p(I(4), S("10.0.4.1:5060")), wait: reloadWait})
	add(call{name: "dispatcher.remove-ongoing", method: d + "remove", params: p(I(4), S("sip:10.0.4.2:5060"))})
	add(call{name: "dispatcher.remove-nomatch", method: d + "remove", params: p(I(4), S("sip:10.0.9.9")), wait: reloadWait})
	add(call{name: "dispatcher.list-after-remove", method: d + "list", params: p(S("short"))})
	add(call{name: "dispatcher.add-missing", method: d + "add", params: p(I(1)), wait: reloadWait})
	add(call{name: "dispatcher.add-after-failed", method: d + "add", params: p(I(5), S("sip:10.0.5.1"))})
	add(call{name: "dispatcher.remove-missing", method: d + "remove", params: p(I(1)), wait: reloadWait})
	add(call{name: "dispatcher.add-string-group", method: d + "add", params: p(S("6"), S("sip:10.0.6.1")), wait: reloadWait})
	add(call{name: "dispatcher.reload", method: d + "reload", wait: reloadWait})
	add(call{name: "dispatcher.reload-ongoing", method: d + "reload"})
	add(call{name: "dispatcher.list-after-reload", method: d + "list", params: p(S("short"))})
	return c
}

// jsonParam renders p as a JSON value.
func jsonParam(p Param) string {
	switch p.Kind {
	case 'i':
		return strconv.Itoa(p.I)
	case 'f':
		return strconv.FormatFloat(p.F, 'f', -1, 64)
	}
	b, _ := json.Marshal(p.S)
	return string(b)
}

// JSONRequest builds the request document used for Method+Params cases:
// {"jsonrpc":"2.0","method":M,"params":[...],"id":1} ("params" omitted
// when nil); a non-empty replyName adds "reply_name" (FIFO).
func JSONRequest(method string, params []Param, replyName string) []byte {
	var sb strings.Builder
	sb.WriteString(`{"jsonrpc":"2.0","method":`)
	m, _ := json.Marshal(method)
	sb.Write(m)
	if params != nil {
		sb.WriteString(`,"params":[`)
		for i, p := range params {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(jsonParam(p))
		}
		sb.WriteString("]")
	}
	if replyName != "" {
		sb.WriteString(`,"reply_name":"` + replyName + `"`)
	}
	sb.WriteString(`,"id":1}`)
	return []byte(sb.String())
}

func looksNumeric(s string) bool {
	if s == "" {
		return true
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || strings.HasPrefix(strings.ToLower(s), "0x")
}

// CmdArgs renders params as kamcmd / kamctl arguments: ints and doubles
// as text, strings as is unless they would be taken for a number, then
// with the "s:" prefix.
func CmdArgs(params []Param) []string {
	var a []string
	for _, p := range params {
		switch p.Kind {
		case 'i':
			a = append(a, strconv.Itoa(p.I))
		case 'f':
			a = append(a, strconv.FormatFloat(p.F, 'f', -1, 64))
		default:
			if looksNumeric(p.S) {
				a = append(a, "s:"+p.S)
			} else {
				a = append(a, p.S)
			}
		}
	}
	return a
}

func (c call) toCase(tr Transport) Case {
	return Case{Name: c.name, Transport: tr, Method: c.method, Params: c.params, Compare: c.cmp,
		Why: c.why, Mask: c.mask, Pids: c.pids, Wait: c.wait}
}

func binrpcRawCases(tr Transport) []Case {
	m := EncodeRequest(Cookie, "core.version")
	body := m[5:] // method record (header: magic, type, 1-byte length, 2-byte cookie)
	strRec := func(s string) []byte { return encStrLike(recStr, []byte(s), true) }
	hdr := func(typ, lw int, ck uint32, cw int, b []byte) []byte {
		return append(Header(typ, len(b), lw, ck, cw), b...)
	}
	prints := strRec("core.prints")
	cases := []Case{
		{Name: "raw-bad-magic", Raw: append([]byte{0xB1, 0x00, byte(len(body)), 0x12}, body...), Why: "fault 400 bad request, cookie 0"},
		{Name: "raw-bad-version", Raw: append([]byte{0xA2, 0x00, byte(len(body)), 0x12}, body...)},
		{Name: "raw-reply-type", Raw: Packet(PktReply, Cookie, body)},
		{Name: "raw-fault-type", Raw: Packet(PktFault, Cookie, body)},
		{Name: "raw-type2", Raw: Packet(2, Cookie, body)},
		{Name: "raw-method-int", Raw: Packet(PktRequest, Cookie, encInt(5))},
		{Name: "raw-empty-body", Raw: Packet(PktRequest, Cookie, nil)},
		{Name: "raw-len2-cookie4", Raw: hdr(0, 2, 0x1234, 4, body)},
		{Name: "raw-len4-cookie1", Raw: hdr(0, 4, 0x12, 1, body)},
		{Name: "raw-len3-cookie3", Raw: hdr(0, 3, 0xabcdef, 3, body)},
		{Name: "raw-cookie0", Raw: hdr(0, 1, 0, 1, body)},
		{Name: "raw-cookie-max", Raw: hdr(0, 1, 0xffffffff, 4, body)},
		{Name: "raw-bytes-param", Raw: Packet(PktRequest, Cookie, append(append([]byte{}, prints...), encStrLike(recBytes, []byte("ab"), false)...))},
		{Name: "raw-struct-param", Raw: Packet(PktRequest, Cookie, append(append([]byte{}, prints...), 0x03, 0x83))},
		{Name: "raw-long-length-method", Raw: Packet(PktRequest, Cookie, []byte{0x91, 0x0d, 'c', 'o', 'r', 'e', '.', 'v', 'e', 'r', 's', 'i', 'o', 'n', 0})},
		{Name: "raw-empty-reply", Raw: EncodeRequest(Cookie, "core.prints"), Why: "command that adds nothing: total_len 0"},
	}
	if tr.isStream() {
		two := append(EncodeRequest(Cookie, "core.prints", S("a")), EncodeRequest(0x5678, "core.printi", I(1))...)
		cases = append(cases,
			Case{Name: "raw-pipelined", Raw: two, Replies: 2, CheckClose: true, Why: "two requests in one write, two replies in order"},
			Case{Name: "raw-bad-then-good", Raw: append(append([]byte{0xB1, 0x00, byte(len(body)), 0x12}, body...), m...), Replies: 2, CheckClose: true, Why: "the fault closes the connection; the second request is not answered"},
			Case{Name: "raw-split-write", Raw: m, CheckClose: true, Why: "request followed by keep-alive check"},
		)
		for i := range cases {
			cases[i].CheckClose = true
		}
	}
	for i := range cases {
		cases[i].Transport = tr
	}
	return cases
}

func kamcmdExtraCases() []Case {
	return []Case{
		{Name: "kamcmd-typing", Args: []string{"core.echo", "0x10", "", "2147483648", "1e3", "s:1", "-2", "1.5", "abcdefgh"}, Why: "kamcmd argument typing: 0x10 is a double, which core.echo cannot convert"},
		{Name: "kamcmd-alias-listen", Args: []string{"listen"}, Why: "alias with default format"},
		{Name: "kamcmd-typing-ints", Args: []string{"core.echo", "", "2147483648", "-2", "s:1", "abc", "300"}, Why: "'' → int 0, 2147483648 → -2147483648, ints echoed as unsigned decimal"},
		{Name: "kamcmd-typing-hex", Args: []string{"core.printi", "0x10"}, Why: "0x10 is sent as a double: scan error"},
		{Name: "kamcmd-alias-who", Args: []string{"who"}, Why: "alias with default format"},
		{Name: "kamcmd-alias-ps", Args: []string{"ps"}, Compare: Semantic, Why: "process list", Pids: true},
		{Name: "kamcmd-alias-ls", Args: []string{"ls"}, Compare: Subset, Why: "method list"},
		{Name: "kamcmd-alias-version", Args: []string{"version"}, Compare: Semantic, Why: "version string"},
	}
}

// envelope documents for the JSON transports (jsonrpc.md §3, §12). rn is
// the reply_name member text for FIFO ("" elsewhere).
func envelopeCases(tr Transport) []Case {
	// FIFO: reply_name goes last, as kamctl puts it.
	doc := func(s string) []byte {
		if tr != FIFO {
			return []byte(s)
		}
		i := strings.LastIndexByte(s, '}')
		return []byte(s[:i] + `,"reply_name":"@REPLY1@"` + s[i:])
	}
	cs := []Case{
		{Name: "env-invalid-json", Raw: doc(`{"jsonrpc":"2.0","method":core.version,"id":1}`), ExpectNone: true, Why: "unparsable: no reply at all"},
		{Name: "env-jsonrpc-1.0", Raw: doc(`{"jsonrpc":"1.0","method":"core.version","id":1}`)},
		{Name: "env-jsonrpc-missing", Raw: doc(`{"method":"core.version","id":1}`)},
		{Name: "env-method-missing", Raw: doc(`{"jsonrpc":"2.0","id":1}`)},
		{Name: "env-unknown-method", Raw: doc(`{"jsonrpc":"2.0","method":"no.such","id":"x1"}`)},
		{Name: "env-params-object", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":{"b":"x","a":"y"},"id":1}`)},
		{Name: "env-params-string", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":"x","id":1}`)},
		{Name: "env-params-string-nonarray", Raw: doc(`{"jsonrpc":"2.0","method":"core.version","params":"x","id":1}`)},
		{Name: "env-params-empty", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":[],"id":1}`)},
		{Name: "env-id-none", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"]}`)},
		{Name: "env-id-null", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":null}`)},
		{Name: "env-id-true", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":true}`)},
		{Name: "env-id-float", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":1.5}`)},
		{Name: "env-id-string", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":"abc"}`)},
		{Name: "env-id-string-escapes", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":"q\"b/\u00e9\t"}`)},
		{Name: "env-id-bigint", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":12345678901}`)},
		{Name: "env-id-negative", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":-3}`)},
		{Name: "env-id-object", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":{}}`)},
		{Name: "env-id-first", Raw: doc(`{"id":7,"method":"core.prints","params":["a"],"jsonrpc":"2.0"}`)},
		{Name: "env-leading-whitespace", Raw: []byte("\n \t" + string(doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":1}`)))},
		{Name: "env-pretty-input", Raw: doc("{\n  \"jsonrpc\": \"2.0\",\n  \"method\": \"core.prints\",\n  \"params\": [\"a\",\n\"b\"],\n  \"id\": 2\n}\n")},
		{Name: "env-string-escapes", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":["a\u0001b\t\r\n\f\b/\u00e9\"x\\y"],"id":1}`)},
		{Name: "env-printi-types", Raw: doc(`{"jsonrpc":"2.0","method":"core.printi","params":["a",true,false,null,2.9,-2.9,2147483648,{},[]],"id":1}`)},
		{Name: "env-echo-types", Raw: doc(`{"jsonrpc":"2.0","method":"core.echo","params":["s",2.5,-1,7,true],"id":1}`)},
		{Name: "env-prints-number", Raw: doc(`{"jsonrpc":"2.0","method":"core.prints","params":[1],"id":1}`)},
		{Name: "env-ctl-who", Raw: doc(`{"jsonrpc":"2.0","method":"ctl.who","id":1}`), Why: "606 outside the ctl process"},
		{Name: "env-set_state-string-group", Raw: doc(`{"jsonrpc":"2.0","method":"dispatcher.set_state","params":["i","1","sip:10.0.0.1:5060"],"id":1}`), Why: "string group scans as 0"},
	}
	if tr == HTTP || tr == HTTPCompact {
		// Over FIFO and datagram these documents crash 5.6.3's jsonrpcs
		// process (SIGSEGV), which takes the whole server down.
		cs = append(cs,
			Case{Name: "env-jsonrpc-number", Raw: doc(`{"jsonrpc":2.0,"method":"core.version","id":1}`), Why: "non-string jsonrpc member"},
			Case{Name: "env-method-number", Raw: doc(`{"jsonrpc":"2.0","method":5,"id":1}`), Why: "non-string method member"})
	}
	if tr != FIFO {
		cs = append(cs, Case{Name: "env-batch", Raw: []byte(`[{"jsonrpc":"2.0","method":"core.version","id":1}]`), Why: "no batch support"})
	}
	switch tr {
	case HTTP, HTTPCompact:
		cs = append(cs,
			Case{Name: "http-path-404", Path: "/nope", Raw: []byte(`{"jsonrpc":"2.0","method":"core.version","id":1}`), Why: "cfg answers 404 outside /RPC"},
			Case{Name: "http-path-RPC2", Path: "/RPC2", Raw: []byte(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":1}`)},
			Case{Name: "http-after-invalid", Raw: []byte(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"id":1}`), Why: "server still answers after an unparsable request"},
		)
	case FIFO:
		cs = append(cs,
			Case{Name: "fifo-two-documents", Raw: []byte(`{"jsonrpc":"2.0","method":"core.prints","params":["a"],"reply_name":"@REPLY1@","id":1}{"jsonrpc":"2.0","method":"core.printi","params":[2],"reply_name":"@REPLY2@","id":2}`)},
			Case{Name: "fifo-two-documents-newline", Raw: []byte("{\"jsonrpc\":\"2.0\",\"method\":\"core.prints\",\"params\":[\"a\"],\"reply_name\":\"@REPLY1@\",\"id\":1}\n\n{\"jsonrpc\":\"2.0\",\"method\":\"core.printi\",\"params\":[2],\"reply_name\":\"@REPLY2@\",\"id\":2}\n")},
			Case{Name: "fifo-reply-name-dot", Raw: []byte(`{"jsonrpc":"2.0","method":"core.version","reply_name":"@REPLY1@.x","id":1}`), ExpectNone: true, Why: "Forbidden reply fifo filename"},
			Case{Name: "fifo-reply-name-missing", Raw: []byte(`{"jsonrpc":"2.0","method":"core.version","id":1}`), ExpectNone: true},
			Case{Name: "fifo-braces-in-strings", Raw: []byte(`{"jsonrpc":"2.0","method":"core.prints","params":["{}}{ \"}"],"reply_name":"@REPLY1@","id":1}`)},
			Case{Name: "fifo-after-errors", Raw: []byte(`{"jsonrpc":"2.0","method":"core.prints","params":["ok"],"reply_name":"@REPLY1@","id":1}`), Why: "still in step after the cases above"},
		)
	}
	for i := range cs {
		cs[i].Transport = tr
	}
	return cs
}

// Cases returns the case table of one transport, in execution order
// (read-only cases first, state-changing ones last).
func Cases(tr Transport) []Case {
	var out []Case
	subset := tr == KamcmdUnixd || tr == KamcmdTCP || tr == KamcmdUDP || tr == HTTPCompact || tr == DgramUDP
	if tr.isJSON() {
		out = append(out, envelopeCases(tr)...)
	}
	if tr.isBinrpc() {
		out = append(out, binrpcRawCases(tr)...)
	}
	if tr == Kamcmd {
		for _, c := range kamcmdExtraCases() {
			c.Transport = tr
			out = append(out, c)
		}
	}
	for _, c := range readonlyCalls() {
		if subset && !c.subset {
			continue
		}
		if tr == Kamctl && c.noShell {
			continue
		}
		out = append(out, c.toCase(tr))
	}
	if !subset {
		for _, c := range mutatingCalls() {
			out = append(out, c.toCase(tr))
		}
	}
	return out
}

// AllCases returns the cases of every transport.
func AllCases() []Case {
	var out []Case
	for _, tr := range Transports() {
		out = append(out, Cases(tr)...)
	}
	return out
}
