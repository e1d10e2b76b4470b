package kamcfg

import (
	"errors"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// parser runs the grammar statement by statement over the lexed tokens
// and turns the nodes into Config entries.
type parser struct {
	l   *lexState
	c   *Config
	seq int // token index of the statement being recorded

	routes map[string]Position // named route blocks seen, by routeKey
}

func (p *parser) errorf(pos Position, format string, args ...any) {
	p.l.errorf(pos, format, args...)
}

func (p *parser) warnf(pos Position, format string, args ...any) {
	p.l.warnf(pos, format, args...)
}

// tok returns the token a participle position points at.
func (p *parser) tok(pos lexer.Position) token {
	i := pos.Offset
	if i < 0 || i >= len(p.l.toks) {
		i = len(p.l.toks) - 1
	}
	return p.l.toks[i]
}

// statements parses every top-level statement, recovering after a syntax
// error at the next line that starts a statement.
func (p *parser) statements() {
	toks := p.l.toks
	peek, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		p.errorf(Position{File: p.c.File}, "%v", err)
		return
	}
	if peek.Peek().EOF() {
		// Kamailio's grammar wants at least one statement.
		p.errorf(toks[len(toks)-1].pos, "syntax error: unexpected end of file (the file has no statement)")
		return
	}
	for !peek.Peek().EOF() {
		start := peek.Cursor()
		cp := peek.MakeCheckpoint()
		st, err := stmtParser.ParseFromLexer(peek, participle.AllowTrailing(true))
		errAt := start
		if err == nil {
			next := peek.Peek()
			if st.Socket == nil || !listenModifiers[next.Value] || next.Type != tkKeyword {
				p.statement(st)
				if peek.Cursor() > start {
					continue
				}
			}
			// A listen modifier out of order or repeated: Kamailio's
			// grammar refuses the whole statement.
			errAt = next.Pos.Offset
			err = nil
		}
		var perr participle.Error
		if err != nil && errors.As(err, &perr) {
			errAt = perr.Position().Offset
		}
		p.syntaxError(start, errAt, err)
		peek.LoadCheckpoint(cp)
		for next := p.resync(start, errAt); peek.Cursor() < next; {
			peek.Next()
		}
	}
}

// listenModifiers are the words that may follow a listen socket list, in
// the order advertise, name, virtual, each once.
var listenModifiers = map[string]bool{"advertise": true, "ADVERTISE": true, "name": true, "NAME": true, "virtual": true}

// syntaxError reports a statement that does not parse.
func (p *parser) syntaxError(start, at int, err error) {
	toks := p.l.toks
	if at < start || at >= len(toks) {
		at = start
	}
	t := toks[at]
	if t.typ == tkBad {
		return // already reported by the lexer (a define expanding to itself)
	}
	msg := "syntax error: unexpected " + t.describe()
	if s := toks[start]; s.typ == tkKeyword || s.typ == tkIdent {
		msg += " in " + s.val + " statement"
	}
	if err != nil {
		if i := strings.Index(err.Error(), "(expected"); i >= 0 {
			msg += " " + err.Error()[i:]
		}
	}
	p.errorf(t.pos, "%s", msg)
}

// resync finds where to go on after a syntax error: the first token at or
// after the error that starts a line and can start a statement.
func (p *parser) resync(start, at int) int {
	toks := p.l.toks
	if at <= start {
		at = start + 1
	}
	for k := at; k < len(toks); k++ {
		t := toks[k]
		if t.typ == tkEOF {
			return k
		}
		prev := toks[k-1]
		newLine := t.pos.File != prev.pos.File || t.pos.Line != prev.pos.Line
		if newLine && (t.typ == tkKeyword || t.typ == tkIdent) {
			return k
		}
	}
	return len(toks) - 1
}

