package dispatcher

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// e builds an expected entry of testdata/lists/<case>.list.
func e(line, setid int, uri string, flags, prio int, attrs ...string) Entry {
	en := Entry{Line: line, SetID: setid, URI: uri, Flags: flags, Priority: prio}
	if len(attrs) > 0 {
		en.Attrs, en.HasAttrs = attrs[0], true
	}
	return en
}

// TestReadListTraps checks each tokenizer trap of spec §2.1 against a file
// in testdata/lists, with the exact file:line messages.
func TestReadListTraps(t *testing.T) {
	x1004 := strings.Repeat("x", 1004)
	y1004 := strings.Repeat("y", 1004)
	tests := []struct {
		name  string
		want  []Entry
		probs []string
		fatal bool
	}{
		{name: "comments-blank", want: []Entry{e(5, 1, "sip:10.0.0.1", 0, 0)}},
		{name: "no-trailing-newline", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "duid=a")}},
		{name: "crlf", want: []Entry{e(1, 1, "sip:10.0.0.1", 8, 3, "duid=a"), e(2, 2, "sip:10.0.0.2", 0, 0)}},
		{name: "setid-glued", want: []Entry{e(1, 5, "sip:10.0.0.5", 0, 0)}},
		{name: "setid-empty", want: []Entry{e(1, 0, "sip:10.0.0.9", 0, 1)}},
		{name: "bad-line-setid-only", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0)}, fatal: true,
			probs: []string{"bad-line-setid-only.list:2: bad line: a setid without a destination fails the whole load"}},
		{name: "bad-line-setid-comment", fatal: true,
			probs: []string{"bad-line-setid-comment.list:1: bad line: a setid without a destination fails the whole load"}},
		{name: "uri-hash-ends", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0)}},
		{name: "hex-flags-56", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "x8")}},
		{name: "negative-priority", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "-5")}},
		{name: "junk-shifts", want: []Entry{e(1, 7, "sip:10.0.0.7", 0, 0, "abc")}},
		{name: "attrs-hash-kept", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "a=1#x")}},
		{name: "attrs-first-token", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "a=1")}},
		{name: "attrs-comment-after", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "a=1")}},
		{name: "priority-comment", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0)}},
		{name: "tabs", want: []Entry{e(1, 1, "sip:10.0.0.1", 2, 9, "weight=10")}},
		{name: "nul-ends-line", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, "a=1"), e(2, 2, "sip:10.0.0.2", 0, 0)}},
		{name: "long-line-split", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, x1004), e(1, 3, "sip:10.0.0.3", 0, 0)},
			probs: []string{"long-line-split.list:1: line longer than 1023 bytes is split as Kamailio's fgets does"}},
		{name: "exact-1023", want: []Entry{e(1, 1, "sip:10.0.0.1", 0, 0, y1004), e(2, 4, "sip:10.0.0.4", 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.name + ".list"
			f, err := os.Open(filepath.Join("testdata", "lists", file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, probs := ReadList(file, f)
			for i := range tt.want {
				tt.want[i].Source = file
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries:\n got %+v\nwant %+v", got, tt.want)
			}
			var msgs []string
			fatal := false
			for _, p := range probs {
				msgs = append(msgs, p.String())
				if p.Severity == Fatal {
					fatal = true
					if !errors.Is(p, ErrBadLine) {
						t.Errorf("fatal problem %v does not wrap ErrBadLine", p)
					}
				}
			}
			if !reflect.DeepEqual(msgs, tt.probs) {
				t.Errorf("problems:\n got %q\nwant %q", msgs, tt.probs)
			}
			if fatal != tt.fatal {
				t.Errorf("fatal %v, want %v", fatal, tt.fatal)
			}
		})
	}
}

// TestLoadBadLineRefuses checks that a bad line refuses the load whatever
// ds_load_mode says (§2.8).
func TestLoadBadLineRefuses(t *testing.T) {
	for _, mode := range []int{0, 1} {
		o := DefaultOptions()
		o.LoadMode = mode
		s, _, err := Load("x.list", strings.NewReader("1 sip:10.0.0.1\n5\n"), o)
		if s != nil || !errors.Is(err, ErrLoad) || !errors.Is(err, ErrBadLine) {
			t.Errorf("mode %d: got %v, %v; want ErrLoad and ErrBadLine", mode, s, err)
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestReadListReadError checks that a read error is a fatal problem.
func TestReadListReadError(t *testing.T) {
	_, probs := ReadList("r.list", failReader{})
	if len(probs) != 1 || probs[0].Severity != Fatal || !errors.Is(probs[0], ErrRead) ||
		probs[0].String() != "r.list:1: read error: disk on fire" {
		t.Fatalf("got %v", probs)
	}
}
