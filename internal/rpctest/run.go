package rpctest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// GoldenDir is testdata/rpc/golden.
func GoldenDir() string { return filepath.Join(testutil.RepoRoot(), "testdata", "rpc", "golden") }

// GoldenPath is where the golden of case name on tr lives.
func GoldenPath(tr Transport, name string) string {
	return filepath.Join(GoldenDir(), string(tr), name+".golden")
}

// Golden reads the golden of case name on tr.
func Golden(tr Transport, name string) ([]byte, error) { return os.ReadFile(GoldenPath(tr, name)) }

// NewTargetFor is NewTarget with the settings transport tr is captured
// with (pretty_format 0 for http-compact, a UDP datagram socket for
// dgram-udp).
func NewTargetFor(t testing.TB, tr Transport) *Target {
	tg := NewTarget(t, tr == DgramUDP)
	if tr == HTTPCompact {
		tg.Pretty = 0
	}
	return tg
}

// subst replaces the @SIP_PORT@ / @KA_DOWN_PORT@ placeholders of case
// parameters.
func (tg *Target) subst(s string) string {
	s = strings.ReplaceAll(s, "@SIP_PORT@", strconv.Itoa(tg.SIPPort))
	return strings.ReplaceAll(s, "@KA_DOWN_PORT@", strconv.Itoa(tg.KADownPort))
}

func (tg *Target) params(ps []Param) []Param {
	if ps == nil {
		return nil
	}
	out := make([]Param, len(ps))
	for i, p := range ps {
		p.S = tg.subst(p.S)
		out[i] = p
	}
	return out
}

// Run executes every case of tr against tg, in order, and returns the
// normalized replies by case name.
func Run(t testing.TB, tg *Target, tr Transport) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range Cases(tr) {
		if c.Wait > 0 {
			time.Sleep(c.Wait)
		}
		got, err := Exec(tg, c)
		if err != nil {
			t.Errorf("%s/%s: %v", tr, c.Name, err)
			got = []byte("client error: " + err.Error() + "\n")
		}
		out[c.Name] = Normalize(c, tg, got)
	}
	return out
}

