package kamcfg

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

const settingsCfg = "kamailio.cfg"

// at is a position on line n of the test cfg.
func at(n int) Position { return Position{File: settingsCfg, Line: n, Col: 1} }

// loads returns loadmodule statements for the names, on lines 1, 2, ...
func loads(names ...string) []LoadModule {
	var out []LoadModule
	for i, n := range names {
		out = append(out, LoadModule{Path: n + ".so", Name: n, Pos: at(i + 1)})
	}
	return out
}

// mp builds a modparam statement on line n as the parser would: Modules
// are the loaded modules the regex matched (the module itself when none
// are given).
func mp(n int, module, param string, v Value, matched ...string) ModParam {
	if len(matched) == 0 {
		matched = []string{module}
	}
	return ModParam{Module: module, Param: param, Value: v, Modules: matched, Pos: at(n)}
}

func warnAt(n int, msg string) Diagnostic  { return Diagnostic{Pos: at(n), Severity: Warning, Msg: msg} }
func errorAt(n int, msg string) Diagnostic { return Diagnostic{Pos: at(n), Severity: Error, Msg: msg} }

var allSix = []string{"tm", "dispatcher", "keepalive", "jsonrpcs", "xhttp", "ctl"}

func wantDefaultDispatcher() Dispatcher {
	return Dispatcher{
		ListFile: "/etc/kamailio/dispatcher.list", TableName: "dispatcher", SetIDCol: "setid",
		DestinationCol: "destination", FlagsCol: "flags", PriorityCol: "priority", AttrsCol: "attrs",
		ReloadDelta: 5, DSPingMethod: "OPTIONS", DSPingFrom: "sip:dispatcher@localhost",
		DSProbingThreshold: 1, DSInactiveThreshold: 1, DSLatencyEstimatorAlpha: 900,
		DSDNSMode: 1, DSDNSInterval: 600, ForceDst: 1, XAVPDst: "_dsdst_", XAVPCtx: "_dsctx_",
		DSHashExpire: 7200, DSHashInitExpire: 7200, DSHashCheckInterval: 30,
	}
}

func wantDefaultTM() TM {
	return TM{
		FRTimerMS: 30000, FRInvTimerMS: 120000, WTTimerMS: 5000, MaxInvLifetimeMS: 180000,
		MaxNonInvLifetimeMS: 32000, RetrTimer1MS: 500, RetrTimer2MS: 4000, NoisyCTimer: 1,
		RestartFROnEachReply: 1, AutoInv100: 1, AutoInv100Reason: "trying -- your call is important to us",
		UnixTxTimeoutMS: 500, AggregateChallenges: 1, ReparseInvite: 1, Blst503MaxTimeout: 3600,
		BlstMethodsAdd: 1, BlstMethodsLookup: 4294967287, CancelBMethod: 1, ReparseOnDNSFailover: 1,
		RURIMatching: 1, Via1Matching: 1, DefaultCode: 500, DefaultReason: "Server Internal Error",
		FailureReplyMode: 3, LocalCancelReason: 1, E2ECancelReason: 1, Remap503500: 1,
		ExecTimeCheckMS: 5000, ReplyRelayMode: 1,
	}
}

func wantDefaultJSONRPC(fifo, dgram string) JSONRPC {
	return JSONRPC{
		PrettyFormat: 1, Transport: 6, FIFOName: fifo, FIFOMode: 0o660, FIFOReplyDir: "/tmp/",
		DgramSocket: dgram, DgramWorkers: 1, DgramTimeout: 2000, DgramMode: 0o660, on: 6,
	}
}

func wantDefaultCTL(path string) CTL {
	return CTL{
		BinRPC: []CTLListener{{Spec: "unixs:" + path, Proto: CTLUnixStream, Addr: path, Default: true}},
		Mode:   0o600, BinRPCMaxBodySize: 32, BinRPCStructMaxBodySize: 8, BinRPCBufferSize: 1024,
	}
}

// TestSettingsDefaults checks every default with nothing written, for the
// runtime directories that matter.
func TestSettingsDefaults(t *testing.T) {
	tests := []struct {
		name   string
		rundir string
		fifo   string
		dgram  string
		ctl    string
	}{
		{"debian rundir with trailing slash", "/var/run/kamailio/",
			"/var/run/kamailio/kamailio_rpc.fifo", "/var/run/kamailio/kamailio_rpc.sock", "/var/run/kamailio//kamailio_ctl"},
		{"rundir without trailing slash", "/run/kamailio",
			"/run/kamailio/kamailio_rpc.fifo", "/run/kamailio/kamailio_rpc.sock", "/run/kamailio/kamailio_ctl"},
		{"empty rundir", "", "kamailio_rpc.fifo", "kamailio_rpc.sock", "/kamailio_ctl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := resolveSettings(nil, nil, tt.rundir)
			if len(diags) != 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			want := Settings{
				Dispatcher: wantDefaultDispatcher(),
				Keepalive:  Keepalive{PingInterval: 30, DeleteCounter: 5, PingFrom: "sip:keepalive@kamailio.org"},
				TM:         wantDefaultTM(),
				JSONRPC:    wantDefaultJSONRPC(tt.fifo, tt.dgram),
				XHTTP:      XHTTP{},
				CTL:        wantDefaultCTL(tt.ctl),
			}
			if !reflect.DeepEqual(s, want) {
				for _, d := range diffFields(s, want) {
					t.Error(d)
				}
			}
		})
	}
}

// diffFields lists the fields of two Settings that differ.
func diffFields(got, want Settings) []string {
	var out []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		gm, wm := gv.Field(i), wv.Field(i)
		for j := 0; j < gm.NumField(); j++ {
			if gm.Type().Field(j).IsExported() && !reflect.DeepEqual(gm.Field(j).Interface(), wm.Field(j).Interface()) {
				out = append(out, fmt.Sprintf("%s.%s = %#v, want %#v", gv.Type().Field(i).Name,
					gm.Type().Field(j).Name, gm.Field(j).Interface(), wm.Field(j).Interface()))
			}
		}
		if !reflect.DeepEqual(gm.Interface(), wm.Interface()) && len(out) == 0 {
			out = append(out, fmt.Sprintf("%s differs in unexported fields: %+v, want %+v",
				gv.Type().Field(i).Name, gm.Interface(), wm.Interface()))
		}
	}
	return out
}

