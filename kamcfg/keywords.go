package kamcfg

// Keyword tables of Kamailio 5.6.3's configuration language.
//
// The facts below (spellings, aliases, which values each setting takes) were
// taken from Kamailio's lexer and grammar (src/core/cfg.lex, src/core/cfg.y)
// and then checked one by one against the kamailio 5.6.3 binary with
// "kamailio -c": every word of reservedWords was confirmed to be a keyword
// (a #!define of that name does not expand), about 24,000 other identifiers
// were confirmed not to be, and every value kind of coreAssign was confirmed
// to be accepted, and every other kind to be a syntax error. keywords_test.go
// repeats those checks when the binary is installed.

// valueKind says which values a core `name = value` assignment accepts in
// Kamailio 5.6.3's grammar (cfg.y). The kinds of one setting are OR-ed.
type valueKind uint8

const (
	// kindInt is a NUMBER token: decimal, hex, octal, binary, or one of
	// numberWords (yes, off, inet6, ...).
	kindInt valueKind = 1 << iota
	// kindString is a string literal.
	kindString
	// kindID is a single bare identifier, such as log_facility=LOG_LOCAL0 or
	// user=kamailio. A dotted name is a syntax error for these settings.
	kindID
	// kindHost is an address as advertised_address takes it: an IPv4
	// address, an IPv6 address (bare or in brackets), or a host name made of
	// identifier or number pieces joined by '.' or '-'. A single identifier
	// or a single number is a one-label host name ("5" stays the text "5").
	kindHost
	// kindSocket is a socket list as listen= and alias= take it: one or more
	// [proto:]address[:port] items, where the address is anything kindHost
	// or kindString covers, or a parenthesised comma list of such addresses.
	// listen= may be followed by advertise/ADVERTISE host[:port],
	// name/NAME "id" and virtual, in that order; alias= takes no modifiers.
	kindSocket
	// kindOther is a value with a syntax of its own; the grammar reads it
	// loosely. In 5.6.3: tls_method (one of the words sslv23, sslv2, sslv3,
	// tlsv1 in the spellings of reservedWords), udp_mtu_try_proto (udp, tcp,
	// tls, sctp in either case, or '*'), tcp_source_ipv4 (an IPv4 address)
	// and tcp_source_ipv6 (an IPv6 address, bare or in brackets).
	kindOther
	// kindSigned, always set together with kindInt, marks the settings
	// whose grammar rule says "intno": there a '-' before the number is
	// accepted too (debug = -1). For the other number settings a negative
	// value is a syntax error (children = -1).
	kindSigned
)

