package rpc

import (
	"fmt"
	"time"
)

// Kind is the type of a reply value, one per format letter of Kamailio's
// add/struct_add/array_add (spec jsonrpc.md §1): the codecs encode each kind
// differently (binrpc.md §5.1, jsonrpc.md §4.1).
type Kind uint8

// Value kinds.
const (
	KindInt    Kind = iota + 1 // 'd': a C int
	KindUint                   // 'u': unsigned int (BINRPC wraps above 2^31-1)
	KindBool                   // 'b': JSON true/false, BINRPC INT
	KindTime                   // 't': time_t; JSON "YYYYMMDDTHH:MM:SS" UTC, BINRPC INT
	KindDouble                 // 'f': a double
	KindLong                   // 'l', 'j', 'L', 'J': 64-bit; JSON number, BINRPC DOUBLE
	KindString                 // 's', 'S'
	KindNull                   // 's' with a NULL pointer: JSON null, BINRPC "<null string>"
	KindStruct                 // '{'
	KindArray                  // '[' (BINRPC sends it as a struct)
)

var kindNames = [...]string{"", "int", "uint", "bool", "time", "double", "long", "string", "null", "struct", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Value is one reply value. Scalars are built with Int, Uint, Bool, Time,
// Double, Long, String and Null; structs and arrays are *Container values
// made by Call.Struct, Call.Array, Container.Struct and Container.Array.
type Value struct {
	Kind Kind
	// I holds Int, Uint, Bool (0/1), Time (Unix seconds) and Long values.
	I int64
	// F holds a Double.
	F float64
	// S holds a String.
	S string
	// C holds a Struct or an Array.
	C *Container
}

// Int is the 'd' format letter.
func Int(v int) Value { return Value{Kind: KindInt, I: int64(int32(v))} }

// Uint is the 'u' format letter.
func Uint(v uint32) Value { return Value{Kind: KindUint, I: int64(v)} }

// Bool is the 'b' format letter.
func Bool(v bool) Value {
	if v {
		return Value{Kind: KindBool, I: 1}
	}
	return Value{Kind: KindBool}
}

// Time is the 't' format letter (a time_t, whole seconds).
func Time(t time.Time) Value { return Value{Kind: KindTime, I: t.Unix()} }

// Double is the 'f' format letter.
func Double(v float64) Value { return Value{Kind: KindDouble, F: v} }

// Long is one of the 64-bit format letters 'l', 'j', 'L', 'J'.
func Long(v int64) Value { return Value{Kind: KindLong, I: v} }

// String is the 's' format letter.
func String(s string) Value { return Value{Kind: KindString, S: s} }

// Null is the 's' format letter given a NULL pointer: Kamailio prints an
// unset attr such as DUID as JSON null and BINRPC "<null string>".
func Null() Value { return Value{Kind: KindNull} }

// StringOrNull is String(s), or Null() when s is empty: how Kamailio
// prints a str field that was never set.
func StringOrNull(s string) Value {
	if s == "" {
		return Null()
	}
	return String(s)
}

// Member is one entry of a Container: a named member (struct_add) or an
// unnamed value (array_add, or an add into a top-level reply).
type Member struct {
	Name  string
	Named bool
	Value Value
}

// Container is a struct or an array of a reply. Members keep the order they
// were added in; a struct may hold the same name twice (core.sockets_list
// repeats "socket"). Adding to a struct with Append (array_add) and adding a
// named member to an array with Add (struct_add) are both allowed, as in
// Kamailio: each codec renders them its own way.
type Container struct {
	array   bool
	Members []Member
	arena   *arena // where new containers and members come from; nil: the heap
}

// IsArray tells whether c was made as an array ('[').
func (c *Container) IsArray() bool { return c.array }

// Add adds the member name with value v (struct_add).
func (c *Container) Add(name string, v Value) *Container {
	c.Members = append(c.Members, Member{Name: name, Named: true, Value: v})
	return c
}

// Struct adds a member name holding a new struct and returns it.
func (c *Container) Struct(name string) *Container {
	n := c.arena.container(false)
	c.Add(name, Value{Kind: KindStruct, C: n})
	return n
}

// Array adds a member name holding a new array and returns it.
func (c *Container) Array(name string) *Container {
	n := c.arena.container(true)
	c.Add(name, Value{Kind: KindArray, C: n})
	return n
}

// Append adds an unnamed value (array_add).
func (c *Container) Append(v Value) *Container {
	c.Members = append(c.Members, Member{Value: v})
	return c
}

// AppendStruct appends a new unnamed struct and returns it.
func (c *Container) AppendStruct() *Container {
	n := c.arena.container(false)
	c.Append(Value{Kind: KindStruct, C: n})
	return n
}

// Printf adds a string member made with fmt.Sprintf (struct_printf).
func (c *Container) Printf(name, format string, args ...any) *Container {
	return c.Add(name, String(fmt.Sprintf(format, args...)))
}