// TestSettingsParams sets parameters of each module and checks the fields.
func TestSettingsParams(t *testing.T) {
	tests := []struct {
		name   string
		mods   []string
		params []ModParam
		// warnings are allowed (checked in TestSettingsDiagnostics)
		warnings bool
		check    func(t *testing.T, s Settings)
	}{
		{
			name: "dispatcher data source and probing",
			mods: []string{"tm", "dispatcher"},
			params: []ModParam{
				mp(10, "dispatcher", "db_url", StrVal("mysql://k:pw@localhost/kamailio")),
				mp(11, "dispatcher", "table_name", StrVal("ds")),
				mp(12, "dispatcher", "ds_ping_interval", IntVal(10)),
				mp(13, "dispatcher", "ds_ping_from", StrVal("sip:ping@example.org")),
				mp(14, "dispatcher", "ds_probing_mode", IntVal(1)),
				mp(15, "dispatcher", "ds_probing_threshold", IntVal(3)),
				mp(16, "dispatcher", "ds_inactive_threshold", IntVal(2)),
				mp(17, "dispatcher", "ds_ping_reply_codes", StrVal("class=4;code=503")),
				mp(18, "dispatcher", "ds_ping_latency_stats", IntVal(1)),
				mp(19, "dispatcher", "ds_latency_estimator_alpha", IntVal(500)),
				mp(20, "dispatcher", "outbound_proxy", StrVal("sip:10.0.0.1")),
				mp(21, "dispatcher", "ds_hash_size", IntVal(9)),
				mp(22, "dispatcher", "flags", IntVal(2)),
				mp(23, "dispatcher", "xavp_dst", StrVal("_dst_")),
				mp(24, "dispatcher", "ds_ping_method", StrVal("INFO")),
				mp(25, "dispatcher", "ds_db_extra_attrs", StrVal("socket=sockcol;")),
			},
			check: func(t *testing.T, s Settings) {
				d := s.Dispatcher
				if !d.Loaded || d.Source() != SourceDB || d.DBURL != "mysql://k:pw@localhost/kamailio" || d.TableName != "ds" {
					t.Errorf("data source: %+v", d)
				}
				if d.PingInterval() != 10*time.Second || d.DSPingFrom != "sip:ping@example.org" || d.DSPingMethod != "INFO" {
					t.Errorf("probing: %+v", d)
				}
				if d.DSProbingMode != 1 || d.DSProbingThreshold != 3 || d.DSInactiveThreshold != 2 || d.DSPingLatencyStats != 1 {
					t.Errorf("probing mode/thresholds: %+v", d)
				}
				if !reflect.DeepEqual(d.DSPingReplyCodes, ReplyCodes{Text: "class=4;code=503", Codes: []int{503}, Classes: []int{4}}) {
					t.Errorf("reply codes: %+v", d.DSPingReplyCodes)
				}
				if d.DSLatencyEstimatorAlpha != 500 || d.LatencyAlpha() != 0.5 {
					t.Errorf("alpha: %d", d.DSLatencyEstimatorAlpha)
				}
				if d.OutboundProxy != "sip:10.0.0.1" || d.DSHashSize != 9 || d.Flags != 2 || d.XAVPDst != "_dst_" {
					t.Errorf("routing: %+v", d)
				}
				if d.DSDBExtraAttrs != "socket=sockcol;" {
					t.Errorf("extra attrs: %q", d.DSDBExtraAttrs)
				}
			},
		},
		{
			name: "dispatcher list file source",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(10, "dispatcher", "list_file", StrVal("/etc/k/ds.list")),
			},
			check: func(t *testing.T, s Settings) {
				if s.Dispatcher.Source() != SourceListFile || s.Dispatcher.ListFile != "/etc/k/ds.list" || s.Dispatcher.Source().String() != "list_file" {
					t.Errorf("list file: %+v", s.Dispatcher)
				}
				if s.Dispatcher.PingInterval() != 0 || s.Dispatcher.PingFRTimeout() != 0 {
					t.Errorf("probing should be off")
				}
			},
		},
		{
			name: "keepalive",
			mods: []string{"tm", "keepalive"},
			params: []ModParam{
				mp(10, "keepalive", "ping_interval", IntVal(10)),
				mp(11, "keepalive", "delete_counter", IntVal(0)),
				mp(12, "keepalive", "ping_from", StrVal("sip:ka@example.org")),
				mp(13, "keepalive", "destination", StrVal("127.0.0.1:5071")),
			},
			check: func(t *testing.T, s Settings) {
				k := s.Keepalive
				want := Keepalive{Loaded: true, PingInterval: 10, DeleteCounter: 0, PingFrom: "sip:ka@example.org",
					Destination: []KeepaliveDestination{{URI: "sip:127.0.0.1:5071", Value: "127.0.0.1:5071", Pos: at(13)}}}
				if !reflect.DeepEqual(k, want) {
					t.Errorf("got %+v, want %+v", k, want)
				}
				if k.Interval() != 10*time.Second {
					t.Errorf("interval %v", k.Interval())
				}
			},
		},
		{
			name: "tm timers and strings",
			mods: []string{"tm"},
			params: []ModParam{
				mp(10, "tm", "fr_timer", IntVal(1000)),
				mp(11, "tm", "fr_inv_timer", IntVal(90000)),
				mp(12, "tm", "wt_timer", IntVal(1)),
				mp(13, "tm", "retr_timer1", IntVal(250)),
				mp(14, "tm", "retr_timer2", IntVal(2000)),
				mp(15, "tm", "max_inv_lifetime", IntVal(150000)),
				mp(16, "tm", "max_noninv_lifetime", IntVal(30000)),
				mp(17, "tm", "auto_inv_100_reason", StrVal("Trying")),
				mp(18, "tm", "blst_methods_lookup", IntVal(1)),
				mp(19, "tm", "contacts_avp", StrVal("tm_contacts")),
				mp(20, "tm", "contact_flows_avp", StrVal("tm_contact_flows")),
				mp(21, "tm", "restart_fr_on_each_reply", IntVal(0)),
				mp(22, "tm", "noisy_ctimer", IntVal(0)),
				mp(23, "tm", "auto_inv_100", IntVal(0)),
				mp(24, "tm", "unix_tx_timeout", IntVal(250)),
				mp(25, "tm", "e2e_cancel_reason", IntVal(0)),
				mp(26, "tm", "xavp_contact", StrVal("ulattrs")),
			},
			check: func(t *testing.T, s Settings) {
				m := s.TM
				if !m.Loaded || m.FRTimerMS != 1000 || m.FRTimer() != time.Second || m.FRInvTimer() != 90*time.Second {
					t.Errorf("fr timers: %+v", m)
				}
				// 1 ms is rounded up to one tick
				if m.WTTimerMS != 1 || m.WTTimer() != 62500*time.Microsecond {
					t.Errorf("wt_timer: %d %v", m.WTTimerMS, m.WTTimer())
				}
				if m.RetrTimer1() != 250*time.Millisecond || m.RetrTimer2() != 2*time.Second {
					t.Errorf("retr timers: %v %v", m.RetrTimer1(), m.RetrTimer2())
				}
				if m.MaxInvLifetime() != 150*time.Second || m.MaxNonInvLifetime() != 30*time.Second {
					t.Errorf("lifetimes: %v %v", m.MaxInvLifetime(), m.MaxNonInvLifetime())
				}
				if m.AutoInv100Reason != "Trying" || m.BlstMethodsLookup != 1 || m.ContactsAVP != "tm_contacts" || m.ContactFlowsAVP != "tm_contact_flows" {
					t.Errorf("strings: %+v", m)
				}
				if m.RestartFROnEachReply != 0 || m.NoisyCTimer != 0 || m.AutoInv100 != 0 || m.UnixTxTimeoutMS != 250 || m.E2ECancelReason != 0 || m.XAVPContact != "ulattrs" {
					t.Errorf("ints: %+v", m)
				}
			},
		},
		{
			name: "tm timer rounding to ticks",
			mods: []string{"tm"},
			params: []ModParam{
				mp(10, "tm", "fr_timer", IntVal(100)),
				mp(11, "tm", "fr_inv_timer", IntVal(63)),
			},
			check: func(t *testing.T, s Settings) {
				// 100 ms = 1.6 ticks, rounded up to 2 ticks = 125 ms
				if s.TM.FRTimer() != 125*time.Millisecond || s.TM.FRInvTimer() != 125*time.Millisecond {
					t.Errorf("got %v %v", s.TM.FRTimer(), s.TM.FRInvTimer())
				}
			},
		},
		{
			name: "jsonrpcs",
			mods: []string{"xhttp", "jsonrpcs"},
			params: []ModParam{
				mp(10, "jsonrpcs", "pretty_format", IntVal(0)),
				mp(11, "jsonrpcs", "transport", IntVal(7)),
				mp(12, "jsonrpcs", "fifo_name", StrVal("/tmp/k.fifo")),
				mp(13, "jsonrpcs", "fifo_mode", IntVal(0o666)),
				mp(14, "jsonrpcs", "fifo_user", StrVal("kamailio")),
				mp(15, "jsonrpcs", "fifo_group", IntVal(110)),
				mp(16, "jsonrpcs", "fifo_reply_dir", StrVal("/run/kam/")),
				mp(17, "jsonrpcs", "dgram_socket", StrVal("udp:127.0.0.1:8090")),
				mp(18, "jsonrpcs", "dgram_workers", IntVal(4)),
				mp(19, "jsonrpcs", "dgram_timeout", IntVal(500)),
				mp(20, "jsonrpcs", "dgram_mode", IntVal(0o640)),
				mp(21, "jsonrpcs", "dgram_user", IntVal(0)),
				mp(22, "jsonrpcs", "dgram_group", StrVal("adm")),
			},
			check: func(t *testing.T, s Settings) {
				j := s.JSONRPC
				want := JSONRPC{Loaded: true, PrettyFormat: 0, Transport: 7, FIFOName: "/tmp/k.fifo", FIFOMode: 0o666,
					FIFOUser: Owner{Name: "kamailio", NameSet: true}, FIFOGroup: Owner{ID: 110, IDSet: true},
					FIFOReplyDir: "/run/kam/", DgramSocket: "udp:127.0.0.1:8090", DgramWorkers: 4, DgramTimeout: 500,
					DgramMode: 0o640, DgramUser: Owner{ID: 0, IDSet: true}, DgramGroup: Owner{Name: "adm", NameSet: true}, on: 7}
				if !reflect.DeepEqual(j, want) {
					t.Errorf("got  %+v\nwant %+v", j, want)
				}
				if !j.HTTPOn() || !j.FIFOOn() || !j.DgramOn() {
					t.Errorf("transports: %v %v %v", j.HTTPOn(), j.FIFOOn(), j.DgramOn())
				}
				if n, a := j.DgramNetwork(); n != "udp" || a != "127.0.0.1:8090" {
					t.Errorf("dgram network %q %q", n, a)
				}
				if j.FIFOUser.String() != "kamailio" || j.FIFOGroup.String() != "110" || j.DgramUser.String() != "0" {
					t.Errorf("owners: %v %v %v", j.FIFOUser, j.FIFOGroup, j.DgramUser)
				}
			},
		},
		{
			name: "xhttp",
			mods: []string{"xhttp"},
			params: []ModParam{
				mp(10, "xhttp", "url_match", StrVal("^/RPC")),
				mp(11, "xhttp", "url_skip", StrVal("^/RPC2")),
				mp(12, "xhttp", "event_callback", StrVal("ksr_xhttp_event")),
			},
			check: func(t *testing.T, s Settings) {
				x := s.XHTTP
				if !x.Loaded || x.URLMatch != "^/RPC" || x.URLSkip != "^/RPC2" || x.EventCallback != "ksr_xhttp_event" {
					t.Errorf("got %+v", x)
				}
				for url, want := range map[string]bool{"/RPC": true, "/RPC/x": true, "/RPC2": false, "/rpc": false, "/other": false} {
					if x.Handles(url) != want {
						t.Errorf("Handles(%q) = %v", url, !want)
					}
				}
			},
		},
		{
			name: "ctl",
			mods: []string{"ctl"},
			params: []ModParam{
				mp(10, "ctl", "binrpc", StrVal("unix:/run/kamailio/ctl.sock")),
				mp(11, "ctl", "binrpc", StrVal("tcp:127.0.0.1:2046")),
				mp(12, "ctl", "mode", IntVal(0o666)),
				mp(13, "ctl", "user", StrVal("kamailio")),
				mp(14, "ctl", "group", StrVal("1000")),
				mp(15, "ctl", "autoconversion", IntVal(1)),
				mp(16, "ctl", "binrpc_max_body_size", IntVal(64)),
				mp(17, "ctl", "binrpc_struct_max_body_size", IntVal(16)),
				mp(18, "ctl", "binrpc_buffer_size", IntVal(4096)),
			},
			check: func(t *testing.T, s Settings) {
				want := CTL{Loaded: true,
					BinRPC: []CTLListener{
						{Spec: "unix:/run/kamailio/ctl.sock", Proto: CTLUnixStream, Addr: "/run/kamailio/ctl.sock", Pos: at(10)},
						{Spec: "tcp:127.0.0.1:2046", Proto: CTLTCP, Addr: "127.0.0.1", Port: 2046, Pos: at(11)},
					},
					Mode: 0o666, User: "kamailio", Group: "1000", Autoconversion: 1,
					BinRPCMaxBodySize: 64, BinRPCStructMaxBodySize: 16, BinRPCBufferSize: 4096}
				if !reflect.DeepEqual(s.CTL, want) {
					t.Errorf("got  %+v\nwant %+v", s.CTL, want)
				}
				if n, a := s.CTL.BinRPC[1].Network(); n != "tcp" || a != "127.0.0.1:2046" {
					t.Errorf("network %q %q", n, a)
				}
			},
		},
		{
			name: "regex modparam hitting two modules",
			mods: []string{"tm", "dispatcher"},
			params: []ModParam{
				mp(10, "tm|dispatcher", "event_callback", StrVal("ksr_event"), "tm", "dispatcher"),
				mp(11, "TM|XHTTP", "event_callback", StrVal("ksr_other"), "tm"),
			},
			check: func(t *testing.T, s Settings) {
				if s.TM.EventCallback != "ksr_other" || s.Dispatcher.EventCallback != "ksr_event" {
					t.Errorf("tm %q dispatcher %q", s.TM.EventCallback, s.Dispatcher.EventCallback)
				}
			},
		},
		{
			name: "plain parameter set twice: last wins",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(10, "dispatcher", "ds_ping_from", StrVal("sip:a@x")),
				mp(11, "dispatcher", "ds_ping_from", StrVal("sip:b@x")),
				mp(12, "dispatcher", "ds_ping_reply_codes", StrVal("class=3")),
				mp(13, "dispatcher", "ds_ping_reply_codes", StrVal("code=404")),
			},
			check: func(t *testing.T, s Settings) {
				d := s.Dispatcher
				if d.DSPingFrom != "sip:b@x" || !reflect.DeepEqual(d.DSPingReplyCodes, ReplyCodes{Text: "code=404", Codes: []int{404}}) {
					t.Errorf("got %q %+v", d.DSPingFrom, d.DSPingReplyCodes)
				}
			},
		},
		{
			name: "accumulating parameters keep every occurrence in order",
			mods: []string{"tm", "keepalive", "ctl"},
			params: []ModParam{
				mp(10, "keepalive", "destination", StrVal("sip:10.0.0.1")),
				mp(11, "ctl", "binrpc", StrVal("udp:127.0.0.1:2049")),
				mp(12, "keepalive", "destination", StrVal("SIPS:Host.example.org;transport=tls")),
				mp(13, "ctl", "fifo", StrVal("/tmp/kamailio_fifo")),
				mp(14, "keepalive", "destination", StrVal("10.0.0.1")),
				mp(15, "ctl", "binrpc", StrVal("unixd:/tmp/ctl.dgram")),
				mp(16, "tm", "tw_append", StrVal("a:x=$fu")),
				mp(17, "tm", "tw_append", StrVal("b:y=$tu")),
			},
			check: func(t *testing.T, s Settings) {
				wantKA := []KeepaliveDestination{
					{URI: "sip:10.0.0.1", Value: "sip:10.0.0.1", Pos: at(10)},
					{URI: "SIPS:Host.example.org;transport=tls", Value: "SIPS:Host.example.org;transport=tls", Pos: at(12)},
					{URI: "sip:10.0.0.1", Value: "10.0.0.1", Pos: at(14)},
				}
				if !reflect.DeepEqual(s.Keepalive.Destination, wantKA) {
					t.Errorf("keepalive: %+v", s.Keepalive.Destination)
				}
				wantBin := []CTLListener{
					{Spec: "udp:127.0.0.1:2049", Proto: CTLUDP, Addr: "127.0.0.1", Port: 2049, Pos: at(11)},
					{Spec: "unixd:/tmp/ctl.dgram", Proto: CTLUnixDgram, Addr: "/tmp/ctl.dgram", Pos: at(15)},
				}
				wantFIFO := []CTLListener{{Spec: "/tmp/kamailio_fifo", Proto: CTLFIFO, Addr: "/tmp/kamailio_fifo", Pos: at(13)}}
				if !reflect.DeepEqual(s.CTL.BinRPC, wantBin) || !reflect.DeepEqual(s.CTL.FIFO, wantFIFO) {
					t.Errorf("ctl: %+v %+v", s.CTL.BinRPC, s.CTL.FIFO)
				}
				if !reflect.DeepEqual(s.TM.TWAppend, []string{"a:x=$fu", "b:y=$tu"}) {
					t.Errorf("tw_append: %q", s.TM.TWAppend)
				}
			},
		},
		{
			name: "ctl fifo only: no default binrpc listener",
			mods: []string{"ctl"},
			params: []ModParam{
				mp(10, "ctl", "fifo", StrVal("fifo:/tmp/kamailio_fifo")),
			},
			check: func(t *testing.T, s Settings) {
				if len(s.CTL.BinRPC) != 0 || len(s.CTL.FIFO) != 1 {
					t.Errorf("binrpc %+v fifo %+v", s.CTL.BinRPC, s.CTL.FIFO)
				}
			},
		},
		{
			name:     "newer dispatcher parameters are read",
			mods:     []string{"tm", "dispatcher"},
			warnings: true,
			params: []ModParam{
				mp(10, "dispatcher", "ds_ping_fr_timer", IntVal(32)),
				mp(11, "dispatcher", "ds_retain_latency_stats", IntVal(1)),
				mp(12, "dispatcher", "ds_ping_socket", StrVal("udp:127.0.0.1:5060")),
				mp(13, "dispatcher", "event_callback_mode", IntVal(2)),
			},
			check: func(t *testing.T, s Settings) {
				d := s.Dispatcher
				if d.DSPingFRTimeout != 32 || d.PingFRTimeout() != 2*time.Second || d.DSRetainLatencyStats != 1 ||
					d.DSPingSocket != "udp:127.0.0.1:5060" || d.EventCallbackMode != 2 {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			name: "modules outside the six are ignored",
			mods: []string{"sl", "usrloc"},
			params: []ModParam{
				mp(10, "usrloc", "db_url", StrVal("mysql://x")),
				mp(11, "sl|usrloc", "whatever", IntVal(1), "sl", "usrloc"),
			},
			check: func(t *testing.T, s Settings) {
				if s.Dispatcher.DBURL != "" || s.Dispatcher.Loaded {
					t.Errorf("dispatcher touched: %+v", s.Dispatcher)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := resolveSettings(loads(tt.mods...), tt.params, "/var/run/kamailio/")
			for _, d := range diags {
				if tt.warnings && d.Severity == Warning {
					continue
				}
				t.Errorf("unexpected diagnostic: %s", d)
			}
			tt.check(t, s)
		})
	}
}

// TestSettingsDiagnostics checks the exact errors and warnings, with their
// positions.
func TestSettingsDiagnostics(t *testing.T) {
	tests := []struct {
		name   string
		mods   []string
		params []ModParam
		want   []Diagnostic
		check  func(t *testing.T, s Settings)
	}{
		{
			name:   "int parameter given a string",
			mods:   []string{"dispatcher"},
			params: []ModParam{mp(7, "dispatcher", "ds_ping_interval", StrVal("10"))},
			want:   []Diagnostic{errorAt(7, `modparam "ds_ping_interval" of module "dispatcher" takes an int, not a string`)},
			check: func(t *testing.T, s Settings) {
				if s.Dispatcher.DSPingInterval != 0 {
					t.Errorf("the refused value was stored")
				}
			},
		},
		{
			name:   "string parameter given an int",
			mods:   []string{"tm", "keepalive"},
			params: []ModParam{mp(8, "keepalive", "ping_from", IntVal(5))},
			want:   []Diagnostic{errorAt(8, `modparam "ping_from" of module "keepalive" takes a string, not an int`)},
		},
		{
			name: "int-or-string parameters take both",
			mods: []string{"jsonrpcs"},
			params: []ModParam{
				mp(8, "jsonrpcs", "fifo_group", IntVal(5)),
				mp(9, "jsonrpcs", "dgram_user", StrVal("kamailio")),
			},
			want: nil,
		},
		{
			name:   "keepalive delete_counter as the README writes it",
			mods:   []string{"tm", "keepalive"},
			params: []ModParam{mp(3, "keepalive", "delete_counter", StrVal("5"))},
			want:   []Diagnostic{errorAt(3, `modparam "delete_counter" of module "keepalive" takes an int, not a string`)},
		},
		{
			name: "unknown parameters of known modules",
			mods: []string{"tm", "dispatcher", "ctl"},
			params: []ModParam{
				mp(4, "dispatcher", "dst_avp", StrVal("$avp(dst)")),
				mp(5, "ctl", "Mode", IntVal(0o600)),
				mp(6, "tm", "delete_timer", IntVal(1)),
			},
			want: []Diagnostic{
				warnAt(4, `unknown parameter "dst_avp" of module "dispatcher"`),
				warnAt(5, `unknown parameter "Mode" of module "ctl"`),
				warnAt(6, `unknown parameter "delete_timer" of module "tm"`),
			},
		},
		{
			name:   "regex modparam: the parameter is missing in one module",
			mods:   []string{"tm", "dispatcher"},
			params: []ModParam{mp(9, "tm|dispatcher", "fr_timer", IntVal(2000), "tm", "dispatcher")},
			want:   []Diagnostic{warnAt(9, `unknown parameter "fr_timer" of module "dispatcher"`)},
			check: func(t *testing.T, s Settings) {
				if s.TM.FRTimerMS != 2000 {
					t.Errorf("tm fr_timer %d", s.TM.FRTimerMS)
				}
			},
		},
		{
			name: "latency alpha out of range keeps 900",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "ds_latency_estimator_alpha", IntVal(700)),
				mp(6, "dispatcher", "ds_latency_estimator_alpha", IntVal(1000)),
			},
			want: []Diagnostic{warnAt(6, `modparam "ds_latency_estimator_alpha" of module "dispatcher": 1000 is outside 1..999: Kamailio 5.6 logs an error and keeps 900 (0.9)`)},
			check: func(t *testing.T, s Settings) {
				if s.Dispatcher.DSLatencyEstimatorAlpha != 900 {
					t.Errorf("alpha %d", s.Dispatcher.DSLatencyEstimatorAlpha)
				}
			},
		},
		{
			name: "dispatcher ranges",
			mods: []string{"tm", "dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "ds_dns_mode", IntVal(4)),
				mp(6, "dispatcher", "ds_dns_interval", IntVal(0)),
				mp(7, "dispatcher", "ds_dns_ttl", IntVal(-5)),
				mp(8, "dispatcher", "ds_probing_mode", IntVal(7)),
				mp(9, "dispatcher", "ds_ping_interval", IntVal(-1)),
			},
			want: []Diagnostic{
				warnAt(7, `modparam "ds_dns_ttl" of module "dispatcher": -5 is negative: 0 is used (the TTL of the DNS answers)`),
				warnAt(8, `modparam "ds_probing_mode" of module "dispatcher": 7 is not one of 0-3: Kamailio 5.6 only compares it with 1, 2 and 3, so it probes as with 0`),
				warnAt(9, `modparam "ds_ping_interval" of module "dispatcher": -1 is negative: probing is off, as with 0`),
				warnAt(6, `modparam "ds_dns_interval" of module "dispatcher": 0 with ds_dns_mode 4 (timer): Kamailio 5.6 uses 600`),
			},
			check: func(t *testing.T, s Settings) {
				d := s.Dispatcher
				if d.DSDNSInterval != 600 || d.DSDNSTTL != 0 || d.DSProbingMode != 0 || d.DSPingInterval != 0 {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			name: "newer dispatcher parameters",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "ds_ping_fr_timer", IntVal(48)),
				mp(6, "dispatcher", "ds_ping_socket", IntVal(1)),
			},
			want: []Diagnostic{
				warnAt(5, `modparam "ds_ping_fr_timer" of module "dispatcher": the parameter exists only since Kamailio 6.1; Kamailio 5.6 refuses it`),
				errorAt(6, `modparam "ds_ping_socket" of module "dispatcher" takes a string, not an int`),
			},
		},
		{
			name: "reply codes that stop Kamailio at start-up",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "ds_ping_reply_codes", StrVal("code=404;")),
			},
			want: []Diagnostic{warnAt(5, `modparam "ds_ping_reply_codes" of module "dispatcher": Kamailio 5.6 fails to start: "code=404;": a parameter name must follow the last ';'; no extra reply code is accepted`)},
		},
		{
			name: "dispatcher probing without tm",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "ds_ping_interval", IntVal(10)),
			},
			want: []Diagnostic{warnAt(5, `modparam "ds_ping_interval" of module "dispatcher": probing needs the tm module, which is not loaded: Kamailio 5.6 fails to start`)},
		},
		{
			name: "database extra attrs without a column",
			mods: []string{"dispatcher"},
			params: []ModParam{
				mp(5, "dispatcher", "db_url", StrVal("sqlite:////tmp/k.db")),
				mp(6, "dispatcher", "ds_db_extra_attrs", StrVal("a=col;b=")),
			},
			want: []Diagnostic{warnAt(6, `modparam "ds_db_extra_attrs" of module "dispatcher": Kamailio 5.6 fails to start: attribute "b" has no column name`)},
		},
		{
			name:   "empty db_url",
			mods:   []string{"dispatcher"},
			params: []ModParam{mp(5, "dispatcher", "db_url", StrVal(""))},
			want:   []Diagnostic{warnAt(5, `modparam "db_url" of module "dispatcher": an empty db_url still selects the database and Kamailio 5.6 fails to start; kamsidecar reads the list file`)},
		},
		{
			name: "keepalive destinations Kamailio cannot add",
			mods: []string{"tm", "keepalive"},
			params: []ModParam{
				mp(5, "keepalive", "destination", StrVal("127.0.0.1:5071")),
				mp(6, "keepalive", "destination", StrVal("sip:127.0.0.1:5071")),
				mp(7, "keepalive", "destination", StrVal("")),
				mp(8, "keepalive", "destination", StrVal("127.0.0.1:5071")),
			},
			want: []Diagnostic{
				warnAt(6, `modparam "destination" of module "keepalive": Kamailio 5.6 fails to start: destination "sip:127.0.0.1:5071" duplicates the one at kamailio.cfg:5:1`),
				warnAt(7, `modparam "destination" of module "keepalive": Kamailio 5.6 fails to start: invalid destination "" (the URI has no host)`),
			},
		},
		{
			name:   "keepalive without tm",
			mods:   []string{"keepalive"},
			params: nil,
			want:   []Diagnostic{warnAt(1, `module "keepalive": keepalive needs the tm module, which is not loaded: Kamailio 5.6 fails to start`)},
		},
		{
			name: "tm ranges",
			mods: []string{"tm"},
			params: []ModParam{
				mp(5, "tm", "fr_timer", IntVal(0)),
				mp(6, "tm", "retr_timer1", IntVal(70000)),
				mp(7, "tm", "retr_timer2", IntVal(-1)),
				mp(8, "tm", "cancel_b_method", IntVal(7)),
				mp(9, "tm", "max_inv_lifetime", IntVal(-5)),
				mp(10, "tm", "contacts_avp", StrVal("tm_contacts")),
			},
			want: []Diagnostic{
				warnAt(5, `modparam "fr_timer" of module "tm": 0 ms is raised to one timer tick (62.5 ms)`),
				warnAt(6, `modparam "retr_timer1" of module "tm": Kamailio 5.6 fails to start: 70000 ms does not fit tm's 16-bit retransmission timers (at most 65534)`),
				warnAt(7, `modparam "retr_timer2" of module "tm": Kamailio 5.6 fails to start: -1 ms does not fit tm's 16-bit retransmission timers (at most 65534)`),
				warnAt(8, `modparam "cancel_b_method" of module "tm": Kamailio 5.6 fails to start: 7 is not one of 0, 1, 2`),
				warnAt(9, `modparam "max_inv_lifetime" of module "tm": -5 is negative: Kamailio 5.6 reads it as 4294967291 ms`),
				warnAt(10, `modparam "contacts_avp" of module "tm": Kamailio 5.6 fails to start: contacts_avp needs contact_flows_avp, which is not set`),
			},
			check: func(t *testing.T, s Settings) {
				if s.TM.FRTimer() != 62500*time.Microsecond {
					t.Errorf("fr_timer 0 gives %v", s.TM.FRTimer())
				}
			},
		},
		{
			name: "jsonrpcs modes and transports",
			mods: []string{"jsonrpcs"},
			params: []ModParam{
				mp(5, "jsonrpcs", "fifo_mode", IntVal(0)),
				mp(6, "jsonrpcs", "transport", IntVal(9)),
				mp(7, "jsonrpcs", "dgram_workers", IntVal(0)),
			},
			want: []Diagnostic{
				warnAt(5, `modparam "fifo_mode" of module "jsonrpcs": mode 0 is not allowed: 0600 is used`),
				warnAt(6, `modparam "transport" of module "jsonrpcs": bits 0x8 are not transports of Kamailio 5.6 (8, TCP, is 5.7+) and are ignored`),
				warnAt(6, `modparam "transport" of module "jsonrpcs": Kamailio 5.6 fails to start: the HTTP transport (bit 1) needs the xhttp module, which is not loaded`),
			},
			check: func(t *testing.T, s Settings) {
				j := s.JSONRPC
				if j.FIFOMode != 0o600 || j.HTTPOn() || j.FIFOOn() || j.DgramOn() {
					t.Errorf("got %+v", j)
				}
			},
		},
		{
			name: "jsonrpcs datagram socket explicit and implicit",
			mods: []string{"jsonrpcs"},
			params: []ModParam{
				mp(5, "jsonrpcs", "dgram_socket", StrVal("udp:127.0.0.1:80")),
			},
			want: []Diagnostic{
				warnAt(5, `modparam "dgram_socket" of module "jsonrpcs": Kamailio 5.6 fails to start: port 80 is outside 1024..65535`),
			},
		},
		{
			name: "jsonrpcs transport 0 turns a bad datagram socket off",
			mods: []string{"jsonrpcs"},
			params: []ModParam{
				mp(5, "jsonrpcs", "transport", IntVal(0)),
				mp(6, "jsonrpcs", "dgram_socket", StrVal("a.s")),
			},
			want: []Diagnostic{
				warnAt(6, `modparam "dgram_socket" of module "jsonrpcs": "a.s" is shorter than 6 characters: the datagram transport stays off`),
			},
			check: func(t *testing.T, s Settings) {
				j := s.JSONRPC
				if j.HTTPOn() || !j.FIFOOn() || j.DgramOn() {
					t.Errorf("transports %v %v %v", j.HTTPOn(), j.FIFOOn(), j.DgramOn())
				}
			},
		},
		{
			name: "ctl listen addresses",
			mods: []string{"ctl"},
			params: []ModParam{
				mp(5, "ctl", "binrpc", StrVal("tcp:127.0.0.1:notaport")),
				mp(6, "ctl", "binrpc", StrVal("tcp:[::1]:2049")),
				mp(7, "ctl", "binrpc", StrVal("udp:127.0.0.1:70000")),
				mp(8, "ctl", "binrpc", StrVal("tcp:2046")),
				mp(9, "ctl", "binrpc", StrVal("tcp:*:2046")),
				mp(10, "ctl", "fifo", StrVal("")),
				mp(11, "ctl", "binrpc_max_body_size", IntVal(0)),
				mp(12, "ctl", "binrpc_struct_max_body_size", IntVal(-1)),
			},
			want: []Diagnostic{
				errorAt(5, `modparam "binrpc" of module "ctl": bad listen address: "notaport" is not a port number or a known service: "tcp:127.0.0.1:notaport"`),
				errorAt(6, `modparam "binrpc" of module "ctl": bad listen address: IPv6 addresses are not accepted by ctl in Kamailio 5.6: "tcp:[::1]:2049"`),
				warnAt(7, `modparam "binrpc" of module "ctl": "udp:127.0.0.1:70000": port 70000 wraps to 4464`),
				warnAt(11, `modparam "binrpc_max_body_size" of module "ctl": 0 is not positive: 4 KiB is used`),
				warnAt(12, `modparam "binrpc_struct_max_body_size" of module "ctl": -1 is not positive: 1 KiB is used`),
				warnAt(9, `modparam "binrpc" of module "ctl": Kamailio 5.6 fails to start: "tcp:*:2046" listens on the same address as the one at kamailio.cfg:8:1`),
				warnAt(10, `modparam "fifo" of module "ctl": Kamailio 5.6 fails to start: "" has an empty path`),
			},
			check: func(t *testing.T, s Settings) {
				c := s.CTL
				if len(c.BinRPC) != 3 || c.BinRPC[0].Port != 4464 || c.BinRPCMaxBodySize != 4 || c.BinRPCStructMaxBodySize != 1 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "xhttp regular expressions",
			mods: []string{"xhttp"},
			params: []ModParam{
				mp(5, "xhttp", "url_match", StrVal("^/(RPC")),
				mp(6, "xhttp", "url_skip", StrVal(`^/(a)\1`)),
			},
			want: []Diagnostic{
				warnAt(5, "modparam \"url_match\" of module \"xhttp\": Kamailio 5.6 fails to start: bad regular expression \"^/(RPC\" (error parsing regexp: missing closing ): `^/(RPC`)"),
				warnAt(6, "modparam \"url_skip\" of module \"xhttp\": kamsidecar cannot compile the regular expression \"^/(a)\\\\1\" (error parsing regexp: invalid escape sequence: `\\1`); Kamailio may accept it"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := resolveSettings(loads(tt.mods...), tt.params, "/var/run/kamailio/")
			if !reflect.DeepEqual(diags, tt.want) {
				t.Errorf("diagnostics:")
				for _, d := range diags {
					t.Errorf("  got  %#v", d)
				}
				for _, d := range tt.want {
					t.Errorf("  want %#v", d)
				}
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// TestParseReplyCodes covers ds_ping_reply_codes (spec §1.4), including
// what Kamailio 5.6.3 did with each value in a live probe test.
func TestParseReplyCodes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		codes   []int
		classes []int
		err     bool
		success []int
		failure []int
	}{
		{name: "spec example", in: "code=404;class=3;code=99;class=7;foo=1", codes: []int{404}, classes: []int{3},
			success: []int{200, 299, 300, 302, 399, 404}, failure: []int{99, 199, 400, 403, 405, 408, 500, 700}},
		{name: "unset", in: "", success: []int{200, 202}, failure: []int{100, 180, 404, 408}},
		{name: "class must be one digit", in: "class=400", failure: []int{400, 404}},
		{name: "names are case-insensitive", in: "CODE=404;Class=5", codes: []int{404}, classes: []int{5}, success: []int{404, 503}},
		{name: "code bounds", in: "code=100;code=699;code=700;code=0", codes: []int{100, 699}},
		{name: "class bounds", in: "class=1;class=6;class=0;class=7", classes: []int{1, 6}},
		{name: "leading digits are read", in: "class=4x;code=404x;code=40x4", codes: []int{404}, classes: []int{4}},
		{name: "non-numeric is 0", in: "code=abc", failure: []int{404}},
		{name: "sign", in: "class=+4;code=-404", classes: []int{4}},
		{name: "whitespace around = and after ;", in: "code = 404 ; class=3", codes: []int{404}, classes: []int{3}},
		{name: "quoted value", in: `code="404"`, codes: []int{404}},
		{name: "empty entry", in: "code=404;;class=3", codes: []int{404}, classes: []int{3}},
		{name: "bare name", in: "foo;code=404", codes: []int{404}},
		{name: "empty value repeats the previous number", in: `code=404;code="";class=3;class`, codes: []int{404, 404}, classes: []int{3, 3}},
		{name: "comma ends the list", in: "class=3,code=404", classes: []int{3}, failure: []int{404}},
		{name: "408 can be made a success", in: "code=408", codes: []int{408}, success: []int{408}},
		{name: "leading whitespace", in: " code=404", err: true},
		{name: "trailing separator", in: "code=404;", err: true},
		{name: "garbage after a value", in: "class=3;code=404 x", err: true},
		{name: "unterminated quote", in: `code="404`, err: true},
		{name: "missing value before separator", in: "code=;class=3", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReplyCodes(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error %v", err, tt.err)
			}
			if tt.err {
				return
			}
			if r.Text != tt.in || !reflect.DeepEqual(r.Codes, tt.codes) || !reflect.DeepEqual(r.Classes, tt.classes) {
				t.Errorf("got %+v, want codes %v classes %v", r, tt.codes, tt.classes)
			}
			for _, c := range tt.success {
				if !r.Success(c) {
					t.Errorf("Success(%d) = false", c)
				}
			}
			for _, c := range tt.failure {
				if r.Success(c) {
					t.Errorf("Success(%d) = true", c)
				}
			}
		})
	}
}

// TestSettingsRundir checks how relative FIFO and socket names follow the
// runtime directory.
func TestSettingsRundir(t *testing.T) {
	tests := []struct {
		name      string
		rundir    string
		params    []ModParam
		fifo      string
		dgramNet  string
		dgramAddr string
		ctl       []string
	}{
		{name: "relative names, debian rundir", rundir: "/var/run/kamailio/",
			params: []ModParam{
				mp(5, "jsonrpcs", "fifo_name", StrVal("rpc.fifo")),
				mp(6, "jsonrpcs", "dgram_socket", StrVal("sub/rpc.sock")),
			},
			fifo: "/var/run/kamailio/rpc.fifo", dgramNet: "unixgram", dgramAddr: "/var/run/kamailio/sub/rpc.sock",
			ctl: []string{"/var/run/kamailio//kamailio_ctl"}},
		{name: "relative names, rundir without slash", rundir: "/tmp/run",
			params: []ModParam{
				mp(5, "jsonrpcs", "fifo_name", StrVal("rpc.fifo")),
			},
			fifo: "/tmp/run/rpc.fifo", dgramNet: "unixgram", dgramAddr: "/tmp/run/kamailio_rpc.sock",
			ctl: []string{"/tmp/run/kamailio_ctl"}},
		{name: "absolute names and udp stay", rundir: "/tmp/run",
			params: []ModParam{
				mp(5, "jsonrpcs", "fifo_name", StrVal("/var/run/k.fifo")),
				mp(6, "jsonrpcs", "dgram_socket", StrVal("udp:localhost:9090")),
			},
			fifo: "/var/run/k.fifo", dgramNet: "udp", dgramAddr: "localhost:9090",
			ctl: []string{"/tmp/run/kamailio_ctl"}},
		{name: "empty names switch the transports off", rundir: "/tmp/run",
			params: []ModParam{
				mp(5, "jsonrpcs", "fifo_name", StrVal("")),
				mp(6, "jsonrpcs", "dgram_socket", StrVal("")),
			},
			fifo: "", ctl: []string{"/tmp/run/kamailio_ctl"}},
		{name: "ctl paths are not resolved against rundir", rundir: "/tmp/run",
			params: []ModParam{
				mp(5, "ctl", "binrpc", StrVal("unix:rel.sock")),
			},
			fifo: "/tmp/run/kamailio_rpc.fifo", dgramNet: "unixgram", dgramAddr: "/tmp/run/kamailio_rpc.sock",
			ctl: []string{"rel.sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := resolveSettings(loads("jsonrpcs", "ctl"), tt.params, tt.rundir)
			if len(diags) != 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			if s.JSONRPC.FIFOName != tt.fifo || s.JSONRPC.FIFOOn() != (tt.fifo != "") {
				t.Errorf("fifo %q on=%v, want %q", s.JSONRPC.FIFOName, s.JSONRPC.FIFOOn(), tt.fifo)
			}
			if n, a := s.JSONRPC.DgramNetwork(); n != tt.dgramNet || a != tt.dgramAddr || s.JSONRPC.DgramOn() != (n != "") {
				t.Errorf("dgram %q %q on=%v, want %q %q", n, a, s.JSONRPC.DgramOn(), tt.dgramNet, tt.dgramAddr)
			}
			var paths []string
			for _, l := range s.CTL.BinRPC {
				paths = append(paths, l.Addr)
			}
			if !reflect.DeepEqual(paths, tt.ctl) {
				t.Errorf("ctl %q, want %q", paths, tt.ctl)
			}
		})
	}
}

// TestParseCTLListen covers ctl's listen address forms (binrpc.md §2, and
// what ctl 5.6.3 opened in a live test).
func TestParseCTLListen(t *testing.T) {
	tests := []struct {
		name string
		in   string
		fifo bool
		want CTLListener
		net  [2]string
		err  bool
	}{
		{name: "unixs", in: "unixs:/run/k/ctl", want: CTLListener{Proto: CTLUnixStream, Addr: "/run/k/ctl"}, net: [2]string{"unix", "/run/k/ctl"}},
		{name: "unix is stream", in: "UNIX:/tmp/s", want: CTLListener{Proto: CTLUnixStream, Addr: "/tmp/s"}, net: [2]string{"unix", "/tmp/s"}},
		{name: "unixd", in: "unixd:/tmp/d", want: CTLListener{Proto: CTLUnixDgram, Addr: "/tmp/d"}, net: [2]string{"unixgram", "/tmp/d"}},
		{name: "tcp host port", in: "tcp:127.0.0.1:2046", want: CTLListener{Proto: CTLTCP, Addr: "127.0.0.1", Port: 2046}, net: [2]string{"tcp", "127.0.0.1:2046"}},
		{name: "tcp port only", in: "tcp:3012", want: CTLListener{Proto: CTLTCP, Addr: "*", Port: 3012}, net: [2]string{"tcp", ":3012"}},
		{name: "tcp host only", in: "tcp:localhost", want: CTLListener{Proto: CTLTCP, Addr: "localhost", Port: 2049}, net: [2]string{"tcp", "localhost:2049"}},
		{name: "no proto with port is udp", in: "127.0.0.1:2050", want: CTLListener{Proto: CTLUDP, Addr: "127.0.0.1", Port: 2050}, net: [2]string{"udp", "127.0.0.1:2050"}},
		{name: "no proto host only is udp", in: "127.0.0.1", want: CTLListener{Proto: CTLUDP, Addr: "127.0.0.1", Port: 2049}, net: [2]string{"udp", "127.0.0.1:2049"}},
		{name: "no proto path is unix stream", in: "/tmp/ctl", want: CTLListener{Proto: CTLUnixStream, Addr: "/tmp/ctl"}, net: [2]string{"unix", "/tmp/ctl"}},
		{name: "empty is udp any 2049", in: "", want: CTLListener{Proto: CTLUDP, Addr: "*", Port: 2049}, net: [2]string{"udp", ":2049"}},
		{name: "port 0 is the default", in: "udp:127.0.0.1:0", want: CTLListener{Proto: CTLUDP, Addr: "127.0.0.1", Port: 2049}, net: [2]string{"udp", "127.0.0.1:2049"}},
		{name: "service name", in: "tcp:127.0.0.1:ssh", want: CTLListener{Proto: CTLTCP, Addr: "127.0.0.1", Port: 22}, net: [2]string{"tcp", "127.0.0.1:22"}},
		{name: "fifo param, plain name", in: "kamailio_fifo", fifo: true, want: CTLListener{Proto: CTLFIFO, Addr: "kamailio_fifo"}},
		{name: "fifo param, path", in: "/tmp/kamailio_fifo", fifo: true, want: CTLListener{Proto: CTLFIFO, Addr: "/tmp/kamailio_fifo"}},
		{name: "fifo param, host:port is udp", in: "127.0.0.1:2049", fifo: true, want: CTLListener{Proto: CTLUDP, Addr: "127.0.0.1", Port: 2049}, net: [2]string{"udp", "127.0.0.1:2049"}},
		{name: "ipv6 is refused by 5.6", in: "[::1]:2049", err: true},
		{name: "six digit port", in: "tcp:127.0.0.1:123456", err: true},
		{name: "unknown service", in: "udp:127.0.0.1:nosuchservice", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := CTLUDP
			if tt.fifo {
				def = CTLFIFO
			}
			l, _, err := parseCTLListen(tt.in, def)
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error %v", err, tt.err)
			}
			if tt.err {
				return
			}
			tt.want.Spec = tt.in
			if !reflect.DeepEqual(l, tt.want) {
				t.Errorf("got %+v, want %+v", l, tt.want)
			}
			if n, a := l.Network(); n != tt.net[0] || a != tt.net[1] {
				t.Errorf("Network() = %q %q, want %q", n, a, tt.net)
			}
		})
	}
}

