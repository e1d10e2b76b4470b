package kamcfg

import (
	"fmt"
	"strings"
	"time"
)

// Dispatcher are the dispatcher module's settings: the 43 parameters of
// Kamailio 5.6.3 (shared/spec/dispatcher.md §1.1-§1.3) plus the newer ones
// kamsidecar understands (§1.6), each in Kamailio's unit. Field names
// follow the parameter names; the json tags are the parameter names.
type Dispatcher struct {
	// Loaded tells whether dispatcher is loaded by the cfg.
	Loaded bool `json:"loaded"`

	// ListFile is the destination list file, opened as written (a relative
	// path is relative to Kamailio's working directory). Used only when
	// DBURL is empty.
	ListFile string `json:"list_file"`
	// DBURL is the database URL; when set, destinations come from the
	// database and ListFile is ignored.
	DBURL string `json:"db_url"`
	// TableName and the *Col fields name the database table and columns.
	TableName      string `json:"table_name"`
	SetIDCol       string `json:"setid_col"`
	DestinationCol string `json:"destination_col"`
	FlagsCol       string `json:"flags_col"`
	PriorityCol    string `json:"priority_col"`
	AttrsCol       string `json:"attrs_col"`
	// DSDBExtraAttrs lists extra database columns appended to the attrs
	// ("attrname=column;..."), read with table version 4.
	DSDBExtraAttrs string `json:"ds_db_extra_attrs"`
	// DSLoadMode: 1 makes a destination that cannot be added fail the
	// whole load; 0 skips it.
	DSLoadMode int `json:"ds_load_mode"`
	// DSAttrsNone: 1 gives destinations without attrs the body "none=yes".
	DSAttrsNone int `json:"ds_attrs_none"`
	// ReloadDelta is the reload/add/remove rate limit in seconds (0: none).
	ReloadDelta int `json:"reload_delta"`

	// DSPingInterval is the probing period in seconds; 0 disables probing.
	DSPingInterval int `json:"ds_ping_interval"`
	// DSPingMethod is the probe request method.
	DSPingMethod string `json:"ds_ping_method"`
	// DSPingFrom is the probes' From URI.
	DSPingFrom string `json:"ds_ping_from"`
	// OutboundProxy is the probes' next hop ("" for none).
	OutboundProxy string `json:"outbound_proxy"`
	// DSProbingMode selects the destinations probed (0-3, §4.3).
	DSProbingMode int `json:"ds_probing_mode"`
	// DSProbingThreshold is the number of failed probes that make an
	// active destination inactive.
	DSProbingThreshold int `json:"ds_probing_threshold"`
	// DSInactiveThreshold is the number of successful probes that make an
	// inactive destination active again.
	DSInactiveThreshold int `json:"ds_inactive_threshold"`
	// DSPingReplyCodes are the reply codes and classes counted as success
	// besides 2xx.
	DSPingReplyCodes ReplyCodes `json:"ds_ping_reply_codes"`
	// DSPingLatencyStats: 1 keeps latency statistics per destination.
	DSPingLatencyStats int `json:"ds_ping_latency_stats"`
	// DSLatencyEstimatorAlpha is the EWMA factor in thousandths (1-999).
	DSLatencyEstimatorAlpha int `json:"ds_latency_estimator_alpha"`
	// DSDefaultSocket is the send socket (proto:ip:port) for destinations
	// without one.
	DSDefaultSocket string `json:"ds_default_socket"`
	// DSDefaultSockname is the same by socket name; it wins over
	// DSDefaultSocket.
	DSDefaultSockname string `json:"ds_default_sockname"`
	// DSTimerMode: 1 runs the timers in the secondary timer process.
	DSTimerMode int `json:"ds_timer_mode"`
	// EventCallback is the KEMI function called for dst-up/dst-down events.
	EventCallback string `json:"event_callback"`
	// DSDNSMode is the DNS bit mask (1 load, 2 every match, 4 timer, 8 SRV).
	DSDNSMode int `json:"ds_dns_mode"`
	// DSDNSInterval is the DNS refresh period in seconds (mode 4).
	DSDNSInterval int `json:"ds_dns_interval"`
	// DSDNSTTL is the TTL in seconds forced on DNS answers (0: theirs).
	DSDNSTTL int `json:"ds_dns_ttl"`

	// ForceDst: 0 makes ds_select_dst() fail when $du is already set.
	ForceDst int `json:"force_dst"`
	// Flags: 1 hashes only the URI user part, 2 enables failover.
	Flags int `json:"flags"`
	// UseDefault: 1 keeps the last destination of a set as fallback.
	UseDefault int `json:"use_default"`
	// XAVPDst and XAVPCtx name the XAVPs of selected destinations and of
	// the selection context; the *Mode fields tune their content.
	XAVPDst     string `json:"xavp_dst"`
	XAVPDstMode int    `json:"xavp_dst_mode"`
	XAVPCtx     string `json:"xavp_ctx"`
	XAVPCtxMode int    `json:"xavp_ctx_mode"`
	// HashPVar is the PV format hashed by algorithm 7.
	HashPVar string `json:"hash_pvar"`
	// SetIDPVName and AttrsPVName receive the set id and attrs matched by
	// ds_is_from_list().
	SetIDPVName string `json:"setid_pvname"`
	AttrsPVName string `json:"attrs_pvname"`
	// DSHashSize > 0 enables call-load tracking with 2^N slots.
	DSHashSize int `json:"ds_hash_size"`
	// DSHashExpire, DSHashInitExpire and DSHashCheckInterval are seconds.
	DSHashExpire        int `json:"ds_hash_expire"`
	DSHashInitExpire    int `json:"ds_hash_initexpire"`
	DSHashCheckInterval int `json:"ds_hash_check_interval"`

	// DSPingFRTimeout overrides tm's final-response timeout for probes, in
	// timer ticks (1/16 s) as Kamailio passes it on; 0 keeps tm's. Kamailio
	// 6.1+ only (ds_ping_fr_timeout, alias ds_ping_fr_timer).
	DSPingFRTimeout int `json:"ds_ping_fr_timeout"`
	// DSRetainLatencyStats: 1 keeps latency statistics over reloads
	// (Kamailio 5.8+).
	DSRetainLatencyStats int `json:"ds_retain_latency_stats"`
	// DSPingSocket is the send socket of probes only (Kamailio 6.1+).
	DSPingSocket string `json:"ds_ping_socket"`
	// EventCallbackMode selects which state changes raise events
	// (Kamailio 6.1+).
	EventCallbackMode int `json:"event_callback_mode"`
}

