package kamcfg

import "time"

// TM are the tm module's settings: every parameter of Kamailio 5.6.3, in
// Kamailio's units (timers in milliseconds unless the name says otherwise).
// The timer fields carry their unit in the name so that the methods of the
// same name can return a time.Duration.
type TM struct {
	// Loaded tells whether tm is loaded by the cfg.
	Loaded bool `json:"loaded"`

	// FRTimerMS is the final-response timeout of a branch (ms); probes of
	// dispatcher and keepalive end with a local 408 after it.
	FRTimerMS int `json:"fr_timer"`
	// FRInvTimerMS is the INVITE final-response timeout after a
	// provisional reply (ms).
	FRInvTimerMS int `json:"fr_inv_timer"`
	// WTTimerMS is how long a completed transaction is kept (ms).
	WTTimerMS int `json:"wt_timer"`
	// MaxInvLifetimeMS and MaxNonInvLifetimeMS bound the lifetime of a
	// whole transaction (ms).
	MaxInvLifetimeMS    int `json:"max_inv_lifetime"`
	MaxNonInvLifetimeMS int `json:"max_noninv_lifetime"`
	// RetrTimer1MS is the first retransmission interval (T1, ms) and
	// RetrTimer2MS its ceiling (T2, ms).
	RetrTimer1MS int `json:"retr_timer1"`
	RetrTimer2MS int `json:"retr_timer2"`
	// NoisyCTimer: 1 always replies 408 to timed-out INVITEs.
	NoisyCTimer int `json:"noisy_ctimer"`
	// RestartFROnEachReply: 1 restarts fr_inv_timer on every provisional
	// reply.
	RestartFROnEachReply int `json:"restart_fr_on_each_reply"`
	// AutoInv100: 1 sends 100 Trying to INVITEs automatically, with
	// AutoInv100Reason as reason phrase.
	AutoInv100       int    `json:"auto_inv_100"`
	AutoInv100Reason string `json:"auto_inv_100_reason"`
	// UnixTxTimeoutMS is the send timeout on unix sockets (ms).
	UnixTxTimeoutMS int `json:"unix_tx_timeout"`
	// AggregateChallenges: 1 merges the 401/407 challenges of all branches.
	AggregateChallenges int `json:"aggregate_challenges"`
	// ReparseInvite: 1 builds CANCEL and negative ACK from the sent INVITE.
	ReparseInvite int `json:"reparse_invite"`
	// ACExtraHdrs is the header name prefix copied into CANCEL/ACK.
	ACExtraHdrs string `json:"ac_extra_hdrs"`
	// Blst503 and the Blst503*Timeout fields (seconds) control blocklisting
	// of 503 sources.
	Blst503           int `json:"blst_503"`
	Blst503DefTimeout int `json:"blst_503_def_timeout"`
	Blst503MinTimeout int `json:"blst_503_min_timeout"`
	Blst503MaxTimeout int `json:"blst_503_max_timeout"`
	// BlstMethodsAdd and BlstMethodsLookup are method bit masks (unsigned).
	BlstMethodsAdd    uint32 `json:"blst_methods_add"`
	BlstMethodsLookup uint32 `json:"blst_methods_lookup"`
	// CancelBMethod is how unreplied branches are cancelled (0-2).
	CancelBMethod int `json:"cancel_b_method"`
	// ReparseOnDNSFailover: 1 builds DNS failover branches from the failed
	// branch's buffer.
	ReparseOnDNSFailover int `json:"reparse_on_dns_failover"`
	// OnSLReply is the reply route (or KEMI function) for stateless replies.
	OnSLReply string `json:"on_sl_reply"`
	// ContactsAVP and ContactFlowsAVP name the XAVPs of t_load_contacts()
	// and t_next_contacts().
	ContactsAVP     string `json:"contacts_avp"`
	ContactFlowsAVP string `json:"contact_flows_avp"`
	// FRTimerAVP and FRInvTimerAVP name AVPs overriding the timers per
	// transaction (values in seconds).
	FRTimerAVP    string `json:"fr_timer_avp"`
	FRInvTimerAVP string `json:"fr_inv_timer_avp"`
	// UnmatchedCancel: 0 forwards unmatched CANCELs statefully, 1
	// statelessly, 2 drops them.
	UnmatchedCancel int `json:"unmatched_cancel"`
	// RURIMatching, Via1Matching, CallIDMatching and CallIDCSeqMatching
	// select the transaction matching rules.
	RURIMatching       int `json:"ruri_matching"`
	Via1Matching       int `json:"via1_matching"`
	CallIDMatching     int `json:"callid_matching"`
	CallIDCSeqMatching int `json:"callid_cseq_matching"`
	// PassProvisionalReplies: 1 runs local-response callbacks for 1xx too.
	PassProvisionalReplies int `json:"pass_provisional_replies"`
	// DefaultCode and DefaultReason are what t_reply() sends when its
	// arguments cannot be read.
	DefaultCode   int    `json:"default_code"`
	DefaultReason string `json:"default_reason"`
	// Disable6xxBlock: 1 treats 6xx like other replies.
	Disable6xxBlock int `json:"disable_6xx_block"`
	// LocalAckMode selects where ACKs of local 2xx go (0-2).
	LocalAckMode int `json:"local_ack_mode"`
	// FailureReplyMode selects which branches failure_route sees (0-3).
	FailureReplyMode int `json:"failure_reply_mode"`
	// FakedReplyPrio adjusts the priority of locally generated replies.
	FakedReplyPrio int `json:"faked_reply_prio"`
	// LocalCancelReason and E2ECancelReason add Reason headers to CANCELs.
	LocalCancelReason int `json:"local_cancel_reason"`
	E2ECancelReason   int `json:"e2e_cancel_reason"`
	// Remap503500: 1 turns received 503 into 500.
	Remap503500 int `json:"remap_503_500"`
	// FailureExecMode: 1 sends locally failed branches to failure_route.
	FailureExecMode int `json:"failure_exec_mode"`
	// DNSReuseRcvSocket: 1 sends DNS failover branches from the receiving
	// socket.
	DNSReuseRcvSocket int `json:"dns_reuse_rcv_socket"`
	// XAVPContact is the XAVP with per-contact attributes (as usrloc's).
	XAVPContact string `json:"xavp_contact"`
	// EventCallback and EventCallbackLResSent are KEMI functions run for
	// tm:local-request and tm:local-response.
	EventCallback         string `json:"event_callback"`
	EventCallbackLResSent string `json:"event_callback_lres_sent"`
	// Relay100: 1 relays 100 replies (stateless proxying).
	Relay100 int `json:"relay_100"`
	// RichRedirect adds branch flags (1) and path (2) to 3xx contacts.
	RichRedirect int `json:"rich_redirect"`
	// ExecTimeCheckMS is the failure-handling duration after which the
	// transaction is checked again (ms, 0: off).
	ExecTimeCheckMS int `json:"exec_time_check"`
	// ReplyRelayMode: 1 does not relay a suspended 200 after another final
	// reply.
	ReplyRelayMode int `json:"reply_relay_mode"`
	// EnableUACFR: 1 runs failure routes for local (UAC) transactions.
	EnableUACFR int `json:"enable_uac_fr"`
	// TWAppend are the t_write_req()/t_write_unix() append definitions, one
	// per modparam, in order.
	TWAppend []string `json:"tw_append"`
}

