package kamcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// kamailioModules is the module directory of the Debian kamailio 5.6.3
// package; every run passes it with -L, which also overrides loadpath.
const kamailioModules = testutil.KamailioModules

// traceScript makes gdb print every load_module(path) and
// set_mod_param_regex(regex, param, type, value) call of `kamailio -c`:
//
//	LOADMODULE<TAB>path
//	MODPARAM<TAB>regex<TAB>param<TAB>type<TAB>value
//
// type bit 1 set (PARAM_STRING) means the value is a string, else an int.
const traceScript = `set pagination off
set breakpoint pending on
break set_mod_param_regex
commands
silent
printf "MODPARAM\t%s\t%s\t%d\t", (char*)$rdi, (char*)$rsi, (int)$rdx
if ((int)$rdx & 1)
printf "%s\n", (char*)$rcx
else
printf "%d\n", (int)$rcx
end
continue
end
break load_module
commands
silent
printf "LOADMODULE\t%s\n", (char*)$rdi
continue
end
run
`

// knownDifferences are the cases where kamcfg's verdict (no Error
// diagnostic) intentionally differs from `kamailio -c` (exit 0). Each is a
// limit kamcfg accepts by design; TestKamailioAcceptance fails when a case
// listed here agrees again, so the table stays true.
var knownDifferences = map[string]string{
	// cli.md: an unknown parameter of a known module is a warning.
	"modparam-unknown-param": "kamcfg only warns on unknown modparam names; Kamailio refuses them",
	// The same check, through a regex matching a module without the parameter.
	"modparam-regex-all-modules": "kamcfg only warns when a module matched by the regex lacks the parameter; Kamailio refuses it",
	// kamcfg reads files; it does not look for module .so files.
	"loadmodule-missing": "kamcfg does not look for module files on disk; Kamailio cannot dlopen a missing module",
	// cli.md: route blocks are skipped, not checked.
	"route-unknown-function": "kamcfg does not read route bodies; Kamailio refuses an unknown function there",
	// kamcfg does not use the resolver.
	"listen-unresolvable-host": "kamcfg cannot resolve host names; Kamailio refuses a listen host it cannot resolve",
}

// kamailioHangs are cases Kamailio 5.6.3 never finishes reading: they are
// run with a short deadline, and not running to the end counts as
// refusing the file.
var kamailioHangs = map[string]string{
	"recursive-define": "a define that expands to itself makes Kamailio's lexer loop forever",
}

// kamailioWorkers is how many kamailio/gdb processes run at once. A traced
// run takes ~1.2 s but only ~0.7 s of CPU (the rest is ptrace stops), so
// two per CPU keep a 2-core machine busy without oversubscribing it.
var kamailioWorkers = 2 * runtime.NumCPU()

// needKamailio returns the kamailio binary, skipping the test (failing it
// in CI) when kamailio or its modules are not installed.
func needKamailio(t *testing.T) string {
	t.Helper()
	bin := testutil.LookPath(t, "kamailio")
	_, err := os.Stat(kamailioModules + "/xlog.so")
	testutil.Need(t, err == nil, "the kamailio modules are not installed in "+kamailioModules)
	return bin
}

// kamailioRun is the outcome of one kamailio (or gdb) process.
type kamailioRun struct {
	Stdout, Stderr string
	Exit           int   // exit status; -1 when it was killed at the deadline
	TimedOut       bool  // the process did not finish in time
	Err            error // the process could not be run at all
}

// runKamailio runs prog args... the way the case asks: in the case's
// working directory, with PATH and the NAME.env variables as the whole
// environment. The process gets its own process group, killed as a whole
// at the deadline (so that a kamailio under gdb dies with it). It is safe
// to call from any goroutine.
func (c goldenCase) runKamailio(deadline time.Duration, prog string, args ...string) kamailioRun {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = c.Dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := kamailioRun{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Exit, r.TimedOut = -1, true
	case err == nil:
	case errors.As(err, &ee):
		r.Exit = ee.ExitCode()
	default:
		r.Err = fmt.Errorf("%s: %w", prog, err)
	}
	return r
}

// runEach runs one process per case (run returns false to skip a case),
// kamailioWorkers at a time, and returns the outcomes by case index.
func runEach(cases []goldenCase, run func(int, goldenCase) (kamailioRun, bool)) []*kamailioRun {
	out := make([]*kamailioRun, len(cases))
	sem := make(chan struct{}, kamailioWorkers)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if r, ok := run(i, c); ok {
				out[i] = &r
			}
		}()
	}
	wg.Wait()
	return out
}

// kamailioArgs is the `kamailio -c` command line of a case.
func (c goldenCase) kamailioArgs() []string {
	args := []string{"-c", "-L", kamailioModules}
	args = append(args, c.Args...)
	return append(args, "-f", c.File)
}