// DataSource tells where dispatcher reads its destinations from.
type DataSource uint8

const (
	// SourceListFile is the list file (list_file).
	SourceListFile DataSource = iota
	// SourceDB is the database (db_url).
	SourceDB
)

// String names the source as the parameter that selects it: "db" for
// db_url, "list_file" for list_file.
func (s DataSource) String() string {
	if s == SourceDB {
		return "db"
	}
	return "list_file"
}

// Source tells whether the destinations come from the database (db_url
// set) or from the list file.
func (d Dispatcher) Source() DataSource {
	if d.DBURL != "" {
		return SourceDB
	}
	return SourceListFile
}

// PingInterval is the probing period; 0 means probing is off.
func (d Dispatcher) PingInterval() time.Duration {
	return time.Duration(d.DSPingInterval) * time.Second
}

// PingFRTimeout is the final-response timeout of probes when
// ds_ping_fr_timeout overrides tm's (0: tm's fr_timer applies).
func (d Dispatcher) PingFRTimeout() time.Duration {
	if d.DSPingFRTimeout <= 0 {
		return 0
	}
	return ticksDuration(uint32(d.DSPingFRTimeout))
}

// LatencyAlpha is the latency estimator's EWMA factor (0.9 by default).
func (d Dispatcher) LatencyAlpha() float64 {
	return float64(d.DSLatencyEstimatorAlpha) / 1000
}