// TestJSONRPCTransports covers the transport mask with the 0 = "every
// transport that can start" rule.
func TestJSONRPCTransports(t *testing.T) {
	tests := []struct {
		name             string
		transport        int32
		xhttp            bool
		http, fifo, dgrm bool
	}{
		{name: "default 6", transport: 6, fifo: true, dgrm: true},
		{name: "default 6 with xhttp loaded", transport: 6, xhttp: true, fifo: true, dgrm: true},
		{name: "0 without xhttp", transport: 0, fifo: true, dgrm: true},
		{name: "0 with xhttp", transport: 0, xhttp: true, http: true, fifo: true, dgrm: true},
		{name: "1 with xhttp", transport: 1, xhttp: true, http: true},
		{name: "2", transport: 2, fifo: true},
		{name: "4", transport: 4, dgrm: true},
		{name: "5 with xhttp", transport: 5, xhttp: true, http: true, dgrm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := []string{"jsonrpcs"}
			if tt.xhttp {
				mods = append(mods, "xhttp")
			}
			s, diags := resolveSettings(loads(mods...), []ModParam{mp(5, "jsonrpcs", "transport", IntVal(tt.transport))}, "/run/k/")
			if len(diags) != 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			j := s.JSONRPC
			if j.HTTPOn() != tt.http || j.FIFOOn() != tt.fifo || j.DgramOn() != tt.dgrm {
				t.Errorf("http %v fifo %v dgram %v, want %v %v %v", j.HTTPOn(), j.FIFOOn(), j.DgramOn(), tt.http, tt.fifo, tt.dgrm)
			}
		})
	}
}

