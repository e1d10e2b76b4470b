package kamcfg

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// JSONRPC are the jsonrpcs module's settings (shared/spec/jsonrpc.md §2),
// with the FIFO and datagram socket names resolved against the runtime
// directory as Kamailio resolves them.
type JSONRPC struct {
	// Loaded tells whether jsonrpcs is loaded by the cfg.
	Loaded bool `json:"loaded"`
	// PrettyFormat: 1 indents the replies.
	PrettyFormat int `json:"pretty_format"`
	// Transport is the bit mask of transports: 1 HTTP, 2 FIFO, 4 datagram;
	// 0 enables every transport that can start. See HTTPOn, FIFOOn,
	// DgramOn.
	Transport int `json:"transport"`
	// FIFOName is the path of the JSON-RPC FIFO, a relative name resolved
	// against the runtime directory ("" disables the FIFO).
	FIFOName string `json:"fifo_name"`
	// FIFOMode is the FIFO's permission bits (0 is made 0600).
	FIFOMode int `json:"fifo_mode"`
	// FIFOUser and FIFOGroup own the FIFO.
	FIFOUser  Owner `json:"fifo_user"`
	FIFOGroup Owner `json:"fifo_group"`
	// FIFOReplyDir is prepended as is (no separator added) to reply FIFO
	// names.
	FIFOReplyDir string `json:"fifo_reply_dir"`
	// DgramSocket is the datagram socket: a unix socket path (a relative
	// name resolved against the runtime directory) or "udp:host:port"
	// ("" disables the transport). See DgramNetwork.
	DgramSocket string `json:"dgram_socket"`
	// DgramWorkers is the number of datagram server processes.
	DgramWorkers int `json:"dgram_workers"`
	// DgramTimeout is the documented send timeout in ms (unused by 5.6).
	DgramTimeout int `json:"dgram_timeout"`
	// DgramMode is the unix socket's permission bits (0 is made 0600).
	DgramMode int `json:"dgram_mode"`
	// DgramUser and DgramGroup own the unix socket.
	DgramUser  Owner `json:"dgram_user"`
	DgramGroup Owner `json:"dgram_group"`

	// on is the set of transports that start (bits as in Transport).
	on int
}

// HTTPOn reports whether JSON-RPC is served over HTTP (through xhttp, on
// Kamailio's own TCP/TLS listeners): bit 1 set or transport 0, and xhttp
// loaded.
func (j JSONRPC) HTTPOn() bool { return j.on&1 != 0 }

// FIFOOn reports whether JSON-RPC is served on FIFOName.
func (j JSONRPC) FIFOOn() bool { return j.on&2 != 0 }

// DgramOn reports whether JSON-RPC is served on DgramSocket.
func (j JSONRPC) DgramOn() bool { return j.on&4 != 0 }

// DgramNetwork returns DgramSocket in the form net.ListenPacket takes:
// ("udp", "host:port") or ("unixgram", path); network is "" when no
// socket is set.
func (j JSONRPC) DgramNetwork() (network, address string) {
	s := j.DgramSocket
	switch {
	case s == "":
		return "", ""
	case strings.HasPrefix(s, "udp:"):
		hostport := s[len("udp:"):]
		i := strings.LastIndexByte(hostport, ':')
		if i < 0 {
			return "udp", hostport
		}
		host := strings.TrimSuffix(strings.TrimPrefix(hostport[:i], "["), "]")
		return "udp", net.JoinHostPort(host, hostport[i+1:])
	}
	return "unixgram", s
}

// dgramSocketProblem returns why jsonrpcs' datagram transport cannot use a
// dgram_socket value as written ("" when it can). A host name that does
// not resolve is not detected.
func dgramSocketProblem(raw, resolved string) string {
	if len(raw) < 6 {
		return fmt.Sprintf("%q is shorter than 6 characters", raw)
	}
	if !strings.HasPrefix(raw, "udp:") {
		if len(resolved) >= 107 {
			return fmt.Sprintf("the socket path %q is too long", resolved)
		}
		return ""
	}
	rest := raw[len("udp:"):]
	i := strings.LastIndexByte(rest, ':')
	if i < 1 {
		return "no port after the host"
	}
	port := rest[i+1:]
	n, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return fmt.Sprintf("%q is not a port number", port)
	}
	if n < 1024 || n > 65535 {
		return fmt.Sprintf("port %d is outside 1024..65535", n)
	}
	return ""
}

