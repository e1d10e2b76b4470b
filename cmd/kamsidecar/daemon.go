package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/kamsidecar/kamsidecar/internal/unixfile"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kamsidecar/kamsidecar/binrpc"
	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/dispatcher/dsrpc"
	"github.com/kamsidecar/kamsidecar/events"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/jsonrpc"
	"github.com/kamsidecar/kamsidecar/kamcfg"
	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/karpc"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
	"github.com/kamsidecar/kamsidecar/metrics"
	"github.com/kamsidecar/kamsidecar/rpc"
	"github.com/kamsidecar/kamsidecar/web"
	"github.com/kamsidecar/kamsidecar/webhook"
)

// daemon is what serve runs: the pieces built from the cfg and the flags,
// in the order of design.md (load, validate, run, close).
type daemon struct {
	log      *slog.Logger
	cfg      *kamcfg.Config
	reg      *rpc.Registry
	sip      *probe.Prober
	ka       *keepalive.Module
	store    *dispatcher.Store
	dsProber *dispatcher.Prober
	ds       *dsrpc.Dispatcher
	hist     *history.Store
	metrics  *metrics.Metrics
	hub      *events.Hub
	hooks    *webhook.Sender
	bin      *binrpc.Server
	js       *jsonrpc.Server
	http     []*http.Server
	httpLns  []net.Listener
	mux      *http.ServeMux
	// runners are started by run and stopped with its context.
	runners []func(ctx context.Context) error
	// closers run in reverse order in close.
	closers   []func() error
	closeOnce sync.Once
}

// modules kamsidecar provides when the cfg loads them (core.modules).
var providedModules = []string{"tm", "sl", "xhttp", "jsonrpcs", "ctl", "keepalive", "dispatcher"}

func newDaemon(ctx context.Context, f *serveFlags, stderr io.Writer, log *slog.Logger) (*daemon, error) {
	tuneRuntime()
	cfg, err := f.load(stderr)
	if err != nil {
		return nil, err
	}
	d := &daemon{log: log, cfg: cfg, reg: rpc.NewRegistry(), mux: http.NewServeMux()}
	st := cfg.Settings

	// Addresses first: the HTTP listeners decide which cfg tcp sockets
	// are HTTP rather than SIP in stand-in mode.
	httpAddrs := f.http.vals
	if f.listenFromCfg {
		httpAddrs = httpFromCfg(cfg)
	}
	httpSet := map[string]bool{}
	for _, a := range httpAddrs {
		httpSet[a] = true
	}

	// RPC core and the process' own methods.
	var mods []string
	for _, m := range cfg.LoadModules {
		name := strings.TrimSuffix(filepath.Base(m.Name), ".so")
		for _, p := range providedModules {
			if p == name {
				mods = append(mods, name)
			}
		}
	}
	sockets, err := sipSockets(f, cfg, httpSet)
	if err != nil {
		return d, err
	}
	var coreSockets []rpc.Socket
	if f.listenFromCfg {
		// Stand-in mode: the sockets Kamailio would list, the tcp ones
		// that carry xhttp included.
		coreSockets = cfgSockets(cfg)
	} else {
		for _, s := range sockets {
			coreSockets = append(coreSockets, rpc.Socket{Proto: s.Proto, Address: s.Host, Port: s.Port})
		}
	}
	if err := rpc.RegisterCore(d.reg, rpc.Core{
		Args: os.Args, Modules: mods, Defines: cfg.Defines, Sockets: coreSockets,
		Processes: []string{"main process - attendant"},
		Kill: func(sig syscall.Signal) {
			p, _ := os.FindProcess(os.Getpid())
			_ = p.Signal(sig)
		},
	}); err != nil {
		return d, err
	}

	// SIP: one prober owns the sockets for keepalive and dispatcher.
	popts := []probe.Option{probe.WithSockets(sockets...), probe.WithLogger(log.With("component", "probe"))}
	if t := st.TM.FRTimer(); t > 0 {
		popts = append(popts, probe.WithTimeout(t))
	}
	d.sip, err = probe.New(ctx, popts...)
	if err != nil {
		return d, fmt.Errorf("sip sockets: %w", err)
	}
	d.closers = append(d.closers, d.sip.Close)

	// keepalive.
	if st.Keepalive.Loaded {
		kc := keepalive.DefaultConfig()
		kc.PingInterval = st.Keepalive.Interval()
		kc.DeleteCounter = st.Keepalive.DeleteCounter
		if st.Keepalive.PingFrom != "" {
			kc.PingFrom = st.Keepalive.PingFrom
		}
		kc.Timeout = st.TM.FRTimer()
		for _, dst := range st.Keepalive.Destination {
			kc.Destinations = append(kc.Destinations, keepalive.ConfigDestination{URI: dst.Value, Pos: dst.Pos.String()})
		}
		d.ka, err = keepalive.New(kc, d.sip)
		if err != nil {
			return d, err
		}
		d.runners = append(d.runners, d.ka.Run)
		if err := karpc.Register(d.reg, d.ka); err != nil {
			return d, err
		}
	}

	// dispatcher.
	if st.Dispatcher.Loaded {
		if err := d.buildDispatcher(ctx, f, cfg); err != nil {
			return d, err
		}
	}

	// Observability: metrics and the probe history, fed by the engines'
	// results feeds.
	if err := d.buildObservability(f); err != nil {
		return d, err
	}

	// RPC transports.
	if err := d.openRPC(f, cfg, httpAddrs); err != nil {
		return d, err
	}
	return d, nil
}