// statement records one parsed statement.
func (p *parser) statement(st *stmtNode) {
	pos := p.tok(st.Pos).pos
	p.seq = st.Pos.Offset
	switch {
	case st.LoadMod != nil:
		p.loadModule(pos, st.LoadMod)
	case st.LoadPath != nil:
		p.c.LoadPath = st.LoadPath.Path
	case st.ModParam != nil:
		p.modParam(pos, st.ModParam)
	case st.CfgEngine != nil:
		p.c.CfgEngine = st.CfgEngine.Engine
	case st.Route != nil:
		p.route(pos, st.Route)
	case st.Socket != nil:
		p.socket(pos, st.Socket)
	case st.CfgVar != nil:
		p.cfgVar(pos, st.Pos.Offset, st.CfgVar)
	case st.Assign != nil:
		p.assign(pos, st.Assign)
	}
}

// route records a route block; Kamailio refuses a second block of the
// same kind and name.
func (p *parser) route(pos Position, n *routeNode) {
	r := Route{Kind: n.Kind, Name: strings.Join(n.Name, ""), Pos: pos}
	// Kamailio refuses a second named block; a second main, reply or
	// onsend route replaces the first.
	if r.Name != "" && r.Name != "0" {
		key := routeKey(r)
		if first, dup := p.routes[key]; dup {
			p.errorf(pos, "%s is defined twice (first at %s)", routeLabel(r), first)
			return
		}
		if p.routes == nil {
			p.routes = map[string]Position{}
		}
		p.routes[key] = pos
	}
	p.c.Routes = append(p.c.Routes, r)
}

// routeKey identifies a route block: request_route and the unnamed route
// are the same block, as are onreply_route, reply_route and
// onreply_route[0].
func routeKey(r Route) string {
	kind, name := r.Kind, strings.Trim(r.Name, "\"")
	switch {
	case kind == "request_route", kind == "route" && (name == "" || name == "0"):
		return "request"
	case kind == "reply_route", kind == "onreply_route" && (name == "" || name == "0"):
		return "reply"
	}
	return kind + "[" + name + "]"
}

func routeLabel(r Route) string {
	if r.Name == "" {
		return r.Kind
	}
	return r.Kind + "[" + r.Name + "]"
}

func (p *parser) loadModule(pos Position, n *loadModNode) {
	path := ""
	if n.Name != nil {
		path = *n.Name
	} else {
		path = n.Args[0]
		p.errorf(pos, "loadmodule(%q, ...) is Kamailio 5.7+ syntax; 5.6 takes loadmodule %q", path, path)
	}
	if n.Kw == "loadmodulex" {
		path = p.l.evalPV(path, "<null>")
	}
	m := LoadModule{Path: path, Name: moduleName(path), Pos: pos, seq: p.seq}
	if m.Name == "" {
		p.errorf(pos, "loadmodule: empty module name")
		return
	}
	for _, old := range p.c.LoadModules {
		if old.Name == m.Name {
			// Kamailio still tries the load (and lists it), then fails.
			p.errorf(pos, "module %s is loaded twice (first at %s)", m.Name, old.Pos)
			break
		}
	}
	p.c.LoadModules = append(p.c.LoadModules, m)
}

func (p *parser) modParam(pos Position, n *modParamNode) {
	x := n.Kw == "modparamx"
	m := ModParam{Module: n.Module, Param: n.Param, X: x, Pos: pos, seq: p.seq}
	if x {
		m.Module = p.l.evalPV(m.Module, "<null>")
		m.Param = p.l.evalPV(m.Param, "<null>")
	}
	v, ok := p.value(n.Value, x)
	if !ok {
		return
	}
	m.Value = v
	mods, err := matchModules(m.Module, p.c.LoadModules)
	switch {
	case err != nil:
		p.errorf(pos, "modparam module %q is not a valid regular expression: %v", m.Module, err)
	case len(mods) == 0:
		p.errorf(pos, "modparam: no module matching %q is loaded before this line", m.Module)
	}
	m.Modules = mods
	p.c.ModParams = append(p.c.ModParams, m)
}