// coreAssign maps every core setting keyword of Kamailio 5.6.3 (every
// spelling and alias cfg.lex accepts) to the value kinds cfg.y accepts after
// "=" for it.
//
// Two groups of statements that may be written with "=" are not here:
// loadpath/mpath and cfgengine are module statements whose "=" is optional
// (loadpath "dir" and loadpath = "dir" are the same), and the
// kemi.*_callback settings are written as three keywords, kemi "." name;
// they are listed under their dotted name ("kemi.onsend_route_callback").
var coreAssign = map[string]valueKind{
	// Logging and debugging.
	"debug":           kindInt | kindSigned,
	"log_stderror":    kindInt,
	"log_facility":    kindID,
	"log_name":        kindString,
	"log_color":       kindInt,
	"log_prefix":      kindString,
	"log_prefix_mode": kindInt,
	"log_engine_type": kindString,
	"log_engine_data": kindString,
	"corelog":         kindInt | kindSigned,
	"core_log":        kindInt | kindSigned,
	"sip_warning":     kindInt,
	"verbose_startup": kindInt,

	// Latency logging.
	"latency_log":          kindInt | kindSigned,
	"latency_cfg_log":      kindInt | kindSigned,
	"latency_limit_db":     kindInt,
	"latency_limit_action": kindInt,
	"latency_limit_cfg":    kindInt,

	// Memory.
	"shm":             kindInt,
	"shm_mem":         kindInt,
	"shm_mem_size":    kindInt,
	"shm_force_alloc": kindInt,
	"mlock_pages":     kindInt,
	"memlog":          kindInt | kindSigned,
	"mem_log":         kindInt | kindSigned,
	"memdbg":          kindInt | kindSigned,
	"mem_dbg":         kindInt | kindSigned,
	"mem_summary":     kindInt | kindSigned,
	"mem_safety":      kindInt | kindSigned,
	"mem_join":        kindInt | kindSigned,
	"mem_status_mode": kindInt | kindSigned,

	// Processes and start-up.
	"fork":                kindInt,
	"fork_delay":          kindInt,
	"modinit_delay":       kindInt,
	"children":            kindInt,
	"socket_workers":      kindInt,
	"async_workers":       kindInt,
	"async_usleep":        kindInt,
	"async_nonblock":      kindInt,
	"async_workers_group": kindString,
	"wait_worker1_mode":   kindInt,
	"wait_worker1_time":   kindInt,
	"wait_worker1_usleep": kindInt,
	"exit_timeout":        kindInt,
	"ser_kill_timeout":    kindInt,
	"disable_core_dump":   kindInt,
	"open_files_limit":    kindInt,
	"server_id":           kindInt,
	"route_locks_size":    kindInt,

	// Real-time scheduling.
	"real_time":          kindInt,
	"rt_prio":            kindInt,
	"rt_policy":          kindInt,
	"rt_timer1_prio":     kindInt,
	"rt_fast_timer_prio": kindInt,
	"rt_ftimer_prio":     kindInt,
	"rt_timer1_policy":   kindInt,
	"rt_ftimer_policy":   kindInt,
	"rt_timer2_prio":     kindInt,
	"rt_stimer_prio":     kindInt,
	"rt_timer2_policy":   kindInt,
	"rt_stimer_policy":   kindInt,

	// Process identity and directories.
	"user":    kindString | kindID,
	"uid":     kindString | kindID,
	"group":   kindString | kindID,
	"gid":     kindString | kindID,
	"chroot":  kindString | kindID,
	"workdir": kindString | kindID,
	"wdir":    kindString | kindID,
	"rundir":  kindString | kindID,
	"run_dir": kindString | kindID,

	// Sockets, addresses and aliases.
	"listen":               kindSocket,
	"alias":                kindSocket,
	"port":                 kindInt,
	"advertised_address":   kindHost | kindString,
	"advertised_port":      kindInt,
	"auto_aliases":         kindInt,
	"auto_bind_ipv6":       kindInt,
	"bind_ipv6_link_local": kindInt,
	"ipv6_hex_style":       kindString,
	"mhomed":               kindInt,
	"ip_free_bind":         kindInt | kindSigned,
	"ipfreebind":           kindInt | kindSigned,
	"ip_nonlocal_bind":     kindInt | kindSigned,
	"maxbuffer":            kindInt,
	"tos":                  kindInt | kindID,
	"pmtu_discovery":       kindInt,

	// Multicast.
	"mcast":          kindString | kindID,
	"mcast_loopback": kindInt,
	"mcast_ttl":      kindInt,

	// UDP.
	"udp_mtu":           kindInt,
	"udp_mtu_try_proto": kindOther,
	"udp4_raw":          kindInt | kindSigned,
	"udp4_raw_mtu":      kindInt,
	"udp4_raw_ttl":      kindInt,

	// TCP.
	"disable_tcp":             kindInt,
	"tcp_children":            kindInt,
	"tcp_accept_aliases":      kindInt,
	"tcp_accept_unique":       kindInt,
	"tcp_accept_no_cl":        kindInt,
	"tcp_accept_hep3":         kindInt,
	"tcp_accept_haproxy":      kindInt,
	"tcp_connection_match":    kindInt,
	"tcp_connect_timeout":     kindInt | kindSigned,
	"tcp_send_timeout":        kindInt | kindSigned,
	"tcp_connection_lifetime": kindInt | kindSigned,
	"tcp_poll_method":         kindString | kindID,
	"tcp_max_connections":     kindInt,
	"tcp_no_connect":          kindInt,
	"tcp_source_ipv4":         kindOther,
	"tcp_source_ipv6":         kindOther,
	"tcp_fd_cache":            kindInt,
	"tcp_buf_write":           kindInt,
	"tcp_async":               kindInt,
	"tcp_conn_wq_max":         kindInt,
	"tcp_wq_max":              kindInt,
	"tcp_rd_buf_size":         kindInt,
	"tcp_wq_blk_size":         kindInt,
	"tcp_defer_accept":        kindInt,
	"tcp_delayed_ack":         kindInt,
	"tcp_syncnt":              kindInt,
	"tcp_linger2":             kindInt,
	"tcp_keepalive":           kindInt,
	"tcp_keepidle":            kindInt,
	"tcp_keepintvl":           kindInt,
	"tcp_keepcnt":             kindInt,
	"tcp_crlf_ping":           kindInt,
	"tcp_clone_rcvbuf":        kindInt,
	"tcp_reuse_port":          kindInt,
	"tcp_wait_data":           kindInt | kindSigned,
	"tcp_script_mode":         kindInt | kindSigned,

	// TLS (the tls module does the real work; these are core leftovers).
	"disable_tls":             kindInt,
	"tls_disable":             kindInt,
	"enable_tls":              kindInt,
	"tls_enable":              kindInt,
	"tls_max_connections":     kindInt,
	"tlslog":                  kindInt,
	"tls_log":                 kindInt,
	"tls_port_no":             kindInt,
	"tls_method":              kindOther,
	"tls_verify":              kindInt,
	"tls_require_certificate": kindInt,
	"tls_certificate":         kindString,
	"tls_private_key":         kindString,
	"tls_ca_list":             kindString,
	"tls_handshake_timeout":   kindInt,
	"tls_send_timeout":        kindInt,

	// SCTP.
	"disable_sctp":  kindInt,
	"enable_sctp":   kindInt,
	"sctp_children": kindInt,

	// DNS lookups.
	"dns":                   kindInt,
	"rev_dns":               kindInt,
	"dns_try_ipv6":          kindInt,
	"dns_try_naptr":         kindInt,
	"dns_srv_lb":            kindInt,
	"dns_srv_loadbalancing": kindInt,
	"dns_udp_pref":          kindInt | kindSigned,
	"dns_udp_preference":    kindInt | kindSigned,
	"dns_tcp_pref":          kindInt | kindSigned,
	"dns_tcp_preference":    kindInt | kindSigned,
	"dns_tls_pref":          kindInt | kindSigned,
	"dns_tls_preference":    kindInt | kindSigned,
	"dns_sctp_pref":         kindInt | kindSigned,
	"dns_sctp_preference":   kindInt | kindSigned,
	"dns_retr_time":         kindInt,
	"dns_slow_query_ms":     kindInt,
	"dns_retr_no":           kindInt,
	"dns_servers_no":        kindInt,
	"dns_use_search_list":   kindInt,
	"dns_search_full_match": kindInt,
	"dns_naptr_ignore_rfc":  kindInt,

	// DNS cache.
	"dns_cache_init":              kindInt,
	"use_dns_cache":               kindInt,
	"use_dns_failover":            kindInt,
	"dns_cache_flags":             kindInt,
	"dns_cache_negative_ttl":      kindInt,
	"dns_cache_min_ttl":           kindInt,
	"dns_cache_max_ttl":           kindInt,
	"dns_cache_mem":               kindInt,
	"dns_cache_gc_interval":       kindInt,
	"dns_cache_del_nonexp":        kindInt,
	"dns_cache_delete_nonexpired": kindInt,
	"dns_cache_rec_pref":          kindInt,

	// Destination blocklist (5.6 spells it "blocklist"; the older
	// "blacklist" names are unknown to it).
	"dst_blocklist_init":        kindInt,
	"use_dst_blocklist":         kindInt,
	"dst_blocklist_mem":         kindInt,
	"dst_blocklist_expire":      kindInt,
	"dst_blocklist_ttl":         kindInt,
	"dst_blocklist_gc_interval": kindInt,
	"dst_blocklist_udp_imask":   kindInt,
	"dst_blocklist_tcp_imask":   kindInt,
	"dst_blocklist_tls_imask":   kindInt,
	"dst_blocklist_sctp_imask":  kindInt,

	// SIP message handling.
	"check_via":              kindInt,
	"phone2tel":              kindInt,
	"reply_to_via":           kindInt,
	"force_rport":            kindInt,
	"add_rport":              kindInt,
	"local_rport":            kindInt,
	"server_signature":       kindInt,
	"server_header":          kindString,
	"user_agent_header":      kindString,
	"http_reply_parse":       kindInt,
	"http_reply_hack":        kindInt,
	"sip_parser_log":         kindInt | kindSigned,
	"sip_parser_log_oneline": kindInt | kindSigned,
	"sip_parser_mode":        kindInt | kindSigned,
	"uri_host_extra_chars":   kindString,
	"hdr_name_extra_chars":   kindString,
	"xavp_via_params":        kindString,
	"xavp_via_fields":        kindString,
	"max_branches":           kindInt,
	"msg_time":               kindInt,

	// Routing-script engine.
	"max_while_loops":     kindInt,
	"max_recursive_level": kindInt,
	"onsend_route_reply":  kindInt,
	"received_route_mode": kindInt | kindSigned,
	"pv_buffer_size":      kindInt,
	"pv_buffer_slots":     kindInt,
	"pv_cache_limit":      kindInt,
	"pv_cache_action":     kindInt,

	// KEMI callbacks, written kemi.<name> = "function".
	"kemi.onsend_route_callback":   kindString,
	"kemi.reply_route_callback":    kindString,
	"kemi.event_route_callback":    kindString,
	"kemi.received_route_callback": kindString,
	"kemi.pre_routing_callback":    kindString,

	// Databases and statistics.
	"sql_buffer_size":      kindInt,
	"version_table":        kindString,
	"stats_name_separator": kindString,
}