func checkZeroMode(v Value, c *paramCtx) Value {
	if v.Int == 0 {
		c.warn("mode 0 is not allowed: 0600 is used")
		return IntVal(0o600)
	}
	return v
}

// jsonrpcModule is the registry of the jsonrpcs parameters.
var jsonrpcModule = &moduleSpec[JSONRPC]{
	name: "jsonrpcs",
	params: map[string]paramSpec[JSONRPC]{
		"pretty_format":  intParam(1, func(j *JSONRPC) *int { return &j.PrettyFormat }),
		"transport":      intParam(6, func(j *JSONRPC) *int { return &j.Transport }),
		"fifo_name":      strParam("kamailio_rpc.fifo", func(j *JSONRPC) *string { return &j.FIFOName }),
		"fifo_mode":      {types: takesInt, def: IntVal(0o660), check: checkZeroMode, set: setInt(func(j *JSONRPC) *int { return &j.FIFOMode })},
		"fifo_user":      ownerParam(func(j *JSONRPC) *Owner { return &j.FIFOUser }),
		"fifo_group":     ownerParam(func(j *JSONRPC) *Owner { return &j.FIFOGroup }),
		"fifo_reply_dir": strParam("/tmp/", func(j *JSONRPC) *string { return &j.FIFOReplyDir }),
		"dgram_socket":   strParam("kamailio_rpc.sock", func(j *JSONRPC) *string { return &j.DgramSocket }),
		"dgram_workers":  intParam(1, func(j *JSONRPC) *int { return &j.DgramWorkers }),
		"dgram_timeout":  intParam(2000, func(j *JSONRPC) *int { return &j.DgramTimeout }),
		"dgram_mode":     {types: takesInt, def: IntVal(0o660), check: checkZeroMode, set: setInt(func(j *JSONRPC) *int { return &j.DgramMode })},
		"dgram_user":     ownerParam(func(j *JSONRPC) *Owner { return &j.DgramUser }),
		"dgram_group":    ownerParam(func(j *JSONRPC) *Owner { return &j.DgramGroup }),
	},
	finish: finishJSONRPC,
}

// finishJSONRPC resolves the file names and works out which transports
// start, following jsonrpcs' mod_init: a transport is tried when its bit is
// set or the mask is 0, and only when its name is not empty; a failure is
// fatal for an explicit bit and turns the transport off with mask 0.
func finishJSONRPC(j *JSONRPC, f *finishCtx) {
	rawDgram := j.DgramSocket
	j.FIFOName = runtimePath(f.rundir, j.FIFOName)
	if !strings.HasPrefix(j.DgramSocket, "udp:") {
		j.DgramSocket = runtimePath(f.rundir, j.DgramSocket)
	}
	t := j.Transport
	all := t == 0
	if t&^7 != 0 {
		f.warn("transport", "bits %#x are not transports of Kamailio 5.6 (8, TCP, is 5.7+) and are ignored", t&^7)
	}
	j.on = 0
	if all || t&1 != 0 {
		switch {
		case f.isLoaded("xhttp"):
			j.on |= 1
		case t&1 != 0 && j.Loaded:
			f.warn("transport", "%s: the HTTP transport (bit 1) needs the xhttp module, which is not loaded", failsToStart)
		}
	}
	if (all || t&2 != 0) && j.FIFOName != "" {
		j.on |= 2
	}
	if (all || t&4 != 0) && rawDgram != "" {
		why := dgramSocketProblem(rawDgram, j.DgramSocket)
		switch {
		case why == "":
			j.on |= 4
		case t&4 != 0:
			f.warn("dgram_socket", "%s: %s", failsToStart, why)
		default:
			f.warn("dgram_socket", "%s: the datagram transport stays off", why)
		}
	}
	if j.on&4 != 0 && j.DgramWorkers < 1 {
		f.warn("dgram_workers", "%d: no datagram worker process is started, so datagram requests are never answered", j.DgramWorkers)
	}
}

// XHTTP are the xhttp module's settings.
type XHTTP struct {
	// Loaded tells whether xhttp is loaded by the cfg.
	Loaded bool `json:"loaded"`
	// URLMatch is a POSIX extended regex: HTTP requests whose URL does not
	// match it are not handled ("" handles every URL).
	URLMatch string `json:"url_match"`
	// URLSkip is a POSIX extended regex: HTTP requests whose URL matches it
	// are not handled; it is checked before URLMatch.
	URLSkip string `json:"url_skip"`
	// EventCallback is the KEMI function run instead of
	// event_route[xhttp:request].
	EventCallback string `json:"event_callback"`
}

