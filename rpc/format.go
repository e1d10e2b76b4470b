package rpc

import "fmt"

// Spec is one value letter of a scan format with its modifiers.
type Spec struct {
	// Letter is the value letter: d u b t f l j L J s S { [.
	Letter byte
	// Optional: a '*' came before this letter (it makes every following
	// value optional).
	Optional bool
	// Convert: a '.' came right before this letter (auto-convert the
	// value to the letter's type).
	Convert bool
}

// ParseFormat splits a Kamailio scan format into its value letters
// (jsonrpc.md §1: '*' makes the rest optional, '.' converts the next value).
// An unknown letter is an error; codecs answer it as Kamailio does.
func ParseFormat(format string) ([]Spec, error) {
	var specs []Spec
	optional, convert := false, false
	for i := 0; i < len(format); i++ {
		switch ch := format[i]; ch {
		case '*':
			optional = true
		case '.':
			convert = true
		case 'd', 'u', 'b', 't', 'f', 'l', 'j', 'L', 'J', 's', 'S', '{', '[':
			specs = append(specs, Spec{Letter: ch, Optional: optional, Convert: convert})
			convert = false
		default:
			return specs, fmt.Errorf("invalid format letter %q", ch)
		}
	}
	return specs, nil
}