// tmTimer is the Duration of a timer Kamailio keeps in ticks: milliseconds
// rounded up to 1/16 s, 0 made one tick.
func tmTimer(ms int) time.Duration {
	t := msToTicks(uint32(ms))
	if t == 0 {
		t = 1
	}
	return ticksDuration(t)
}

// tmRetr is the Duration of a retransmission timer, kept in milliseconds
// (0 is made 1 ms).
func tmRetr(ms int) time.Duration {
	if ms == 0 {
		ms = 1
	}
	return time.Duration(uint32(ms)) * time.Millisecond
}

// FRTimer is the final-response timeout as tm applies it (rounded up to
// Kamailio's 62.5 ms ticks).
func (t TM) FRTimer() time.Duration { return tmTimer(t.FRTimerMS) }

// FRInvTimer is the INVITE final-response timeout as tm applies it.
func (t TM) FRInvTimer() time.Duration { return tmTimer(t.FRInvTimerMS) }

// WTTimer is the wait time of completed transactions as tm applies it.
func (t TM) WTTimer() time.Duration { return tmTimer(t.WTTimerMS) }

// MaxInvLifetime is the maximum INVITE transaction lifetime.
func (t TM) MaxInvLifetime() time.Duration { return tmTimer(t.MaxInvLifetimeMS) }

// MaxNonInvLifetime is the maximum non-INVITE transaction lifetime.
func (t TM) MaxNonInvLifetime() time.Duration { return tmTimer(t.MaxNonInvLifetimeMS) }

