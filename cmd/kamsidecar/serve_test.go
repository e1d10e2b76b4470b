package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// served is a running `kamsidecar serve` started by a test.
type served struct {
	dir, cfg, list   string
	ctl, fifo, dgram string
	http             string
	sip              int
	cmd              *exec.Cmd
	stderr           *testutil.SyncBuffer
	done             chan error
}

// demoCopy writes the demo cfg and list into dir with the SIP port moved to
// sip and the probing intervals shortened, so tests run in parallel with
// anything else and see state changes quickly.
func demoCopy(t *testing.T, dir string, sip int) (cfg, list string) {
	t.Helper()
	root := testutil.RepoRoot()
	c, err := os.ReadFile(filepath.Join(root, "testdata/demo/kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := os.ReadFile(filepath.Join(root, "testdata/demo/dispatcher.list"))
	if err != nil {
		t.Fatal(err)
	}
	list = filepath.Join(dir, "dispatcher.list")
	s := string(c)
	s = strings.ReplaceAll(s, "127.0.0.1:5070", "127.0.0.1:"+strconv.Itoa(sip))
	s = strings.ReplaceAll(s, `"testdata/demo/dispatcher.list"`, strconv.Quote(list))
	s = strings.ReplaceAll(s, `"ds_ping_interval", 5`, `"ds_ping_interval", 1`)
	s = strings.ReplaceAll(s, `"ping_interval", 5`, `"ping_interval", 1`)
	s = strings.ReplaceAll(s, `"fr_timer", 2000`, `"fr_timer", 500`)
	cfg = filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(list, []byte(strings.ReplaceAll(string(l), "127.0.0.1:5070", "127.0.0.1:"+strconv.Itoa(sip))), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, list
}

// startServe runs serve on the demo copy with every transport on, on free
// ports and in a temporary directory, and waits until it answers.
func startServe(t *testing.T, extra ...string) *served {
	t.Helper()
	dir := t.TempDir()
	s := &served{dir: dir, sip: testutil.FreePort(t)}
	s.cfg, s.list = demoCopy(t, dir, s.sip)
	s.ctl = filepath.Join(dir, "ctl")
	s.fifo = filepath.Join(dir, "rpc.fifo")
	s.dgram = filepath.Join(dir, "rpc.sock")
	s.http = "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	args := append([]string{"serve", "-f", s.cfg,
		"--http", s.http, "--ctl", "unix:" + s.ctl, "--fifo", s.fifo, "--dgram", "unix:" + s.dgram,
		"--sip", "udp:127.0.0.1:" + strconv.Itoa(s.sip), "--rundir", filepath.Join(dir, "run"),
	}, extra...)
	s.cmd = exec.Command(binary(t), args...)
	s.cmd.Dir = dir
	s.stderr = &testutil.SyncBuffer{}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", s.stderr.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(s.ctl); err == nil {
			if resp, err := http.Post("http://"+s.http+"/RPC", "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"core.version","id":1}`)); err == nil {
				resp.Body.Close()
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer within 15 s\n%s", s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kamcmd runs the real kamcmd against the served ctl socket.
func (s *served) kamcmd(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testutil.LookPath(t, "kamcmd"), append([]string{"-s", "unix:" + s.ctl}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kamcmd %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// rpc runs `kamsidecar rpc` with args.
func (s *served) rpc(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	out, errs, code := runBinary(t, s.dir, append([]string{"rpc"}, args...)...)
	return string(out), errs, code
}

// post sends one JSON-RPC document over HTTP.
func (s *served) post(t *testing.T, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post("http://"+s.http+"/RPC", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// waitFor polls f until it returns true, for at most d.
func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServeDemo(t *testing.T) {
	kamctl := testutil.LookPath(t, "kamctl")
	curl := testutil.LookPath(t, "curl")
	s := startServe(t)

	t.Run("kamcmd", func(t *testing.T) {
		if out := s.kamcmd(t, "core.version"); !strings.HasPrefix(out, "kamsidecar ") {
			t.Errorf("core.version: %q", out)
		}
		// The destination on our own SIP socket goes active, the silent one
		// inactive (threshold 2 at 1 s intervals).
		waitFor(t, 20*time.Second, "dispatcher states", func() bool {
			out := s.kamcmd(t, "dispatcher.list")
			return strings.Contains(out, "FLAGS: AP") && strings.Contains(out, "FLAGS: IP")
		})
		// 6.0's dispatcher.oclist: the live state bits as an integer (the
		// silent destination is inactive and probing, 1|8).
		if out := s.kamcmd(t, "dispatcher.oclist", "1"); !strings.Contains(out, "\turi: sip:127.0.0.1:5098\n\tflags: 9\n\tpriority: 5\n\tocrate: 0\n") ||
			strings.Count(out, "\tgroup: 1\n") != 2 {
			t.Errorf("dispatcher.oclist 1:\n%s", out)
		}
		if out := s.kamcmd(t, "dispatcher.oclist", "7"); out != "error: 404 - Destination Group Not Found\n" {
			t.Errorf("dispatcher.oclist 7: %q", out)
		}
		waitFor(t, 20*time.Second, "keepalive up", func() bool {
			return s.kamcmd(t, "keepalive.is_alive", fmt.Sprintf("sip:127.0.0.1:%d", s.sip)) == "1\n"
		})
		if out := s.kamcmd(t, "keepalive.is_alive", "sip:127.0.0.1:1"); out != "-1\n" {
			t.Errorf("is_alive unknown: %q", out)
		}
		if out := s.kamcmd(t, "no.such"); out != "error: 500 - command no.such not found\n" {
			t.Errorf("unknown method: %q", out)
		}
	})

	t.Run("curl", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, curl, "-sS", "-X", "POST", "-H", "Content-Type: application/json",
			"-d", `{"jsonrpc":"2.0","method":"dispatcher.list","id":1}`, "http://"+s.http+"/RPC").Output()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Result struct {
				NRSETS  int
				RECORDS []json.RawMessage
			}
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if r.Result.NRSETS != 2 || len(r.Result.RECORDS) != 2 {
			t.Errorf("dispatcher.list: %s", out)
		}
		code, body := s.post(t, `{"jsonrpc":"2.0","method":"nosuch","id":1}`)
		if code != 500 || !bytes.Contains(body, []byte(`"Method Not Found"`)) {
			t.Errorf("unknown method over HTTP: %d %s", code, body)
		}
	})

	t.Run("kamctl", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kamctl, "rpc", "core.version")
		cmd.Env = append(os.Environ(), "RPCFIFOPATH="+s.fifo)
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte(`"kamsidecar `)) {
			t.Errorf("kamctl rpc core.version: %v\n%s", err, out)
		}
	})

	t.Run("rpc client", func(t *testing.T) {
		out, errs, code := s.rpc(t, "-s", "unix:"+s.ctl, "dispatcher.list")
		if code != 0 || out != s.kamcmd(t, "dispatcher.list") {
			// States may change between the two calls; compare the shape.
			if code != 0 || !strings.Contains(out, "NRSETS: 2") {
				t.Errorf("rpc dispatcher.list: %d %s\n%s", code, errs, out)
			}
		}
		out, _, code = s.rpc(t, "-s", "http://"+s.http+"/RPC", "--json", "core.version")
		if code != 0 || !strings.HasPrefix(out, `"kamsidecar `) {
			t.Errorf("rpc --json over http: %d %q", code, out)
		}
		out, _, code = s.rpc(t, "-s", "unix:"+s.ctl, "--json", "no.such")
		if code == 0 || !strings.Contains(out, "command no.such not found") {
			t.Errorf("rpc --json fault: %d %q", code, out)
		}
	})

	t.Run("modes", func(t *testing.T) {
		for _, p := range []string{s.ctl, s.fifo, s.dgram} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: mode %o, want 600", p, m)
			}
		}
	})

	t.Run("sighup", func(t *testing.T) {
		f, err := os.OpenFile(s.list, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, "3 sip:127.0.0.1:5097 0 0 duid=added")
		f.Close()
		if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the reloaded set", func() bool {
			return strings.Contains(s.kamcmd(t, "dispatcher.list"), "NRSETS: 3")
		})
		// A broken list keeps the old sets.
		if err := os.WriteFile(s.list, []byte("not a list line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = s.cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, 10*time.Second, "the reload failure in the log", func() bool {
			return strings.Contains(s.stderr.String(), "reload failed")
		})
		if !strings.Contains(s.kamcmd(t, "dispatcher.list"), "NRSETS: 3") {
			t.Error("a failed reload lost the sets")
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("exit: %v", err)
			}
			s.done <- err
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop on SIGTERM")
		}
		for _, p := range []string{s.ctl, s.fifo, s.dgram} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("%s left behind (%v)", p, err)
			}
		}
	})
}