// deadline is how long a case may run: short for the known hangs.
func (c goldenCase) deadline() time.Duration {
	if _, ok := kamailioHangs[c.Name]; ok {
		return 3 * time.Second
	}
	return 60 * time.Second
}

// firstErrors returns kamailio's first error lines, for messages.
func firstErrors(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "CRITICAL") || strings.Contains(l, "error at") {
			out = append(out, "    "+strings.TrimSpace(l))
			if len(out) == 4 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestKamailioAcceptance proves, for every case of testdata/kamcfg, that
// kamcfg accepts a file (no Error diagnostic: `kamsidecar config` exit 0)
// exactly when the real `kamailio -c` 5.6.3 does (exit 0), except for the
// documented knownDifferences. Cases kamcfg cannot read at all (exit 2)
// must be refused by Kamailio too.
func TestKamailioAcceptance(t *testing.T) {
	kamailio := needKamailio(t)
	cases := goldenCases(t)
	runs := runEach(cases, func(_ int, c goldenCase) (kamailioRun, bool) {
		return c.runKamailio(c.deadline(), kamailio, c.kamailioArgs()...), true
	})
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			k := runs[i]
			switch {
			case k.Err != nil:
				t.Fatal(k.Err)
			case k.TimedOut:
				if _, ok := kamailioHangs[c.Name]; !ok {
					t.Fatalf("kamailio -c did not finish")
				}
			}
			kamOK := k.Exit == 0
			run := runConfig(t, c)
			ourOK := run.Exit == 0
			verdict := func(ok bool) string {
				if ok {
					return "accepts"
				}
				return "refuses"
			}
			why, known := knownDifferences[c.Name]
			switch {
			case known && kamOK == ourOK:
				t.Errorf("listed in knownDifferences (%s) but kamcfg and kamailio -c agree now (both %s): remove it from the table", why, verdict(kamOK))
			case known:
				t.Logf("known difference: %s", why)
			case kamOK != ourOK:
				t.Errorf("kamailio -c %s the file (exit %d), kamcfg %s it (exit %d)\nkamailio:\n%s\nkamcfg:\n    %s",
					verdict(kamOK), k.Exit, verdict(ourOK), run.Exit, firstErrors(k.Stderr), strings.Join(run.Stderr, "\n    "))
			}
		})
	}
}

// loadCall and paramCall format one call for comparison:
// "loadmodule PATH", "modparam REGEX PARAM int N" or
// "modparam REGEX PARAM string "S"" (Go-quoted, so that control bytes show).
func loadCall(path string) string { return "loadmodule " + path }

func paramCall(module, param string, v Value) string {
	if v.Kind == IntValue {
		return fmt.Sprintf("modparam %s %s int %d", module, param, v.Int)
	}
	return fmt.Sprintf("modparam %s %s string %q", module, param, v.Str)
}

// parseTrace extracts the calls printed by traceScript. Kamailio's own
// stdout (flex echoes stray text) may precede a marker on the same line.
func parseTrace(t *testing.T, out string) []string {
	t.Helper()
	var calls []string
	for _, line := range strings.Split(out, "\n") {
		i := strings.Index(line, "LOADMODULE\t")
		j := strings.Index(line, "MODPARAM\t")
		switch {
		case i >= 0 && (j < 0 || i < j):
			calls = append(calls, loadCall(line[i+len("LOADMODULE\t"):]))
		case j >= 0:
			f := strings.SplitN(line[j:], "\t", 5)
			if len(f) != 5 {
				t.Fatalf("bad trace line %q", line)
			}
			typ, err := strconv.Atoi(f[3])
			if err != nil {
				t.Fatalf("bad trace line %q", line)
			}
			v := StrVal(f[4])
			if typ&1 == 0 {
				n, err := strconv.ParseInt(f[4], 10, 32)
				if err != nil {
					t.Fatalf("bad trace line %q", line)
				}
				v = IntVal(int32(n))
			}
			calls = append(calls, paramCall(f[1], f[2], v))
		}
	}
	return calls
}

// readerCalls are kamcfg's loadmodules and modparams merged in statement
// order, formatted like parseTrace's.
func readerCalls(c *Config) []string {
	type ev struct {
		seq int
		s   string
	}
	var evs []ev
	for _, m := range c.LoadModules {
		evs = append(evs, ev{m.seq, loadCall(m.Path)})
	}
	for _, m := range c.ModParams {
		evs = append(evs, ev{m.seq, paramCall(m.Module, m.Param, m.Value)})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].seq < evs[j].seq })
	calls := make([]string, len(evs))
	for i, e := range evs {
		calls[i] = e.s
	}
	return calls
}

