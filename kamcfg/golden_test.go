package kamcfg

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// update rewrites testdata/kamcfg/*.golden with what the reader prints now:
//
//	go test ./kamcfg -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/kamcfg/*.golden")

// goldenDir holds the cases: NAME.cfg, its expected output NAME.golden,
// and optionally NAME.args (command-line presets, one argument per line),
// NAME.env (KEY=VALUE environment lines), NAME.d/ (the working directory
// and its include files) and NAME.inc (an include file found next to
// NAME.cfg). Every file of a case is named after it.
const goldenDir = "../testdata/kamcfg"

// goldenCase is one testdata/kamcfg/NAME.cfg, ready to run the way
// `kamsidecar config` and `kamailio -c` would be run on it.
//
// Working directory: a case with a directory NAME.d/ beside it runs with
// NAME.d/ as the working directory and -f ../NAME.cfg, so that include
// look-ups (first relative to the working directory, then to the including
// file's directory) can be tested with files on both sides. Every other
// case runs in testdata/kamcfg itself with -f NAME.cfg.
type goldenCase struct {
	Name string
	Dir  string   // absolute working directory
	File string   // the -f argument, relative to Dir
	Args []string // NAME.args: kamailio's preset arguments (-A, --subst...)
	Env  []string // NAME.env: KEY=VALUE, the whole environment the case sees
}

// goldenCases lists every testdata/kamcfg/*.cfg in name order.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	root, err := filepath.Abs(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "*.cfg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (%v)", root, err)
	}
	sort.Strings(files)
	var cases []goldenCase
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".cfg")
		c := goldenCase{Name: name, Dir: root, File: name + ".cfg"}
		if st, err := os.Stat(filepath.Join(root, name+".d")); err == nil && st.IsDir() {
			c.Dir = filepath.Join(root, name+".d")
			c.File = "../" + name + ".cfg"
		}
		c.Args = readLines(t, filepath.Join(root, name+".args"))
		c.Env = readLines(t, filepath.Join(root, name+".env"))
		cases = append(cases, c)
	}
	return cases
}

// readLines returns the non-empty lines of an optional file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := strings.TrimSuffix(sc.Text(), "\r"); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// presets turns the case's kamailio arguments into reader presets: -A X,
// --subst X, --substdef X, --substdefs X (also written --opt=X).
func (c goldenCase) presets(t *testing.T) []Preset {
	t.Helper()
	kinds := map[string]string{"-A": "define", "--subst": "subst", "--substdef": "substdef", "--substdefs": "substdefs"}
	var out []Preset
	for i := 0; i < len(c.Args); i++ {
		opt, val, inline := strings.Cut(c.Args[i], "=")
		kind, ok := kinds[opt]
		if !ok || opt == "-A" && inline {
			t.Fatalf("%s.args: unknown argument %q", c.Name, c.Args[i])
		}
		if !inline {
			if i+1 >= len(c.Args) {
				t.Fatalf("%s.args: %s needs a value", c.Name, opt)
			}
			i++
			val = c.Args[i]
		}
		out = append(out, Preset{Kind: kind, Value: val})
	}
	return out
}

// lookupEnv reads the case's environment (NAME.env) and nothing else, so
// that the reader and kamailio see the same variables.
func (c goldenCase) lookupEnv(name string) (string, bool) {
	for _, kv := range c.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// load reads the case the way `kamsidecar config -f FILE` does from the
// case's working directory.
func (c goldenCase) load(t *testing.T) (*Config, error) {
	t.Helper()
	return Load(c.File, Options{Presets: c.presets(t), Dir: c.Dir, LookupEnv: c.lookupEnv})
}

// configRun is what `kamsidecar config` prints for a case: the exit status
// (shared/spec/cli.md: 0 accepted, 1 an error Kamailio refuses, 2 nothing
// usable), the stderr lines and the stdout JSON.
type configRun struct {
	Exit   int
	Stderr []string
	Stdout string
	Config *Config // nil when Exit is 2
}

// runConfig reproduces cmd/kamsidecar's runConfig (without --strict).
func runConfig(t *testing.T, c goldenCase) configRun {
	t.Helper()
	cfg, err := c.load(t)
	if err != nil {
		var ue *UnusableError
		if !errors.As(err, &ue) {
			t.Fatalf("Load returned %T %v, want *UnusableError", err, err)
		}
		return configRun{Exit: 2, Stderr: []string{err.Error()}}
	}
	r := configRun{Config: cfg}
	for _, d := range cfg.Diagnostics {
		r.Stderr = append(r.Stderr, d.String())
	}
	out, err := cfg.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	r.Stdout = withoutKey(t, out, "settings")
	if cfg.HasErrors() {
		r.Exit = 1
	}
	return r
}

// withoutKey drops one top-level key of a JSON object, keeping the order
// and the text of the others, and indents the result as JSON() does.
func withoutKey(t *testing.T, doc []byte, drop string) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("JSON output is not an object: %s", doc)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("JSON output: %v", err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("JSON output: %v", err)
		}
		if key == drop {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := marshalNoEscape(key)
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(raw)
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		t.Fatalf("JSON output: %v", err)
	}
	out.WriteByte('\n')
	return out.String()
}

// golden formats a run as the NAME.golden text.
func (r configRun) golden() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit: %d\nstderr:\n", r.Exit)
	for _, l := range r.Stderr {
		b.WriteString(l + "\n")
	}
	b.WriteString("stdout:\n")
	b.WriteString(r.Stdout)
	return b.String()
}

// TestGolden proves that the reader prints, for every case of
// testdata/kamcfg, exactly the exit status, the diagnostics (with exact
// file:line:col) and the JSON (without "settings") recorded in
// NAME.golden. The goldens describe what Kamailio 5.6.3 does with the
// case (TestKamailio* check that against the real binary), so a failure
// here is a reader bug, not an outdated golden, unless the case changed.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			got := runConfig(t, c).golden()
			path := filepath.Join(goldenDir, c.Name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s.cfg: output differs from %s.golden (- golden, + kamcfg now)\n%s", c.Name, c.Name, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff is a small line diff of want and got ("-" only in want, "+"
// only in got), enough for the short goldens.
func lineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	// lcs[i][j] is the longest common subsequence of w[i:] and g[j:].
	lcs := make([][]int, len(w)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(g)+1)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case i < len(w) && (j == len(g) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&b, "- %s\n", w[i])
			i++
		default:
			fmt.Fprintf(&b, "+ %s\n", g[j])
			j++
		}
	}
	return b.String()
}