func TestServeBadSource(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := demoCopy(t, dir, testutil.FreePort(t))
	_, errs, code := runBinary(t, dir, "serve", "-f", cfg, "--list", filepath.Join(dir, "missing.list"),
		"--http", "", "--ctl", "", "--sip", "udp:127.0.0.1:0")
	if code == 0 || !strings.Contains(errs, "missing.list") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
}

// TestServeLargeList shows the rpc client printing a reply kamcmd cannot:
// 1,000 destinations are about 300 KiB of BINRPC, kamcmd stops at 128 KiB.
func TestServeLargeList(t *testing.T) {
	s := startServe(t)
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "%d sip:10.%d.%d.%d:5060 0 0 duid=gw%d;weight=%d;socket=udp:127.0.0.1:5080\n", 1+i/100, i/65536, i/256%256, i%256, i, i%100)
	}
	if err := os.WriteFile(s.list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := s.kamcmd(t, "dispatcher.reload"); !strings.Contains(out, "Ok.") {
		t.Fatalf("reload: %s", out)
	}
	out, errs, code := s.rpc(t, "-s", "unix:"+s.ctl, "dispatcher.list")
	if code != 0 || strings.Count(out, "DEST: {") != 1000 {
		t.Errorf("rpc printed %d destinations (exit %d, %s)", strings.Count(out, "DEST: {"), code, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kout, _ := exec.CommandContext(ctx, testutil.LookPath(t, "kamcmd"), "-s", "unix:"+s.ctl, "dispatcher.list").CombinedOutput()
	if !bytes.Contains(kout, []byte("reply too big")) {
		t.Logf("kamcmd printed %d bytes (expected its 128 KiB limit to hit)", len(kout))
	}
}
