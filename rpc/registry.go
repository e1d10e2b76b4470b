package rpc

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// RetArray is the method flag RET_ARRAY (jsonrpc.md §1): JSON-RPC collects
// every top-level value of such a method into an array instead of keeping
// the last one. BINRPC ignores it.
const RetArray = 1

// Handler runs one RPC call: it scans its parameters from c and writes its
// reply or fault to c.
type Handler func(c *Call)

// Method is one registered RPC command: its exact, case-sensitive name,
// its help text (system.methodHelp), its flags (RetArray) and its handler.
type Method struct {
	Name    string
	Help    string
	Flags   int
	Handler Handler
	// Version, when set, declares that a call of the method without
	// parameters builds the same reply (values or fault) as long as
	// Version returns the same number, on any transport and whatever the
	// call's context: every change of what that reply shows changes it
	// before the change's caller is answered. A codec may then answer
	// such a call with its encoding of an earlier reply (ReplyCache)
	// instead of running Handler. Version must be cheap and must not
	// block.
	Version func() uint64
}

// ErrDuplicate is returned when a method name is registered twice; the
// first registration stays, as Kamailio keeps it with a warning.
var ErrDuplicate = errors.New("rpc method registered twice")

// Registry holds the methods a server answers. It is safe for concurrent
// use; registration normally happens before serving.
type Registry struct {
	mu       sync.RWMutex
	methods  map[string]*Method
	sorted   []string
	observer Observer
}

// NewRegistry returns a registry holding the system.* methods.
func NewRegistry() *Registry {
	r := &Registry{methods: map[string]*Method{}}
	registerSystem(r)
	return r
}

// Register adds methods. A name already registered is kept and reported
// with ErrDuplicate; the other methods are still added.
func (r *Registry) Register(ms ...Method) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for i := range ms {
		m := ms[i]
		if m.Name == "" || m.Handler == nil {
			errs = append(errs, fmt.Errorf("rpc method %q: no name or no handler", m.Name))
			continue
		}
		if _, ok := r.methods[m.Name]; ok {
			errs = append(errs, fmt.Errorf("%w: %s", ErrDuplicate, m.Name))
			continue
		}
		r.methods[m.Name] = &m
		i, _ := slices.BinarySearch(r.sorted, m.Name)
		r.sorted = slices.Insert(r.sorted, i, m.Name)
	}
	return errors.Join(errs...)
}

// Lookup returns the method called name, or nil.
func (r *Registry) Lookup(name string) *Method {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.methods[name]
}

// LookupBytes is Lookup for a name still in a request's bytes: the map
// lookup converts it without a copy.
func (r *Registry) LookupBytes(name []byte) *Method {
	r.mu.RLock()
	m := r.methods[string(name)]
	r.mu.RUnlock()
	return m
}

// Names returns every method name sorted by byte order, as
// system.listMethods lists them (Kamailio sorts with strcmp).
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.sorted)
}