// ReplyCodes is a parsed ds_ping_reply_codes value: the reply codes and
// classes that count as a successful probe besides every 2xx.
type ReplyCodes struct {
	// Text is the parameter as written.
	Text string `json:"text"`
	// Codes are the accepted single codes (100-699), in order.
	Codes []int `json:"codes"`
	// Classes are the accepted classes (1-6, meaning N00-N99), in order.
	Classes []int `json:"classes"`
}

// Success reports whether a probe's final reply code counts as success:
// any 2xx, a listed code, or a code of a listed class. Locally generated
// codes (408 on timeout) are judged the same way.
func (r ReplyCodes) Success(code int) bool {
	if code >= 200 && code <= 299 {
		return true
	}
	for _, c := range r.Codes {
		if c == code {
			return true
		}
	}
	for _, c := range r.Classes {
		if c == code/100 {
			return true
		}
	}
	return false
}

// ParseReplyCodes reads a ds_ping_reply_codes value as Kamailio 5.6 does
// (§1.4): a ';' list of code=NNN (kept when 100 <= NNN <= 699) and
// class=N (kept when 1 <= N <= 6); names are case-insensitive, other
// names and out-of-range numbers are ignored. A number is read like
// Kamailio's str2sint: an optional sign and the leading digits ("404x" is
// 404, "x" is 0); an empty value repeats the previous number. The error is
// a syntax error of the list, which stops Kamailio at start-up.
func ParseReplyCodes(s string) (ReplyCodes, error) {
	r := ReplyCodes{Text: s}
	params, err := parseKamailioParams(s)
	if err != nil {
		return r, err
	}
	var n int32 // carried over like Kamailio's variable
	for _, p := range params {
		name := strings.ToLower(p.name)
		if name != "code" && name != "class" {
			continue
		}
		if p.body != "" {
			n = leadingInt(p.body)
		}
		switch {
		case name == "code" && n >= 100 && n < 700:
			r.Codes = append(r.Codes, int(n))
		case name == "class" && n >= 1 && n < 7:
			r.Classes = append(r.Classes, int(n))
		}
	}
	return r, nil
}

// leadingInt converts the sign and leading digits of s like Kamailio's
// str2sint, in 32-bit arithmetic.
func leadingInt(s string) int32 {
	var n int32
	sign := int32(1)
	i := 0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int32(s[i]-'0')
	}
	return n * sign
}