// cfgSockets are the cfg's listen= sockets as core.sockets_list shows
// them: every protocol of a listen without one (udp, then tcp), in cfg order.
func cfgSockets(cfg *kamcfg.Config) []rpc.Socket {
	var out []rpc.Socket
	for _, l := range cfg.Listen {
		protos := []string{l.Proto}
		if l.Proto == "" {
			protos = []string{"udp", "tcp"}
		}
		for _, p := range protos {
			port := l.Port
			if port == 0 {
				port = 5060
				if p == "tls" {
					port = 5061
				}
			}
			for _, a := range l.Addrs {
				out = append(out, rpc.Socket{Proto: p, Address: a, Port: port})
			}
		}
	}
	return out
}

// listenSockets are the cfg's listen= sockets as the dispatcher's add path
// sees them (socket= and sockname= attrs must name one, cli.md).
func listenSockets(cfg *kamcfg.Config) []dispatcher.ListenSocket {
	var out []dispatcher.ListenSocket
	for _, l := range cfg.Listen {
		for _, a := range l.Addrs {
			out = append(out, dispatcher.ListenSocket{Proto: l.Proto, Host: a, Port: l.Port, Name: l.Name})
		}
	}
	return out
}

func (d *daemon) buildDispatcher(ctx context.Context, f *serveFlags, cfg *kamcfg.Config) error {
	ds := cfg.Settings.Dispatcher
	if f.dbURL != "" {
		ds.DBURL = f.dbURL
	}
	if f.list != "" {
		ds.ListFile, ds.DBURL = f.list, ""
	}
	tryIPv6 := false
	if v, ok := cfg.CoreValue("dns_try_ipv6"); ok {
		tryIPv6 = v.Int != 0
	}
	opts := dispatcher.OptionsFrom(ds, listenSockets(cfg), tryIPv6)
	opts.Resolver = dispatcher.SystemResolver{}
	src, err := dispatcher.SourceFrom(ds, opts, db.Options{})
	if err != nil {
		return fmt.Errorf("dispatcher: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	sets, problems, err := src.Load(lctx)
	cancel()
	for _, p := range problems {
		d.log.Warn("dispatcher: " + p.Error())
	}
	if err != nil {
		return fmt.Errorf("dispatcher: %s: %w", src, err)
	}
	d.store = dispatcher.NewStore(sets)
	d.dsProber = dispatcher.NewProber(d.store, d.sip, dispatcher.ProbingFrom(ds, cfg.Settings.TM))
	d.runners = append(d.runners, d.dsProber.Run)
	d.ds = &dsrpc.Dispatcher{
		Store:        d.store,
		Prober:       d.dsProber,
		Source:       src,
		Options:      opts,
		ReloadDelta:  time.Duration(ds.ReloadDelta) * time.Second,
		LatencyStats: ds.DSPingLatencyStats != 0,
		HashSize:     ds.DSHashSize,
	}
	d.log.Info("dispatcher loaded", "source", src.String(), "sets", sets.Len(), "destinations", sets.Destinations())
	return dsrpc.Register(d.reg, d.ds)
}

// buildObservability makes the metrics and the probe history, registers
// the history RPC methods and mounts /metrics (issue 7).
func (d *daemon) buildObservability(f *serveFlags) error {
	d.hist = history.New(f.historySize)
	d.metrics = metrics.New(metrics.Options{Dispatcher: d.store, Prober: d.dsProber, Keepalive: d.ka, History: d.hist})
	d.runners = append(d.runners, d.metrics.Run)
	d.reg.SetObserver(func(transport, method string, dur time.Duration, fault int) {
		d.metrics.ObserveRPC(transport, method, dur, fault)
		if method == dsrpc.MethodReload {
			d.metrics.ObserveReload(reloadOutcome(fault))
		}
	})
	ex := history.Exists{}
	if d.store != nil {
		ex.Dispatcher = func(setid int, uri string) bool {
			set, ok := d.store.Sets().Set(setid)
			if !ok {
				return false
			}
			for _, dst := range set.All() {
				if dst.URI == uri {
					return true
				}
			}
			return false
		}
	}
	if d.ka != nil {
		ex.Keepalive = func(uri, owner string) bool {
			_, err := d.ka.Get(uri, owner)
			return err == nil
		}
	}
	if err := history.Register(d.reg, d.hist, ex); err != nil {
		return err
	}
	d.mux.Handle("/metrics", d.metrics.Handler())

	// State changes: one slog line each, webhooks, /events and the page.
	d.hub = events.New(events.Options{Prober: d.dsProber, Keepalive: d.ka, Store: d.store, History: d.hist, Logger: d.log.With("component", "events")})
	d.runners = append(d.runners, d.hub.Run)
	if len(f.webhooks.vals) > 0 {
		var err error
		d.hooks, err = webhook.New(webhook.Options{URLs: f.webhooks.vals, Secret: f.webhookSecret, Logger: d.log.With("component", "webhook")})
		if err != nil {
			return fmt.Errorf("--webhook: %w", err)
		}
		d.hub.AddSink("webhook", d.hooks)
		d.runners = append(d.runners, d.hooks.Run)
	}
	registerEventMetrics(d.metrics, d.hub, d.hooks)
	latency := d.cfg.Settings.Dispatcher.DSPingLatencyStats != 0
	d.mux.Handle("/", web.New(web.Options{Store: d.store, Keepalive: d.ka, History: d.hist, Hub: d.hub,
		LatencyStats: latency, Open: f.webOpen, Logger: d.log.With("component", "web")}))
	if f.metrics != "" {
		ln, err := net.Listen("tcp", f.metrics)
		if err != nil {
			return fmt.Errorf("--metrics %s: %w", f.metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", d.metrics.Handler())
		d.addHTTP(ln, mux, "/metrics")
	}
	return nil
}

// registerEventMetrics exposes the event and webhook counters (drops
// included: a receiver that is down must show, issue 7) on the metrics
// registry.
func registerEventMetrics(m *metrics.Metrics, hub *events.Hub, hooks *webhook.Sender) {
	reg := m.Registry()
	for _, k := range []string{"dispatcher", "keepalive", "subscribers", "sink:webhook"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "kamsidecar", Name: "events_dropped_total",
			Help:        "State-change events dropped because a buffer was full, by where they were dropped.",
			ConstLabels: prometheus.Labels{"where": k},
		}, func() float64 { return float64(hub.Dropped()[k]) }))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: "kamsidecar", Name: "events_published_total",
		Help: "State-change events published to the log, webhooks and /events.",
	}, func() float64 { return float64(hub.Published()) }))
	if hooks == nil {
		return
	}
	for outcome, f := range map[string]func() uint64{
		"sent": hooks.Sent, "failed": hooks.Failed, "retried": hooks.Retried, "dropped": hooks.Dropped,
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "kamsidecar", Name: "webhook_deliveries_total",
			Help:        "Webhook deliveries by outcome: sent (2xx), failed (gave up), retried (attempts after the first), dropped (queue full).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(f()) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "kamsidecar", Name: "webhook_queue_length",
		Help: "Webhook deliveries waiting for a worker.",
	}, func() float64 { return float64(hooks.Queued()) }))
}