// TestSettingsLoaded checks the Loaded flags and that a module loaded
// later than a modparam does not matter to the settings.
func TestSettingsLoaded(t *testing.T) {
	s, _ := resolveSettings(loads("sl", "tm", "jsonrpcs"), nil, "/run/k/")
	got := []bool{s.Dispatcher.Loaded, s.Keepalive.Loaded, s.TM.Loaded, s.JSONRPC.Loaded, s.XHTTP.Loaded, s.CTL.Loaded}
	want := []bool{false, false, true, true, false, false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %v, want %v", got, want)
	}
}

// TestSettingsJSON checks the JSON keys: Kamailio's parameter names.
func TestSettingsJSON(t *testing.T) {
	s, _ := resolveSettings(loads("tm", "jsonrpcs", "keepalive"), []ModParam{
		mp(5, "jsonrpcs", "fifo_user", StrVal("kamailio")),
		mp(6, "jsonrpcs", "fifo_group", IntVal(7)),
		mp(7, "keepalive", "destination", StrVal("10.0.0.1")),
	}, "/run/k/")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dispatcher", "keepalive", "tm", "jsonrpcs", "xhttp", "ctl"} {
		if doc[k] == nil {
			t.Errorf("no %q key in %s", k, b)
		}
	}
	j := doc["jsonrpcs"]
	if j["fifo_user"] != "kamailio" || j["fifo_group"] != float64(7) || j["dgram_user"] != nil || j["fifo_name"] != "/run/k/kamailio_rpc.fifo" {
		t.Errorf("jsonrpcs: %v", j)
	}
	if got := fmt.Sprint(doc["keepalive"]["destination"]); got != "[map[uri:sip:10.0.0.1 value:10.0.0.1]]" {
		t.Errorf("keepalive destination: %s", got)
	}
	if doc["dispatcher"]["ds_ping_interval"] != float64(0) || doc["tm"]["fr_timer"] != float64(30000) {
		t.Errorf("dispatcher/tm: %v %v", doc["dispatcher"]["ds_ping_interval"], doc["tm"]["fr_timer"])
	}
}

