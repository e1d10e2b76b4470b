package dispatcher

import "testing"

// TestHash: the §7.2 test vectors verified against 5.6.3.
func TestHash(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want uint32
	}{
		{"alice server.com", []string{"alice", "server.com"}, 1412806172},
		{"bob server.com", []string{"bob", "server.com"}, 3883463682},
		{"bob", []string{"bob"}, 7222211},
		{"empty", []string{""}, 1},
		{"é sign-extended", []string{"é"}, 3760405700},
		{"five utf-8 runes", []string{"ÿþýé€"}, 2517210750},
	}
	for _, tc := range tests {
		if got := Hash(tc.in...); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestParseAdminState: §6.4 state letters.
func TestParseAdminState(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  error
	}{
		{"", 0, ErrEmptyState}, {"x", 0, ErrUnknownState}, {"p", 0, ErrUnknownState},
		{"a", 0, nil}, {"AP", FlagProbing, nil}, {"1p", FlagProbing, nil},
		{"i", FlagInactive, nil}, {"0P", FlagInactive | FlagProbing, nil}, {"ipxyz", FlagInactive | FlagProbing, nil},
		{"ix", FlagInactive, nil}, {"dp", FlagDisabled, nil}, {"2", FlagDisabled, nil},
		{"t", FlagTrying, nil}, {"3p", FlagTrying | FlagProbing, nil},
	}
	for _, tc := range tests {
		got, err := ParseAdminState(tc.in)
		if got != tc.want || err != tc.err {
			t.Errorf("%q: %d %v, want %d %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