func reloadOutcome(fault int) string {
	if fault == 0 {
		return "ok"
	}
	return "failed"
}

// addHTTP serves h on ln until run ends, with timeouts against slow
// clients.
func (d *daemon) addHTTP(ln net.Listener, h http.Handler, what string) {
	d.httpLns = append(d.httpLns, ln)
	d.http = append(d.http, &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	})
	d.log.Info("http listening", "serves", what, "addr", ln.Addr().String())
}

// openRPC opens the BINRPC and JSON-RPC listeners: the flags, or with
// --listen-from-cfg the ctl and jsonrpcs sockets of the cfg.
func (d *daemon) openRPC(f *serveFlags, cfg *kamcfg.Config, httpAddrs []string) error {
	st := cfg.Settings
	ctlAddrs := f.ctl.vals
	fifos, dgrams := f.fifo.vals, f.dgram.vals
	pretty := true
	replyDir := "/tmp/"
	if f.listenFromCfg {
		ctlAddrs = nil
		if st.CTL.Loaded {
			for _, l := range st.CTL.BinRPC {
				ctlAddrs = append(ctlAddrs, l.Spec)
			}
		}
		fifos, dgrams = nil, nil
		if st.JSONRPC.FIFOOn() {
			fifos = append(fifos, st.JSONRPC.FIFOName)
		}
		if st.JSONRPC.DgramOn() {
			network, addr := st.JSONRPC.DgramNetwork()
			if network == "udp" {
				dgrams = append(dgrams, "udp:"+addr)
			} else {
				dgrams = append(dgrams, addr)
			}
		}
		pretty = st.JSONRPC.PrettyFormat != 0
		replyDir = st.JSONRPC.FIFOReplyDir
	} else if !f.ctl.set {
		if err := os.MkdirAll(f.rundir, 0o700); err != nil {
			return fmt.Errorf("runtime directory: %w", err)
		}
		ctlAddrs = []string{defaultCtl(f.rundir)}
	}

	perms, err := socketPerms(f.listenFromCfg, cfg)
	if err != nil {
		return err
	}
	d.bin = binrpc.NewServer(d.reg, binrpc.WithMode(perms.ctl.Mode), binrpc.WithOwner(perms.ctl.UID, perms.ctl.GID))
	d.closers = append(d.closers, d.bin.Close)
	for _, a := range ctlAddrs {
		if err := d.bin.Listen(a); err != nil {
			return fmt.Errorf("ctl %s: %w", a, err)
		}
		d.log.Info("ctl (BINRPC, kamcmd -s) listening", "addr", a)
	}
	if len(ctlAddrs) > 0 {
		d.runners = append(d.runners, d.bin.Serve)
	}

	d.js = jsonrpc.NewServer(d.reg, jsonrpc.WithPretty(pretty), jsonrpc.WithReplyDir(replyDir))
	d.closers = append(d.closers, d.js.Close)
	for _, p := range fifos {
		if err := d.js.ListenFIFO(p, perms.fifo.Mode, jsonrpc.WithFileOwner(perms.fifo.UID, perms.fifo.GID)); err != nil {
			return fmt.Errorf("fifo %s: %w", p, err)
		}
		d.log.Info("JSON-RPC FIFO (kamctl rpc, RPCFIFOPATH) listening", "path", p)
	}
	for _, a := range dgrams {
		if err := d.js.ListenDgram(strings.TrimPrefix(a, "unix:"), jsonrpc.WithFileMode(perms.dgram.Mode), jsonrpc.WithFileOwner(perms.dgram.UID, perms.dgram.GID)); err != nil {
			return fmt.Errorf("dgram %s: %w", a, err)
		}
		d.log.Info("JSON-RPC datagram socket listening", "addr", a)
	}
	for _, a := range httpAddrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("http %s: %w", a, err)
		}
		// POST /RPC* is answered by the JSON-RPC server's own responder;
		// a connection with any other request goes to net/http.
		d.addHTTP(d.js.HTTPFront(ln), rpcPrefix(d.js, d.mux), "JSON-RPC POST /RPC, /metrics, /events, /api/state, status page /")
	}
	if len(fifos)+len(dgrams)+len(httpAddrs) > 0 {
		d.runners = append(d.runners, d.js.Serve)
	}
	return nil
}

