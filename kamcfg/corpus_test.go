package kamcfg

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
	files, _ := filepath.Glob(filepath.Join(corpus, "expected", "*.json"))
	if len(files) == 0 {
		t.Fatal("no expected files in the corpus")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			var want corpusExpected
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
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
