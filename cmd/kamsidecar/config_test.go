package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds kamsidecar once for the tests that run it as a process
// (the working directory matters to include resolution).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kamsidecar-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kamsidecar")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// runBinary runs kamsidecar with args in dir and returns stdout, stderr
// and the exit status.
func runBinary(t *testing.T, dir string, args ...string) ([]byte, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.Bytes(), stderr.String(), code
}

type configOut struct {
	LoadModules []string         `json:"loadmodules"`
	ModParams   []map[string]any `json:"modparams"`
}

// TestConfigCorpus runs `kamsidecar config` on every corpus config from
// the working directory MANIFEST.md names and compares loadmodules and the
// modparams of dispatcher, keepalive, jsonrpcs, xhttp, ctl and tm with
// expected/*.json, produced by the real Kamailio 5.6.3.
func TestConfigCorpus(t *testing.T) {
	corpus := testutil.CorpusDir(t)
	files, _ := filepath.Glob(filepath.Join(corpus, "expected", "*.json"))
	if len(files) != 28 {
		t.Fatalf("want the 28 expected files of the corpus, found %d", len(files))
	}
	keep := func(module string) bool {
		re, err := regexp.Compile("(?i)^(?:" + module + ")$")
		if err != nil {
			return false
		}
		for _, m := range []string{"dispatcher", "keepalive", "jsonrpcs", "xhttp", "ctl", "tm"} {
			if re.MatchString(m) {
				return true
			}
		}
		return false
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(corpus, "cfg")
			file := name + ".cfg"
			if st, err := os.Stat(filepath.Join(dir, name+".d")); err == nil && st.IsDir() {
				dir, file = filepath.Join(dir, name+".d"), "../"+file
			}
			stdout, stderr, code := runBinary(t, dir, "config", "-f", file)
			if code == 2 {
				t.Fatalf("exit 2: %s", stderr)
			}
			var got, want configOut
			if err := json.Unmarshal(stdout, &got); err != nil {
				t.Fatalf("stdout is not JSON: %v", err)
			}
			b, _ := os.ReadFile(f)
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			filtered := []map[string]any{}
			for _, m := range got.ModParams {
				if keep(m["module"].(string)) {
					filtered = append(filtered, m)
				}
			}
			got.ModParams = filtered
			if !reflect.DeepEqual(got, want) {
				t.Errorf("differs from expected\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestConfigExitStatus checks the three exit statuses of cli.md and
// --strict.
func TestConfigExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.cfg", "loadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 2000)\n")
	write("warn.cfg", "loadmodule \"tm.so\"\n/* never closed\n")
	write("err.cfg", "#!ifdef X\nloadmodule \"tm.so\"\n")
	write("unusable.cfg", "include_file \"missing.cfg\"\n")
	write("define.cfg", "#!ifdef FROMCLI\nloadmodule \"tm.so\"\n#!endif\nmodparam(\"tm\", \"fr_timer\", V)\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout bool
		stderr string
	}{
		{"accepted", []string{"-f", "ok.cfg"}, 0, true, ""},
		{"warning only", []string{"-f", "warn.cfg"}, 0, true, "warn.cfg:2:1: warning: comment is not closed"},
		{"warning strict", []string{"-f", "warn.cfg", "--strict"}, 1, true, "warn.cfg:2:1: warning:"},
		{"error keeps json", []string{"-f", "err.cfg"}, 1, true, "err.cfg:1:1: #!ifdef/#!ifndef without #!endif"},
		{"missing include", []string{"-f", "unusable.cfg"}, 2, false, "unusable.cfg:1:1: included file missing.cfg not found"},
		{"missing file", []string{"-f", "nothere.cfg"}, 2, false, "nothere.cfg: cannot read nothere.cfg"},
		{"presets", []string{"-A", "FROMCLI", "-A", "V=1500", "-f", "define.cfg"}, 0, true, ""},
		{"no file", []string{}, 2, false, "-f FILE is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, dir, append([]string{"config"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if (len(stdout) > 0) != tc.stdout {
				t.Errorf("stdout %q, want JSON: %v", stdout, tc.stdout)
			}
			if tc.stdout && !json.Valid(stdout) {
				t.Errorf("stdout is not JSON: %s", stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
		})
	}
}
