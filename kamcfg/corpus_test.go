package kamcfg

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// corpusModules are the modules whose modparams shared/corpus/expected
// keeps (MANIFEST.md).
var corpusModules = []string{"dispatcher", "keepalive", "jsonrpcs", "xhttp", "ctl", "tm"}

type corpusParam struct {
	Module string `json:"module"`
	Param  string `json:"param"`
	Value  any    `json:"value"`
}

type corpusExpected struct {
	LoadModules []string      `json:"loadmodules"`
	ModParams   []corpusParam `json:"modparams"`
}

// loadCorpusConfig reads cfg/NAME.cfg from the working directory the
// corpus MANIFEST names: cfg/NAME.d when it exists, cfg/ otherwise.
func loadCorpusConfig(t *testing.T, corpus, name string) (*Config, error) {
	t.Helper()
	dir := filepath.Join(corpus, "cfg")
	file := name + ".cfg"
	if st, err := os.Stat(filepath.Join(dir, name+".d")); err == nil && st.IsDir() {
		dir = filepath.Join(dir, name+".d")
		file = "../" + file
	}
	return Load(file, Options{Dir: dir, LookupEnv: func(string) (string, bool) { return "", false }})
}

func paramJSON(m ModParam) corpusParam {
	var v any = m.Value.Str
	if m.Value.Kind == IntValue {
		v = float64(m.Value.Int)
	}
	return corpusParam{Module: m.Module, Param: m.Param, Value: v}
}

// TestCorpusExpected reads every corpus config and compares the
// loadmodules and the filtered modparams with what Kamailio 5.6.3 saw.
func TestCorpusExpected(t *testing.T) {
	corpus := testutil.CorpusDir(t)
	forCorpusJSON(t, "expected", ".json", func(t *testing.T, name string, want *corpusExpected) {
		c, err := loadCorpusConfig(t, corpus, name)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		got := corpusExpected{LoadModules: []string{}, ModParams: []corpusParam{}}
		for _, m := range c.LoadModules {
			got.LoadModules = append(got.LoadModules, m.Path)
		}
		for _, m := range c.ModParams {
			if corpusKept(m.Module) {
				got.ModParams = append(got.ModParams, paramJSON(m))
			}
		}
		if !reflect.DeepEqual(got.LoadModules, want.LoadModules) {
			t.Errorf("loadmodules:\n got %q\nwant %q", got.LoadModules, want.LoadModules)
		}
		if !reflect.DeepEqual(got.ModParams, want.ModParams) {
			t.Errorf("modparams differ")
			for i := 0; i < len(got.ModParams) || i < len(want.ModParams); i++ {
				var g, w any
				if i < len(got.ModParams) {
					g = got.ModParams[i]
				}
				if i < len(want.ModParams) {
					w = want.ModParams[i]
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("  #%d got %v want %v", i, g, w)
				}
			}
		}
		for _, d := range c.Diagnostics {
			t.Logf("%s", d)
		}
	})
}

// corpusKept applies the corpus filter: the module argument, as Kamailio
// uses it, matches one of corpusModules.
func corpusKept(module string) bool {
	re, err := regexp.Compile("(?i)^(?:" + module + ")$")
	if err != nil {
		return false
	}
	for _, m := range corpusModules {
		if re.MatchString(m) {
			return true
		}
	}
	return false
}

// TestCorpusTraces compares every loadmodule and every modparam of every
// module (not only the six kept in expected/) with the calls the real
// Kamailio 5.6.3 made while checking each corpus config (traces/).
func TestCorpusTraces(t *testing.T) {
	corpus := testutil.CorpusDir(t)
	type traceDoc struct {
		Events []map[string]any `json:"events"`
	}
	forCorpusJSON(t, "traces", ".trace.json", func(t *testing.T, name string, trace *traceDoc) {
		if len(trace.Events) == 0 {
			t.Skip("Kamailio made no call (its preprocessor rejects the file)")
		}
		c, err := loadCorpusConfig(t, corpus, name)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		var want, got []string
		for _, e := range trace.Events {
			if m, ok := e["loadmodule"]; ok {
				want = append(want, fmt.Sprintf("loadmodule %v", m))
				continue
			}
			want = append(want, fmt.Sprintf("modparam %v %v %#v", e["module"], e["param"], e["value"]))
		}
		// Events come in statement order: interleave ours the same way.
		type ev struct {
			seq int
			s   string
		}
		var evs []ev
		for _, m := range c.LoadModules {
			evs = append(evs, ev{m.seq, fmt.Sprintf("loadmodule %v", m.Path)})
		}
		for _, m := range c.ModParams {
			p := paramJSON(m)
			evs = append(evs, ev{m.seq, fmt.Sprintf("modparam %v %v %#v", p.Module, p.Param, p.Value)})
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].seq < evs[j].seq })
		for _, e := range evs {
			got = append(got, e.s)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("calls differ")
			for i := 0; i < len(got) || i < len(want); i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("  #%d got %q want %q", i, g, w)
				}
			}
		}
	})
}

// forCorpusJSON runs fn as a subtest, named after the file, for every file
// of the corpus folder sub whose name ends in suffix, decoded into a new T.
func forCorpusJSON[T any](t *testing.T, sub, suffix string, fn func(t *testing.T, name string, doc *T)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testutil.CorpusDir(t), sub, "*"+suffix))
	if len(files) == 0 {
		t.Fatalf("no %s files in the corpus", sub)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), suffix)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc := new(T)
			if err := json.Unmarshal(b, doc); err != nil {
				t.Fatal(err)
			}
			fn(t, name, doc)
		})
	}
}