// newerCoreAssign maps core settings that Kamailio 5.6.3 does not know to
// the release that introduced them, so that a reader can say "X is a
// Kamailio 5.7 setting" instead of "unknown config variable". The versions
// come from Kamailio's release notes ("New in 5.x") where they mention the
// setting, otherwise from the first source snapshot seen with the keyword;
// "master" means newer than 6.0. Socket-block attributes (bind, workers,
// haproxy) are not listed; the block itself is under "socket".
var newerCoreAssign = map[string]string{
	// 5.7
	"socket":           "5.7",
	"return_mode":      "5.7",
	"rpc_exec_delta":   "5.7",
	"domain":           "5.7",
	"auto_domains":     "5.7",
	"dns_use_cache":    "5.7",
	"dns_use_failover": "5.7",
	"dns_rev_via":      "5.7",
	"tcp_close_rst":    "5.7",

	// 5.8
	"xavp_via_reply_params":       "5.8",
	"maxsndbuffer":                "5.8",
	"kemi.request_route_callback": "5.8",
	"msg_recv_max_size":           "5.8",
	"tcp_msg_read_timeout":        "5.8",
	"tcp_msg_data_timeout":        "5.8",
	"tcp_check_timer":             "5.8",
	"tcp_accept_iplimit":          "5.8",
	"mem_add_size":                "5.8",
	"tls_threads_mode":            "5.8",
	"tcp_accept_protocols":        "5.8",
	"tcp_accept_protos":           "5.8",

	// 6.0
	"udp_receiver_mode": "6.0",
	"agname":            "6.0",
	"async_tkv_gname":   "6.0",
	"async_tkv_evcb":    "6.0",

	// master (after 6.0)
	"coreparam":                   "master",
	"vrf":                         "master",
	"tcp_main_threads":            "master",
	"tcp_reactor_threads":         "master",
	"rpc_exec_locks":              "master",
	"msg_clone_extra_size":        "master",
	"msg_apply_changes_mode":      "master",
	"tcp_listen_backlog":          "master",
	"tls_connection_match_domain": "master",
	"latency_sample_n":            "master",
	"udp_accept_proxy":            "master",
}