// kamailio563Params are the parameter names (and types) Kamailio 5.6.3
// registers, as found by probing the binary (see TestSettingsAgainstKamailio).
var kamailio563Params = map[string]map[string]valueTypes{
	"dispatcher": namesOf(takesString, "list_file", "db_url", "table_name", "setid_col", "destination_col", "flags_col",
		"priority_col", "attrs_col", "ds_db_extra_attrs", "ds_ping_method", "ds_ping_from", "outbound_proxy",
		"ds_ping_reply_codes", "ds_default_socket", "ds_default_sockname", "event_callback", "xavp_dst", "xavp_ctx",
		"hash_pvar", "setid_pvname", "attrs_pvname").
		with(takesInt, "ds_load_mode", "ds_attrs_none", "reload_delta", "ds_ping_interval", "ds_probing_mode",
			"ds_probing_threshold", "ds_inactive_threshold", "ds_ping_latency_stats", "ds_latency_estimator_alpha",
			"ds_timer_mode", "ds_dns_mode", "ds_dns_interval", "ds_dns_ttl", "force_dst", "flags", "use_default",
			"xavp_dst_mode", "xavp_ctx_mode", "ds_hash_size", "ds_hash_expire", "ds_hash_initexpire", "ds_hash_check_interval"),
	"keepalive": namesOf(takesInt, "ping_interval", "delete_counter").with(takesString, "ping_from", "destination"),
	"tm": namesOf(takesString, "ac_extra_hdrs", "auto_inv_100_reason", "contact_flows_avp", "contacts_avp", "default_reason",
		"event_callback", "event_callback_lres_sent", "fr_inv_timer_avp", "fr_timer_avp", "on_sl_reply", "tw_append", "xavp_contact").
		with(takesInt, "aggregate_challenges", "auto_inv_100", "blst_503", "blst_503_def_timeout", "blst_503_max_timeout",
			"blst_503_min_timeout", "blst_methods_add", "blst_methods_lookup", "callid_cseq_matching", "callid_matching",
			"cancel_b_method", "default_code", "disable_6xx_block", "dns_reuse_rcv_socket", "e2e_cancel_reason", "enable_uac_fr",
			"exec_time_check", "failure_exec_mode", "failure_reply_mode", "faked_reply_prio", "fr_inv_timer", "fr_timer",
			"local_ack_mode", "local_cancel_reason", "max_inv_lifetime", "max_noninv_lifetime", "noisy_ctimer",
			"pass_provisional_replies", "relay_100", "remap_503_500", "reparse_invite", "reparse_on_dns_failover",
			"reply_relay_mode", "restart_fr_on_each_reply", "retr_timer1", "retr_timer2", "rich_redirect", "ruri_matching",
			"unix_tx_timeout", "unmatched_cancel", "via1_matching", "wt_timer"),
	"jsonrpcs": namesOf(takesInt, "pretty_format", "transport", "fifo_mode", "dgram_workers", "dgram_timeout", "dgram_mode").
		with(takesString, "fifo_name", "fifo_reply_dir", "dgram_socket").
		with(takesIntOrString, "fifo_user", "fifo_group", "dgram_user", "dgram_group"),
	"xhttp": namesOf(takesString, "url_match", "url_skip", "event_callback"),
	"ctl": namesOf(takesString, "binrpc", "fifo", "user", "group").
		with(takesInt, "mode", "autoconversion", "binrpc_max_body_size", "binrpc_struct_max_body_size", "binrpc_buffer_size"),
}

