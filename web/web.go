// Package web serves the status page of kamsidecar and its data: `/` (a
// plain HTML/CSS/JS page embedded in the binary, no external resources),
// `/events` (Server-Sent Events of every state change, from an events.Hub)
// and `/api/state` (a JSON snapshot of the dispatcher sets, the keepalive
// destinations and their probe history). New returns one http.Handler to
// mount on the HTTP listener beside /RPC and /metrics.
//
// The handler answers loopback clients only unless Options.Open is set, so
// that the page stays private on a listener the operator opened for RPC.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/events"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/keepalive"
)

//go:embed static
var static embed.FS

// Defaults of Options.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultClientBuffer = 64
	// writeTimeout bounds one SSE write to a client that stopped reading.
	writeTimeout = 10 * time.Second
)

// Options are what the handlers read. Every source may be nil.
type Options struct {
	// Store is the dispatcher snapshot holder.
	Store *dispatcher.Store
	// Keepalive is the keepalive module.
	Keepalive *keepalive.Module
	// History holds the last probe results per destination.
	History *history.Store
	// Hub streams the state changes to /events.
	Hub *events.Hub
	// LatencyStats is ds_ping_latency_stats: the dispatcher latency
	// statistics are kept and shown.
	LatencyStats bool
	// Open serves clients that are not on the loopback interface too
	// (otherwise they get 403).
	Open bool
	// Heartbeat is the interval of SSE comment lines (default 15 s).
	Heartbeat time.Duration
	// ClientBuffer is each SSE client's room for events; a client whose
	// room is full is disconnected (default 64).
	ClientBuffer int
	// Logger receives client errors at debug level (nil: slog.Default()).
	Logger *slog.Logger
}

type handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the handler of `/` (index.html), `/app.js`, `/style.css`,
// `/events` and `/api/state`; other paths are 404.
func New(opts Options) http.Handler {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.ClientBuffer <= 0 {
		opts.ClientBuffer = DefaultClientBuffer
	}
	h := &handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.Default()
	}
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	h.mux.Handle("GET /{$}", files)
	h.mux.Handle("GET /app.js", files)
	h.mux.Handle("GET /style.css", files)
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.HandleFunc("GET /api/state", h.state)
	return h
}

// ServeHTTP refuses non-loopback clients unless Open, then routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.opts.Open && !loopback(r.RemoteAddr) {
		http.Error(w, "the status page is served to loopback clients only", http.StatusForbidden)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	h.mux.ServeHTTP(w, r)
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// events streams the Hub's events as SSE: "event: state", "id: SEQ" and
// one "data:" line of JSON (events.Event) per change, a comment line every
// Heartbeat. A client that does not keep up is disconnected.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if h.opts.Hub == nil {
		http.Error(w, "no event source", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	sub := h.opts.Hub.Subscribe(h.opts.ClientBuffer)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 3000\n: connected\n\n")) {
		return
	}
	tick := time.NewTicker(h.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case ev, ok := <-sub.C:
			if !ok {
				if sub.Cut() {
					h.log.Debug("status page client too slow, disconnected", "remote", r.RemoteAddr)
				}
				return
			}
			data, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			msg := make([]byte, 0, len(data)+48)
			msg = append(msg, "event: state\nid: "...)
			msg = strconv.AppendUint(msg, ev.Seq, 10)
			msg = append(msg, "\ndata: "...)
			msg = append(msg, data...)
			msg = append(msg, "\n\n"...)
			if !write(msg) {
				return
			}
		}
	}
}

// State is the JSON body of /api/state.
type State struct {
	// Time is when the snapshot was taken.
	Time time.Time `json:"time"`
	// LatencyStats tells whether Latency of dispatcher destinations is kept.
	LatencyStats bool `json:"latency_stats"`
	// HistorySize is how many records History keeps per destination.
	HistorySize int `json:"history_size"`
	// Sets are the dispatcher sets in Kamailio's order.
	Sets []Set `json:"sets"`
	// Keepalive are the keepalive destinations, newest first.
	Keepalive []KeepaliveDest `json:"keepalive"`
}

// Set is one dispatcher set.
type Set struct {
	// ID is the set id.
	ID int `json:"id"`
	// Destinations are in Kamailio's array order.
	Destinations []DispDest `json:"destinations"`
}

// DispDest is one dispatcher destination.
type DispDest struct {
	URI string `json:"uri"`
	// Flags are the state bits; State renders them ("AP", "IP", ...).
	Flags int    `json:"flags"`
	State string `json:"state"`
	// Status is "active", "trying", "inactive" or "disabled".
	Status   string `json:"status"`
	Usable   bool   `json:"usable"`
	Priority int    `json:"priority"`
	Attrs    string `json:"attrs"`
	DUID     string `json:"duid,omitempty"`
	// Reason and Code are those of the last recorded probe result.
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	// Latency are the statistics in seconds (nil without LatencyStats).
	Latency *Latency `json:"latency,omitempty"`
	// History are the last probe results, oldest first.
	History []Record `json:"history"`
}

