package rpctest

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var capture = flag.Bool("capture", false, "run real Kamailio and rewrite testdata/rpc/golden")

// TestCapture runs every case against real Kamailio (one fresh instance
// per transport) and writes the goldens. Gated by -capture.
func TestCapture(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture to rewrite the goldens from real Kamailio")
	}
	for _, tr := range Transports() {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			tg := NewTargetFor(t, tr)
			StartKamailio(t, tg)
			got := Run(t, tg, tr)
			dir := filepath.Join(GoldenDir(), string(tr))
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, b := range got {
				if err := os.WriteFile(GoldenPath(tr, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestReplay runs the cases against real Kamailio again and compares with
// the goldens (proves the normalization makes them stable). Gated by
// -capture too, as it needs Kamailio and takes a while.
func TestReplay(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture")
	}
	for _, tr := range Transports() {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			tg := NewTargetFor(t, tr)
			StartKamailio(t, tg)
			got := Run(t, tg, tr)
			for _, c := range Cases(tr) {
				want, err := Golden(tr, c.Name)
				if err != nil {
					t.Error(err)
					continue
				}
				if !bytes.Equal(got[c.Name], want) {
					t.Errorf("%s/%s unstable:\n--- now\n%s\n--- golden\n%s", tr, c.Name, got[c.Name], want)
				}
			}
		})
	}
}

// TestGoldensMatchCases checks that the case table and the golden files
// agree: every case has a golden, every golden a case.
func TestGoldensMatchCases(t *testing.T) {
	for _, tr := range Transports() {
		seen := map[string]bool{}
		for _, c := range Cases(tr) {
			if seen[c.Name] {
				t.Errorf("%s: duplicate case %s", tr, c.Name)
			}
			seen[c.Name] = true
			if c.Name == "" || strings.ContainsAny(c.Name, "/ ") {
				t.Errorf("%s: bad case name %q", tr, c.Name)
			}
			b, err := Golden(tr, c.Name)
			if err != nil {
				t.Errorf("missing golden: %v", err)
				continue
			}
			if len(b) == 0 {
				t.Errorf("%s/%s: empty golden", tr, c.Name)
			}
			if bytes.HasPrefix(b, []byte("client error")) {
				t.Errorf("%s/%s: golden records a client error: %s", tr, c.Name, b)
			}
		}
		files, _ := filepath.Glob(filepath.Join(GoldenDir(), string(tr), "*.golden"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".golden")
			if !seen[name] {
				t.Errorf("%s: golden without case: %s", tr, name)
			}
		}
	}
	dirs, _ := os.ReadDir(GoldenDir())
	known := map[string]bool{}
	for _, tr := range Transports() {
		known[string(tr)] = true
	}
	for _, d := range dirs {
		if d.IsDir() && !known[d.Name()] {
			t.Errorf("golden directory without transport: %s", d.Name())
		}
	}
}

// TestGoldensSelfCheck: each golden passes Check against itself and the
// spot checks of the spec hold.
func TestGoldensSelfCheck(t *testing.T) {
	for _, c := range AllCases() {
		b, err := Golden(c.Transport, c.Name)
		if err != nil {
			continue // reported by TestGoldensMatchCases
		}
		if err := Check(c, b, b); err != nil {
			t.Error(err)
		}
	}
	spot := []struct {
		tr   Transport
		name string
		want string
	}{
		{Kamcmd, "unknown-method", "error: 500 - command no.such.method not found\n"},
		{HTTP, "unknown-method", "HTTP/1.1 500 Method Not Found\n"},
		{HTTP, "env-invalid-json", "no reply\n"},
		{BinUnix, "raw-bad-magic", "fault cookie=0x0 canonical\n"},
		{Kamcmd, "dispatcher.hash-example", "hashid: -411503614"},
		{HTTPCompact, "dispatcher.hash-example", `{"jsonrpc":"2.0","result":{"hashid":3883463682,"slot":2},"id":1}`},
	}
	for _, s := range spot {
		b, err := Golden(s.tr, s.name)
		if err != nil {
			continue
		}
		if !bytes.Contains(b, []byte(s.want)) {
			t.Errorf("%s/%s: want %q in\n%s", s.tr, s.name, s.want, b)
		}
	}
}

func TestEncodeSpecExamples(t *testing.T) {
	cases := []struct {
		got  []byte
		want string
	}{
		{encInt(0), "00"},
		{encInt(5), "1005"},
		{encInt(300), "20012c"},
		{encInt(70000), "30011170"},
		{encInt(-2), "40fffffffe"},
		{encDouble(1.5), "2205dc"},
		{encDouble(16), "223e80"},
		{encDouble(-1.25), "82fffffffffffffb1e"},
		{encStrLike(recStr, []byte("a"), true), "216100"},
		{encStrLike(recStr, []byte(""), true), "1100"},
		{encStrLike(recStr, []byte("abcdefgh"), true), "91096162636465666768" + "00"},
		{encStrLike(recAVP, []byte("uri"), true), "4575726900"},
		{Header(0, 0x0f, 1, 0x1234, 2), "a1010f1234"},
	}
	for _, c := range cases {
		if hex.EncodeToString(c.got) != c.want {
			t.Errorf("got %x want %s", c.got, c.want)
		}
	}
	// kamcmd's request from binrpc.md §9.2 (cookie replaced)
	req := EncodeRequest(0x66f1d785, "x.y", S("sip:1.2.3.4"), S("1"), I(5), I(-2), F(1.5), F(16), I(0), I(300), I(70000), I(-2147483648), S("abcdefgh"))
	want := "a1033b66f1d785" + "41782e7900" + "910c7369703a312e322e332e3400" + "213100" + "1005" + "40fffffffe" + "2205dc" + "223e80" + "00" + "20012c" + "30011170" + "4080000000" + "91096162636465666768" + "00"
	if hex.EncodeToString(req) != want {
		t.Errorf("request\n got %x\nwant %s", req, want)
	}
}

func TestDecodeDump(t *testing.T) {
	raw, _ := hex.DecodeString("a1113612340345757269009113" + hex.EncodeToString([]byte("sip:127.0.0.1:5071")) + "0065" + "6f776e657200" + "9108" + hex.EncodeToString([]byte("_params")) + "0065" + hex.EncodeToString([]byte("state")) + "00100183")
	// fix length: compute from body
	body := raw[5:]
	raw = Packet(PktReply, 0x1234, body)
	d := Dump(raw)
	want := "reply cookie=0x1234 canonical\n{\n  \"uri\": STR \"sip:127.0.0.1:5071\"\n  \"owner\": STR \"_params\"\n  \"state\": INT 1\n}\n"
	if d != want {
		t.Errorf("dump:\n%s\nwant:\n%s", d, want)
	}
	// non-canonical: 4-byte cookie with leading zeros
	nc := append(Header(PktReply, len(body), 1, 0x1234, 4), body...)
	if !strings.Contains(Dump(nc), "NON-CANONICAL") {
		t.Error("non-canonical header not detected")
	}
	neg := Packet(PktReply, 1, append(encDouble(-1.25), encInt(-2)...))
	if got := Dump(neg); got != "reply cookie=0x1 canonical\nDOUBLE -1.250\nINT -2\n" {
		t.Errorf("neg dump %q", got)
	}
}

func TestNormalize(t *testing.T) {
	tg := &Target{Dir: "/tmp/x1", SIPPort: 40001, KADownPort: 40002, CtlTCP: "127.0.0.1:40003", Pid: 1000}
	c := Case{Transport: HTTP, Pids: true}
	in := "kamailio 5.6.3 (x86_64/linux) |Mon Nov 23 12:59:35 2026\n|Thu Jan  1 00:00:00 1970\n|/tmp/x1/ctl|sip:127.0.0.1:40001|140001|1005 99"
	want := "<VERSION>|<CTIME>\n|Thu Jan  1 00:00:00 1970\n|<DIR>/ctl|sip:127.0.0.1:<SIP_PORT>|140001|<PID> 99"
	if got := string(Normalize(c, tg, []byte(in))); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestCaseCounts(t *testing.T) {
	var lines []string
	total := 0
	for _, tr := range Transports() {
		n := len(Cases(tr))
		total += n
		lines = append(lines, string(tr)+": "+strconv.Itoa(n))
	}
	sort.Strings(lines)
	t.Logf("cases per transport (total %d):\n%s", total, strings.Join(lines, "\n"))
}