// dispatcherModule is the registry of the dispatcher parameters.
var dispatcherModule = &moduleSpec[Dispatcher]{
	name: "dispatcher",
	params: map[string]paramSpec[Dispatcher]{
		"list_file":             strParam("/etc/kamailio/dispatcher.list", func(d *Dispatcher) *string { return &d.ListFile }),
		"db_url":                {types: takesString, check: checkDBURL, set: setStr(func(d *Dispatcher) *string { return &d.DBURL })},
		"table_name":            strParam("dispatcher", func(d *Dispatcher) *string { return &d.TableName }),
		"setid_col":             strParam("setid", func(d *Dispatcher) *string { return &d.SetIDCol }),
		"destination_col":       strParam("destination", func(d *Dispatcher) *string { return &d.DestinationCol }),
		"flags_col":             strParam("flags", func(d *Dispatcher) *string { return &d.FlagsCol }),
		"priority_col":          strParam("priority", func(d *Dispatcher) *string { return &d.PriorityCol }),
		"attrs_col":             strParam("attrs", func(d *Dispatcher) *string { return &d.AttrsCol }),
		"ds_db_extra_attrs":     unsetStrParam(func(d *Dispatcher) *string { return &d.DSDBExtraAttrs }),
		"ds_load_mode":          intParam(0, func(d *Dispatcher) *int { return &d.DSLoadMode }),
		"ds_attrs_none":         intParam(0, func(d *Dispatcher) *int { return &d.DSAttrsNone }),
		"reload_delta":          intParam(5, func(d *Dispatcher) *int { return &d.ReloadDelta }),
		"ds_ping_interval":      {types: takesInt, def: IntVal(0), check: checkPingInterval, set: setInt(func(d *Dispatcher) *int { return &d.DSPingInterval })},
		"ds_ping_method":        strParam("OPTIONS", func(d *Dispatcher) *string { return &d.DSPingMethod }),
		"ds_ping_from":          strParam("sip:dispatcher@localhost", func(d *Dispatcher) *string { return &d.DSPingFrom }),
		"outbound_proxy":        unsetStrParam(func(d *Dispatcher) *string { return &d.OutboundProxy }),
		"ds_probing_mode":       {types: takesInt, def: IntVal(0), check: checkProbingMode, set: setInt(func(d *Dispatcher) *int { return &d.DSProbingMode })},
		"ds_probing_threshold":  intParam(1, func(d *Dispatcher) *int { return &d.DSProbingThreshold }),
		"ds_inactive_threshold": intParam(1, func(d *Dispatcher) *int { return &d.DSInactiveThreshold }),
		"ds_ping_reply_codes":   {types: takesString, set: setReplyCodes},
		"ds_ping_latency_stats": intParam(0, func(d *Dispatcher) *int { return &d.DSPingLatencyStats }),
		"ds_latency_estimator_alpha": {types: takesInt, def: IntVal(900), check: checkAlpha,
			set: setInt(func(d *Dispatcher) *int { return &d.DSLatencyEstimatorAlpha })},
		"ds_default_socket":      unsetStrParam(func(d *Dispatcher) *string { return &d.DSDefaultSocket }),
		"ds_default_sockname":    unsetStrParam(func(d *Dispatcher) *string { return &d.DSDefaultSockname }),
		"ds_timer_mode":          intParam(0, func(d *Dispatcher) *int { return &d.DSTimerMode }),
		"event_callback":         unsetStrParam(func(d *Dispatcher) *string { return &d.EventCallback }),
		"ds_dns_mode":            intParam(1, func(d *Dispatcher) *int { return &d.DSDNSMode }),
		"ds_dns_interval":        intParam(600, func(d *Dispatcher) *int { return &d.DSDNSInterval }),
		"ds_dns_ttl":             {types: takesInt, def: IntVal(0), check: checkDNSTTL, set: setInt(func(d *Dispatcher) *int { return &d.DSDNSTTL })},
		"force_dst":              intParam(1, func(d *Dispatcher) *int { return &d.ForceDst }),
		"flags":                  intParam(0, func(d *Dispatcher) *int { return &d.Flags }),
		"use_default":            intParam(0, func(d *Dispatcher) *int { return &d.UseDefault }),
		"xavp_dst":               strParam("_dsdst_", func(d *Dispatcher) *string { return &d.XAVPDst }),
		"xavp_dst_mode":          intParam(0, func(d *Dispatcher) *int { return &d.XAVPDstMode }),
		"xavp_ctx":               strParam("_dsctx_", func(d *Dispatcher) *string { return &d.XAVPCtx }),
		"xavp_ctx_mode":          intParam(0, func(d *Dispatcher) *int { return &d.XAVPCtxMode }),
		"hash_pvar":              unsetStrParam(func(d *Dispatcher) *string { return &d.HashPVar }),
		"setid_pvname":           unsetStrParam(func(d *Dispatcher) *string { return &d.SetIDPVName }),
		"attrs_pvname":           unsetStrParam(func(d *Dispatcher) *string { return &d.AttrsPVName }),
		"ds_hash_size":           intParam(0, func(d *Dispatcher) *int { return &d.DSHashSize }),
		"ds_hash_expire":         intParam(7200, func(d *Dispatcher) *int { return &d.DSHashExpire }),
		"ds_hash_initexpire":     intParam(7200, func(d *Dispatcher) *int { return &d.DSHashInitExpire }),
		"ds_hash_check_interval": intParam(30, func(d *Dispatcher) *int { return &d.DSHashCheckInterval }),

		"ds_ping_fr_timeout":      newerIntParam("6.1.0", func(d *Dispatcher) *int { return &d.DSPingFRTimeout }),
		"ds_ping_fr_timer":        newerIntParam("6.1", func(d *Dispatcher) *int { return &d.DSPingFRTimeout }),
		"ds_retain_latency_stats": newerIntParam("5.8.0", func(d *Dispatcher) *int { return &d.DSRetainLatencyStats }),
		"ds_ping_socket": {types: takesString, since: "6.1.0",
			set: setStr(func(d *Dispatcher) *string { return &d.DSPingSocket })},
		"event_callback_mode": newerIntParam("6.1.0", func(d *Dispatcher) *int { return &d.EventCallbackMode }),
	},
	finish: finishDispatcher,
}