type nameTypes map[string]valueTypes

func namesOf(t valueTypes, names ...string) nameTypes { return nameTypes{}.with(t, names...) }

func (m nameTypes) with(t valueTypes, names ...string) nameTypes {
	for _, n := range names {
		m[n] = t
	}
	return m
}

// registryTypes returns the registered parameter types of a module, the
// names Kamailio 5.6 does not know apart.
func registryTypes(module string) (known, newer map[string]valueTypes, structType reflect.Type) {
	known, newer = map[string]valueTypes{}, map[string]valueTypes{}
	add := func(name string, t valueTypes, since string) {
		if since != "" {
			newer[name] = t
		} else {
			known[name] = t
		}
	}
	switch module {
	case "dispatcher":
		for n, p := range dispatcherModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(Dispatcher{})
	case "keepalive":
		for n, p := range keepaliveModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(Keepalive{})
	case "tm":
		for n, p := range tmModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(TM{})
	case "jsonrpcs":
		for n, p := range jsonrpcModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(JSONRPC{})
	case "xhttp":
		for n, p := range xhttpModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(XHTTP{})
	case "ctl":
		for n, p := range ctlModule.params {
			add(n, p.types, p.since)
		}
		structType = reflect.TypeOf(CTL{})
	}
	return known, newer, structType
}