// Latency are a dispatcher destination's latency statistics in seconds.
type Latency struct {
	Avg     float64 `json:"avg"`
	Est     float64 `json:"est"`
	Std     float64 `json:"std"`
	Max     float64 `json:"max"`
	Timeout uint32  `json:"timeout"`
	Count   int     `json:"count"`
}

// KeepaliveDest is one keepalive destination.
type KeepaliveDest struct {
	URI   string `json:"uri"`
	Owner string `json:"owner"`
	// State is "unknown", "up" or "down".
	State       string     `json:"state"`
	Counter     int        `json:"counter"`
	Stopped     bool       `json:"stopped"`
	LastChecked *time.Time `json:"last_checked,omitempty"`
	LastUp      *time.Time `json:"last_up,omitempty"`
	LastDown    *time.Time `json:"last_down,omitempty"`
	Code        int        `json:"code"`
	Reason      string     `json:"reason"`
	// RTT is the last probe's round-trip time in seconds.
	RTT     float64  `json:"rtt"`
	History []Record `json:"history"`
}

// Record is one probe result of history.Store, with RTT in seconds.
type Record struct {
	Time   time.Time `json:"time"`
	Code   int       `json:"code"`
	Reason string    `json:"reason"`
	Class  string    `json:"class"`
	RTT    float64   `json:"rtt"`
	Before string    `json:"before"`
	After  string    `json:"after"`
}

// Snapshot builds the /api/state body from the current state.
func (o Options) Snapshot() State {
	st := State{Time: time.Now(), LatencyStats: o.LatencyStats, Sets: []Set{}, Keepalive: []KeepaliveDest{}}
	if o.History != nil {
		st.HistorySize = o.History.Size()
	}
	if o.Store != nil {
		for set := range o.Store.Sets().All() {
			s := Set{ID: set.ID(), Destinations: []DispDest{}}
			for _, d := range set.All() {
				flags := d.State().Flags()
				dd := DispDest{URI: d.URI, Flags: flags, State: dispatcher.FlagsString(flags),
					Status: status(flags), Usable: dispatcher.Usable(flags), Priority: d.Priority,
					Attrs: d.Attrs.Body, DUID: d.Attrs.DUID}
				dd.History = o.records(history.Key{Kind: "dispatcher", SetID: set.ID(), URI: d.URI})
				if n := len(dd.History); n > 0 {
					dd.Code, dd.Reason = dd.History[n-1].Code, dd.History[n-1].Reason
				}
				if o.LatencyStats {
					l := d.State().Latency()
					dd.Latency = &Latency{Avg: float64(l.Avg) / 1000, Est: float64(l.Est) / 1000,
						Std: float64(l.Std) / 1000, Max: float64(l.Max) / 1000, Timeout: l.Timeout, Count: l.Count}
				}
				s.Destinations = append(s.Destinations, dd)
			}
			st.Sets = append(st.Sets, s)
		}
	}
	if o.Keepalive != nil {
		for _, d := range o.Keepalive.List() {
			kd := KeepaliveDest{URI: d.URI, Owner: d.Owner, State: d.State.String(), Counter: d.Counter,
				Stopped: d.Stopped, LastChecked: timePtr(d.LastChecked), LastUp: timePtr(d.LastUp),
				LastDown: timePtr(d.LastDown), Code: d.Last.Code, Reason: d.Last.Reason, RTT: d.Last.RTT.Seconds()}
			kd.History = o.records(history.Key{Kind: "keepalive", URI: d.URI, Owner: d.Owner})
			st.Keepalive = append(st.Keepalive, kd)
		}
	}
	return st
}

func (o Options) records(k history.Key) []Record {
	out := []Record{}
	if o.History == nil {
		return out
	}
	for _, r := range o.History.Get(k) {
		out = append(out, Record{Time: r.Time, Code: r.Code, Reason: r.Reason, Class: r.Class,
			RTT: r.RTT.Seconds(), Before: r.Before, After: r.After})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// status names the state bits: disabled, inactive, trying or active.
func status(flags int) string {
	switch {
	case flags&dispatcher.FlagDisabled != 0:
		return "disabled"
	case flags&dispatcher.FlagInactive != 0:
		return "inactive"
	case flags&dispatcher.FlagTrying != 0:
		return "trying"
	}
	return "active"
}

func (h *handler) state(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(h.opts.Snapshot()); err != nil {
		h.log.Debug("status page client", "remote", r.RemoteAddr, "error", err)
	}
}