// dispatcherNewerParams are the names registered above that Kamailio 5.6.3
// does not know.
var dispatcherNewerParams = []string{"ds_ping_fr_timeout", "ds_ping_fr_timer", "ds_retain_latency_stats", "ds_ping_socket", "event_callback_mode"}

func newerIntParam(since string, field func(*Dispatcher) *int) paramSpec[Dispatcher] {
	return paramSpec[Dispatcher]{types: takesInt, since: since, set: setInt(field)}
}

func setReplyCodes(d *Dispatcher, v Value, c *paramCtx) {
	r, err := ParseReplyCodes(v.Str)
	if err != nil {
		c.warn("%s: %s: %v; no extra reply code is accepted", failsToStart, v, err)
	}
	d.DSPingReplyCodes = r
}

func checkDBURL(v Value, c *paramCtx) Value {
	if v.Str == "" {
		c.warn("an empty db_url still selects the database and %s; kamsidecar reads the list file", failsToStart)
	}
	return v
}

func checkPingInterval(v Value, c *paramCtx) Value {
	if v.Int < 0 {
		c.warn("%d is negative: probing is off, as with 0", v.Int)
		return IntVal(0)
	}
	return v
}

func checkProbingMode(v Value, c *paramCtx) Value {
	if v.Int < 0 || v.Int > 3 {
		c.warn("%d is not one of 0-3: Kamailio 5.6 only compares it with 1, 2 and 3, so it probes as with 0", v.Int)
		return IntVal(0)
	}
	return v
}

func checkAlpha(v Value, c *paramCtx) Value {
	if v.Int < 1 || v.Int > 999 {
		c.warn("%d is outside 1..999: Kamailio 5.6 logs an error and keeps 900 (0.9)", v.Int)
		return IntVal(900)
	}
	return v
}

func checkDNSTTL(v Value, c *paramCtx) Value {
	if v.Int < 0 {
		c.warn("%d is negative: 0 is used (the TTL of the DNS answers)", v.Int)
		return IntVal(0)
	}
	return v
}

// finishDispatcher checks what depends on several parameters or modules.
func finishDispatcher(d *Dispatcher, f *finishCtx) {
	if d.DSDNSMode&4 != 0 && d.DSDNSInterval <= 0 {
		f.warn("ds_dns_interval", "%d with ds_dns_mode %d (timer): Kamailio 5.6 uses 600", d.DSDNSInterval, d.DSDNSMode)
		d.DSDNSInterval = 600
	}
	if d.Source() == SourceDB && len(d.DSDBExtraAttrs) > 2 {
		if err := checkExtraAttrs(d.DSDBExtraAttrs); err != nil {
			f.warn("ds_db_extra_attrs", "%s: %v", failsToStart, err)
		}
	}
	if !d.Loaded {
		return
	}
	if d.DSPingInterval > 0 && !f.isLoaded("tm") {
		f.warn("ds_ping_interval", "probing needs the tm module, which is not loaded: %s", failsToStart)
	}
}

// checkExtraAttrs validates ds_db_extra_attrs as dispatcher's mod_init does
// in database mode: one trailing ';' is dropped, the rest must be a valid
// parameter list whose every entry has a column name.
func checkExtraAttrs(s string) error {
	s = strings.TrimSuffix(s, ";")
	params, err := parseKamailioParams(s)
	if err != nil {
		return err
	}
	for _, p := range params {
		if p.body == "" {
			return fmt.Errorf("attribute %q has no column name", p.name)
		}
	}
	return nil
}