// TestSettingsRegistry checks the registries against the parameter lists
// of Kamailio 5.6.3 and that every parameter has a field tagged with its
// name.
func TestSettingsRegistry(t *testing.T) {
	counts := map[string][2]int{"dispatcher": {43, 5}, "keepalive": {4, 0}, "tm": {54, 0}, "jsonrpcs": {13, 0}, "xhttp": {3, 0}, "ctl": {9, 0}}
	for module, want := range kamailio563Params {
		t.Run(module, func(t *testing.T) {
			known, newer, st := registryTypes(module)
			if !reflect.DeepEqual(known, map[string]valueTypes(want)) {
				t.Errorf("registry %v\nwant     %v", known, want)
			}
			if c := counts[module]; len(known) != c[0] || len(newer) != c[1] {
				t.Errorf("%d parameters (+%d newer), want %d (+%d)", len(known), len(newer), c[0], c[1])
			}
			tags := map[string]bool{}
			for i := 0; i < st.NumField(); i++ {
				tags[strings.Split(st.Field(i).Tag.Get("json"), ",")[0]] = true
			}
			for n := range known {
				if !tags[n] {
					t.Errorf("no field tagged %q", n)
				}
			}
			for n := range newer {
				if !tags[n] && n != "ds_ping_fr_timer" { // alias of ds_ping_fr_timeout
					t.Errorf("no field tagged %q", n)
				}
			}
		})
	}
	var names []string
	for _, n := range dispatcherNewerParams {
		names = append(names, n)
	}
	_, newer, _ := registryTypes("dispatcher")
	var got []string
	for n := range newer {
		got = append(got, n)
	}
	sort.Strings(names)
	sort.Strings(got)
	if !reflect.DeepEqual(got, names) {
		t.Errorf("newer dispatcher parameters %v, want %v", got, names)
	}
}