// Exec runs one case against tg and returns the raw (not normalized)
// reply rendered as golden text.
func Exec(tg *Target, c Case) ([]byte, error) {
	tr := c.Transport
	timeout := ReplyTimeout
	if c.ExpectNone {
		timeout = NoReplyTimeout
	}
	switch {
	case tr.isBinrpc():
		raw := c.Raw
		if raw == nil {
			raw = EncodeRequest(Cookie, c.Method, tg.params(c.Params)...)
		}
		var pkts [][]byte
		state := ""
		var err error
		switch tr {
		case BinUnix, BinTCP:
			network, addr := "unix", tg.CtlUnix
			if tr == BinTCP {
				network, addr = "tcp", tg.CtlTCP
			}
			n := c.Replies
			if n == 0 {
				n = 1
			}
			pkts, state, err = BinrpcStream(network, addr, raw, n, c.CheckClose)
		case BinUDP:
			var b []byte
			b, err = BinrpcUDP(tg.CtlUDP, raw)
			if b != nil {
				pkts = [][]byte{b}
			}
		case BinUnixd:
			var b []byte
			b, err = BinrpcUnixgram(filepath.Join(tg.Dir, "cli_ctld"), tg.CtlUnixd, raw)
			if b != nil {
				pkts = [][]byte{b}
			}
		}
		if err != nil {
			return nil, err
		}
		if len(pkts) == 0 {
			return NoReply, nil
		}
		var b bytes.Buffer
		for _, pk := range pkts {
			b.WriteString(Dump(pk))
		}
		if state != "" {
			b.WriteString("-- " + state + "\n")
		}
		return b.Bytes(), nil
	case tr.isKamcmd():
		server := map[Transport]string{Kamcmd: "unix:" + tg.CtlUnix, KamcmdUnixd: "unixd:" + tg.CtlUnixd,
			KamcmdTCP: "tcp:" + tg.CtlTCP, KamcmdUDP: "udp:" + tg.CtlUDP}[tr]
		args := c.Args
		if args == nil {
			args = append([]string{c.Method}, CmdArgs(tg.params(c.Params))...)
		}
		bin, err := lookBin("kamcmd")
		if err != nil {
			return nil, err
		}
		r, err := RunKamcmd(bin, server, args...)
		if err != nil {
			return nil, err
		}
		return r.Format(), nil
	case tr == Kamctl:
		args := c.Args
		if args == nil {
			args = append([]string{c.Method}, CmdArgs(tg.params(c.Params))...)
		}
		bin, err := lookBin("kamctl")
		if err != nil {
			return nil, err
		}
		r, err := RunKamctl(bin, tg.FIFO, args...)
		if err != nil {
			return nil, err
		}
		return r.Format(), nil
	case tr == HTTP || tr == HTTPCompact:
		doc := c.Raw
		if doc == nil {
			doc = JSONRequest(c.Method, tg.params(c.Params), "")
		}
		path := c.Path
		if path == "" {
			path = "/RPC"
		}
		h, err := HTTPRaw(tg.HTTPAddr(), path, doc, timeout)
		if err != nil {
			return nil, err
		}
		return h.Format(), nil
	case tr == FIFO:
		doc := c.Raw
		if doc == nil {
			doc = JSONRequest(c.Method, tg.params(c.Params), "@REPLY1@")
		}
		return fifoCase(tg, doc, timeout)
	case tr == Dgram || tr == DgramUDP:
		doc := c.Raw
		if doc == nil {
			doc = JSONRequest(c.Method, tg.params(c.Params), "")
		}
		b, err := JSONDgram(filepath.Join(tg.Dir, "cli_dgram"), tg.Dgram, doc, timeout)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return NoReply, nil
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown transport %q", tr)
}

func lookBin(name string) (string, error) {
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New(name + " is not installed")
}

// fifoCase sends doc (with @REPLYn@ placeholders replaced by fresh reply
// FIFO names) and reads every reply FIFO in turn. A "@REPLY1@.x" name is
// forbidden by Kamailio; the FIFO is then created under that name anyway
// to see whether anything is written.
func fifoCase(tg *Target, doc []byte, timeout time.Duration) ([]byte, error) {
	var names []string
	s := string(doc)
	for i := 1; i <= 2; i++ {
		ph := "@REPLY" + strconv.Itoa(i) + "@"
		if !strings.Contains(s, ph) {
			break
		}
		n := ReplyName()
		suffix := ""
		if strings.Contains(s, ph+".x") {
			suffix = ".x"
		}
		s = strings.ReplaceAll(s, ph, n)
		names = append(names, n+suffix)
	}
	if len(names) <= 1 {
		name := ""
		if len(names) == 1 {
			name = names[0]
		}
		b, err := FIFOExchange(tg.FIFO, name, []byte(s), timeout)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return NoReply, nil
		}
		return b, nil
	}
	// several documents: create every reply FIFO first
	fds, cleanup, err := openReplyFIFOs(names)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	w, err := os.OpenFile(tg.FIFO, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = w.Write([]byte(s))
	w.Close()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, fd := range fds {
		b := readReplyFIFO(fd, timeout)
		fmt.Fprintf(&out, "--- reply %d\n", i+1)
		if b == nil {
			out.Write(NoReply)
		} else {
			out.Write(b)
			out.WriteString("\n")
		}
	}
	return out.Bytes(), nil
}

var (
	reCtime   = regexp.MustCompile(`(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9]\d \d\d:\d\d:\d\d \d{4}`)
	reVersion = regexp.MustCompile(`(?:kamailio \d+\.\d+\.\d+|kamsidecar [^ ()"]+) \([^)]*\) ?`)
	reNumber  = regexp.MustCompile(`\b\d+\b`)
	reKamctl  = regexp.MustCompile(`("id":\s*)\d+`)
	reCompile = regexp.MustCompile(`\d\d:\d\d:\d\d [A-Z][a-z][a-z] [ 0-9]\d \d{4}`)
)

// Normalize replaces the volatile parts of a reply with placeholders so
// that goldens compare across runs and implementations: the target's
// directory (<DIR>) and ports (<SIP_PORT>, <KA_DOWN_PORT>, <CTL_TCP_PORT>,
// <CTL_UDP_PORT>, <DGRAM_PORT>), ctime strings other than the epoch
// (<CTIME>), Kamailio version strings (<VERSION>), kamctl's pid id
// (<KAMCTL_ID>), process ids for c.Pids cases (<PID>) and the case's Mask
// groups (<V>).
func Normalize(c Case, tg *Target, b []byte) []byte {
	s := string(b)
	if tg != nil {
		if tg.Dir != "" {
			s = strings.ReplaceAll(s, tg.Dir, "<DIR>")
		}
		ports := []struct {
			port int
			name string
		}{{tg.SIPPort, "<SIP_PORT>"}, {tg.KADownPort, "<KA_DOWN_PORT>"},
			{portOf(tg.CtlTCP), "<CTL_TCP_PORT>"}, {portOf(tg.CtlUDP), "<CTL_UDP_PORT>"},
			{portOf(strings.TrimPrefix(tg.Dgram, "udp:")), "<DGRAM_PORT>"}}
		for _, p := range ports {
			if p.port == 0 {
				continue
			}
			re := regexp.MustCompile(`\b` + strconv.Itoa(p.port) + `\b`)
			s = re.ReplaceAllString(s, p.name)
		}
		if c.Pids && tg.Pid > 0 {
			s = reNumber.ReplaceAllStringFunc(s, func(m string) string {
				n, err := strconv.Atoi(m)
				if err == nil && n >= tg.Pid && n <= tg.Pid+200 {
					return "<PID>"
				}
				return m
			})
		}
	}
	s = reCtime.ReplaceAllStringFunc(s, func(m string) string {
		if m == "Thu Jan  1 00:00:00 1970" {
			return m
		}
		return "<CTIME>"
	})
	s = reVersion.ReplaceAllString(s, "<VERSION>")
	s = reCompile.ReplaceAllString(s, "<COMPILED>")
	if c.Transport == Kamctl {
		s = reKamctl.ReplaceAllString(s, "${1}<KAMCTL_ID>")
	}
	for _, m := range c.Mask {
		re := regexp.MustCompile(m)
		s = re.ReplaceAllStringFunc(s, func(whole string) string {
			idx := re.FindStringSubmatchIndex(whole)
			if len(idx) < 4 || idx[2] < 0 {
				return whole
			}
			return whole[:idx[2]] + "<V>" + whole[idx[3]:]
		})
	}
	return []byte(s)
}

func portOf(hostport string) int {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(hostport[i+1:])
	return n
}

var reQuoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

func items(b []byte) map[string]bool {
	m := map[string]bool{}
	if bytes.Contains(b, []byte(`"`)) {
		for _, x := range reQuoted.FindAllSubmatch(b, -1) {
			m[string(x[1])] = true
		}
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m[l] = true
		}
	}
	return m
}