// Handles reports whether xhttp passes a request URL (the request-line
// target, e.g. "/RPC") to the config: not matched by URLSkip, and matched
// by URLMatch when set. The regexes are searched (not anchored) and are
// case-sensitive. A regex kamsidecar cannot compile handles nothing.
func (x XHTTP) Handles(url string) bool {
	if x.URLSkip != "" {
		re, err := compileKamailioRegex(x.URLSkip)
		if err != nil || re.MatchString(url) {
			return false
		}
	}
	if x.URLMatch != "" {
		re, err := compileKamailioRegex(x.URLMatch)
		if err != nil || !re.MatchString(url) {
			return false
		}
	}
	return true
}

// compileKamailioRegex compiles a POSIX extended regex as kamsidecar reads
// it: POSIX syntax first, then Go's syntax for the GNU escapes (\w, \s,
// \b) glibc also accepts.
func compileKamailioRegex(s string) (*regexp.Regexp, error) {
	re, err := regexp.CompilePOSIX(s)
	if err == nil {
		return re, nil
	}
	if re, err2 := regexp.Compile(s); err2 == nil {
		return re, nil
	}
	return nil, err
}

// regexSurelyBad tells the syntax errors glibc's regcomp rejects as well
// (unbalanced parentheses or brackets), as opposed to constructs only Go
// refuses.
func regexSurelyBad(err error) bool {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case syntax.ErrMissingParen, syntax.ErrUnexpectedParen, syntax.ErrMissingBracket:
		return true
	}
	return false
}

func checkXHTTPRegex(v Value, c *paramCtx) Value {
	if _, err := compileKamailioRegex(v.Str); err != nil {
		if regexSurelyBad(err) {
			c.warn("%s: bad regular expression %s (%v)", failsToStart, v, err)
		} else {
			c.warn("kamsidecar cannot compile the regular expression %s (%v); Kamailio may accept it", v, err)
		}
	}
	return v
}

// xhttpModule is the registry of the xhttp parameters.
var xhttpModule = &moduleSpec[XHTTP]{
	name: "xhttp",
	params: map[string]paramSpec[XHTTP]{
		"url_match":      {types: takesString, check: checkXHTTPRegex, set: setStr(func(x *XHTTP) *string { return &x.URLMatch })},
		"url_skip":       {types: takesString, check: checkXHTTPRegex, set: setStr(func(x *XHTTP) *string { return &x.URLSkip })},
		"event_callback": unsetStrParam(func(x *XHTTP) *string { return &x.EventCallback }),
	},
}

// CTL are the ctl module's settings (shared/spec/binrpc.md §1).
type CTL struct {
	// Loaded tells whether ctl is loaded by the cfg.
	Loaded bool `json:"loaded"`
	// BinRPC are the BINRPC listeners, one per "binrpc" modparam in file
	// order; when neither binrpc nor fifo is written, the default
	// "unixs:<rundir>/kamailio_ctl".
	BinRPC []CTLListener `json:"binrpc"`
	// FIFO are the listeners of the old text FIFO protocol, one per "fifo"
	// modparam in file order.
	FIFO []CTLListener `json:"fifo"`
	// Mode is the permission bits of created unix sockets and FIFOs.
	Mode int `json:"mode"`
	// User and Group own the created unix sockets and FIFOs ("": the
	// process's own).
	User  string `json:"user"`
	Group string `json:"group"`
	// Autoconversion: 1 converts RPC parameter types for every command.
	Autoconversion int `json:"autoconversion"`
	// BinRPCMaxBodySize is the reply body buffer in KiB.
	BinRPCMaxBodySize int `json:"binrpc_max_body_size"`
	// BinRPCStructMaxBodySize is the buffer of each struct/array in KiB.
	BinRPCStructMaxBodySize int `json:"binrpc_struct_max_body_size"`
	// BinRPCBufferSize is the printf buffer in bytes.
	BinRPCBufferSize int `json:"binrpc_buffer_size"`
}

// CTLProto is the transport of a ctl listener.
type CTLProto string

