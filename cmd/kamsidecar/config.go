package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/kamsidecar/kamsidecar/kamcfg"
)

// presetFlag collects -A / --subst / --substdef / --substdefs in
// command-line order into one list, as kamailio applies them.
type presetFlag struct {
	kind string
	list *[]kamcfg.Preset
}

func (f presetFlag) String() string { return "" }

func (f presetFlag) Set(v string) error {
	*f.list = append(*f.list, kamcfg.Preset{Kind: f.kind, Value: v})
	return nil
}

// cfgFlags are the flags shared by the commands that read a kamailio.cfg.
type cfgFlags struct {
	file    string
	presets []kamcfg.Preset
}

func (c *cfgFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "f", "", "kamailio.cfg to read")
	fs.Var(presetFlag{"define", &c.presets}, "A", "pre-define NAME or NAME=VALUE, as kamailio -A (repeatable)")
	fs.Var(presetFlag{"subst", &c.presets}, "subst", "a subst rule /re/repl/flags, as kamailio --subst (repeatable)")
	fs.Var(presetFlag{"substdef", &c.presets}, "substdef", "a substdef rule, as kamailio --substdef (repeatable)")
	fs.Var(presetFlag{"substdefs", &c.presets}, "substdefs", "a substdefs rule, as kamailio --substdefs (repeatable)")
}

// load reads the configuration and prints its diagnostics on stderr.
func (c *cfgFlags) load(stderr io.Writer) (*kamcfg.Config, error) {
	if c.file == "" {
		return nil, errors.New("-f FILE is required")
	}
	cfg, err := kamcfg.Load(c.file, kamcfg.Options{Presets: c.presets})
	if err != nil {
		return nil, err
	}
	for _, d := range cfg.Diagnostics {
		fmt.Fprintln(stderr, d)
	}
	return cfg, nil
}

// runConfig is `kamsidecar config`: exit 0 when Kamailio 5.6 would accept
// the file, 1 on an error (the JSON is printed all the same), 2 when
// nothing usable could be read.
func runConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cfgFlags
	cf.register(fs)
	strict := fs.Bool("strict", false, "count warnings as errors")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kamsidecar config: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := cf.load(stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	out, err := cfg.JSON()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if _, err := stdout.Write(out); err != nil {
		return 2
	}
	switch {
	case cfg.HasErrors():
		return 1
	case *strict && len(cfg.Diagnostics) > 0:
		return 1
	}
	return 0
}