// reservedWords lists every word that Kamailio 5.6.3's lexer turns into a
// keyword token instead of an ID in its default state. Such a word cannot
// name a cfg group or variable, and a #!define of that name never expands.
// Matching is case-sensitive: only the spellings listed are keywords
// (UDP is one, Udp is not). Operators spelled with punctuation (==, &&,
// (int), uri:host, msg:len, $rc ...) are not words and are not listed.
var reservedWords = map[string]bool{
	// Route blocks. (There is no branch_failure_route keyword: that route
	// is written event_route[tm:branch-failure].)
	"route": true, "request_route": true, "failure_route": true,
	"onreply_route": true, "reply_route": true, "branch_route": true,
	"onsend_route": true, "event_route": true,

	// Control flow.
	"if": true, "else": true, "switch": true, "case": true, "default": true,
	"while": true, "break": true, "return": true, "exit": true, "drop": true,

	// Actions.
	"forward": true, "forward_tcp": true, "forward_udp": true,
	"forward_tls": true, "forward_sctp": true, "log": true, "error": true,
	"exec": true, "setflag": true, "resetflag": true, "isflagset": true,
	"setavpflag": true, "resetavpflag": true, "isavpflagset": true,
	"rewritehost": true, "sethost": true, "seth": true,
	"rewritehostport": true, "sethostport": true, "sethp": true,
	"rewritehostporttrans": true, "sethostporttrans": true, "sethpt": true,
	"rewriteuser": true, "setuser": true, "setu": true,
	"rewriteuserpass": true, "setuserpass": true, "setup": true,
	"rewriteport": true, "setport": true, "setp": true,
	"rewriteuri": true, "seturi": true, "revert_uri": true,
	"prefix": true, "strip": true, "strip_tail": true, "userphone": true,
	"remove_branch": true, "clear_branches": true,
	"set_advertised_address": true, "set_advertised_port": true,
	"force_send_socket": true, "set_forward_no_connect": true,
	"set_reply_no_connect": true, "set_forward_close": true,
	"set_reply_close": true, "add_local_rport": true,
	"force_tcp_alias": true, "add_tcp_alias": true,
	"cfg_select": true, "cfg_reset": true, "max_len": true,

	// Condition operands.
	"method": true, "uri": true, "status": true, "from_uri": true,
	"to_uri": true, "src_ip": true, "src_port": true, "dst_ip": true,
	"dst_port": true, "snd_ip": true, "snd_port": true, "snd_proto": true,
	"to_proto": true, "snd_af": true, "to_af": true, "to_ip": true,
	"to_port": true, "proto": true, "af": true, "myself": true,

	// Operators written as words.
	"not": true, "and": true, "or": true, "mod": true, "strlen": true,
	"strempty": true, "defined": true, "selval": true, "eq": true,
	"ieq": true, "ne": true, "ine": true,

	// Protocols.
	"udp": true, "UDP": true, "tcp": true, "TCP": true, "tls": true,
	"TLS": true, "sctp": true, "SCTP": true, "ws": true, "WS": true,
	"wss": true, "WSS": true,

	// TLS methods (values of tls_method).
	"sslv23": true, "SSLv23": true, "SSLV23": true,
	"sslv2": true, "SSLv2": true, "SSLV2": true,
	"sslv3": true, "SSLv3": true, "SSLV3": true,
	"tlsv1": true, "TLSv1": true, "TLSV1": true,

	// Number words (lexed as NUMBER, see numberWords).
	"yes": true, "true": true, "on": true, "enable": true,
	"no": true, "false": true, "off": true, "disable": true,
	"inet": true, "INET": true, "ipv4": true, "IPv4": true, "IPV4": true,
	"inet6": true, "INET6": true, "ipv6": true, "IPv6": true, "IPV6": true,

	// Module statements and includes.
	"loadmodule": true, "loadmodulex": true, "loadpath": true,
	"mpath": true, "modparam": true, "modparamx": true, "cfgengine": true,
	"include_file": true, "import_file": true,

	// Declarations and cfg variable descriptions.
	"flags": true, "bool": true, "avpflags": true,
	"desc": true, "descr": true, "description": true,

	// listen= modifiers.
	"advertise": true, "ADVERTISE": true, "name": true, "NAME": true,
	"virtual": true,

	// KEMI callback settings (kemi.<callback> = "function").
	"kemi": true, "onsend_route_callback": true,
	"reply_route_callback": true, "event_route_callback": true,
	"received_route_callback": true, "pre_routing_callback": true,

	// A keyword of the lexer that no grammar rule uses: any statement
	// with it is a syntax error.
	"statistics": true,

	// Core settings: every plain key of coreAssign.
	"debug": true, "log_stderror": true, "log_facility": true,
	"log_name": true, "log_color": true, "log_prefix": true,
	"log_prefix_mode": true, "log_engine_type": true,
	"log_engine_data": true, "corelog": true, "core_log": true,
	"sip_warning": true, "verbose_startup": true,
	"latency_log": true, "latency_cfg_log": true, "latency_limit_db": true,
	"latency_limit_action": true, "latency_limit_cfg": true,
	"shm": true, "shm_mem": true, "shm_mem_size": true,
	"shm_force_alloc": true, "mlock_pages": true, "memlog": true,
	"mem_log": true, "memdbg": true, "mem_dbg": true, "mem_summary": true,
	"mem_safety": true, "mem_join": true, "mem_status_mode": true,
	"fork": true, "fork_delay": true, "modinit_delay": true,
	"children": true, "socket_workers": true, "async_workers": true,
	"async_usleep": true, "async_nonblock": true,
	"async_workers_group": true, "wait_worker1_mode": true,
	"wait_worker1_time": true, "wait_worker1_usleep": true,
	"exit_timeout": true, "ser_kill_timeout": true,
	"disable_core_dump": true, "open_files_limit": true, "server_id": true,
	"route_locks_size": true,
	"real_time":        true, "rt_prio": true, "rt_policy": true,
	"rt_timer1_prio": true, "rt_fast_timer_prio": true,
	"rt_ftimer_prio": true, "rt_timer1_policy": true,
	"rt_ftimer_policy": true, "rt_timer2_prio": true,
	"rt_stimer_prio": true, "rt_timer2_policy": true,
	"rt_stimer_policy": true,
	"user":             true, "uid": true, "group": true, "gid": true, "chroot": true,
	"workdir": true, "wdir": true, "rundir": true, "run_dir": true,
	"listen": true, "alias": true, "port": true,
	"advertised_address": true, "advertised_port": true,
	"auto_aliases": true, "auto_bind_ipv6": true,
	"bind_ipv6_link_local": true, "ipv6_hex_style": true, "mhomed": true,
	"ip_free_bind": true, "ipfreebind": true, "ip_nonlocal_bind": true,
	"maxbuffer": true, "tos": true, "pmtu_discovery": true,
	"mcast": true, "mcast_loopback": true, "mcast_ttl": true,
	"udp_mtu": true, "udp_mtu_try_proto": true, "udp4_raw": true,
	"udp4_raw_mtu": true, "udp4_raw_ttl": true,
	"disable_tcp": true, "tcp_children": true, "tcp_accept_aliases": true,
	"tcp_accept_unique": true, "tcp_accept_no_cl": true,
	"tcp_accept_hep3": true, "tcp_accept_haproxy": true,
	"tcp_connection_match": true, "tcp_connect_timeout": true,
	"tcp_send_timeout": true, "tcp_connection_lifetime": true,
	"tcp_poll_method": true, "tcp_max_connections": true,
	"tcp_no_connect": true, "tcp_source_ipv4": true,
	"tcp_source_ipv6": true, "tcp_fd_cache": true, "tcp_buf_write": true,
	"tcp_async": true, "tcp_conn_wq_max": true, "tcp_wq_max": true,
	"tcp_rd_buf_size": true, "tcp_wq_blk_size": true,
	"tcp_defer_accept": true, "tcp_delayed_ack": true, "tcp_syncnt": true,
	"tcp_linger2": true, "tcp_keepalive": true, "tcp_keepidle": true,
	"tcp_keepintvl": true, "tcp_keepcnt": true, "tcp_crlf_ping": true,
	"tcp_clone_rcvbuf": true, "tcp_reuse_port": true,
	"tcp_wait_data": true, "tcp_script_mode": true,
	"disable_tls": true, "tls_disable": true, "enable_tls": true,
	"tls_enable": true, "tls_max_connections": true, "tlslog": true,
	"tls_log": true, "tls_port_no": true, "tls_method": true,
	"tls_verify": true, "tls_require_certificate": true,
	"tls_certificate": true, "tls_private_key": true, "tls_ca_list": true,
	"tls_handshake_timeout": true, "tls_send_timeout": true,
	"disable_sctp": true, "enable_sctp": true, "sctp_children": true,
	"dns": true, "rev_dns": true, "dns_try_ipv6": true,
	"dns_try_naptr": true, "dns_srv_lb": true,
	"dns_srv_loadbalancing": true, "dns_udp_pref": true,
	"dns_udp_preference": true, "dns_tcp_pref": true,
	"dns_tcp_preference": true, "dns_tls_pref": true,
	"dns_tls_preference": true, "dns_sctp_pref": true,
	"dns_sctp_preference": true, "dns_retr_time": true,
	"dns_slow_query_ms": true, "dns_retr_no": true, "dns_servers_no": true,
	"dns_use_search_list": true, "dns_search_full_match": true,
	"dns_naptr_ignore_rfc": true,
	"dns_cache_init":       true, "use_dns_cache": true, "use_dns_failover": true,
	"dns_cache_flags": true, "dns_cache_negative_ttl": true,
	"dns_cache_min_ttl": true, "dns_cache_max_ttl": true,
	"dns_cache_mem": true, "dns_cache_gc_interval": true,
	"dns_cache_del_nonexp": true, "dns_cache_delete_nonexpired": true,
	"dns_cache_rec_pref": true,
	"dst_blocklist_init": true, "use_dst_blocklist": true,
	"dst_blocklist_mem": true, "dst_blocklist_expire": true,
	"dst_blocklist_ttl": true, "dst_blocklist_gc_interval": true,
	"dst_blocklist_udp_imask": true, "dst_blocklist_tcp_imask": true,
	"dst_blocklist_tls_imask": true, "dst_blocklist_sctp_imask": true,
	"check_via": true, "phone2tel": true, "reply_to_via": true,
	"force_rport": true, "add_rport": true, "local_rport": true,
	"server_signature": true, "server_header": true,
	"user_agent_header": true, "http_reply_parse": true,
	"http_reply_hack": true, "sip_parser_log": true,
	"sip_parser_log_oneline": true, "sip_parser_mode": true,
	"uri_host_extra_chars": true, "hdr_name_extra_chars": true,
	"xavp_via_params": true, "xavp_via_fields": true, "max_branches": true,
	"msg_time":        true,
	"max_while_loops": true, "max_recursive_level": true,
	"onsend_route_reply": true, "received_route_mode": true,
	"pv_buffer_size": true, "pv_buffer_slots": true,
	"pv_cache_limit": true, "pv_cache_action": true,
	"sql_buffer_size": true, "version_table": true,
	"stats_name_separator": true,
}

// numberWords gives the value of the words Kamailio 5.6.3 lexes as a NUMBER
// token. inet/ipv4 are AF_INET (2) and inet6/ipv6 are AF_INET6 (10) on
// Linux; only the spellings listed are number words.
var numberWords = map[string]int32{
	"yes": 1, "true": 1, "on": 1, "enable": 1,
	"no": 0, "false": 0, "off": 0, "disable": 0,
	"inet": 2, "INET": 2, "ipv4": 2, "IPv4": 2, "IPV4": 2,
	"inet6": 10, "INET6": 10, "ipv6": 10, "IPv6": 10, "IPV6": 10,
}
