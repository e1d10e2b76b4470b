package kamcfg

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Settings are the typed module settings the rest of kamsidecar consumes,
// with Kamailio 5.6.3's defaults for every parameter not written.
type Settings struct {
	// Dispatcher: destination sets, their source and their probing.
	Dispatcher Dispatcher `json:"dispatcher"`
	// Keepalive: OPTIONS probing of single destinations.
	Keepalive Keepalive `json:"keepalive"`
	// TM: the transaction timers the probes run under.
	TM TM `json:"tm"`
	// JSONRPC: the JSON-RPC server (jsonrpcs) and its transports.
	JSONRPC JSONRPC `json:"jsonrpcs"`
	// XHTTP: the HTTP front end JSON-RPC over HTTP goes through.
	XHTTP XHTTP `json:"xhttp"`
	// CTL: the BINRPC server kamcmd talks to.
	CTL CTL `json:"ctl"`
}

// resolveSettings applies the modparam statements (in file order; each
// ModParam.Modules already lists the loaded modules its regex matched at
// that point) to the defaults. rundir is the core runtime directory
// ("/var/run/kamailio/" when not set in the cfg) used to resolve relative
// FIFO/socket names as Kamailio does.
//
// Severity follows `kamailio -c`: a value of the wrong type and a value a
// parameter callback rejects while the file is read are errors; everything
// Kamailio only notices when it starts (mod_init) is a warning whose text
// says so.
func resolveSettings(mods []LoadModule, params []ModParam, rundir string) (Settings, []Diagnostic) {
	var s Settings
	var diags []Diagnostic
	loaded := map[string]Position{}
	for _, m := range mods {
		if _, dup := loaded[m.Name]; !dup {
			loaded[m.Name] = m.Pos
		}
	}
	resolvers := []moduleResolver{
		newResolver(dispatcherModule, &s.Dispatcher, &s.Dispatcher.Loaded),
		newResolver(keepaliveModule, &s.Keepalive, &s.Keepalive.Loaded),
		newResolver(tmModule, &s.TM, &s.TM.Loaded),
		newResolver(jsonrpcModule, &s.JSONRPC, &s.JSONRPC.Loaded),
		newResolver(xhttpModule, &s.XHTTP, &s.XHTTP.Loaded),
		newResolver(ctlModule, &s.CTL, &s.CTL.Loaded),
	}
	byName := map[string]moduleResolver{}
	for _, r := range resolvers {
		byName[r.moduleName()] = r
	}
	for _, p := range params {
		seen := map[string]bool{}
		for _, name := range p.Modules {
			r, ok := byName[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			r.apply(p, rundir, &diags)
		}
	}
	for _, r := range resolvers {
		r.finish(rundir, loaded, &diags)
	}
	return s, diags
}

// valueTypes is the set of value kinds a parameter is registered with.
// Kamailio registers a few parameters twice, once per kind, and then
// accepts either.
type valueTypes uint8

const (
	takesInt valueTypes = 1 << iota
	takesString
	takesIntOrString = takesInt | takesString
)

func (t valueTypes) accepts(k ValueKind) bool {
	switch k {
	case IntValue:
		return t&takesInt != 0
	case StringValue:
		return t&takesString != 0
	}
	return false
}

func (t valueTypes) String() string {
	switch t {
	case 0:
		return "no value"
	case takesInt:
		return "an int"
	case takesString:
		return "a string"
	}
	return "an int or a string"
}

// article returns a Kamailio type name with its indefinite article.
func article(typeName string) string {
	if typeName == "int" {
		return "an int"
	}
	return "a " + typeName
}

// paramSpec describes one module parameter of a settings struct T: the
// value types Kamailio registers it with, its default, how a written value
// is validated, and how it is stored.
type paramSpec[T any] struct {
	types valueTypes
	// def is the default stored before any statement is applied; a zero
	// Kind means the parameter is unset by default (the zero value).
	def Value
	// check validates a value of the right type and returns the value
	// Kamailio actually uses (reporting through c when it differs). Nil
	// means any value of the right type is used as written.
	check func(v Value, c *paramCtx) Value
	// set stores the value; accumulating parameters append.
	set func(m *T, v Value, c *paramCtx)
	// since names the Kamailio release that added a parameter 5.6 does not
	// know; kamsidecar still reads it, with a warning.
	since string
}

// moduleSpec is the registry of one module: its name as matched by
// modparam, its parameters and the checks that need all of them.
type moduleSpec[T any] struct {
	name   string
	params map[string]paramSpec[T]
	// finish runs after every statement was applied: checks between
	// parameters or modules, and values derived from the runtime directory.
	finish func(m *T, f *finishCtx)
}

// paramCtx is what a check or set function knows about the statement it
// handles, and where it reports.
type paramCtx struct {
	module string
	param  string
	pos    Position
	rundir string
	diags  *[]Diagnostic
}

// warn reports a warning about the statement's value.
func (c *paramCtx) warn(format string, args ...any) {
	*c.diags = append(*c.diags, warnf(c.pos, "modparam %q of module %q: %s", c.param, c.module, fmt.Sprintf(format, args...)))
}

// fail reports an error about the statement's value: Kamailio rejects it
// while reading the file.
func (c *paramCtx) fail(format string, args ...any) {
	*c.diags = append(*c.diags, errorf(c.pos, "modparam %q of module %q: %s", c.param, c.module, fmt.Sprintf(format, args...)))
}

// finishCtx is what a module's finish function knows: which parameters
// were written (and where), which modules are loaded, the runtime
// directory.
type finishCtx struct {
	module  string
	rundir  string
	loaded  map[string]Position
	written map[string]Position
	diags   *[]Diagnostic
}

// isSet reports whether the parameter was written at least once.
func (f *finishCtx) isSet(param string) bool {
	_, ok := f.written[param]
	return ok
}

// isLoaded reports whether a module is loaded.
func (f *finishCtx) isLoaded(module string) bool {
	_, ok := f.loaded[module]
	return ok
}

// warn reports a warning at the last statement that wrote param, or at the
// module's loadmodule when param was not written.
func (f *finishCtx) warn(param, format string, args ...any) {
	pos, ok := f.written[param]
	if !ok {
		pos = f.loaded[f.module]
		*f.diags = append(*f.diags, warnf(pos, "module %q: %s", f.module, fmt.Sprintf(format, args...)))
		return
	}
	*f.diags = append(*f.diags, warnf(pos, "modparam %q of module %q: %s", param, f.module, fmt.Sprintf(format, args...)))
}

// moduleResolver applies statements to one module's settings.
type moduleResolver interface {
	moduleName() string
	apply(p ModParam, rundir string, diags *[]Diagnostic)
	finish(rundir string, loaded map[string]Position, diags *[]Diagnostic)
}

type resolver[T any] struct {
	spec    *moduleSpec[T]
	val     *T
	loaded  *bool
	written map[string]Position
}

// newResolver fills val with the module's defaults and returns the
// resolver that applies statements to it.
func newResolver[T any](spec *moduleSpec[T], val *T, loaded *bool) *resolver[T] {
	var discard []Diagnostic
	c := &paramCtx{module: spec.name, diags: &discard}
	for name, p := range spec.params {
		if p.def.Kind != 0 {
			c.param = name
			p.set(val, p.def, c)
		}
	}
	return &resolver[T]{spec: spec, val: val, loaded: loaded, written: map[string]Position{}}
}

func (r *resolver[T]) moduleName() string { return r.spec.name }

func (r *resolver[T]) apply(p ModParam, rundir string, diags *[]Diagnostic) {
	spec, ok := r.spec.params[p.Param]
	if !ok {
		*diags = append(*diags, warnf(p.Pos, "unknown parameter %q of module %q", p.Param, r.spec.name))
		return
	}
	if !spec.types.accepts(p.Value.Kind) {
		*diags = append(*diags, errorf(p.Pos, "modparam %q of module %q takes %s, not %s",
			p.Param, r.spec.name, spec.types, article(p.Value.TypeName())))
		return
	}
	c := &paramCtx{module: r.spec.name, param: p.Param, pos: p.Pos, rundir: rundir, diags: diags}
	if spec.since != "" {
		c.warn("the parameter exists only since Kamailio %s; Kamailio 5.6 refuses it", spec.since)
	}
	v := p.Value
	if spec.check != nil {
		v = spec.check(v, c)
	}
	spec.set(r.val, v, c)
	r.written[p.Param] = p.Pos
}

func (r *resolver[T]) finish(rundir string, loaded map[string]Position, diags *[]Diagnostic) {
	_, *r.loaded = loaded[r.spec.name]
	if r.spec.finish != nil {
		r.spec.finish(r.val, &finishCtx{module: r.spec.name, rundir: rundir, loaded: loaded, written: r.written, diags: diags})
	}
}

// Setter helpers: each returns a set function storing into one field.

func setInt[T any](field func(*T) *int) func(*T, Value, *paramCtx) {
	return func(m *T, v Value, _ *paramCtx) { *field(m) = int(v.Int) }
}

func setUint[T any](field func(*T) *uint32) func(*T, Value, *paramCtx) {
	return func(m *T, v Value, _ *paramCtx) { *field(m) = uint32(v.Int) }
}

func setStr[T any](field func(*T) *string) func(*T, Value, *paramCtx) {
	return func(m *T, v Value, _ *paramCtx) { *field(m) = v.Str }
}

func setOwner[T any](field func(*T) *Owner) func(*T, Value, *paramCtx) {
	return func(m *T, v Value, _ *paramCtx) {
		o := field(m)
		if v.Kind == IntValue {
			o.ID = int(v.Int)
			o.IDSet = true
		} else {
			o.Name = v.Str
			o.NameSet = true
		}
	}
}

// intParam, strParam and ownerParam build the common parameter kinds.

func intParam[T any](def int32, field func(*T) *int) paramSpec[T] {
	return paramSpec[T]{types: takesInt, def: IntVal(def), set: setInt(field)}
}

func strParam[T any](def string, field func(*T) *string) paramSpec[T] {
	return paramSpec[T]{types: takesString, def: StrVal(def), set: setStr(field)}
}

// unsetStrParam is a string parameter without a default (NULL in Kamailio).
func unsetStrParam[T any](field func(*T) *string) paramSpec[T] {
	return paramSpec[T]{types: takesString, set: setStr(field)}
}

func ownerParam[T any](field func(*T) *Owner) paramSpec[T] {
	return paramSpec[T]{types: takesIntOrString, set: setOwner(field)}
}

// Owner is a user or group of a socket or FIFO, for the parameters
// Kamailio registers twice (an int form taking a uid/gid and a string form
// taking a name or a number as text). Kamailio resolves the string form at
// start-up and it takes precedence over the int form.
type Owner struct {
	// Name is the string form ("kamailio", or "1000" as text).
	Name string
	// NameSet tells whether the string form was written.
	NameSet bool
	// ID is the int form.
	ID int
	// IDSet tells whether the int form was written.
	IDSet bool
}

// IsSet reports whether either form was written; when neither was, the
// file keeps the owner of the Kamailio process.
func (o Owner) IsSet() bool { return o.NameSet || o.IDSet }

// String returns the effective owner as text ("" when not set).
func (o Owner) String() string {
	switch {
	case o.NameSet:
		return o.Name
	case o.IDSet:
		return fmt.Sprint(o.ID)
	}
	return ""
}

// MarshalJSON renders the effective form: the name as a string, the id as
// a number, or null when not set.
func (o Owner) MarshalJSON() ([]byte, error) {
	switch {
	case o.NameSet:
		return json.Marshal(o.Name)
	case o.IDSet:
		return json.Marshal(o.ID)
	}
	return []byte("null"), nil
}

// ticksPerSecond is Kamailio's timer resolution (TIMER_TICKS_HZ).
const ticksPerSecond = 16

// msToTicks converts milliseconds to timer ticks rounding up, in the 32-bit
// unsigned arithmetic Kamailio uses (MS_TO_TICKS).
func msToTicks(ms uint32) uint32 { return (ms*ticksPerSecond + 999) / 1000 }

// ticksDuration converts timer ticks (1/16 s) to a Duration.
func ticksDuration(t uint32) time.Duration {
	return time.Duration(t) * time.Second / ticksPerSecond
}

// runtimePath resolves a relative file name against Kamailio's runtime
// directory as jsonrpcs does: rundir, a "/" when rundir does not end in
// one, then the name. Absolute names, empty names and an empty rundir
// leave the name unchanged.
func runtimePath(rundir, name string) string {
	if name == "" || strings.HasPrefix(name, "/") || rundir == "" {
		return name
	}
	if !strings.HasSuffix(rundir, "/") {
		rundir += "/"
	}
	return rundir + name
}

// failsToStart is the wording of warnings about values Kamailio accepts
// while reading the file but refuses when the module initialises.
const failsToStart = "Kamailio 5.6 fails to start"

// kamailioParam is one name=value pair of Kamailio's generic parameter list
// syntax ("name=value;name2=value2").
type kamailioParam struct {
	name string
	// body is the value without quotes; it is empty for a bare name, for
	// "name=" and for "name=\"\"" alike.
	body string
}

// parseKamailioParams splits s the way Kamailio's parse_params does with
// the ';' separator: names end at whitespace, ',', '=' or ';'; a value is a
// quoted string (a backslash escapes the next character) or a token ending
// at whitespace, ',' or ';'; whitespace is allowed after '=', after a value
// and after ';', but not before the first name; a ',' ends the list (the
// rest is ignored); a ';' must be followed by another parameter.
func parseKamailioParams(s string) ([]kamailioParam, error) {
	var out []kamailioParam
	if s == "" {
		return nil, nil
	}
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	trim := func() {
		for s != "" && isSpace(s[0]) {
			s = s[1:]
		}
	}
	for {
		i := 0
		for i < len(s) && !isSpace(s[i]) && s[i] != ',' && s[i] != '=' && s[i] != ';' {
			i++
		}
		p := kamailioParam{name: s[:i]}
		s = s[i:]
		trim()
		if s == "" {
			return append(out, p), nil
		}
		if s[0] == '=' {
			s = s[1:]
			trim()
			if s != "" {
				if s[0] == '"' || s[0] == '\'' {
					q := s[0]
					if len(s) < 2 {
						return out, fmt.Errorf("unterminated quoted value")
					}
					end := -1
					for j := 1; j < len(s); j++ {
						if s[j] == '\\' {
							j++
						} else if s[j] == q {
							end = j
							break
						}
					}
					if end < 0 {
						return out, fmt.Errorf("unterminated quoted value")
					}
					p.body = s[1:end]
					s = s[end+1:]
				} else {
					j := 0
					for j < len(s) && !isSpace(s[j]) && s[j] != ',' && s[j] != ';' {
						j++
					}
					if j == 0 {
						return out, fmt.Errorf("missing value after %q", p.name+"=")
					}
					p.body = s[:j]
					s = s[j:]
				}
			}
			trim()
			if s == "" {
				return append(out, p), nil
			}
		}
		if s[0] == ',' || s[0] == '>' {
			return append(out, p), nil
		}
		if s[0] != ';' {
			return out, fmt.Errorf("unexpected %q where ';' was expected", s[0])
		}
		s = s[1:]
		trim()
		if s == "" {
			return out, fmt.Errorf("a parameter name must follow the last ';'")
		}
		out = append(out, p)
	}
}