// rpcPerms are the modes and owners of the ctl sockets, the JSON-RPC FIFO
// and the JSON-RPC unix datagram socket.
type rpcPerms struct{ ctl, fifo, dgram unixfile.Perm }

// socketPerms returns the files' modes and owners: 0600 and the process's
// own by default (--ctl, --fifo, --dgram); with --listen-from-cfg, what
// the cfg writes: ctl's mode, user and group (binrpc.md §1), jsonrpcs's
// fifo_mode/fifo_user/fifo_group and dgram_mode/dgram_user/dgram_group
// (jsonrpc.md §2). A mode the cfg does not write stays 0600 where
// Kamailio's jsonrpcs default is 0660: kamsidecar does not open a file to
// its group unless told to. An unknown user or group is an error, as it
// stops Kamailio.
func socketPerms(fromCfg bool, cfg *kamcfg.Config) (rpcPerms, error) {
	p := rpcPerms{ctl: unixfile.Private, fifo: unixfile.Private, dgram: unixfile.Private}
	if !fromCfg {
		return p, nil
	}
	st := cfg.Settings
	var err error
	resolve := func(fp *unixfile.Perm, what, user, group string) {
		if err != nil {
			return
		}
		var e error
		if fp.UID, fp.GID, e = unixfile.Owner(user, group); e != nil {
			err = fmt.Errorf("%s: %w", what, e)
		}
	}
	if st.CTL.Loaded {
		if st.CTL.Mode != 0 {
			p.ctl.Mode = fs.FileMode(st.CTL.Mode).Perm()
		}
		resolve(&p.ctl, "ctl user/group", st.CTL.User, st.CTL.Group)
	}
	js := st.JSONRPC
	if cfg.ModParamWritten("jsonrpcs", "fifo_mode") && js.FIFOMode != 0 {
		p.fifo.Mode = fs.FileMode(js.FIFOMode).Perm()
	}
	if cfg.ModParamWritten("jsonrpcs", "dgram_mode") && js.DgramMode != 0 {
		p.dgram.Mode = fs.FileMode(js.DgramMode).Perm()
	}
	resolve(&p.fifo, "jsonrpcs fifo_user/fifo_group", js.FIFOUser.String(), js.FIFOGroup.String())
	resolve(&p.dgram, "jsonrpcs dgram_user/dgram_group", js.DgramUser.String(), js.DgramGroup.String())
	return p, err
}

