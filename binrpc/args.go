package binrpc

import (
	"math"
	"strconv"
	"strings"
)

// cSpace reports C's isspace.
func cSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strtol parses all of s as C's strtol(s, &end, 10) with *end == 0:
// leading white space, a sign, digits; out of range clamps as strtol does.
func strtol(s string) (int64, bool) {
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v uint64
	over := false
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			over = true
		} else {
			v = v*10 + uint64(c-'0')
		}
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64, true
	case neg:
		return -int64(v), true
	case over || v > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(v), true
}

// strtod parses all of s as C's strtod with *end == 0: leading white
// space, decimal or hexadecimal (0x…, exponent optional) numbers, inf,
// infinity and nan; an out-of-range value is ±Inf or 0 as strtod gives.
func strtod(s string) (float64, bool) {
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	t := s[i:]
	if t == "" || strings.ContainsAny(t, "_ \t\n\v\f\r") {
		return 0, false
	}
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 {
		return 0, false
	}
	lb := strings.ToLower(body)
	if strings.HasPrefix(lb, "0x") {
		if lb == "0x" || strings.HasPrefix(lb, "0x.") && len(lb) == 3 {
			return 0, false
		}
		if !strings.Contains(lb, "p") {
			t += "p0"
		}
	} else if strings.ContainsAny(lb, "p") && lb != "" && !strings.HasPrefix(lb, "inf") && !strings.HasPrefix(lb, "nan") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// ParseArg types a command-line argument exactly as kamcmd does
// (binrpc.md §9.2): "s:" forces a string (prefix removed); an empty
// argument is INT 0; a whole base-10 long is an INT truncated to 32 bits
// (returned as int32); else a whole strtod number (1.5, 1e3, inf, 0x10) is
// a DOUBLE (float64); else a string.
func ParseArg(s string) any {
	if rest, ok := strings.CutPrefix(s, "s:"); ok {
		return rest
	}
	if s == "" {
		return int32(0)
	}
	if v, ok := strtol(s); ok {
		return int32(v)
	}
	if f, ok := strtod(s); ok {
		return f
	}
	return s
}
