package dispatcher

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

type wantDest struct {
	URI      string `json:"URI"`
	Flags    string `json:"FLAGS"`
	Priority int    `json:"PRIORITY"`
	Attrs    *struct {
		Body     string  `json:"BODY"`
		DUID     *string `json:"DUID"`
		MaxLoad  int     `json:"MAXLOAD"`
		Weight   int     `json:"WEIGHT"`
		RWeight  int     `json:"RWEIGHT"`
		Socket   *string `json:"SOCKET"`
		Sockname *string `json:"SOCKNAME"`
		OBProxy  *string `json:"OBPROXY"`
	} `json:"ATTRS"`
}

type wantList struct {
	Started bool `json:"started"`
	List    struct {
		NRSets  int `json:"NRSETS"`
		Message string
		Records []struct {
			Set struct {
				ID      int `json:"ID"`
				Targets []struct {
					Dest wantDest `json:"DEST"`
				} `json:"TARGETS"`
			} `json:"SET"`
		} `json:"RECORDS"`
	} `json:"dispatcher.list"`
	Errors []string `json:"errors"`
}

func nullable(has bool, v string) *string {
	if !has {
		return nil
	}
	return &v
}

func eqp(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sp(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// TestCorpusLists loads every corpus list as Kamailio 5.6.3 did (no DNS, no
// listen socket the attrs name) and compares sets, order and fields with
// what it answered to dispatcher.list, and our rejections with its
// pack_dest() errors.
func TestCorpusLists(t *testing.T) {
	dir := testutil.CorpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "lists", "*.list"))
	if err != nil || len(files) == 0 {
		testutil.Need(t, false, "no corpus lists")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".list")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "expected-lists", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want wantList
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			opts := DefaultOptions()
			opts.Resolver = NoDNS{}
			sets, probs, err := Load(filepath.Base(f), fh, opts)
			if err != nil {
				if want.Started {
					t.Fatalf("load failed, Kamailio started: %v", err)
				}
				return
			}
			var wantErrs, gotErrs []string
			for _, e := range want.Errors {
				if m, ok := strings.CutPrefix(e, "pack_dest(): "); ok {
					wantErrs = append(wantErrs, m)
				}
			}
			for _, p := range probs {
				if p.Severity == Warning && p.Err != nil {
					m, _, _ := strings.Cut(p.Msg, ": unable to add destination")
					gotErrs = append(gotErrs, m)
				}
			}
			if strings.Join(gotErrs, "\n") != strings.Join(wantErrs, "\n") {
				t.Errorf("rejections:\n got %q\nwant %q", gotErrs, wantErrs)
			}
			if len(want.List.Records) == 0 {
				if sets.Len() != 0 {
					t.Fatalf("got %d sets, Kamailio had none (%s)", sets.Len(), want.List.Message)
				}
				return
			}
			if sets.Len() != len(want.List.Records) || want.List.NRSets != sets.Len() {
				t.Fatalf("got %d sets, want %d", sets.Len(), len(want.List.Records))
			}
			for i, rec := range want.List.Records {
				set := sets.At(i)
				if set.ID() != rec.Set.ID {
					t.Fatalf("set %d: id %d, want %d", i, set.ID(), rec.Set.ID)
				}
				if set.Len() != len(rec.Set.Targets) {
					t.Fatalf("set %d: %d destinations, want %d", set.ID(), set.Len(), len(rec.Set.Targets))
				}
				for j, tg := range rec.Set.Targets {
					w, d := tg.Dest, set.At(j)
					if d.URI != w.URI || FlagsString(d.State().Flags()) != w.Flags || d.Priority != w.Priority {
						t.Errorf("set %d dest %d: got %s %s %d, want %s %s %d", set.ID(), j,
							d.URI, FlagsString(d.State().Flags()), d.Priority, w.URI, w.Flags, w.Priority)
					}
					if (w.Attrs != nil) != d.Attrs.Present {
						t.Errorf("set %d dest %d: attrs present %v, want %v", set.ID(), j, d.Attrs.Present, w.Attrs != nil)
						continue
					}
					if w.Attrs == nil {
						continue
					}
					a, wa := d.Attrs, w.Attrs
					if a.Body != wa.Body || a.MaxLoad != wa.MaxLoad || a.Weight != wa.Weight || a.RWeight != wa.RWeight ||
						!eqp(nullable(a.Has("duid"), a.DUID), wa.DUID) ||
						!eqp(nullable(a.Has("socket"), a.Socket), wa.Socket) ||
						!eqp(nullable(a.Has("sockname"), a.Sockname), wa.Sockname) ||
						!eqp(nullable(a.Has("obproxy"), a.OBProxy), wa.OBProxy) {
						t.Errorf("set %d dest %d attrs: got %+v, want body %q duid %s maxload %d weight %d rweight %d socket %s sockname %s obproxy %s",
							set.ID(), j, a, wa.Body, sp(wa.DUID), wa.MaxLoad, wa.Weight, wa.RWeight, sp(wa.Socket), sp(wa.Sockname), sp(wa.OBProxy))
					}
				}
			}
		})
	}
}
