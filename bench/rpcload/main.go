// Command rpcload is the load generator and meter of bench/rpc.sh: it
// drives JSON-RPC over HTTP (POST /RPC on keep-alive connections) and
// kamcmd against real Kamailio and kamsidecar, times single BINRPC calls
// on their ctl sockets, and reads their memory.
//
//	rpcload wait   -url URL [-timeout 30s]
//	rpcload shape  -n N URL_A URL_B
//	rpcload http   -url URL [-url URL2] -c CLIENTS [-d 5s] [-w 1s] [-rounds 5] [-pgid PGID [-pgid PGID2]]
//	rpcload kamcmd [-runs 200] [-kamcmd kamcmd] SOCK_A SOCK_B -- CMD [ARGS]...
//	rpcload ctl    [-runs 2000] [-gap 1ms] [-method core.version] PATH_A PATH_B
//	rpcload pss    -pgid PGID
//
// Every command prints key=value lines for the script to read. The HTTP
// client is a small raw HTTP/1.1 client (one connection per client,
// Content-Length and chunked replies) so that the generator's own cost
// per request stays small beside the servers'.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamsidecar/kamsidecar/binrpc"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rpcload wait|shape|http|kamcmd|ctl|pss ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "wait":
		err = cmdWait(os.Args[2:])
	case "shape":
		err = cmdShape(os.Args[2:])
	case "http":
		err = cmdHTTP(os.Args[2:])
	case "kamcmd":
		err = cmdKamcmd(os.Args[2:])
	case "ctl":
		err = cmdCtl(os.Args[2:])
	case "pss":
		err = cmdPSS(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpcload:", err)
		os.Exit(1)
	}
}

func request(method string) []byte {
	return []byte(`{"jsonrpc":"2.0","method":"` + method + `","id":1}`)
}

// conn is one keep-alive HTTP/1.1 connection.
type conn struct {
	addr, path string
	c          net.Conn
	r          *bufio.Reader
	req        []byte
}

func newConn(rawURL, method string) (*conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: only http:// URLs", rawURL)
	}
	body := request(method)
	path := u.RequestURI()
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, u.Host, len(body), body)
	return &conn{addr: u.Host, path: path, req: req}, nil
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// do sends the request and reads the reply; body is appended to buf when
// keep is set, else discarded. It returns the status, the body length and
// whether the connection was (re)opened.
func (c *conn) do(buf *bytes.Buffer, keep bool, deadline time.Time) (status int, n int64, dialed bool, err error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, 0, false, err
		}
		c.c, c.r, dialed = nc, bufio.NewReaderSize(nc, 64<<10), true
	}
	_ = c.c.SetDeadline(deadline)
	if _, err := c.c.Write(c.req); err != nil {
		c.close()
		return 0, 0, dialed, err
	}
	status, n, closeAfter, err := c.readReply(buf, keep)
	if err != nil || closeAfter {
		c.close()
	}
	return status, n, dialed, err
}

func (c *conn) readReply(buf *bytes.Buffer, keep bool) (status int, n int64, closeAfter bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, 0, true, err
	}
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, 0, true, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, true, fmt.Errorf("bad status line %q", line)
	}
	closeAfter = f[0] == "HTTP/1.0"
	clen, chunked := int64(-1), false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return status, 0, true, err
		}
		h := strings.TrimRight(string(line), "\r\n")
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			clen, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return status, 0, true, fmt.Errorf("bad content-length %q", v)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(v, "chunked")
		case "connection":
			if strings.EqualFold(v, "close") {
				closeAfter = true
			}
		}
	}
	var w io.Writer = io.Discard
	if keep {
		w = buf
	}
	switch {
	case chunked:
		for {
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return status, n, true, err
			}
			sz, _, _ := strings.Cut(strings.TrimSpace(string(line)), ";")
			size, err := strconv.ParseInt(sz, 16, 64)
			if err != nil {
				return status, n, true, fmt.Errorf("bad chunk size %q", line)
			}
			if size == 0 {
				for { // trailers
					line, err := c.r.ReadSlice('\n')
					if err != nil {
						return status, n, true, err
					}
					if strings.TrimSpace(string(line)) == "" {
						break
					}
				}
				return status, n, closeAfter, nil
			}
			m, err := io.CopyN(w, c.r, size)
			n += m
			if err != nil {
				return status, n, true, err
			}
			if _, err := c.r.Discard(2); err != nil {
				return status, n, true, err
			}
		}
	case clen >= 0:
		n, err = io.CopyN(w, c.r, clen)
		if err != nil {
			return status, n, true, err
		}
		return status, n, closeAfter, nil
	default:
		n, err = io.Copy(w, c.r)
		return status, n, true, err
	}
}