// TestSettingsAgainstKamailio asks the installed Kamailio 5.6 (kamailio -c)
// which value types each registered parameter takes, and checks that the
// newer dispatcher parameters are unknown to it.
func TestSettingsAgainstKamailio(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kamailio -c a few hundred times")
	}
	bin := testutil.LookPath(t, "kamailio")
	out, err := exec.Command(bin, "-v").CombinedOutput()
	testutil.Need(t, err == nil && strings.Contains(string(out), "kamailio 5.6"), "kamailio 5.6 is not installed")
	type probe struct {
		module, param, value string
		accepted             bool
	}
	var probes []*probe
	for _, module := range allSix {
		known, newer, _ := registryTypes(module)
		for _, set := range []map[string]valueTypes{known, newer} {
			for name := range set {
				probes = append(probes, &probe{module: module, param: name, value: "1"},
					&probe{module: module, param: name, value: `"x"`})
			}
		}
	}
	dir := t.TempDir()
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 2*runtime.NumCPU(); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cfg := filepath.Join(dir, fmt.Sprintf("k%d.cfg", w))
			for i := range work {
				p := probes[i]
				text := fmt.Sprintf("loadmodule \"%s.so\"\nmodparam(\"%s\",\"%s\",%s)\n", p.module, p.module, p.param, p.value)
				if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
					t.Error(err)
					continue
				}
				out, _ := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
				p.accepted = !strings.Contains(string(out), "not found in module")
			}
		}(w)
	}
	for i := range probes {
		work <- i
	}
	close(work)
	wg.Wait()
	got := map[string]valueTypes{}
	for _, p := range probes {
		if p.accepted {
			if p.value == "1" {
				got[p.module+" "+p.param] |= takesInt
			} else {
				got[p.module+" "+p.param] |= takesString
			}
		}
	}
	for _, module := range allSix {
		known, newer, _ := registryTypes(module)
		for name, types := range known {
			if g := got[module+" "+name]; g != types {
				t.Errorf("%s %s: kamailio takes %s, the registry %s", module, name, g, types)
			}
		}
		for name := range newer {
			if g := got[module+" "+name]; g != 0 {
				t.Errorf("%s %s: kamailio 5.6 knows it", module, name)
			}
		}
	}
}

// TestSettingsCorpus resolves the modparams of every corpus config (as
// Kamailio 5.6.3 saw them) and expects no error: Kamailio read them all.
func TestSettingsCorpus(t *testing.T) {
	type expectedDoc struct {
		LoadModules []string `json:"loadmodules"`
		ModParams   []struct {
			Module string `json:"module"`
			Param  string `json:"param"`
			Value  any    `json:"value"`
		} `json:"modparams"`
	}
	forCorpusJSON(t, "expected", ".json", func(t *testing.T, name string, doc *expectedDoc) {
		var mods []LoadModule
		for i, p := range doc.LoadModules {
			n := strings.TrimSuffix(filepath.Base(p), ".so")
			mods = append(mods, LoadModule{Path: p, Name: n, Pos: at(i + 1)})
		}
		var params []ModParam
		for i, p := range doc.ModParams {
			re, err := regexp.Compile("(?i)^(" + p.Module + ")$")
			if err != nil {
				t.Fatalf("module regex %q: %v", p.Module, err)
			}
			var matched []string
			for _, m := range mods {
				if re.MatchString(m.Name) {
					matched = append(matched, m.Name)
				}
			}
			v := StrVal(fmt.Sprint(p.Value))
			if n, ok := p.Value.(float64); ok {
				v = IntVal(int32(n))
			}
			params = append(params, ModParam{Module: p.Module, Param: p.Param, Value: v, Modules: matched, Pos: at(1000 + i)})
		}
		_, diags := resolveSettings(mods, params, "/var/run/kamailio/")
		for _, d := range diags {
			if d.Severity == Error {
				t.Errorf("%s", d)
			} else {
				t.Logf("%s", d)
			}
		}
	})
}