// value converts a modparam or cfg var value node.
func (p *parser) value(n *valueNode, x bool) (Value, bool) {
	switch {
	case n.Str != nil:
		s := *n.Str
		if x {
			s = p.l.evalPV(s, "<null>")
		}
		return StrVal(s), true
	case n.Num != nil:
		v := numOf(*n.Num)
		if n.Neg {
			v = -v
		}
		return IntVal(v), true
	case n.PV != nil:
		pos := p.tok(n.Pos).pos
		if !x {
			p.errorf(pos, "a pseudo-variable value (%s) needs modparamx", *n.PV)
			return Value{}, false
		}
		return p.pvValue(pos, *n.PV)
	}
	return Value{}, false
}

// pvValue evaluates modparamx's unquoted PV value form: $envn/$defn give an
// int, $env/$def a string (§5.1).
func (p *parser) pvValue(pos Position, pv string) (Value, bool) {
	name, arg, n := splitCorePV(pv)
	if n == 0 || n != len(pv) {
		p.errorf(pos, "modparamx value %s: only $env, $envn, $def and $defn are known while the file is read", pv)
		return Value{}, false
	}
	s, ok := p.l.corePV(name, arg)
	if name == "envn" || name == "defn" {
		return IntVal(int32(atoi(s))), true
	}
	if !ok {
		s = "<null>"
	}
	return StrVal(s), true
}

func (p *parser) cfgVar(pos Position, start int, n *cfgVarNode) {
	if reservedWords[n.Group] && n.Group != "kemi" {
		p.errorf(pos, "%s is a keyword and cannot name a cfg group", n.Group)
	}
	if reservedWords[n.Name] && n.Group != "kemi" {
		// group . name, or group [ N ] . name
		at := start + 2
		if n.Index != nil {
			at += 3
		}
		p.errorf(p.l.toks[at].pos, "%s is a keyword and cannot name a cfg variable", n.Name)
	}
	v := IntVal(0)
	if n.Value.Str != nil {
		v = StrVal(*n.Value.Str)
	} else {
		v = IntVal(numOf(*n.Value.Num))
	}
	cv := CfgVar{Group: n.Group, Name: n.Name, Value: v, Pos: pos}
	if n.Index != nil {
		idx := numOf(*n.Index)
		cv.Index = &idx
	}
	if n.Descr != nil {
		cv.Descr = *n.Descr
	}
	p.c.CfgVars = append(p.c.CfgVars, cv)
}

// assign records a core "keyword = value" setting after checking the
// keyword and the kind of value against Kamailio 5.6's grammar.
func (p *parser) assign(pos Position, n *assignNode) {
	v := n.Value
	kinds, known := coreAssign[n.Name]
	if !known {
		if since, ok := newerCoreAssign[n.Name]; ok {
			p.errorf(pos, "%s is a Kamailio %s setting; 5.6 does not know it", n.Name, since)
		} else {
			p.errorf(pos, "unknown config variable %s", n.Name)
		}
		return
	}
	var val Value
	var got valueKind
	switch {
	case v.Neg != nil:
		val, got = IntVal(-numOf(*v.Neg)), kindSigned
	case v.Str != nil:
		val, got = StrVal(*v.Str), kindString
	case v.V6 != nil:
		val, got = StrVal(*v.V6), kindHost
	case v.Block:
		p.errorf(pos, "%s = { ... } is Kamailio 5.7+ syntax", n.Name)
		return
	case len(v.Parts) == 1 && p.l.toks[v.Pos.Offset].typ == tkNumber && kinds&kindInt == 0 && kinds&kindHost != 0:
		val, got = StrVal(v.Parts[0]), kindHost // a host named "5"
	case len(v.Parts) == 1 && p.l.toks[v.Pos.Offset].typ == tkNumber:
		val, got = IntVal(numOf(v.Parts[0])), kindInt
	case len(v.Parts) == 1 && p.l.toks[v.Pos.Offset].typ != tkNumID:
		val, got = StrVal(v.Parts[0]), kindID|kindHost
	default:
		val, got = StrVal(strings.Join(v.Parts, "")), kindHost
	}
	if v.Port != nil {
		val, got = StrVal(val.String()+":"+*v.Port), kindHost
		if kinds&kindSocket == 0 && kinds&kindHost == 0 {
			got = kindOther
		}
	}
	if kinds&got == 0 && kinds&kindOther == 0 {
		p.errorf(p.tok(v.Pos).pos, "%s: %s expected, not %s", n.Name, kinds.describe(), p.tok(v.Pos).describe())
		return
	}
	p.c.Core = append(p.c.Core, Assignment{Name: n.Name, Value: val, Pos: pos})
}

