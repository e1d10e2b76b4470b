package dispatcher

import (
	"errors"
	"strings"
	"testing"
)

// TestJoinExtraAttrs covers spec §3.3.
func TestJoinExtraAttrs(t *testing.T) {
	sock := ExtraAttr{Name: "socket", Value: "udp:1.2.3.4:5060"}
	tests := []struct {
		name   string
		base   string
		extras []ExtraAttr
		body   string
		err    error
	}{
		{name: "spec example", base: "duid=a", extras: []ExtraAttr{sock}, body: "duid=a;socket=udp:1.2.3.4:5060"},
		{name: "base ends in semicolon", base: "duid=a;", extras: []ExtraAttr{sock}, body: "duid=a;socket=udp:1.2.3.4:5060"},
		{name: "no base", extras: []ExtraAttr{sock, {Name: "ping_from", Value: "sip:p@x"}}, body: "socket=udp:1.2.3.4:5060;ping_from=sip:p@x"},
		{name: "null and empty skipped", base: "duid=a", extras: []ExtraAttr{{Name: "x", Null: true}, {Name: "y"}}, body: "duid=a"},
		{name: "nothing", body: ""},
		{name: "too long", base: strings.Repeat("a", 1000), extras: []ExtraAttr{{Name: "x", Value: strings.Repeat("b", 30)}}, err: ErrAttrsTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := JoinExtraAttrs(tt.base, tt.extras)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := ParseAttrs(text)
			if err != nil {
				t.Fatal(err)
			}
			want(t, a.Body, tt.body)
		})
	}
}
