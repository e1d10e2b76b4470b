// Package kamcfg reads kamailio.cfg files the way Kamailio 5.6 reads them.
//
// Reading happens in two stages, as in Kamailio itself: a preprocessing lexer
// (directives, defines, includes, subst rules, strings and numbers, see
// shared/spec/kamailio-cfg.md §2-§4) turns the text into tokens, and a
// participle grammar reads the top-level statements (§5). Route blocks are
// skipped, brace for brace. The result is a Config: the statements in file
// order, every one with its original file:line:col, plus typed Settings with
// Kamailio's defaults filled in. kamcfg never starts anything; the rest of
// kamsidecar consumes the Settings structs.
package kamcfg

import (
	"fmt"
	"strconv"
)

// Position is a place in the original configuration text: the file as it was
// opened (through includes) and a 1-based line and column. Tokens that come
// from a define expansion carry the position of the name that was expanded.
type Position struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Severity tells whether Kamailio would refuse the file (Error) or only log
// (Warning).
type Severity uint8

const (
	// Warning is a problem Kamailio 5.6 only logs, or a value kamsidecar
	// validates more strictly than Kamailio does.
	Warning Severity = iota
	// Error is a problem that makes Kamailio 5.6 refuse the file.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diagnostic is one message about the configuration, with its place.
type Diagnostic struct {
	Pos      Position
	Severity Severity
	Msg      string
}

// String formats the diagnostic as "file:line:col: message"; warnings get a
// "warning: " prefix before the message.
func (d Diagnostic) String() string {
	if d.Severity == Warning {
		return d.Pos.String() + ": warning: " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// ValueKind is the type of a modparam or assignment value as Kamailio's
// parser produced it.
type ValueKind uint8

const (
	// IntValue is a number (decimal, hex, octal, binary, yes/no/on/off...),
	// stored as the 32-bit C int Kamailio passes on.
	IntValue ValueKind = iota + 1
	// StringValue is a string literal after escapes, joining and subst rules.
	StringValue
)

// Value is a modparam value: an int or a string, as Kamailio typed it.
type Value struct {
	Kind ValueKind
	Int  int32
	Str  string
}

// IntVal returns an int Value.
func IntVal(i int32) Value { return Value{Kind: IntValue, Int: i} }

// StrVal returns a string Value.
func StrVal(s string) Value { return Value{Kind: StringValue, Str: s} }

// String formats the value as it would be written in a cfg file.
func (v Value) String() string {
	if v.Kind == IntValue {
		return strconv.Itoa(int(v.Int))
	}
	return strconv.Quote(v.Str)
}

// TypeName is Kamailio's name for the value type ("int" or "string"), as
// used in its modparam type messages.
func (v Value) TypeName() string {
	if v.Kind == IntValue {
		return "int"
	}
	return "string"
}

// LoadModule is one loadmodule statement.
type LoadModule struct {
	// Path is the argument exactly as Kamailio sees it after defines and
	// subst rules ("tm.so", "dispatcher", "/usr/lib/.../xlog.so").
	Path string
	// Name is the module name used for modparam matching and MOD_<name>
	// defines: the base name without ".so".
	Name string
	Pos  Position
	seq  int // statement order across includes
}

// ModParam is one modparam or modparamx statement.
type ModParam struct {
	// Module is the module argument as written (after defines and subst); it
	// is a POSIX extended regex matched anchored and case-insensitive.
	Module string
	Param  string
	Value  Value
	// Modules are the loaded modules (by Name) the Module regex matched at
	// the point of the statement.
	Modules []string
	// X is true for modparamx (string arguments evaluated as PV formats).
	X   bool
	Pos Position
	seq int // statement order across includes
}

// Matches reports whether the statement sets a parameter of module name
// (already matched against the modules loaded at that point).
func (m ModParam) Matches(name string) bool {
	for _, n := range m.Modules {
		if n == name {
			return true
		}
	}
	return false
}

// errorf builds a Diagnostic of severity Error.
func errorf(pos Position, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)}
}

// warnf builds a Diagnostic of severity Warning.
func warnf(pos Position, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)}
}