// isSubsequence reports whether every element of sub appears in all, in
// order.
func isSubsequence(sub, all []string) bool {
	i := 0
	for _, s := range all {
		if i < len(sub) && s == sub[i] {
			i++
		}
	}
	return i == len(sub)
}

// TestKamailioCalls proves, for every case of testdata/kamcfg, that
// kamcfg's loadmodules and modparams (path; regex, parameter, int or
// string value) are the load_module and set_mod_param_regex calls the real
// `kamailio -c` 5.6.3 makes, in the same order (traced with gdb). When
// Kamailio accepts the file the two sequences are equal; when it refuses
// it, Kamailio may stop at the error (YYABORT) or recover differently from
// kamcfg, which reads on, so Kamailio's calls need only appear in kamcfg's
// sequence in the same order. Cases kamcfg cannot read at all (exit 2) and
// cases Kamailio never finishes have no calls to compare: they are left to
// TestKamailioAcceptance. A case none of whose files says loadmodule or
// modparam is not traced (Kamailio cannot make either call then); kamcfg
// must report no call for it either.
func TestKamailioCalls(t *testing.T) {
	kamailio := needKamailio(t)
	gdb := testutil.LookPath(t, "gdb")
	script := t.TempDir() + "/trace.gdb"
	if err := os.WriteFile(script, []byte(traceScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := goldenCases(t)
	ours := make([]configRun, len(cases))
	mentions := make([]bool, len(cases))
	for i, c := range cases {
		ours[i] = runConfig(t, c)
		mentions[i] = c.mentionsModules(t)
	}
	traces := runEach(cases, func(i int, c goldenCase) (kamailioRun, bool) {
		if _, hangs := kamailioHangs[c.Name]; hangs || ours[i].Config == nil || !mentions[i] {
			return kamailioRun{}, false
		}
		args := append([]string{"-q", "-batch", "-x", script, "--args", kamailio}, c.kamailioArgs()...)
		return c.runKamailio(c.deadline(), gdb, args...), true
	})
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			run := ours[i]
			if why, ok := kamailioHangs[c.Name]; ok {
				t.Skipf("Kamailio never finishes: %s", why)
			}
			if run.Config == nil {
				t.Skipf("kamcfg reads nothing (exit 2: %s); only acceptance is compared", strings.Join(run.Stderr, "; "))
			}
			got := readerCalls(run.Config)
			k := traces[i]
			if k == nil {
				// Kamailio makes these calls only for the words loadmodule
				// and modparam, which none of the case's files contains.
				if len(got) > 0 {
					t.Errorf("no file of the case says loadmodule or modparam, yet kamcfg reports %q", got)
				}
				return
			}
			switch {
			case k.Err != nil:
				t.Fatal(k.Err)
			case k.TimedOut:
				t.Fatalf("gdb kamailio -c did not finish")
			case !strings.Contains(k.Stdout, "[Inferior 1 (process"):
				t.Fatalf("gdb did not run kamailio:\n%s\n%s", k.Stdout, k.Stderr)
			}
			accepted := strings.Contains(k.Stdout, "exited normally]")
			kam := parseTrace(t, k.Stdout)
			if accepted && !slices.Equal(got, kam) {
				t.Errorf("kamailio -c accepts the file; its calls differ from kamcfg's:\n%s", callDiff(kam, got))
			}
			if !accepted && !isSubsequence(kam, got) {
				t.Errorf("kamailio -c refuses the file; its calls are not all, in order, among kamcfg's:\n%s", callDiff(kam, got))
			}
		})
	}
}

// mentionsModules reports whether any file of the case (NAME.cfg,
// NAME.args, NAME.env, NAME.inc, NAME.d/**) contains "loadmodule" or
// "modparam" (loadmodulex and modparamx included): without those words
// Kamailio calls neither load_module nor set_mod_param_regex.
func (c goldenCase) mentionsModules(t *testing.T) bool {
	t.Helper()
	root := filepath.Join(goldenDir, c.Name)
	files := []string{root + ".cfg", root + ".args", root + ".env", root + ".inc"}
	_ = filepath.WalkDir(root+".d", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("loadmodule")) || bytes.Contains(b, []byte("modparam")) {
			return true
		}
	}
	return false
}

// callDiff lists both sequences side by side, marking where they differ.
func callDiff(kam, ours []string) string {
	var b strings.Builder
	for i := 0; i < len(kam) || i < len(ours); i++ {
		var k, o string
		if i < len(kam) {
			k = kam[i]
		}
		if i < len(ours) {
			o = ours[i]
		}
		mark := " "
		if k != o {
			mark = "≠"
		}
		fmt.Fprintf(&b, "  %s #%d kamailio: %s\n       kamcfg:   %s\n", mark, i, k, o)
	}
	return b.String()
}
