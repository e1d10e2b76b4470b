// Command keepalive measures kamsidecar's keepalive engine under load
// (issue 4): N destinations probed every interval against loopback
// responders, reporting CPU, memory (PSS), probes per second, the spread
// of send times, and the time from a responder's death to its down event.
//
//	go run ./bench/keepalive responder -listen 127.0.0.1:5090
//	go run ./bench/keepalive run -n 10000 -interval 1s -port 5090
//
// bench/keepalive.sh runs both and prints the figures. The responder is a
// separate process so that its CPU is not counted.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/kamsidecar/kamsidecar/keepalive"
	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: keepalive responder|run [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "responder":
		responderMain(os.Args[2:])
	case "run":
		runMain(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: keepalive responder|run [flags]")
		os.Exit(2)
	}
}

// header returns the value of the first header name in msg.
func header(msg []byte, name string) []byte {
	for _, l := range bytes.Split(msg, []byte("\r\n")) {
		if i := bytes.IndexByte(l, ':'); i > 0 && strings.EqualFold(string(bytes.TrimSpace(l[:i])), name) {
			return bytes.TrimSpace(l[i+1:])
		}
	}
	return nil
}

// reply makes a 200 OK for a request by copying its Via, From, To,
// Call-ID and CSeq.
func reply(req []byte, buf []byte) []byte {
	b := append(buf[:0], "SIP/2.0 200 OK\r\n"...)
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		b = append(b, h...)
		b = append(b, ": "...)
		b = append(b, header(req, h)...)
		if h == "To" {
			b = append(b, ";tag=bench"...)
		}
		b = append(b, "\r\n"...)
	}
	return append(b, "Content-Length: 0\r\n\r\n"...)
}

// serveUDP answers every OPTIONS on pc with 200 OK until pc closes.
func serveUDP(pc net.PacketConn) {
	buf := make([]byte, 65536)
	out := make([]byte, 0, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(buf[:n], []byte("OPTIONS ")) {
			continue
		}
		out = reply(buf[:n], out)
		_, _ = pc.WriteTo(out, from)
	}
}

func responderMain(args []string) {
	fs := flag.NewFlagSet("responder", flag.ExitOnError)
	listen := fs.String("listen", "0.0.0.0:5090", "UDP address to answer on (0.0.0.0 answers every 127.x.y.z)")
	workers := fs.Int("workers", 2, "sockets sharing the port (SO_REUSEPORT)")
	_ = fs.Parse(args)
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		_ = c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1) })
		return serr
	}}
	for range *workers {
		pc, err := lc.ListenPacket(context.Background(), "udp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go serveUDP(pc)
	}
	fmt.Println("ready")
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
}

// counting wraps the prober to record when probes leave.
type counting struct {
	p       *probe.Prober
	start   time.Time
	buckets []atomic.Int64 // sends per 10 ms since start
	sends   atomic.Int64
}