// describe names the value kinds for messages.
func (k valueKind) describe() string {
	var parts []string
	for _, x := range []struct {
		k valueKind
		s string
	}{{kindInt, "a number"}, {kindString, "a string"}, {kindID, "a name"}, {kindHost, "a host"}, {kindSocket, "a socket"}} {
		if k&x.k != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "a value"
	}
	return strings.Join(parts, " or ")
}

// socket records listen= and alias= statements.
func (p *parser) socket(pos Position, n *socketNode) {
	mods := Socket{Virtual: n.Virtual}
	if a := n.Advertise; a != nil {
		mods.Advertise = p.addr(a.Host)
		if a.Port != nil {
			mods.AdvertisePort = int(numOf(*a.Port))
		}
	}
	if n.Name != nil {
		mods.Name = *n.Name
	}
	for _, s := range n.Socks {
		sock := mods
		sock.Pos = p.tok(s.Pos).pos
		if s.Proto != nil {
			sock.Proto = strings.ToLower(*s.Proto)
			if sock.Proto == "*" {
				sock.Proto = ""
			}
			if n.Kw == "listen" && (sock.Proto == "ws" || sock.Proto == "wss") {
				p.errorf(sock.Pos, "listen: %s is not a listen protocol (WebSocket runs over tcp/tls)", sock.Proto)
				continue
			}
		}
		addrs := s.Multi
		if s.Addr != nil {
			addrs = []*addrNode{s.Addr}
		}
		for _, a := range addrs {
			sock.Addrs = append(sock.Addrs, p.addr(a))
		}
		if s.Port != nil && *s.Port != "*" {
			sock.Port = int(numOf(*s.Port))
		}
		if n.Kw == "listen" {
			p.checkListenAddrs(sock)
			p.c.Listen = append(p.c.Listen, sock)
		} else {
			p.c.Aliases = append(p.c.Aliases, sock)
		}
	}
}

// checkListenAddrs reports a listen address that is an undefined name: a
// single upper-case word such as MY_IP is a define placeholder, and
// Kamailio refuses a host it cannot resolve.
func (p *parser) checkListenAddrs(s Socket) {
	for _, a := range s.Addrs {
		if a == "" || strings.ContainsAny(a, ".:") || strings.ToUpper(a) != a {
			continue
		}
		if _, err := strconv.Atoi(a); err == nil {
			continue
		}
		p.errorf(s.Pos, "listen: %s is not defined (no #!define or #!substdef gives it a value), so Kamailio would look it up as a host name", a)
	}
}

// addr turns an address node into text: brackets removed from IPv6,
// host pieces joined.
func (p *parser) addr(a *addrNode) string {
	switch {
	case a.V6 != nil:
		return *a.V6
	case a.Str != nil:
		return *a.Str
	}
	return strings.Join(a.Parts, "")
}

// numOf is the int value of a number token's text.
func numOf(raw string) int32 {
	if v, ok := numberWords[raw]; ok {
		return v
	}
	v, _ := parseNumber(raw)
	return v
}