// fetch does one request on a fresh connection and returns the body.
func fetch(rawURL, method string, timeout time.Duration) ([]byte, error) {
	c, err := newConn(rawURL, method)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var buf bytes.Buffer
	status, _, _, err := c.do(&buf, true, time.Now().Add(timeout))
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("%s: HTTP %d: %.200s", rawURL, status, buf.Bytes())
	}
	return buf.Bytes(), nil
}

func cmdWait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	u := fs.String("url", "", "JSON-RPC URL")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after")
	fs.Parse(args)
	deadline := time.Now().Add(*timeout)
	var last error
	for time.Now().Before(deadline) {
		b, err := fetch(*u, "dispatcher.list", 5*time.Second)
		if err == nil {
			if _, err = countDests(b); err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %v", *u, *timeout, last)
}

// countDests counts the destinations of a dispatcher.list reply.
func countDests(b []byte) (int, error) {
	var r struct {
		Result *struct {
			NRSETS  int
			RECORDS []struct {
				SET struct {
					ID      int
					TARGETS []struct {
						DEST struct{ URI string }
					}
				}
			}
		} `json:"result"`
		Error any `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, err
	}
	if r.Result == nil {
		return 0, fmt.Errorf("no result: %.300s", b)
	}
	n := 0
	for _, rec := range r.Result.RECORDS {
		for _, t := range rec.SET.TARGETS {
			if t.DEST.URI == "" {
				return 0, errors.New("destination without URI")
			}
			n++
		}
	}
	return n, nil
}

func cmdShape(args []string) error {
	fs := flag.NewFlagSet("shape", flag.ExitOnError)
	want := fs.Int("n", -1, "expected number of destinations")
	fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("shape: want two URLs")
	}
	var bodies [2][]byte
	var vals [2]any
	for i, u := range fs.Args() {
		b, err := fetch(u, "dispatcher.list", 10*time.Second)
		if err != nil {
			return err
		}
		n, err := countDests(b)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		if *want >= 0 && n != *want {
			return fmt.Errorf("%s: %d destinations, want %d", u, n, *want)
		}
		bodies[i] = b
		if err := json.Unmarshal(b, &vals[i]); err != nil {
			return err
		}
	}
	na, _ := countDests(bodies[0])
	nb, _ := countDests(bodies[1])
	if na != nb {
		return fmt.Errorf("destinations differ: %d vs %d", na, nb)
	}
	same := "identical"
	if d := diff("", vals[0], vals[1]); d != "" {
		same = "differ: " + d
	}
	fmt.Printf("dests=%d bytes_a=%d bytes_b=%d json=%q\n", na, len(bodies[0]), len(bodies[1]), same)
	return nil
}

// diff returns the first path where a and b differ, ignoring "id".
func diff(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path + ": object vs " + fmt.Sprintf("%T", b)
		}
		keys := make([]string, 0, len(av))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if path == "" && k == "id" {
				continue
			}
			x, okA := av[k]
			y, okB := bv[k]
			if !okA || !okB {
				return path + "." + k + ": only in one reply"
			}
			if d := diff(path+"."+k, x, y); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path + ": arrays differ in length"
		}
		for i := range av {
			if d := diff(path+"["+strconv.Itoa(i)+"]", av[i], bv[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		return ""
	}
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// intsFlag is a repeatable int flag.
type intsFlag []int

func (s *intsFlag) String() string { return fmt.Sprint(*s) }
func (s *intsFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	*s = append(*s, n)
	return err
}

// loadResult accumulates the measured windows of one server.
type loadResult struct {
	lat                        []time.Duration
	count, errs, nbytes, dials int64
	cpu                        int64 // µs, -1 when unknown
	measured                   time.Duration
	firstErr                   error
}

// cmdHTTP measures one or more servers. With several -url the measured
// time is cut into -rounds windows, and the servers take turns (A B, B A,
// ...), so that a change in machine load during the run hits all of them.
func cmdHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	var urls stringsFlag
	var pgids intsFlag
	fs.Var(&urls, "url", "JSON-RPC URL (repeatable)")
	fs.Var(&pgids, "pgid", "process group of the server at the same position (CPU per request; repeatable)")
	clients := fs.Int("c", 1, "concurrent clients (one keep-alive connection each)")
	dur := fs.Duration("d", 5*time.Second, "measured duration per server")
	warm := fs.Duration("w", time.Second, "warm-up per server before the first window")
	rounds := fs.Int("rounds", 5, "windows per server")
	method := fs.String("method", "dispatcher.list", "RPC method")
	fs.Parse(args)
	if len(urls) == 0 {
		return errors.New("http: no -url")
	}
	if *rounds < 1 {
		*rounds = 1
	}
	res := make([]loadResult, len(urls))
	for i := range urls {
		pg := 0
		if i < len(pgids) {
			pg = pgids[i]
		}
		res[i].cpu = 0
		if pg == 0 {
			res[i].cpu = -1
		}
		window(&loadResult{}, urls[i], *method, *clients, *warm, 0) // warm-up
	}
	win := *dur / time.Duration(*rounds)
	for r := range *rounds {
		for j := range urls {
			i := j
			if r%2 == 1 {
				i = len(urls) - 1 - j
			}
			pg := 0
			if i < len(pgids) {
				pg = pgids[i]
			}
			// 100 ms on fresh connections before each window.
			window(&res[i], urls[i], *method, *clients, 100*time.Millisecond, win, pg)
		}
	}
	failed := false
	for i := range res {
		r := &res[i]
		slices.Sort(r.lat)
		pct := func(p float64) float64 {
			if len(r.lat) == 0 {
				return 0
			}
			return float64(r.lat[int(p*float64(len(r.lat)-1))]) / 1e3
		}
		rps := float64(r.count) / r.measured.Seconds()
		cpuPerReq, avgBytes := 0.0, int64(0)
		if r.count > 0 {
			avgBytes = r.nbytes / r.count
			if r.cpu >= 0 {
				cpuPerReq = float64(r.cpu) / float64(r.count)
			}
		}
		fmt.Printf("url=%s rps=%.0f reqs=%d errors=%d p50_us=%.0f p99_us=%.0f bytes=%d reconnects=%d cpu_us_per_req=%.1f\n",
			urls[i], rps, r.count, r.errs, pct(0.5), pct(0.99), avgBytes, r.dials, cpuPerReq)
		if r.firstErr != nil {
			fmt.Fprintf(os.Stderr, "rpcload http %s: first error: %v\n", urls[i], r.firstErr)
		}
		if r.count == 0 {
			failed = true
		}
	}
	if failed {
		return errors.New("a server answered no request")
	}
	return nil
}

// window runs clients for warm (not counted) then dur (counted into r);
// pgid's CPU time over the counted part is added to r.cpu.
func window(r *loadResult, rawURL, method string, clients int, warm, dur time.Duration, pgid ...int) {
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(dur)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	cpuDone := make(chan int64, 1)
	go func() {
		if len(pgid) == 0 || pgid[0] == 0 || dur == 0 {
			cpuDone <- 0
			return
		}
		time.Sleep(time.Until(measureFrom))
		a := groupCPU(pgid[0])
		time.Sleep(time.Until(end))
		cpuDone <- groupCPU(pgid[0]) - a
	}()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := newConn(rawURL, method)
			if err != nil {
				mu.Lock()
				r.firstErr = cmp.Or(r.firstErr, err)
				mu.Unlock()
				return
			}
			defer c.close()
			var mine []time.Duration
			var count, errs, nbytes, dials int64
			var first error
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				status, n, d, err := c.do(nil, false, t0.Add(10*time.Second))
				t1 := time.Now()
				if t0.Before(measureFrom) || t1.After(end) {
					continue
				}
				if d {
					dials++
				}
				if err != nil || status != 200 {
					errs++
					if err == nil {
						err = fmt.Errorf("HTTP %d", status)
					}
					first = cmp.Or(first, err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				count++
				nbytes += n
				mine = append(mine, t1.Sub(t0))
			}
			mu.Lock()
			r.lat = append(r.lat, mine...)
			r.count += count
			r.errs += errs
			r.nbytes += nbytes
			r.dials += dials
			r.firstErr = cmp.Or(r.firstErr, first)
			mu.Unlock()
		}()
	}
	wg.Wait()
	cpu := <-cpuDone
	r.measured += dur
	if r.cpu >= 0 {
		r.cpu += cpu
	}
}

// groupCPU is utime+stime in µs of every process in process group pgid.
func groupCPU(pgid int) int64 {
	var total int64
	for _, pid := range groupPids(pgid) {
		// f[0] is field 3 (state); utime is field 14, stime 15.
		f := statFields(strconv.Itoa(pid))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += (ut + st) * 1e6 / clkTck
	}
	return total
}

// statFields are the fields of /proc/PID/stat after the command name (the
// first is field 3, the state), or nil.
func statFields(pid string) []string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

const clkTck = 100 // USER_HZ on Linux

// groupPids lists the processes whose process group is pgid.
func groupPids(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(e.Name())
		// f[0] state, f[1] ppid, f[2] pgrp
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

func cmdPSS(args []string) error {
	fs := flag.NewFlagSet("pss", flag.ExitOnError)
	pgid := fs.Int("pgid", 0, "process group")
	fs.Parse(args)
	pids := groupPids(*pgid)
	if len(pids) == 0 {
		return fmt.Errorf("no process in group %d", *pgid)
	}
	var pss, rss int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "Pss:":
				pss += v
			case "Rss:":
				rss += v
			}
		}
	}
	fmt.Printf("pss_kib=%d rss_kib=%d procs=%d\n", pss, rss, len(pids))
	return nil
}

func cmdKamcmd(args []string) error {
	fs := flag.NewFlagSet("kamcmd", flag.ExitOnError)
	runs := fs.Int("runs", 200, "runs per socket")
	bin := fs.String("kamcmd", "kamcmd", "kamcmd binary")
	fs.Parse(args)
	rest := fs.Args()
	if len(rest) < 4 || rest[2] != "--" {
		return errors.New("kamcmd: want SOCK_A SOCK_B -- CMD [ARGS]")
	}
	socks := rest[:2]
	cmdArgs := rest[3:]
	var times [2][]time.Duration
	var outs [2][]byte
	run := func(i int) error {
		ctx := append([]string{"-s", socks[i]}, cmdArgs...)
		c := exec.Command(*bin, ctx...)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		t0 := time.Now()
		if err := c.Start(); err != nil {
			return err
		}
		timer := time.AfterFunc(10*time.Second, func() { c.Process.Kill() })
		err := c.Wait()
		d := time.Since(t0)
		timer.Stop()
		if err != nil {
			return fmt.Errorf("kamcmd -s %s %s: %v: %.300s", socks[i], strings.Join(cmdArgs, " "), err, out.Bytes())
		}
		times[i] = append(times[i], d)
		if outs[i] == nil {
			outs[i] = out.Bytes()
		}
		return nil
	}
	// warm-up, then alternate so that drift in machine load hits both.
	for i := range 2 {
		if err := run(i); err != nil {
			return err
		}
		times[i] = times[i][:0]
	}
	for r := range *runs {
		for j := range 2 {
			if err := run((r + j) % 2); err != nil {
				return err
			}
		}
	}
	summarize(times)
	for i := range 2 {
		fmt.Printf("lines_%c=%d bytes_%c=%d\n", 'a'+i, bytes.Count(outs[i], []byte("\n")), 'a'+i, len(outs[i]))
	}
	same := "identical"
	if !bytes.Equal(outs[0], outs[1]) {
		same = "differ"
	}
	fmt.Printf("output=%s\n", same)
	return nil
}

// summarize prints, for two series of times taken in alternation (pair r
// is the r-th time of each), the mean and median of each in ms, and the
// mean of the differences B-A in us with the half-width of its 95%
// confidence interval (1.96 standard errors of the paired differences),
// so that the script can tell a difference from the noise.
func summarize(times [2][]time.Duration) {
	n := min(len(times[0]), len(times[1]))
	var sum, sq float64
	for r := range n {
		d := float64(times[1][r]-times[0][r]) / 1e3
		sum += d
		sq += d * d
	}
	for i := range 2 {
		ts := slices.Clone(times[i])
		slices.Sort(ts)
		var total time.Duration
		for _, d := range ts {
			total += d
		}
		q := func(f float64) float64 { return float64(ts[int(f*float64(len(ts)-1))]) / 1e6 }
		fmt.Printf("mean_ms_%c=%.4f median_ms_%c=%.4f p90_ms_%c=%.4f p99_ms_%c=%.4f\n", 'a'+i, float64(total)/float64(len(ts))/1e6,
			'a'+i, q(0.5), 'a'+i, q(0.9), 'a'+i, q(0.99))
	}
	mean := sum / float64(n)
	sd := 0.0
	if n > 1 {
		sd = math.Sqrt(max(0, (sq-float64(n)*mean*mean)/float64(n-1)))
	}
	fmt.Printf("diff_us=%.1f ci95_us=%.1f\n", mean, 1.96*sd/math.Sqrt(float64(n)))
}

// cmdCtl times the server's part of a kamcmd call on two unix ctl
// sockets: connect, one BINRPC request, the whole reply, close (what
// kamcmd does between its start-up and its exit), alternating between the
// sockets with a pause between calls, as between kamcmd runs, so that
// each server is idle when the call comes.
func cmdCtl(args []string) error {
	fs := flag.NewFlagSet("ctl", flag.ExitOnError)
	runs := fs.Int("runs", 2000, "calls per socket")
	gap := fs.Duration("gap", time.Millisecond, "pause between calls")
	method := fs.String("method", "core.version", "method (no parameters)")
	fs.Parse(args)
	socks := fs.Args()
	if len(socks) != 2 {
		return errors.New("ctl: want PATH_A PATH_B")
	}
	req, err := binrpc.Request(1, *method)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<17)
	call := func(path string) (time.Duration, error) {
		t0 := time.Now()
		c, err := net.DialTimeout("unix", path, 5*time.Second)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		c.SetDeadline(t0.Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		got := 0
		for {
			n, err := c.Read(buf[got:])
			if err != nil {
				return 0, fmt.Errorf("%s: %v", path, err)
			}
			got += n
			h, hn, err := binrpc.ParseHeader(buf[:got])
			if err == nil && got >= hn+int(h.Length) {
				if h.Type != binrpc.TypeReply {
					return 0, fmt.Errorf("%s: %s: fault", path, *method)
				}
				return time.Since(t0), nil
			}
			if err != nil && !errors.Is(err, binrpc.ErrMoreData) {
				return 0, fmt.Errorf("%s: %v", path, err)
			}
			if got == len(buf) {
				return 0, fmt.Errorf("%s: reply over %d bytes", path, len(buf))
			}
		}
	}
	var times [2][]time.Duration
	for r := -1; r < *runs; r++ { // r -1: warm-up
		for j := range 2 {
			i := (r + 2 + j) % 2
			d, err := call(socks[i])
			if err != nil {
				return err
			}
			if r >= 0 {
				times[i] = append(times[i], d)
			}
			time.Sleep(*gap)
		}
	}
	summarize(times)
	return nil
}
