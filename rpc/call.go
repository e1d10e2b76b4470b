package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Params are a call's positional parameters as a codec decoded them. The
// codec also scans them, because Kamailio's conversion rules differ per
// transport (jsonrpc.md §3.2, binrpc.md §5.2).
type Params interface {
	// Scan reads parameters from where the previous Scan stopped, one per
	// value letter of format (see ParseFormat), into dst: *int for d u b t,
	// *float64 for f, *int64 for l j L J, *string for s S. It returns how
	// many values it read, negated when a mandatory one was missing or of
	// the wrong type: Kamailio's rpc->scan.
	Scan(format string, dst ...any) int
}

// Fault is an RPC error: a code (Kamailio uses HTTP-like codes: 400, 500,
// 606...) and a message.
type Fault struct {
	Code    int
	Message string
}

func (f Fault) Error() string { return fmt.Sprintf("%d - %s", f.Code, f.Message) }

// Call is one RPC invocation: the handler scans its parameters and builds
// its reply through it. A Call is used by one goroutine.
type Call struct {
	ctx       context.Context
	method    *Method
	transport string
	params    Params
	values    []Value
	faults    []Fault
	// valuesAtFault is len(values) when the first fault was recorded.
	valuesAtFault int
	arena         *arena // set by Reserve
}

// NewCall returns a call of m with params p arriving on transport (a short
// name such as "binrpc" or "jsonrpc", used by handlers that only exist on
// one transport and by metrics).
func NewCall(ctx context.Context, m *Method, transport string, p Params) *Call {
	return &Call{ctx: ctx, method: m, transport: transport, params: p}
}

// Reset makes c a new call, as NewCall does, for a transport that keeps
// its Call values for reuse (after Release). The room of the previous
// call's top-level values is kept.
func (c *Call) Reset(ctx context.Context, m *Method, transport string, p Params) {
	vs := c.values
	clear(vs)
	*c = Call{ctx: ctx, method: m, transport: transport, params: p, values: vs[:0]}
}

// Context is the request's context; it ends when the client is gone or
// the server stops.
func (c *Call) Context() context.Context { return c.ctx }

// Method is the method being called.
func (c *Call) Method() *Method { return c.method }

// Transport is the codec's name for the transport the call arrived on.
func (c *Call) Transport() string { return c.transport }

// Scan is Kamailio's rpc->scan (see Params.Scan).
func (c *Call) Scan(format string, dst ...any) int {
	if c.params == nil {
		return emptyScan(format)
	}
	return c.params.Scan(format, dst...)
}

// emptyScan is a scan over no parameters: fine when everything is optional.
func emptyScan(format string) int {
	specs, err := ParseFormat(format)
	if err != nil || len(specs) == 0 || specs[0].Optional {
		return 0
	}
	return -1
}

// Add adds top-level values (rpc->add).
func (c *Call) Add(vs ...Value) {
	c.values = append(c.values, vs...)
}

// Struct adds a new top-level struct (add "{") and returns it.
func (c *Call) Struct() *Container {
	n := c.arena.container(false)
	c.values = append(c.values, Value{Kind: KindStruct, C: n})
	return n
}

// Array adds a new top-level array (add "[") and returns it.
func (c *Call) Array() *Container {
	n := c.arena.container(true)
	c.values = append(c.values, Value{Kind: KindArray, C: n})
	return n
}

// Printf adds a formatted top-level string (rpl_printf).
func (c *Call) Printf(format string, args ...any) {
	c.Add(String(fmt.Sprintf(format, args...)))
}

// Fault records an error (rpc->fault). JSON-RPC answers the last fault
// recorded and drops every value; BINRPC sends the first one at once and
// drops what follows. Handlers normally fault once and return.
func (c *Call) Fault(code int, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if len(c.faults) == 0 {
		c.valuesAtFault = len(c.values)
	}
	c.faults = append(c.faults, Fault{Code: code, Message: msg})
}

// Values returns the top-level values added, in order.
func (c *Call) Values() []Value { return c.values }

// FirstFault returns the first fault recorded (what BINRPC sends) and how
// many values had been added before it.
func (c *Call) FirstFault() (Fault, int, bool) {
	if len(c.faults) == 0 {
		return Fault{}, 0, false
	}
	return c.faults[0], c.valuesAtFault, true
}

// LastFault returns the last fault recorded (what JSON-RPC sends).
func (c *Call) LastFault() (Fault, bool) {
	if len(c.faults) == 0 {
		return Fault{}, false
	}
	return c.faults[len(c.faults)-1], true
}

// Observer is told about every call a Registry runs: the transport, the
// method, how long it took and the fault code (0 without a fault). Metrics
// use it.
type Observer func(transport, method string, d time.Duration, fault int)

// SetObserver installs o (nil removes it).
func (r *Registry) SetObserver(o Observer) {
	r.mu.Lock()
	r.observer = o
	r.mu.Unlock()
}

// Observe tells the observer about a call answered without running its
// handler (a ReplyCache hit), as Run does for the calls it runs.
func (r *Registry) Observe(transport, method string, d time.Duration, fault int) {
	r.mu.RLock()
	o := r.observer
	r.mu.RUnlock()
	if o != nil {
		o(transport, method, d, fault)
	}
}

// Run runs c's handler. A panic in the handler does not take the server
// down: it is logged and turned into fault 500 "internal server error", as
// Kamailio answers a processing error.
func (r *Registry) Run(c *Call) { r.RunDeferred(c).Report() }

// RunDeferred runs c's handler as Run does, but the observer is told only
// by the Observation's Report: a transport sends the reply first, so the
// metrics are not on the reply's path.
func (r *Registry) RunDeferred(c *Call) Observation {
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				slog.Error("rpc handler panic", "method", c.method.Name, "panic", p, "stack", string(debug.Stack()))
				c.Fault(500, "internal server error")
			}
		}()
		c.method.Handler(c)
	}()
	o := Observation{r: r, transport: c.transport, method: c.method.Name, d: time.Since(start)}
	if f, ok := c.LastFault(); ok {
		o.fault = f.Code
	}
	return o
}

// Observation is one call for the Registry's observer (RunDeferred).
type Observation struct {
	r                 *Registry
	transport, method string
	d                 time.Duration
	fault             int
}

// Report tells the observer, if any, about the call; the zero Observation
// reports nothing.
func (o Observation) Report() {
	if o.r != nil {
		o.r.Observe(o.transport, o.method, o.d, o.fault)
	}
}
