package web

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/dispatcher"
	"github.com/kamsidecar/kamsidecar/history"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

var screenshot = flag.Bool("screenshot", false, "write docs/status-page.png from a live page (TestScreenshot)")

// chromium returns the headless browser, skipping (failing in CI) without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testutil.Need(t, false, "chromium is not installed (apt-get install chromium)")
	return ""
}

// headless runs chromium on url with args added, bounded in time, in a
// profile of its own, and returns its stdout.
func headless(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 2000))
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// rowStatus finds the data-status of the row of uri in a dumped DOM.
func rowStatus(dom, uri string) string {
	re := regexp.MustCompile(`<tr [^>]*data-uri="` + regexp.QuoteMeta(uri) + `"[^>]*>`)
	tag := re.FindString(dom)
	m := regexp.MustCompile(`data-status="([a-z]+)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestBrowser loads the status page in headless Chromium against a live
// Prober probing a real SIP responder: the row shows active; once the
// responder is killed and the Prober marks the destination inactive, a new
// load shows inactive.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	r := newResponder(t, nil)
	d := start(t, []dispatcher.Entry{{SetID: 1, URI: r.URI(), Flags: dispatcher.FlagProbing, Attrs: "duid=gw1", HasAttrs: true}})
	d.recordDispatcher(t)
	waitFor(t, "a first successful probe", func() bool {
		return d.store.Sets().At(0).At(0).State().Latency().Count > 0
	})

	dom := headless(t, bin, d.url+"?live=0", "--virtual-time-budget=5000", "--dump-dom")
	if !strings.Contains(dom, `<table class="set" data-setid="1">`) {
		t.Fatalf("no table of set 1 in the page:\n%s", tail(dom, 3000))
	}
	if got := rowStatus(dom, r.URI()); got != "active" {
		t.Fatalf("row of %s shows %q, want active:\n%s", r.URI(), got, tail(dom, 3000))
	}

	r.Stop()
	waitFor(t, "the Prober to mark the destination inactive", func() bool {
		return d.store.Sets().At(0).At(0).State().Flags()&dispatcher.FlagInactive != 0
	})
	dom = headless(t, bin, d.url+"?live=0", "--virtual-time-budget=5000", "--dump-dom")
	if got := rowStatus(dom, r.URI()); got != "inactive" {
		t.Fatalf("row of %s shows %q, want inactive:\n%s", r.URI(), got, tail(dom, 3000))
	}
	if !strings.Contains(dom, "gw1") {
		t.Errorf("duid gw1 not shown")
	}
}

// TestScreenshot writes docs/status-page.png (go test ./web -run
// TestScreenshot -screenshot): two sets and a keepalive destination on live
// responders with varying delay, one of them killed, the history filled
// from real probes.
func TestScreenshot(t *testing.T) {
	if !*screenshot {
		t.Skip("run with -screenshot to write docs/status-page.png")
	}
	bin := chromium(t)
	var n int
	jitter := func() time.Duration { n++; return time.Duration(2+(n*7)%13) * time.Millisecond }
	a, b, c := newResponder(t, jitter), newResponder(t, nil), newResponder(t, nil)
	d := start(t, []dispatcher.Entry{
		{SetID: 1, URI: a.URI(), Flags: dispatcher.FlagProbing, Priority: 10, Attrs: "duid=carrier-a", HasAttrs: true},
		{SetID: 1, URI: b.URI(), Flags: dispatcher.FlagProbing, Priority: 5, Attrs: "duid=carrier-b", HasAttrs: true},
		{SetID: 2, URI: c.URI(), Flags: dispatcher.FlagProbing, Attrs: "duid=backup", HasAttrs: true},
	}, a.URI(), c.URI())
	// The dispatcher history from real OPTIONS probes of each destination.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40 && ctx.Err() == nil; i++ {
			for _, s := range []struct {
				set int
				uri string
			}{{1, a.URI()}, {1, b.URI()}, {2, c.URI()}} {
				tg, err := probe.NewTarget(s.uri)
				if err != nil {
					continue
				}
				pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
				res := d.pinger.Probe(pctx, tg)
				pcancel()
				d.hist.Add(history.Key{Kind: "dispatcher", SetID: s.set, URI: s.uri}, history.Record{Time: time.Now(),
					Code: res.Code, Reason: res.Reason, Class: res.Class.String(), RTT: res.RTT})
			}
			if i == 25 {
				c.Stop()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-done
	waitFor(t, "set 2 inactive", func() bool {
		s, _ := d.store.Sets().Set(2)
		return s.At(0).State().Flags()&dispatcher.FlagInactive != 0
	})
	time.Sleep(time.Second)
	out := filepath.Join(testutil.RepoRoot(), "docs", "status-page.png")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	headless(t, bin, d.url+"?live=0", "--virtual-time-budget=5000", "--hide-scrollbars", "--window-size=1280,800", "--screenshot="+out)
	if fi, err := os.Stat(out); err != nil || fi.Size() < 1000 {
		t.Fatalf("no screenshot at %s: %v", out, err)
	}
	t.Logf("wrote %s", out)
}
