package dispatcher

import (
	"errors"
	"testing"
)

// TestParseAttrs covers every rule and recognised key of spec §2.4.
func TestParseAttrs(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		err   string
		check func(t *testing.T, a Attrs)
	}{
		{name: "one trailing semicolon removed", text: "duid=a;", check: func(t *testing.T, a Attrs) {
			want(t, a.Body, "duid=a")
			want(t, a.DUID, "a")
		}},
		{name: "two trailing semicolons rejected", text: "duid=x;;", err: `bad attrs: "duid=x;;" ends in more than one ';'`},
		{name: "empty param in the middle", text: "a=1;;b=2", check: func(t *testing.T, a Attrs) {
			want(t, len(a.Params), 2)
			v, _ := a.Param("b")
			want(t, v, "2")
		}},
		{name: "case-insensitive names", text: "DUID=x;WeIgHt=7", check: func(t *testing.T, a Attrs) {
			want(t, a.DUID, "x")
			want(t, a.Weight, 7)
		}},
		{name: "first occurrence wins", text: "duid=x;DUID=y", check: func(t *testing.T, a Attrs) { want(t, a.DUID, "x") }},
		{name: "double quotes", text: `duid="q;w";x`, check: func(t *testing.T, a Attrs) {
			want(t, a.DUID, "q;w")
			want(t, len(a.Params), 2)
		}},
		{name: "single quotes", text: `ping_from='sip:a b@x'`, check: func(t *testing.T, a Attrs) { want(t, a.PingFrom, "sip:a b@x") }},
		{name: "unterminated quote", text: `duid="abc`, err: `bad attrs: "duid=\"abc": unterminated quote at offset 5`},
		{name: "blanks after semicolon", text: "duid=a; weight=5", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 5) }},
		{name: "blank before semicolon", text: "duid=a ;weight=5", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 5) }},
		{name: "blank before equals", text: "weight =5", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 5) }},
		{name: "blanks everywhere", text: "duid = spaced ; weight=15", check: func(t *testing.T, a Attrs) {
			want(t, a.DUID, "spaced")
			want(t, a.Weight, 15)
		}},
		{name: "leading blank rejected", text: " duid=x", err: `bad attrs: " duid=x" starts with a blank`},
		{name: "blank instead of semicolon rejected", text: "a=1 b=2", err: `bad attrs: "a=1 b=2": invalid character 'b' at offset 4, expected ';'`},
		{name: "equals without name loads", text: "=5", check: func(t *testing.T, a Attrs) { want(t, a.Params[0], Param{Value: "5", HasValue: true}) }},
		{name: "empty name in the middle loads", text: "a=1;=2", check: func(t *testing.T, a Attrs) { want(t, len(a.Params), 2) }},
		{name: "empty value at the end loads", text: "b=", check: func(t *testing.T, a Attrs) { want(t, a.Params[0], Param{Name: "b", HasValue: true}) }},
		{name: "empty value before semicolon rejected", text: "b=;c=1", err: `bad attrs: "b=;c=1": empty value before ';' at offset 2`},
		{name: "bare names", text: "a;c", check: func(t *testing.T, a Attrs) { want(t, len(a.Params), 2) }},
		{name: "leading semicolon", text: ";a=1", check: func(t *testing.T, a Attrs) { want(t, a.Body, ";a=1") }},
		{name: "only a semicolon", text: ";", check: func(t *testing.T, a Attrs) { want(t, a.Body, ""); want(t, len(a.Params), 0) }},
		{name: "value keeps equals", text: "a=b=c;d==e", check: func(t *testing.T, a Attrs) {
			v, _ := a.Param("a")
			want(t, v, "b=c")
			v, _ = a.Param("d")
			want(t, v, "=e")
		}},
		{name: "junk after quote rejected", text: `duid="a"b`, err: `bad attrs: "duid=\"a\"b": invalid character 'b' at offset 8, expected ';'`},
		{name: "weight digits prefix", text: "weight=50abc", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 50) }},
		{name: "weight plus sign", text: "weight=+5", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 5) }},
		{name: "weight leading zeros", text: "weight=0050", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 50) }},
		{name: "maxload negative", text: "maxload=-5", check: func(t *testing.T, a Attrs) { want(t, a.MaxLoad, -5) }},
		{name: "maxload prefix", text: "maxload=20x", check: func(t *testing.T, a Attrs) { want(t, a.MaxLoad, 20) }},
		{name: "maxload saturates", text: "maxload=99999999999", check: func(t *testing.T, a Attrs) { want(t, a.MaxLoad, 2147483647) }},
		{name: "rweight 1000 zero", text: "rweight=1000", check: func(t *testing.T, a Attrs) { want(t, a.RWeight, 0) }},
		{name: "unknown kept", text: "class=4;prefix=448;strip=2", check: func(t *testing.T, a Attrs) {
			want(t, a.Body, "class=4;prefix=448;strip=2")
			want(t, len(a.Params), 3)
			want(t, a.Has("duid"), false)
		}},
		{name: "bare name", text: "0", check: func(t *testing.T, a Attrs) {
			want(t, a.Params[0], Param{Name: "0"})
		}},
		{name: "maxload", text: "maxload=20", check: func(t *testing.T, a Attrs) { want(t, a.MaxLoad, 20) }},
		{name: "maxload non-numeric", text: "maxload=abc", check: func(t *testing.T, a Attrs) {
			want(t, a.MaxLoad, 0)
			want(t, a.Has("maxload"), true)
		}},
		{name: "weight 100", text: "weight=100", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 100) }},
		{name: "weight 101 zero", text: "weight=101", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 0) }},
		{name: "weight 0 zero", text: "weight=0", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 0) }},
		{name: "weight negative zero", text: "weight=-3", check: func(t *testing.T, a Attrs) { want(t, a.Weight, 0) }},
		{name: "rweight", text: "rweight=30", check: func(t *testing.T, a Attrs) { want(t, a.RWeight, 30) }},
		{name: "rweight 200 zero", text: "rweight=200", check: func(t *testing.T, a Attrs) { want(t, a.RWeight, 0) }},
		{name: "socket", text: "socket=udp:1.2.3.4:5060", check: func(t *testing.T, a Attrs) { want(t, a.Socket, "udp:1.2.3.4:5060") }},
		{name: "sockname", text: "sockname=ALT", check: func(t *testing.T, a Attrs) { want(t, a.Sockname, "ALT") }},
		{name: "ping_from", text: "ping_from=sip:p@x", check: func(t *testing.T, a Attrs) { want(t, a.PingFrom, "sip:p@x") }},
		{name: "obproxy", text: "obproxy=sip:proxy:5060", check: func(t *testing.T, a Attrs) { want(t, a.OBProxy, "sip:proxy:5060") }},
		{name: "cc", text: "cc=1", check: func(t *testing.T, a Attrs) { want(t, a.CC, 1) }},
		{name: "latency", text: "latency=120", check: func(t *testing.T, a Attrs) { want(t, a.Latency, 120) }},
		{name: "latency non-numeric ignored", text: "latency=fast", check: func(t *testing.T, a Attrs) { want(t, a.Latency, 0) }},
		{name: "6.0 names kept as params", text: "ocmax=50;ping_socket=udp:1.2.3.4:5060", check: func(t *testing.T, a Attrs) {
			v, ok := a.Param("OCMAX")
			want(t, v, "50")
			want(t, ok, true)
		}},
		{name: "empty duid", text: "duid=", check: func(t *testing.T, a Attrs) {
			want(t, a.DUID, "")
			want(t, a.Has("duid"), true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAttrs(tt.text)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrBadAttrs) {
					t.Fatalf("err %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !a.Present {
				t.Error("not present")
			}
			tt.check(t, a)
		})
	}
}

func want[T comparable](t *testing.T, got, w T) {
	t.Helper()
	if got != w {
		t.Errorf("got %v, want %v", got, w)
	}
}

// TestOverloadControl checks the 6.0 clamping rules of spec §2.4.
func TestOverloadControl(t *testing.T) {
	tests := []struct {
		name           string
		text           string
		min, max, rate int
	}{
		{"none", "duid=a", 0, 100, 0},
		{"plain", "ocmin=10;ocmax=80;ocrate=50", 10, 80, 50},
		{"ocmax over 100", "ocmax=150;ocrate=120", 0, 100, 0},
		{"ocmin above ocmax", "ocmin=90;ocmax=50;ocrate=70", 0, 50, 50},
		{"ocrate below ocmin", "ocmin=30;ocrate=10", 30, 100, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAttrs(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			mn, mx, r := a.OverloadControl()
			if mn != tt.min || mx != tt.max || r != tt.rate {
				t.Errorf("got %d %d %d, want %d %d %d", mn, mx, r, tt.min, tt.max, tt.rate)
			}
		})
	}
}
