package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/webhook"
)

// hookReceiver is a webhook receiver on loopback that refuses the first
// attempt of every delivery (proving the retry) and keeps the bodies it
// accepted.
type hookReceiver struct {
	mu       sync.Mutex
	attempts map[string]int
	accepted [][]byte
	badSig   int
	srv      *http.Server
	url      string
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	t.Helper()
	h := &hookReceiver{attempts: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String() + "/hook"
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		defer h.mu.Unlock()
		if !webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature)) {
			h.badSig++
		}
		id := r.Header.Get(webhook.HeaderDelivery)
		h.attempts[id]++
		if h.attempts[id] == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		h.accepted = append(h.accepted, body)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	t.Cleanup(func() { _ = h.srv.Close() })
	return h
}

// TestServeObservability runs serve with a webhook, --metrics and the
// status page, and checks each against real clients: the webhook receiver
// (retried and signed), promtool on the scrape, headless chromium on the
// page while a second kamsidecar, the SIP peer of one destination, dies.
func TestServeObservability(t *testing.T) {
	promtool := testutil.LookPath(t, "promtool")
	const secret = "s3cret-not-in-logs"
	hooks := newHookReceiver(t, secret)
	metricsAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	s := startServe(t, "--webhook", hooks.url, "--webhook-secret", secret, "--metrics", metricsAddr)

	t.Run("webhook", func(t *testing.T) {
		// The silent destination (sip:127.0.0.1:5098) and keepalive's
		// 5099 change state within seconds of start.
		waitFor(t, 20*time.Second, "an accepted webhook delivery", func() bool {
			hooks.mu.Lock()
			defer hooks.mu.Unlock()
			return len(hooks.accepted) > 0
		})
		hooks.mu.Lock()
		defer hooks.mu.Unlock()
		if hooks.badSig != 0 {
			t.Errorf("%d deliveries with a bad signature", hooks.badSig)
		}
		var ev struct {
			Kind, URI, Old, New, Reason string
			Time                        time.Time
		}
		if err := json.Unmarshal(hooks.accepted[0], &ev); err != nil || ev.URI == "" || ev.New == "" || ev.Time.IsZero() {
			t.Errorf("body %s: %v", hooks.accepted[0], err)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		var text []byte
		waitFor(t, 20*time.Second, "webhook retries in the metrics", func() bool {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			if err != nil {
				return false
			}
			text, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			return bytes.Contains(text, []byte(`kamsidecar_webhook_deliveries_total{outcome="retried"}`)) &&
				!bytes.Contains(text, []byte(`kamsidecar_webhook_deliveries_total{outcome="retried"} 0`))
		})
		for _, want := range []string{"kamsidecar_dispatcher_destination_up{", "kamsidecar_keepalive_destination_state{", "kamsidecar_build_info{", `kamsidecar_rpc_requests_total{`} {
			if !bytes.Contains(text, []byte(want)) {
				t.Errorf("scrape lacks %s", want)
			}
		}
		if bytes.Contains(text, []byte(secret)) || strings.Contains(s.stderr.String(), secret) {
			t.Error("the webhook secret leaked into the metrics or the log")
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("page", func(t *testing.T) {
		resp, err := http.Get("http://" + s.http + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte("<html")) {
			t.Errorf("GET /: %d %.200s", resp.StatusCode, b)
		}
		resp, err = http.Get("http://" + s.http + "/api/state")
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Errorf("/api/state: %v", err)
		}
	})

	t.Run("chromium", func(t *testing.T) {
		bin := ""
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
		testutil.Need(t, bin != "", "chromium is not installed")
		// The peer: a second kamsidecar answering OPTIONS on its --sip.
		peerPort := testutil.FreePort(t)
		peerDir := t.TempDir()
		peerCfg, _ := demoCopy(t, peerDir, testutil.FreePort(t))
		peer := exec.Command(binary(t), "serve", "-f", peerCfg, "--http", "", "--ctl", "", "--sip", "udp:127.0.0.1:"+strconv.Itoa(peerPort))
		peer.Dir = peerDir
		if err := peer.Start(); err != nil {
			t.Fatal(err)
		}
		peerDone := make(chan struct{})
		go func() { _ = peer.Wait(); close(peerDone) }()
		t.Cleanup(func() {
			_ = peer.Process.Kill()
			<-peerDone
		})
		uri := fmt.Sprintf("sip:127.0.0.1:%d", peerPort)
		f, err := os.OpenFile(s.list, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "4 %s 0 0 duid=peer\n", uri)
		f.Close()
		if out := s.kamcmd(t, "dispatcher.reload"); !strings.Contains(out, "Ok.") {
			t.Fatalf("reload: %s", out)
		}
		flags := func() string {
			out := s.kamcmd(t, "dispatcher.list")
			i := strings.Index(out, "URI: "+uri+"\n")
			if i < 0 {
				return ""
			}
			m := regexp.MustCompile(`FLAGS: (\w+)`).FindStringSubmatch(out[i:])
			if m == nil {
				return ""
			}
			return m[1]
		}
		waitFor(t, 20*time.Second, "the peer active", func() bool { return flags() == "AP" })
		if got := pageStatus(t, bin, s, uri); got != "active" {
			t.Fatalf("page shows %q for the live peer, want active", got)
		}
		_ = peer.Process.Signal(syscall.SIGKILL)
		<-peerDone
		// Trying (T) comes first, while failures are counted up to the
		// threshold; the page shows "trying" then, rightly. Wait for I.
		waitFor(t, 20*time.Second, "the peer inactive", func() bool { return strings.HasPrefix(flags(), "I") })
		if got := pageStatus(t, bin, s, uri); got != "inactive" {
			t.Errorf("page shows %q for the dead peer, want inactive", got)
		}
	})
}

// pageStatus loads the status page of s in headless chromium and returns
// the data-status of uri's row.
func pageStatus(t *testing.T, bin string, s *served, uri string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--virtual-time-budget=5000", "--dump-dom",
		"http://"+s.http+"/?live=0")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	re := regexp.MustCompile(`<tr [^>]*data-uri="` + regexp.QuoteMeta(uri) + `"[^>]*>`)
	m := regexp.MustCompile(`data-status="([a-z]+)"`).FindStringSubmatch(re.FindString(string(out)))
	if m == nil {
		t.Logf("no row for %s in:\n%.3000s", uri, out)
		return ""
	}
	return m[1]
}
