package kamcfg

// TEMPORARY until keywords.go lands.
type valueKind uint8

const (
	kindInt valueKind = 1 << iota
	kindString
	kindID
	kindHost
	kindSocket
	kindOther
)

var coreAssign = map[string]valueKind{"debug": kindInt, "children": kindInt, "log_stderror": kindInt, "fork": kindInt, "memdbg": kindInt, "memlog": kindInt, "log_facility": kindID | kindString, "port": kindInt, "rundir": kindString | kindID, "listen": kindSocket, "alias": kindSocket | kindHost | kindString, "auto_aliases": kindInt, "tcp_accept_no_cl": kindInt, "server_signature": kindInt, "advertised_address": kindHost | kindString}
var newerCoreAssign = map[string]string{"rpc_exec_delta": "5.7"}
var reservedWords = map[string]bool{}
var numberWords = map[string]int32{"yes": 1, "true": 1, "on": 1, "enable": 1, "no": 0, "false": 0, "off": 0, "disable": 0}

func init() {
	for _, w := range []string{"loadmodule", "loadmodulex", "loadpath", "mpath", "modparam", "modparamx", "cfgengine", "flags", "bool", "avpflags", "route", "request_route", "failure_route", "onreply_route", "reply_route", "branch_route", "onsend_route", "event_route", "branch_failure_route", "listen", "alias", "advertise", "ADVERTISE", "name", "NAME", "virtual", "udp", "tcp", "tls", "sctp", "ws", "wss", "UDP", "TCP", "TLS", "SCTP", "WS", "WSS", "desc", "descr", "description", "if", "else", "return", "exit", "drop"} {
		reservedWords[w] = true
	}
	for k := range coreAssign {
		reservedWords[k] = true
	}
}
