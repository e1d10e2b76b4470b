package dispatcher

// Hash is Kamailio 5.6.3's hash function H(x [, y]) of the dispatcher
// selection algorithms and of dispatcher.hash (spec §7.2, §6.9): every
// given string (an empty one counts as given) is added four bytes at a
// time, bytes taken as signed 8-bit values, in unsigned 32-bit arithmetic;
// the sum is then mixed and a result of 0 becomes 1. Hash("bob",
// "server.com") is 3883463682.
func Hash(vals ...string) uint32 {
	var h uint32
	for _, s := range vals {
		i := 0
		for ; len(s)-i >= 4; i += 4 {
			v := sx(s[i])<<24 + sx(s[i+1])<<16 + sx(s[i+2])<<8 + sx(s[i+3])
			h += v ^ (v >> 3)
		}
		var v uint32
		for ; i < len(s); i++ {
			v = v<<8 + sx(s[i])
		}
		h += v ^ (v >> 3)
	}
	h += h>>11 + h>>13 + h>>23
	if h == 0 {
		return 1
	}
	return h
}

// sx is a byte as C's signed char, widened to 32 bits (spec §7.2).
func sx(b byte) uint32 { return uint32(int32(int8(b))) }
