package keepalive

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

// child runs a peer program in its own process group and kills the group
// when the test ends (or when kill is called).
type child struct {
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer
	once sync.Once
}

func startChild(t *testing.T, name string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(name, args...), out: &testutil.SyncBuffer{}}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.kill)
	return c
}

func (c *child) kill() {
	c.once.Do(func() {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		_ = c.cmd.Wait()
	})
}

// waitProbe probes t until a 2xx comes back (a peer starting up), a
// bounded number of times.
func waitProbe(t *testing.T, pr *probe.Prober, tg *probe.Target, c *child) probe.Result {
	t.Helper()
	var r probe.Result
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		r = pr.Probe(ctx, tg)
		cancel()
		if r.Success() {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 2xx: last %+v\n%s", tg.URI(), r, c.out.String())
	return r
}

// TestKamailio runs a real Kamailio 5.6 (Debian package kamailio) both
// ways: it answers kamsidecar's probes over UDP and TCP, its keepalive
// module pings kamsidecar's socket and sees it up; killed, it is down at
// the next probe.
func TestKamailio(t *testing.T) {
	kam := testutil.LookPath(t, "kamailio")
	_, err := os.Stat("/usr/lib/x86_64-linux-gnu/kamailio/modules/keepalive.so")
	testutil.Need(t, err == nil, "kamailio's keepalive module is not installed")

	cfg := DefaultConfig()
	cfg.PingInterval = time.Second
	r := newRig(t, cfg)
	own, ownTCP := r.prober.Sockets()[0], r.prober.Sockets()[1]

	port := testutil.FreePort(t)
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	ownURI := "sip:127.0.0.1:" + strconv.Itoa(own.Port)
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	ownTCPURI := "sip:127.0.0.1:" + strconv.Itoa(ownTCP.Port) + ";transport=tcp"
	text := strings.NewReplacer("KA_TCP_DEST", ownTCPURI, "KA_DEST", ownURI).Replace(string(tmpl))
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := "127.0.0.1:" + strconv.Itoa(port)
	k := startChild(t, kam, "-DD", "-E", "-f", cfgPath, "-l", "udp:"+sock, "-l", "tcp:"+sock, "-m", "64", "-M", "8", "-Y", dir)

	udp, _ := probe.NewTarget("sip:"+sock, probe.WithFrom(DefaultPingFrom))
	tcp, _ := probe.NewTarget("sip:"+sock+";transport=tcp", probe.WithFrom(DefaultPingFrom))
	waitProbe(t, r.prober, udp, k)
	if res := waitProbe(t, r.prober, tcp, k); res.Code != 200 || res.Reason != "OK" {
		t.Errorf("tcp: %+v", res)
	}

	// Kamailio's keepalive pings kamsidecar's sockets, UDP and TCP (first
	// try 0.5 s, then every second), and sees them up.
	for i := 0; !strings.Contains(k.out.String(), "KA-UP ru="+ownURI+"\n") || !strings.Contains(k.out.String(), "KA-UP ru="+ownTCPURI); i++ {
		if i == 200 {
			t.Fatalf("Kamailio never saw kamsidecar up:\n%s", k.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(k.out.String(), "KA-DOWN") {
		t.Errorf("Kamailio saw kamsidecar down:\n%s", k.out.String())
	}

	// The module follows Kamailio: up, then down at the next probe once it
	// is killed (its UDP port answers with ICMP port unreachable).
	if err := r.m.AddDestination("sip:"+sock, "kamailio"); err != nil {
		t.Fatal(err)
	}
	r.tick(FirstTryDelay)
	if e := r.event(); e.New != StateUp || e.Result.Code != 200 {
		t.Fatalf("%+v", e)
	}
	k.kill()
	r.tick(time.Second)
	if e := r.event(); e.New != StateDown || e.Result.Class != probe.ClassTransport {
		t.Fatalf("after kill: %+v", e)
	}
}

// TestSipp probes sipp (Debian package sip-tester) as a UAS answering
// OPTIONS, over UDP and TCP.
func TestSipp(t *testing.T) {
	sipp := testutil.LookPath(t, "sipp")
	cfg := DefaultConfig()
	r := newRig(t, cfg)
	scen, _ := filepath.Abs(filepath.Join("testdata", "sipp-options-uas.xml"))
	for _, tp := range []struct{ flag, param string }{{"u1", ""}, {"t1", ";transport=tcp"}} {
		t.Run(tp.flag, func(t *testing.T) {
			port := testutil.FreePort(t)
			c := startChild(t, sipp, "-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", tp.flag,
				"-nostdin", "-timeout", "60s", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log"))
			tg, err := probe.NewTarget("sip:127.0.0.1:"+strconv.Itoa(port)+tp.param, probe.WithFrom(DefaultPingFrom))
			if err != nil {
				t.Fatal(err)
			}
			waitProbe(t, r.prober, tg, c)
			for i := range 3 {
				if res := r.prober.Probe(context.Background(), tg); res.Code != 200 || res.Class != probe.ClassReply {
					t.Fatalf("probe %d: %+v\n%s", i, res, c.out.String())
				}
			}
		})
	}
}
