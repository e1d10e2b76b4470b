package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/kamsidecar/kamsidecar/kamcfg"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// listFlag is a repeatable flag whose default is replaced by the first
// value given; an empty value turns the transport off (cli.md).
type listFlag struct {
	vals []string
	set  bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.vals, l.set = nil, true
	}
	if v != "" {
		l.vals = append(l.vals, v)
	}
	return nil
}

// serveFlags are `kamsidecar serve`'s flags (cli.md "Running").
type serveFlags struct {
	cfgFlags
	http, ctl, fifo, dgram, sip listFlag
	listenFromCfg               bool
	dbURL, list                 string
	metrics                     string
	webhooks                    listFlag
	webhookSecret               string
	historySize                 int
	webOpen                     bool
	rundir                      string
	logLevel                    string
	logJSON                     bool
}

// defaultRundir is where serve puts its default ctl socket: /run/kamsidecar
// as root, else $XDG_RUNTIME_DIR/kamsidecar, else a per-user directory in
// the temporary directory.
func defaultRundir() string {
	if os.Geteuid() == 0 {
		return "/run/kamsidecar"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "kamsidecar")
	}
	return filepath.Join(os.TempDir(), "kamsidecar-"+strconv.Itoa(os.Geteuid()))
}

// defaultCtl is serve's default ctl socket, which `kamsidecar rpc` talks to
// when no -s is given.
func defaultCtl(rundir string) string { return "unix:" + filepath.Join(rundir, "kamsidecar_ctl") }

func (f *serveFlags) register(fs *flag.FlagSet) {
	f.cfgFlags.register(fs)
	f.http.vals = []string{"127.0.0.1:5071"}
	f.sip.vals = []string{"udp:127.0.0.1:5070"}
	fs.Var(&f.http, "http", "JSON-RPC over HTTP (POST /RPC), /metrics, /events and the status page on ADDR (repeatable; \"\" turns it off)")
	fs.Var(&f.ctl, "ctl", "BINRPC ctl socket unix:PATH, unixd:PATH, tcp:HOST:PORT or udp:HOST:PORT (repeatable; \"\" turns it off; default unix:RUNDIR/kamsidecar_ctl)")
	fs.Var(&f.fifo, "fifo", "JSON-RPC FIFO PATH, what kamctl rpc talks to (repeatable)")
	fs.Var(&f.dgram, "dgram", "JSON-RPC datagram socket udp:HOST:PORT or unix:PATH (repeatable)")
	fs.Var(&f.sip, "sip", "SIP socket PROTO:HOST:PORT the probes leave from (repeatable)")
	fs.BoolVar(&f.listenFromCfg, "listen-from-cfg", false, "open the SIP, HTTP, ctl, FIFO and datagram sockets the cfg names, where Kamailio would open them")
	fs.StringVar(&f.dbURL, "db-url", "", "override the dispatcher db_url of the cfg")
	fs.StringVar(&f.list, "list", "", "override the dispatcher list_file of the cfg")
	fs.StringVar(&f.metrics, "metrics", "", "also serve /metrics on ADDR")
	fs.Var(&f.webhooks, "webhook", "POST each state change as JSON to URL (repeatable)")
	fs.StringVar(&f.webhookSecret, "webhook-secret", "", "sign webhook bodies with HMAC-SHA256 and this secret")
	fs.IntVar(&f.historySize, "history", 20, "probe results kept per destination")
	fs.BoolVar(&f.webOpen, "web-open", false, "serve the status page, /events and /api/state to clients beyond loopback too")
	fs.StringVar(&f.rundir, "rundir", defaultRundir(), "runtime directory of the default ctl socket")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&f.logJSON, "log-json", false, "log JSON lines instead of text")
}

// runServe is `kamsidecar serve` (cli.md): load, build, run until a signal,
// reload on SIGHUP, clean up on SIGINT/SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kamsidecar serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log, err := newLogger(stderr, f.logLevel, f.logJSON)
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar serve: %v\n", err)
		return 2
	}
	slog.SetDefault(log)
	sip.SetDefaultLogger(log.With("component", "sipgo"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := newDaemon(ctx, &f, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar serve: %v\n", err)
		if d != nil {
			d.close()
		}
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	errc := make(chan error, 1)
	go func() { errc <- d.run(ctx) }()
	log.Info("kamsidecar serving", "cfg", f.file, "pid", os.Getpid())
	for {
		select {
		case <-hup:
			d.reload(ctx)
		case err := <-errc:
			d.close()
			if err != nil && !errors.Is(err, context.Canceled) {
				fmt.Fprintf(stderr, "kamsidecar serve: %v\n", err)
				return 1
			}
			log.Info("kamsidecar stopped")
			return 0
		}
	}
}

func newLogger(w io.Writer, level string, asJSON bool) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// sipSockets are the probe sockets: --sip, or with --listen-from-cfg the
// cfg's listen= sockets (a listen without protocol opens udp and tcp, as
// Kamailio opens every enabled protocol; tcp sockets that carry xhttp are
// left to the HTTP server).
func sipSockets(f *serveFlags, cfg *kamcfg.Config, httpAddrs map[string]bool) ([]probe.Socket, error) {
	if !f.listenFromCfg {
		var out []probe.Socket
		for _, s := range f.sip.vals {
			so, err := probe.ParseSocket(s)
			if err != nil {
				return nil, fmt.Errorf("--sip %s: %w", s, err)
			}
			out = append(out, so)
		}
		return out, nil
	}
	var out []probe.Socket
	for _, l := range cfg.Listen {
		protos := []string{l.Proto}
		if l.Proto == "" {
			protos = []string{"udp", "tcp"}
		}
		port := l.Port
		for _, proto := range protos {
			if port == 0 {
				port = 5060
				if proto == "tls" {
					port = 5061
				}
			}
			for _, a := range l.Addrs {
				hp := net.JoinHostPort(a, strconv.Itoa(port))
				if proto == "tcp" && httpAddrs[hp] {
					continue
				}
				so, err := probe.ParseSocket(proto + ":" + hp)
				if err != nil {
					return nil, fmt.Errorf("%s: listen %s: %w", l.Pos, proto+":"+hp, err)
				}
				so.Name = l.Name
				if l.Advertise != "" {
					ap := l.AdvertisePort
					if ap == 0 {
						ap = port
					}
					so.Advertise = net.JoinHostPort(l.Advertise, strconv.Itoa(ap))
				}
				out = append(out, so)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--listen-from-cfg: the cfg has no listen= socket kamsidecar can open")
	}
	return out, nil
}

// httpFromCfg are the HTTP listeners of --listen-from-cfg: JSON-RPC over
// HTTP goes through xhttp on Kamailio's own TCP listen sockets.
func httpFromCfg(cfg *kamcfg.Config) []string {
	st := cfg.Settings
	if !st.JSONRPC.HTTPOn() {
		return nil
	}
	var out []string
	for _, l := range cfg.Listen {
		if l.Proto != "tcp" && l.Proto != "" {
			continue
		}
		port := l.Port
		if port == 0 {
			port = 5060
		}
		for _, a := range l.Addrs {
			out = append(out, net.JoinHostPort(a, strconv.Itoa(port)))
		}
	}
	return out
}