// The ctl transports, named as in ctl's listen addresses.
const (
	// CTLUnixStream is a unix stream socket ("unix:" or "unixs:").
	CTLUnixStream CTLProto = "unixs"
	// CTLUnixDgram is a unix datagram socket ("unixd:").
	CTLUnixDgram CTLProto = "unixd"
	// CTLTCP is a TCP listener.
	CTLTCP CTLProto = "tcp"
	// CTLUDP is a UDP socket.
	CTLUDP CTLProto = "udp"
	// CTLFIFO is a FIFO of the old text protocol.
	CTLFIFO CTLProto = "fifo"
)

// ctlDefaultPort is the port of tcp/udp listeners written without one.
const ctlDefaultPort = 2049

// CTLListener is one ctl listen address, parsed as ctl parses it.
type CTLListener struct {
	// Spec is the value as written (or the default).
	Spec string `json:"spec"`
	// Proto is the transport.
	Proto CTLProto `json:"proto"`
	// Addr is the path of unix sockets and FIFOs (a relative path is
	// relative to Kamailio's working directory, "/" by default), or the
	// host of tcp/udp ("*" for any address).
	Addr string `json:"addr"`
	// Port is the tcp/udp port (0 for unix sockets and FIFOs).
	Port int `json:"port,omitempty"`
	// Default marks the listener ctl adds when none is written.
	Default bool `json:"default,omitempty"`
	// Pos is the place of the modparam statement.
	Pos Position `json:"-"`
}

// Network returns the listener in the form net.Listen/ListenPacket take:
// ("unix", path), ("unixgram", path), ("tcp"|"udp", "host:port", host ""
// for any); network is "" for a FIFO.
func (l CTLListener) Network() (network, address string) {
	switch l.Proto {
	case CTLUnixStream:
		return "unix", l.Addr
	case CTLUnixDgram:
		return "unixgram", l.Addr
	case CTLTCP, CTLUDP:
		host := l.Addr
		if host == "*" {
			host = ""
		}
		return string(l.Proto), net.JoinHostPort(host, strconv.Itoa(l.Port))
	}
	return "", ""
}

// errBadListen is the error of listen addresses ctl rejects.
var errBadListen = errors.New("bad listen address")

// parseCTLListen parses a ctl listen address as ctl 5.6 does
// ([proto:]host[:port], [proto:]path): the text up to the first ':' is a
// protocol when it names one (tcp, udp, unix, unixs, unixd, fifo, any
// case); without one, a port makes it udp and a '/' a unix stream socket
// (fifo for the fifo parameter), otherwise def. A tcp/udp address of one
// numeric field is a port on any address; a missing port is 2049; a port
// is at most 5 digits and wraps at 65536, and a non-numeric one is looked
// up as a service name. IPv6 addresses in brackets are rejected by 5.6.
func parseCTLListen(s string, def CTLProto) (CTLListener, string, error) {
	l := CTLListener{Spec: s}
	proto := CTLProto("")
	name, port := s, ""
	hasPort := false
	if strings.HasPrefix(s, "[") {
		return l, "", fmt.Errorf("%w: IPv6 addresses are not accepted by ctl in Kamailio 5.6", errBadListen)
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		switch p := strings.ToLower(s[:i]); p {
		case "tcp", "udp", "unixd", "fifo":
			proto = CTLProto(p)
		case "unix", "unixs":
			proto = CTLUnixStream
		}
		rest := s[i+1:]
		if proto == "" {
			name, port, hasPort = s[:i], rest, true
		} else {
			if strings.HasPrefix(rest, "[") {
				return l, "", fmt.Errorf("%w: IPv6 addresses are not accepted by ctl in Kamailio 5.6", errBadListen)
			}
			name = rest
			if j := strings.IndexByte(rest, ':'); j >= 0 {
				name, port, hasPort = rest[:j], rest[j+1:], true
			}
		}
	}
	if hasPort && port == "" {
		hasPort = false
	}
	if proto == "" {
		switch {
		case hasPort:
			proto = CTLUDP
			if def == CTLTCP {
				proto = CTLTCP
			}
		case strings.Contains(name, "/") && (def == CTLTCP || def == CTLUDP):
			proto = CTLUnixStream
		default:
			proto = def
		}
	}
	warning := ""
	l.Proto, l.Addr = proto, name
	switch {
	case hasPort:
		n, ok := ctlPortNumber(port)
		if !ok {
			network := "tcp"
			if proto == CTLUDP {
				network = "udp"
			}
			p, err := net.LookupPort(network, port)
			if err != nil {
				return l, "", fmt.Errorf("%w: %q is not a port number or a known service", errBadListen, port)
			}
			n = p
		} else if n > 65535 {
			warning = fmt.Sprintf("port %d wraps to %d", n, n%65536)
			n %= 65536
		}
		l.Port = n
	case proto == CTLTCP || proto == CTLUDP:
		if n, ok := ctlPortNumber(name); ok {
			l.Addr, l.Port = "*", n%65536
		}
	}
	if (proto == CTLTCP || proto == CTLUDP) && l.Port == 0 {
		l.Port = ctlDefaultPort
	}
	if proto == CTLTCP || proto == CTLUDP {
		if l.Addr == "" {
			l.Addr = "*"
		}
	} else {
		l.Port = 0
	}
	return l, warning, nil
}

