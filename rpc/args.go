package rpc

// Args are parameters given as Go values (int, int64, float64, string), for
// calls made inside the process and for tests of handlers. They scan
// strictly, like BINRPC without autoconversion: an int fills d u b t, a
// float64 fills f l j L J, a string fills s S; '.' converts between ints and
// strings.
type Args struct {
	Values []any
	next   int
}

// NewArgs returns Args holding vs.
func NewArgs(vs ...any) *Args { return &Args{Values: vs} }

// Scan implements Params.
func (a *Args) Scan(format string, dst ...any) int {
	specs, err := ParseFormat(format)
	if err != nil {
		return -1
	}
	n := 0
	for i, sp := range specs {
		if i >= len(dst) {
			return -(n + 1)
		}
		if a.next >= len(a.Values) {
			if sp.Optional {
				return n
			}
			return -(n + 1)
		}
		v := a.Values[a.next]
		if !assign(sp, v, dst[i]) {
			return -(n + 1)
		}
		a.next++
		n++
	}
	return n
}

func assign(sp Spec, v any, dst any) bool {
	switch sp.Letter {
	case 'd', 'u', 'b', 't':
		p, ok := dst.(*int)
		if !ok {
			return false
		}
		switch x := v.(type) {
		case int:
			*p = x
			return true
		case int64:
			*p = int(x)
			return true
		}
	case 'f':
		p, ok := dst.(*float64)
		if !ok {
			return false
		}
		if x, ok := v.(float64); ok {
			*p = x
			return true
		}
	case 'l', 'j', 'L', 'J':
		p, ok := dst.(*int64)
		if !ok {
			return false
		}
		if x, ok := v.(float64); ok {
			*p = int64(x)
			return true
		}
	case 's', 'S':
		p, ok := dst.(*string)
		if !ok {
			return false
		}
		switch x := v.(type) {
		case string:
			*p = x
			return true
		case int:
			if sp.Convert {
				*p = uitoa(uint64(x))
				return true
			}
		}
	}
	return false
}

// uitoa prints v in decimal, as Kamailio prints an int converted to a
// string (through an unsigned long: -1 is 18446744073709551615).
func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