func isFault(b []byte) bool {
	s := string(b)
	return strings.HasPrefix(s, "fault ") || strings.Contains(s, `"error":`) || strings.Contains(s, "\nerror: ")
}

func firstLine(b []byte) string {
	l, _, _ := bytes.Cut(b, []byte("\n"))
	return string(l)
}

// Own reports whether a method name is one of kamsidecar's own methods,
// which Kamailio 5.6.3 does not have (dispatcher.oclist is 6.0's): the
// subset comparisons allow them.
func Own(method string) bool {
	return strings.HasPrefix(method, "sidecar.") || method == "keepalive.is_alive" || method == "dispatcher.oclist"
}

// Check compares a normalized reply with its golden according to
// c.Compare: Exact (bytes), Subset (every item of got occurs in want, and
// both are replies or both faults) or Semantic (same first line — BINRPC
// packet type, HTTP status, kamcmd exit — and same fault-ness).
func Check(c Case, got, want []byte) error {
	switch c.Compare {
	case Exact:
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s/%s differs:\n--- got\n%s\n--- want\n%s", c.Transport, c.Name, got, want)
		}
		return nil
	case Subset:
		if isFault(got) != isFault(want) || firstLine(got) != firstLine(want) {
			return fmt.Errorf("%s/%s: shape differs:\n--- got\n%s\n--- want\n%s", c.Transport, c.Name, got, want)
		}
		w := items(want)
		var extra []string
		for it := range items(got) {
			if !w[it] && !Own(it) {
				extra = append(extra, it)
			}
		}
		if len(extra) > 0 {
			return fmt.Errorf("%s/%s: items not in golden: %q", c.Transport, c.Name, extra)
		}
		return nil
	default:
		if isFault(got) != isFault(want) || firstLine(got) != firstLine(want) {
			return fmt.Errorf("%s/%s: shape differs:\n--- got\n%s\n--- want\n%s", c.Transport, c.Name, got, want)
		}
		return nil
	}
}

// CheckAll compares Run's output for tr with the goldens, reporting every
// difference on t.
func CheckAll(t testing.TB, tr Transport, got map[string][]byte) {
	t.Helper()
	for _, c := range Cases(tr) {
		want, err := Golden(tr, c.Name)
		if err != nil {
			t.Errorf("%s/%s: %v", tr, c.Name, err)
			continue
		}
		if err := Check(c, got[c.Name], want); err != nil {
			t.Error(err)
		}
	}
}