// RetrTimer1 is the first retransmission interval (T1).
func (t TM) RetrTimer1() time.Duration { return tmRetr(t.RetrTimer1MS) }

// RetrTimer2 is the longest retransmission interval (T2).
func (t TM) RetrTimer2() time.Duration { return tmRetr(t.RetrTimer2MS) }

func tmInt(def int32, field func(*TM) *int) paramSpec[TM] { return intParam(def, field) }

func tmStr(def string, field func(*TM) *string) paramSpec[TM] { return strParam(def, field) }

// tmTimerParam is a timer tm converts to ticks: 0 becomes one tick and a
// negative value is read as a huge unsigned number.
func tmTimerParam(def int32, field func(*TM) *int) paramSpec[TM] {
	return paramSpec[TM]{types: takesInt, def: IntVal(def), check: checkTMTimer, set: setInt(field)}
}

// tmRetrParam is a retransmission timer: kept in ms in 16 bits, so values
// of 65535 and more stop tm at start-up.
func tmRetrParam(def int32, field func(*TM) *int) paramSpec[TM] {
	return paramSpec[TM]{types: takesInt, def: IntVal(def), check: checkTMRetr, set: setInt(field)}
}

func checkTMTimer(v Value, c *paramCtx) Value {
	switch {
	case v.Int == 0:
		c.warn("0 ms is raised to one timer tick (62.5 ms)")
	case v.Int < 0:
		c.warn("%d is negative: Kamailio 5.6 reads it as %d ms", v.Int, uint32(v.Int))
	}
	return v
}

func checkTMRetr(v Value, c *paramCtx) Value {
	switch {
	case uint32(v.Int) >= 65535:
		c.warn("%s: %d ms does not fit tm's 16-bit retransmission timers (at most 65534)", failsToStart, v.Int)
	case v.Int == 0:
		c.warn("0 ms is raised to 1 ms")
	}
	return v
}

func checkCancelBMethod(v Value, c *paramCtx) Value {
	if v.Int < 0 || v.Int > 2 {
		c.warn("%s: %d is not one of 0, 1, 2", failsToStart, v.Int)
	}
	return v
}