// rpcPrefix sends every path that starts with /RPC (also /RPC2, as the
// customary `$hu =~ "^/RPC"` of an xhttp cfg does, jsonrpc.md §5) to the
// JSON-RPC server and the rest to mux.
func rpcPrefix(js, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/RPC") {
			js.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// run runs every part until ctx ends or one fails.
func (d *daemon) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(d.runners)+len(d.http))
	var wg sync.WaitGroup
	for _, r := range d.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- err
				cancel()
			}
		}()
	}
	for i, s := range d.http {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Serve(d.httpLns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				cancel()
			}
		}()
	}
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	for _, s := range d.http {
		_ = s.Shutdown(sctx)
	}
	scancel()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}

// reload is SIGHUP: dispatcher.reload without its rate limit's fault
// reaching anyone but the log.
func (d *daemon) reload(ctx context.Context) {
	if d.ds == nil {
		d.log.Info("SIGHUP: no dispatcher to reload")
		return
	}
	err := d.ds.Reload(ctx)
	if d.metrics != nil {
		outcome := "ok"
		if err != nil {
			outcome = "failed"
		}
		d.metrics.ObserveReload(outcome)
	}
	if err != nil {
		d.log.Error("SIGHUP: dispatcher reload failed; the old sets stay", "err", err)
		return
	}
	d.log.Info("SIGHUP: dispatcher reloaded")
}

// close releases sockets and removes the unix sockets and FIFOs.
func (d *daemon) close() {
	d.closeOnce.Do(func() {
		for _, ln := range d.httpLns {
			_ = ln.Close()
		}
		for i := len(d.closers) - 1; i >= 0; i-- {
			if err := d.closers[i](); err != nil {
				d.log.Warn("close", "err", err)
			}
		}
	})
}

// tuneRuntime sets GOMAXPROCS to 1 unless the GOMAXPROCS environment
// variable says otherwise. The daemon's work is many short RPC requests
// (a few microseconds of handler and encoding each): with more than one P,
// every request wakes a second OS thread to steal the goroutine the
// poller made runnable, and that hand-off cost more than the request
// itself. bench/rpc.sh on 2 cores, dispatcher.list 10 destinations:
// server CPU 118 -> 52 us/request with 1 client, 90 -> 34 with 8 clients;
// at 1,000 destinations the single P still serves over 5 times Kamailio's
// rate, and the heap (PSS) is smaller.
func tuneRuntime() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