func (c *counting) Probe(ctx context.Context, t *probe.Target) probe.Result {
	if i := int(time.Since(c.start) / (10 * time.Millisecond)); i >= 0 && i < len(c.buckets) {
		c.buckets[i].Add(1)
	}
	c.sends.Add(1)
	return c.p.Probe(ctx, t)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pssKB() int {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Pss:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

func runMain(args []string) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	n := fs.Int("n", 10000, "destinations")
	interval := fs.Duration("interval", time.Second, "ping interval")
	port := fs.Int("port", 5090, "responder port; destinations are sip:127.A.B.C:PORT")
	sipSock := fs.String("sip", "udp:127.0.0.1:5070", "kamsidecar's socket")
	warmup := fs.Duration("warmup", 5*time.Second, "time before measuring")
	measure := fs.Duration("measure", 20*time.Second, "measured time")
	deaths := fs.Int("deaths", 5, "kill-and-revive rounds of a dedicated responder")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile of the measured time")
	_ = fs.Parse(args)

	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	sock, err := probe.ParseSocket(*sipSock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pr, err := probe.New(context.Background(), probe.WithSockets(sock), probe.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer pr.Close()
	total := *warmup + *measure + time.Duration(*deaths)*6**interval + time.Minute
	cp := &counting{p: pr, start: time.Now(), buckets: make([]atomic.Int64, total/(10*time.Millisecond))}
	cfg := keepalive.DefaultConfig()
	cfg.PingInterval = *interval
	cfg.Timeout = 2 * time.Second
	// Distinct loopback addresses, one responder socket answering all.
	for i := range *n {
		cfg.Destinations = append(cfg.Destinations, keepalive.ConfigDestination{
			URI: fmt.Sprintf("sip:127.%d.%d.%d:%d", 1+i/62500, (i/250)%250, 1+i%250, *port)})
	}
	m, err := keepalive.New(cfg, cp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sub := m.Subscribe(1 << 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx) }()

	time.Sleep(*warmup)
	up := 0
	classes := map[string]int{}
	for _, d := range m.List() {
		if d.State == keepalive.StateUp {
			up++
		} else {
			classes[d.Last.String()]++
		}
	}
	for c, k := range classes {
		fmt.Printf("not up               %d: %s\n", k, c)
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
		}
	}
	cpu0, wall0, sends0, st0 := cpuTime(), time.Now(), cp.sends.Load(), pr.Stats()
	time.Sleep(*measure)
	if *cpuprof != "" {
		pprof.StopCPUProfile()
	}
	cpu1, wall1, sends1, st1 := cpuTime(), time.Now(), cp.sends.Load(), pr.Stats()
	pss := pssKB()
	wall := wall1.Sub(wall0)
	fmt.Printf("destinations         %d (%d up after warm-up)\n", len(cfg.Destinations), up)
	fmt.Printf("interval             %v\n", *interval)
	fmt.Printf("probes/s             %.0f (sent %d in %v; prober counted %d)\n", float64(sends1-sends0)/wall.Seconds(), sends1-sends0, wall.Round(time.Millisecond), st1.Probes-st0.Probes)
	fmt.Printf("cpu                  %.1f%% of one core (%v in %v)\n", 100*float64(cpu1-cpu0)/float64(wall), (cpu1 - cpu0).Round(time.Millisecond), wall.Round(time.Millisecond))
	fmt.Printf("pss                  %.1f MiB\n", float64(pss)/1024)
	ss := m.Scheduler().Stats()
	fmt.Printf("scheduler            runs %d overlaps %d late %d\n", ss.Runs, ss.Overlaps, ss.Late)

	// Spread: sends per 10 ms bucket over the measured window.
	from := int(wall0.Sub(cp.start) / (10 * time.Millisecond))
	to := int(wall1.Sub(cp.start) / (10 * time.Millisecond))
	var counts []float64
	for i := from; i < to && i < len(cp.buckets); i++ {
		counts = append(counts, float64(cp.buckets[i].Load()))
	}
	sort.Float64s(counts)
	mean, sd := meanSD(counts)
	fmt.Printf("send spread/10ms     mean %.1f sd %.1f min %.0f p50 %.0f p99 %.0f max %.0f\n", mean, sd,
		counts[0], counts[len(counts)/2], counts[len(counts)*99/100], counts[len(counts)-1])

	// Death to down: a dedicated responder on its own port, killed and
	// revived; the time from its socket closing to the down event.
	var downs []time.Duration
	dpc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	daddr := dpc.LocalAddr().String()
	go serveUDP(dpc)
	duri := "sip:" + daddr
	_ = m.AddDestination(duri, "bench")
	wait := func(state keepalive.State) (time.Time, bool) {
		deadline := time.After(10 * *interval)
		for {
			select {
			case e := <-sub.C:
				if e.URI == duri && e.New == state && !e.Stopped {
					return e.Time, true
				}
			case <-deadline:
				return time.Time{}, false
			}
		}
	}
	var mu sync.Mutex
	if _, ok := wait(keepalive.StateUp); !ok {
		fmt.Println("death test: never up")
	}
	for range *deaths {
		time.Sleep(*interval / 3)
		killed := time.Now()
		dpc.Close()
		at, ok := wait(keepalive.StateDown)
		if !ok {
			fmt.Println("death test: never down")
			break
		}
		mu.Lock()
		downs = append(downs, at.Sub(killed))
		mu.Unlock()
		dpc, err = net.ListenPacket("udp", daddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			break
		}
		go serveUDP(dpc)
		if _, ok := wait(keepalive.StateUp); !ok {
			fmt.Println("death test: never up again")
			break
		}
	}
	if len(downs) > 0 {
		var ds []string
		for _, d := range downs {
			ds = append(ds, d.Round(time.Millisecond).String())
		}
		fmt.Printf("death to down        %s (interval %v; udp port closed)\n", strings.Join(ds, " "), *interval)
	}
	fmt.Printf("events dropped       %d\n", sub.Dropped())
	cancel()
}

func meanSD(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	mean := s / float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(v / float64(len(xs)))
}