// ctlPortNumber reads a port like ctl's str2s: 1 to 5 decimal digits (the
// empty string is 0).
func ctlPortNumber(s string) (int, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// addCTLListener returns the set function of the binrpc and fifo
// parameters: every occurrence adds a listener; an address ctl cannot
// parse is an error while the file is read.
func addCTLListener(fifo bool) func(*CTL, Value, *paramCtx) {
	def := CTLUDP
	if fifo {
		def = CTLFIFO
	}
	return func(m *CTL, v Value, c *paramCtx) {
		l, warning, err := parseCTLListen(v.Str, def)
		if err != nil {
			c.fail("%v: %s", err, v)
			return
		}
		if warning != "" {
			c.warn("%s: %s", v, warning)
		}
		l.Pos = c.pos
		if fifo {
			m.FIFO = append(m.FIFO, l)
		} else {
			m.BinRPC = append(m.BinRPC, l)
		}
	}
}

func checkCTLSize(min int32) func(Value, *paramCtx) Value {
	return func(v Value, c *paramCtx) Value {
		if v.Int <= 0 {
			c.warn("%d is not positive: %d KiB is used", v.Int, min)
			return IntVal(min)
		}
		return v
	}
}

// ctlModule is the registry of the ctl parameters.
var ctlModule = &moduleSpec[CTL]{
	name: "ctl",
	params: map[string]paramSpec[CTL]{
		"binrpc":         {types: takesString, set: addCTLListener(false)},
		"fifo":           {types: takesString, set: addCTLListener(true)},
		"mode":           intParam(0o600, func(m *CTL) *int { return &m.Mode }),
		"user":           unsetStrParam(func(m *CTL) *string { return &m.User }),
		"group":          unsetStrParam(func(m *CTL) *string { return &m.Group }),
		"autoconversion": intParam(0, func(m *CTL) *int { return &m.Autoconversion }),
		"binrpc_max_body_size": {types: takesInt, def: IntVal(32), check: checkCTLSize(4),
			set: setInt(func(m *CTL) *int { return &m.BinRPCMaxBodySize })},
		"binrpc_struct_max_body_size": {types: takesInt, def: IntVal(8), check: checkCTLSize(1),
			set: setInt(func(m *CTL) *int { return &m.BinRPCStructMaxBodySize })},
		"binrpc_buffer_size": intParam(1024, func(m *CTL) *int { return &m.BinRPCBufferSize }),
	},
	finish: finishCTL,
}

// finishCTL adds the default listener and reports listeners ctl cannot
// open.
func finishCTL(m *CTL, f *finishCtx) {
	if len(m.BinRPC) == 0 && len(m.FIFO) == 0 {
		path := f.rundir + "/kamailio_ctl"
		m.BinRPC = []CTLListener{{Spec: "unixs:" + path, Proto: CTLUnixStream, Addr: path, Default: true}}
	}
	if !m.Loaded {
		return
	}
	seen := map[string]Position{}
	for _, l := range append(append([]CTLListener{}, m.BinRPC...), m.FIFO...) {
		param := "binrpc"
		if l.Proto == CTLFIFO {
			param = "fifo"
		}
		c := &paramCtx{module: "ctl", param: param, pos: l.Pos, diags: f.diags}
		if l.Addr == "" && l.Proto != CTLTCP && l.Proto != CTLUDP {
			c.warn("%s: %q has an empty path", failsToStart, l.Spec)
			continue
		}
		if l.Proto == CTLTCP || l.Proto == CTLUDP {
			key := fmt.Sprintf("%s %s %d", l.Proto, l.Addr, l.Port)
			if first, dup := seen[key]; dup {
				c.warn("%s: %q listens on the same address as the one at %s", failsToStart, l.Spec, first)
				continue
			}
			seen[key] = l.Pos
		}
	}
}
