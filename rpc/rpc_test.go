package rpc

import (
	"context"
	"slices"
	"testing"
	"time"
)

func call(t *testing.T, r *Registry, name string, args ...any) *Call {
	t.Helper()
	m := r.Lookup(name)
	if m == nil {
		t.Fatalf("%s not registered", name)
	}
	c := NewCall(context.Background(), m, "test", NewArgs(args...))
	r.Run(c)
	return c
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	h := func(c *Call) { c.Add(Int(1)) }
	if err := r.Register(Method{Name: "b.x", Handler: h}, Method{Name: "B.y", Handler: h}, Method{Name: "a.z", Handler: h}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(Method{Name: "a.z", Handler: h}); err == nil {
		t.Error("duplicate accepted")
	}
	want := []string{"B.y", "a.z", "b.x", "system.listMethods", "system.methodHelp", "system.methodSignature"}
	if got := r.Names(); !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
	c := call(t, r, "system.listMethods")
	if len(c.Values()) != len(want) {
		t.Errorf("listMethods gave %d values", len(c.Values()))
	}
}

func TestSystemMethodHelp(t *testing.T) {
	r := NewRegistry()
	r.Register(Method{Name: "x.doc", Help: "does x", Handler: func(*Call) {}}, Method{Name: "x.nodoc", Handler: func(*Call) {}})
	for _, tc := range []struct {
		name string
		args []any
		want string
		code int
	}{
		{"documented", []any{"x.doc"}, "does x", 0},
		{"undocumented", []any{"x.nodoc"}, "undocumented", 0},
		{"unknown", []any{"nosuch"}, "command not found", 400},
		{"missing", nil, "Method Name Expected", 400},
		{"int", []any{5}, "Method Name Expected", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := call(t, r, "system.methodHelp", tc.args...)
			if f, ok := c.LastFault(); ok {
				if f.Code != tc.code || f.Message != tc.want {
					t.Errorf("fault %v, want %d %s", f, tc.code, tc.want)
				}
				return
			}
			if tc.code != 0 || len(c.Values()) != 1 || c.Values()[0].S != tc.want {
				t.Errorf("values %+v, want %q", c.Values(), tc.want)
			}
		})
	}
}

func TestRunRecoversPanic(t *testing.T) {
	r := NewRegistry()
	var seen []string
	r.SetObserver(func(string, string, time.Duration, int) {})
	_ = seen
	r.Register(Method{Name: "p", Handler: func(*Call) { panic("boom") }})
	c := call(t, r, "p")
	if f, ok := c.LastFault(); !ok || f.Code != 500 {
		t.Errorf("fault %v %v", f, ok)
	}
}

func TestCoreEchoAndPrint(t *testing.T) {
	r := NewRegistry()
	if err := RegisterCore(r, Core{}); err != nil {
		t.Fatal(err)
	}
	c := call(t, r, "core.echo", "a", -1, 2.5, "b")
	var got []string
	for _, v := range c.Values() {
		got = append(got, v.S)
	}
	if want := []string{"a", "18446744073709551615"}; !slices.Equal(got, want) {
		t.Errorf("core.echo %q, want %q", got, want)
	}
	c = call(t, r, "core.printi", 1, "a")
	if len(c.Values()) != 1 || c.Values()[0].I != 1 {
		t.Errorf("core.printi 1 a: %+v", c.Values())
	}
	c = call(t, r, "core.shmmem", "x")
	if f, ok := c.LastFault(); !ok || f.Message != "bad param, (use b|k|m|g)" {
		t.Errorf("core.shmmem x: %v", f)
	}
	c = call(t, r, "core.sockets_list")
	if len(c.Values()) != 1 || c.Values()[0].Kind != KindArray {
		t.Errorf("core.sockets_list: %+v", c.Values())
	}
}

func TestParseFormat(t *testing.T) {
	specs, err := ParseFormat("d*.s")
	if err != nil || len(specs) != 2 || specs[0].Optional || !specs[1].Optional || !specs[1].Convert {
		t.Errorf("%+v %v", specs, err)
	}
	if _, err := ParseFormat("dx"); err == nil {
		t.Error("bad letter accepted")
	}
}