// tmModule is the registry of the tm parameters (54 in Kamailio 5.6.3).
var tmModule = &moduleSpec[TM]{
	name: "tm",
	params: map[string]paramSpec[TM]{
		"fr_timer":                 tmTimerParam(30000, func(t *TM) *int { return &t.FRTimerMS }),
		"fr_inv_timer":             tmTimerParam(120000, func(t *TM) *int { return &t.FRInvTimerMS }),
		"wt_timer":                 tmTimerParam(5000, func(t *TM) *int { return &t.WTTimerMS }),
		"max_inv_lifetime":         tmTimerParam(180000, func(t *TM) *int { return &t.MaxInvLifetimeMS }),
		"max_noninv_lifetime":      tmTimerParam(32000, func(t *TM) *int { return &t.MaxNonInvLifetimeMS }),
		"retr_timer1":              tmRetrParam(500, func(t *TM) *int { return &t.RetrTimer1MS }),
		"retr_timer2":              tmRetrParam(4000, func(t *TM) *int { return &t.RetrTimer2MS }),
		"noisy_ctimer":             tmInt(1, func(t *TM) *int { return &t.NoisyCTimer }),
		"restart_fr_on_each_reply": tmInt(1, func(t *TM) *int { return &t.RestartFROnEachReply }),
		"auto_inv_100":             tmInt(1, func(t *TM) *int { return &t.AutoInv100 }),
		"auto_inv_100_reason":      tmStr("trying -- your call is important to us", func(t *TM) *string { return &t.AutoInv100Reason }),
		"unix_tx_timeout":          tmInt(500, func(t *TM) *int { return &t.UnixTxTimeoutMS }),
		"aggregate_challenges":     tmInt(1, func(t *TM) *int { return &t.AggregateChallenges }),
		"reparse_invite":           tmInt(1, func(t *TM) *int { return &t.ReparseInvite }),
		"ac_extra_hdrs":            unsetStrParam(func(t *TM) *string { return &t.ACExtraHdrs }),
		"blst_503":                 tmInt(0, func(t *TM) *int { return &t.Blst503 }),
		"blst_503_def_timeout":     tmInt(0, func(t *TM) *int { return &t.Blst503DefTimeout }),
		"blst_503_min_timeout":     tmInt(0, func(t *TM) *int { return &t.Blst503MinTimeout }),
		"blst_503_max_timeout":     tmInt(3600, func(t *TM) *int { return &t.Blst503MaxTimeout }),
		"blst_methods_add": {types: takesInt, def: IntVal(1),
			set: setUint(func(t *TM) *uint32 { return &t.BlstMethodsAdd })},
		// every method but BYE (8): 4294967287, -9 as a C int
		"blst_methods_lookup": {types: takesInt, def: IntVal(-9),
			set: setUint(func(t *TM) *uint32 { return &t.BlstMethodsLookup })},
		"cancel_b_method": {types: takesInt, def: IntVal(1), check: checkCancelBMethod,
			set: setInt(func(t *TM) *int { return &t.CancelBMethod })},
		"reparse_on_dns_failover":  tmInt(1, func(t *TM) *int { return &t.ReparseOnDNSFailover }),
		"on_sl_reply":              unsetStrParam(func(t *TM) *string { return &t.OnSLReply }),
		"contacts_avp":             unsetStrParam(func(t *TM) *string { return &t.ContactsAVP }),
		"contact_flows_avp":        unsetStrParam(func(t *TM) *string { return &t.ContactFlowsAVP }),
		"fr_timer_avp":             unsetStrParam(func(t *TM) *string { return &t.FRTimerAVP }),
		"fr_inv_timer_avp":         unsetStrParam(func(t *TM) *string { return &t.FRInvTimerAVP }),
		"unmatched_cancel":         tmInt(0, func(t *TM) *int { return &t.UnmatchedCancel }),
		"ruri_matching":            tmInt(1, func(t *TM) *int { return &t.RURIMatching }),
		"via1_matching":            tmInt(1, func(t *TM) *int { return &t.Via1Matching }),
		"callid_matching":          tmInt(0, func(t *TM) *int { return &t.CallIDMatching }),
		"callid_cseq_matching":     tmInt(0, func(t *TM) *int { return &t.CallIDCSeqMatching }),
		"pass_provisional_replies": tmInt(0, func(t *TM) *int { return &t.PassProvisionalReplies }),
		"default_code":             tmInt(500, func(t *TM) *int { return &t.DefaultCode }),
		"default_reason":           tmStr("Server Internal Error", func(t *TM) *string { return &t.DefaultReason }),
		"disable_6xx_block":        tmInt(0, func(t *TM) *int { return &t.Disable6xxBlock }),
		"local_ack_mode":           tmInt(0, func(t *TM) *int { return &t.LocalAckMode }),
		"failure_reply_mode":       tmInt(3, func(t *TM) *int { return &t.FailureReplyMode }),
		"faked_reply_prio":         tmInt(0, func(t *TM) *int { return &t.FakedReplyPrio }),
		"local_cancel_reason":      tmInt(1, func(t *TM) *int { return &t.LocalCancelReason }),
		"e2e_cancel_reason":        tmInt(1, func(t *TM) *int { return &t.E2ECancelReason }),
		"remap_503_500":            tmInt(1, func(t *TM) *int { return &t.Remap503500 }),
		"failure_exec_mode":        tmInt(0, func(t *TM) *int { return &t.FailureExecMode }),
		"dns_reuse_rcv_socket":     tmInt(0, func(t *TM) *int { return &t.DNSReuseRcvSocket }),
		"xavp_contact":             unsetStrParam(func(t *TM) *string { return &t.XAVPContact }),
		"event_callback":           unsetStrParam(func(t *TM) *string { return &t.EventCallback }),
		"event_callback_lres_sent": unsetStrParam(func(t *TM) *string { return &t.EventCallbackLResSent }),
		"relay_100":                tmInt(0, func(t *TM) *int { return &t.Relay100 }),
		"rich_redirect":            tmInt(0, func(t *TM) *int { return &t.RichRedirect }),
		"exec_time_check":          tmInt(5000, func(t *TM) *int { return &t.ExecTimeCheckMS }),
		"reply_relay_mode":         tmInt(1, func(t *TM) *int { return &t.ReplyRelayMode }),
		"enable_uac_fr":            tmInt(0, func(t *TM) *int { return &t.EnableUACFR }),
		"tw_append": {types: takesString, set: func(t *TM, v Value, _ *paramCtx) {
			t.TWAppend = append(t.TWAppend, v.Str)
		}},
	},
	finish: func(t *TM, f *finishCtx) {
		if t.ContactsAVP != "" && t.ContactFlowsAVP == "" {
			f.warn("contacts_avp", "%s: contacts_avp needs contact_flows_avp, which is not set", failsToStart)
		}
	},
}
