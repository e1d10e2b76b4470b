package kamcfg

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Preset is one command-line preprocessing option, applied in order before
// the file is read, as kamailio applies -A, --subst, --substdef and
// --substdefs.
type Preset struct {
	// Kind is "define" (-A), "subst", "substdef" or "substdefs".
	Kind string
	// Value is NAME or NAME=VALUE for a define, the rule for the others.
	Value string
}

// Options change how a configuration is read.
type Options struct {
	// Presets are the -A / --subst* options, in command-line order.
	Presets []Preset
	// Dir is the working directory that relative file names (the config,
	// includes) are opened against, as the kamailio process's current
	// directory is. Empty means the process's own.
	Dir string
	// LookupEnv reads environment variables for #!defenv and $env(...);
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads a file for the config and its includes; nil means
	// os.ReadFile. It receives the path already joined with Dir.
	ReadFile func(string) ([]byte, error)
}

func (o *Options) lookupEnv(name string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// read opens name as Kamailio would from its working directory and
// returns the text and an absolute path identifying the file.
func (o *Options) read(name string) (text, abs string, err error) {
	path := name
	if o.Dir != "" && !filepath.IsAbs(name) {
		path = filepath.Join(o.Dir, name)
	}
	read := o.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(path)
	if err != nil {
		return "", "", err
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return string(b), abs, nil
}

// Config is what kamcfg read from a kamailio.cfg: the statements of the
// top level in file order, each with its place, the typed settings, and the
// diagnostics.
type Config struct {
	// File is the configuration file as given.
	File string
	// LoadModules are the loadmodule statements in order.
	LoadModules []LoadModule
	// LoadPath is the module search path (loadpath/mpath; the last wins).
	LoadPath string
	// ModParams are every modparam and modparamx statement in order,
	// repeats kept.
	ModParams []ModParam
	// Listen are the listen= sockets in order; Aliases the alias= ones.
	Listen  []Socket
	Aliases []Socket
	// Core are the core "keyword = value" settings in order.
	Core []Assignment
	// CfgVars are the custom "group.name = value" declarations.
	CfgVars []CfgVar
	// Routes are the route blocks (bodies are skipped, not read).
	Routes []Route
	// CfgEngine is the cfgengine statement's value ("" when absent).
	CfgEngine string
	// Defines are the defines at the end of the file, name to raw value.
	Defines map[string]string
	// Settings are the typed module and core settings with Kamailio's
	// defaults for everything not written.
	Settings Settings
	// Diagnostics are the errors and warnings in the order found.
	Diagnostics []Diagnostic
}

// Assignment is one core "keyword = value" setting. Host names, IDs and
// addresses are kept as strings.
type Assignment struct {
	Name  string
	Value Value
	Pos   Position
}

// CfgVar is one custom cfg variable declaration.
type CfgVar struct {
	Group string
	Index *int32 // group[N].name
	Name  string
	Value Value
	Descr string
	Pos   Position
}

// Route is one route block header.
type Route struct {
	Kind string // "request_route", "route", "event_route", ...
	Name string // "" for the unnamed form
	Pos  Position
}

// Socket is one listen (or alias) socket.
type Socket struct {
	// Proto is "udp", "tcp", "tls", "sctp", or "" when not written (then
	// Kamailio opens every enabled protocol).
	Proto string `json:"proto"`
	// Addrs are the addresses: one, or several for a multi-homed
	// "(a, b)" socket. Each is an IPv4/IPv6 address (without brackets), a
	// host name or an interface name.
	Addrs []string `json:"addrs"`
	// Port is the port, 0 when not written (core "port" applies) or "*".
	Port int `json:"port"`
	// Advertise and AdvertisePort are the advertised address, if any.
	Advertise     string `json:"advertise,omitempty"`
	AdvertisePort int    `json:"advertise_port,omitempty"`
	// Name is the socket name (name "..."), used by sockname attrs.
	Name    string   `json:"name,omitempty"`
	Virtual bool     `json:"virtual,omitempty"`
	Pos     Position `json:"-"`
}

// HasErrors reports whether any diagnostic is an error (Kamailio would
// refuse the file).
func (c *Config) HasErrors() bool {
	for _, d := range c.Diagnostics {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Module reports whether a module of that name was loaded.
func (c *Config) Module(name string) bool {
	for _, m := range c.LoadModules {
		if m.Name == name {
			return true
		}
	}
	return false
}

// ErrUnusable wraps the errors that leave nothing usable: a missing file or
// include, an include loop, an unterminated string.
var ErrUnusable = errors.New("configuration cannot be read")

// Load reads the configuration file path. The error is non-nil only when
// nothing usable could be read (errors.Is(err, ErrUnusable)); every other
// problem is a Diagnostic of the returned Config.
func Load(path string, opts Options) (*Config, error) {
	text, abs, err := opts.read(path)
	if err != nil {
		return nil, &UnusableError{Diagnostic: errorf(Position{File: path}, "cannot read %s: %v", path, unwrapPathError(err))}
	}
	return parse(path, abs, text, opts)
}

// Parse reads configuration text as if it were the file name.
func Parse(name string, text []byte, opts Options) (*Config, error) {
	return parse(name, name, string(text), opts)
}

// UnusableError is the error of Load and Parse: a problem that leaves
// nothing usable, with its place.
type UnusableError struct{ Diagnostic }

func (e *UnusableError) Error() string { return e.Diagnostic.String() }

// Unwrap makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Unwrap() error { return ErrUnusable }

func parse(name, abs, text string, opts Options) (*Config, error) {
	l := &lexState{
		opts:    &opts,
		stack:   []*source{{text: text, name: name, abs: abs, line: 1, col: 1}},
		defines: map[string]*define{},
	}
	for _, d := range []string{"KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3"} {
		l.defines[d] = &define{}
	}
	cmd := Position{File: "command line"}
	for _, p := range opts.Presets {
		switch p.Kind {
		case "define":
			n, v, hasValue := strings.Cut(p.Value, "=")
			l.addDefine(cmd, n, &define{value: v, hasValue: hasValue})
		case "subst", "substdef", "substdefs":
			l.addSubst(cmd, p.Kind, p.Value)
		default:
			l.errorf(cmd, "unknown preset %q", p.Kind)
		}
	}
	l.run()
	if l.fatal != nil {
		return nil, &UnusableError{Diagnostic: *l.fatal}
	}
	l.checkBalance()
	c := &Config{File: name, Defines: map[string]string{}}
	for n, d := range l.defines {
		c.Defines[n] = d.value
	}
	p := &parser{l: l, c: c}
	p.statements()
	c.Diagnostics = l.diags
	settings, diags := resolveSettings(c.LoadModules, c.ModParams, c.rundir())
	c.Settings = settings
	c.Diagnostics = append(c.Diagnostics, diags...)
	return c, nil
}

// rundir is Kamailio's runtime directory: rundir/run_dir, or the Debian
// build's default.
func (c *Config) rundir() string {
	dir := "/var/run/kamailio/"
	for _, a := range c.Core {
		if (a.Name == "rundir" || a.Name == "run_dir") && a.Value.Kind == StringValue {
			dir = a.Value.Str
		}
	}
	return dir
}

// CoreValue returns the last value given to a core setting (any of its
// spellings), and whether it was set.
func (c *Config) CoreValue(names ...string) (Value, bool) {
	var v Value
	found := false
	for _, a := range c.Core {
		for _, n := range names {
			if a.Name == n {
				v, found = a.Value, true
			}
		}
	}
	return v, found
}

// ModParamWritten reports whether a modparam (or modparamx) statement set
// param of the loaded module named module, so that a caller can tell a
// written value from Kamailio's default in Settings.
func (c *Config) ModParamWritten(module, param string) bool {
	for _, mp := range c.ModParams {
		if mp.Param == param && slices.Contains(mp.Modules, module) {
			return true
		}
	}
	return false
}

// matchModules returns the loaded modules that a modparam module argument
// selects: Kamailio compiles it as a POSIX extended regex, anchored and
// case-insensitive (§5.1).
func matchModules(expr string, loaded []LoadModule) ([]string, error) {
	re, err := regexp.Compile("(?i)^(?:" + expr + ")$")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range loaded {
		if re.MatchString(m.Name) {
			out = append(out, m.Name)
		}
	}
	return out, nil
}
