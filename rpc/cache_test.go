package rpc

import (
	"testing"
	"time"
)

// TestReplyCache: an encoding is kept from the second offer of its
// version and returned at that version only, a new version replaces it,
// and the cache keeps its own copy.
func TestReplyCache(t *testing.T) {
	var c ReplyCache
	m1, m2 := &Method{Name: "a"}, &Method{Name: "b"}
	if _, ok := c.Get(m1, 0); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Put(m1, 1, []byte("one"))
	if _, ok := c.Get(m1, 1); ok {
		t.Fatal("kept at the first offer")
	}
	c.Put(m1, 2, []byte("two"))
	c.Put(m1, 1, []byte("one")) // not twice in a row: not kept
	if _, ok := c.Get(m1, 1); ok {
		t.Fatal("kept after offers of other versions")
	}
	b := []byte("one")
	c.Put(m1, 1, b)
	b[0] = 'X' // the caller reuses its buffer
	if got, ok := c.Get(m1, 1); !ok || string(got) != "one" {
		t.Fatalf("Get(m1, 1) = %q, %v", got, ok)
	}
	if _, ok := c.Get(m1, 2); ok {
		t.Fatal("hit at another version")
	}
	if _, ok := c.Get(m2, 1); ok {
		t.Fatal("hit for another method")
	}
	c.Put(m1, 2, []byte("two"))
	if _, ok := c.Get(m1, 1); !ok {
		t.Fatal("a first offer replaced the kept version")
	}
	c.Put(m1, 2, []byte("two"))
	if _, ok := c.Get(m1, 1); ok {
		t.Fatal("the replaced version still hits")
	}
	if got, ok := c.Get(m1, 2); !ok || string(got) != "two" {
		t.Fatalf("Get(m1, 2) = %q, %v", got, ok)
	}
}

// TestObserve: a call answered from a cache is reported like a run one.
func TestObserve(t *testing.T) {
	r := NewRegistry()
	r.Observe("http", "x", 0, 0) // no observer: nothing happens
	var got string
	r.SetObserver(func(transport, method string, _ time.Duration, fault int) {
		got = transport + " " + method
	})
	r.Observe("http", "x", 0, 0)
	if got != "http x" {
		t.Fatalf("observer saw %q", got)
	}
}
