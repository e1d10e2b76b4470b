package kamcfg

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// kwParts splits a coreAssign key into the keyword tokens it is written
// with: "kemi.onsend_route_callback" is kemi "." onsend_route_callback.
func kwParts(key string) []string { return strings.Split(key, ".") }

func TestKeywordTablesConsistent(t *testing.T) {
	for key, kinds := range coreAssign {
		for _, w := range kwParts(key) {
			if !reservedWords[w] {
				t.Errorf("coreAssign key %q: %q is not in reservedWords", key, w)
			}
		}
		if kinds == 0 {
			t.Errorf("coreAssign[%q] has no value kind", key)
		}
		if kinds&kindSigned != 0 && kinds&kindInt == 0 {
			t.Errorf("coreAssign[%q]: kindSigned without kindInt", key)
		}
		if _, ok := newerCoreAssign[key]; ok {
			t.Errorf("%q is both a 5.6 and a newer setting", key)
		}
	}
	for w := range numberWords {
		if !reservedWords[w] {
			t.Errorf("number word %q is not in reservedWords", w)
		}
	}
	for key, since := range newerCoreAssign {
		if since == "" {
			t.Errorf("newerCoreAssign[%q] names no version", key)
		}
		for _, w := range kwParts(key) {
			if w != "kemi" && reservedWords[w] {
				t.Errorf("newer setting %q: %q is a 5.6.3 keyword", key, w)
			}
		}
	}
	for w := range reservedWords {
		if w == "" || strings.ContainsAny(w, ".:$() ") {
			t.Errorf("reservedWords has %q, which is not a word", w)
		}
	}
	// The sizes found for 5.6.3; a change here must be checked against the
	// binary (go test -run Kamailio with kamailio installed).
	if n := len(coreAssign); n != 228 {
		t.Errorf("len(coreAssign) = %d, want 228", n)
	}
	if n := len(reservedWords); n != 396 {
		t.Errorf("len(reservedWords) = %d, want 396", n)
	}
}

func TestKeywordSpotChecks(t *testing.T) {
	kinds := []struct {
		key  string
		want valueKind
	}{
		{"listen", kindSocket},
		{"alias", kindSocket},
		{"debug", kindInt | kindSigned},
		{"children", kindInt},
		{"port", kindInt},
		{"log_facility", kindID},
		{"log_name", kindString},
		{"rundir", kindString | kindID},
		{"run_dir", kindString | kindID},
		{"user", kindString | kindID},
		{"shm", kindInt},
		{"shm_mem", kindInt},
		{"shm_mem_size", kindInt},
		{"advertised_address", kindHost | kindString},
		{"tos", kindInt | kindID},
		{"tls_method", kindOther},
		{"tcp_accept_no_cl", kindInt},
		{"kemi.onsend_route_callback", kindString},
	}
	for _, c := range kinds {
		if got := coreAssign[c.key]; got != c.want {
			t.Errorf("coreAssign[%q] = %b, want %b", c.key, got, c.want)
		}
	}
	for _, w := range []string{"route", "request_route", "event_route", "if",
		"switch", "loadmodule", "modparamx", "include_file", "import_file",
		"advertise", "ADVERTISE", "NAME", "virtual", "desc", "avpflags",
		"UDP", "wss", "TLSv1", "IPv6", "selval", "statistics", "kemi"} {
		if !reservedWords[w] {
			t.Errorf("%q should be reserved", w)
		}
	}
	for _, w := range []string{"branch_failure_route", "VIRTUAL", "Udp",
		"Ipv4", "socket", "bind", "workers", "agname", "domain",
		"dst_blacklist_init", "subst", "define", "int", "KAMAILIO"} {
		if reservedWords[w] {
			t.Errorf("%q should not be reserved in 5.6.3", w)
		}
	}
	nums := map[string]int32{"yes": 1, "enable": 1, "off": 0, "false": 0,
		"INET": 2, "IPv4": 2, "inet6": 10, "IPV6": 10}
	for w, want := range nums {
		if got, ok := numberWords[w]; !ok || got != want {
			t.Errorf("numberWords[%q] = %d, %v; want %d", w, got, ok, want)
		}
	}
	if _, ok := numberWords["Ipv4"]; ok {
		t.Error(`"Ipv4" is not a number word`)
	}
	if since := newerCoreAssign["rpc_exec_delta"]; since != "5.7" {
		t.Errorf("newerCoreAssign[rpc_exec_delta] = %q", since)
	}
}

// kwKamailio returns the kamailio binary, skipping the test when it is not
// installed (failing instead when CI is set).
func kwKamailio(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kamailio not found in CI: %v", err)
		}
		t.Skip("kamailio not installed")
	}
	return bin
}

// kwResult is the outcome of one "kamailio -c" run.
type kwResult struct {
	rc  int
	out string
}

// syntaxError tells whether Kamailio's grammar rejected the file (as
// opposed to a later check, such as an unknown user or host name).
func (r kwResult) syntaxError() bool { return strings.Contains(r.out, "syntax error") }

// kwCheckAll runs "kamailio -c" on each config text, a few at a time.
func kwCheckAll(t *testing.T, bin string, texts []string) []kwResult {
	t.Helper()
	res := make([]kwResult, len(texts))
	next := make(chan int)
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	if workers > 4 {
		workers = 4
	}
	for range workers {
		dir := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i] = kwCheck(t, bin, dir, texts[i])
			}
		}()
	}
	for i := range texts {
		next <- i
	}
	close(next)
	wg.Wait()
	return res
}

// kwCheck writes text to dir/k.cfg and runs "kamailio -c" on it.
func kwCheck(t *testing.T, bin, dir, text string) kwResult {
	path := filepath.Join(dir, "k.cfg")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Error(err)
		return kwResult{rc: -1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", "-f", path)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("kamailio -c timed out on:\n%s", text)
		return kwResult{rc: -1}
	}
	rc := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		rc = ee.ExitCode()
	case err != nil:
		t.Errorf("running kamailio: %v", err)
		rc = -1
	}
	return kwResult{rc: rc, out: string(out)}
}

// TestKeywordStatementsKamailio checks doubtful statements against the
// binary: accepted means "kamailio -c" exits 0.
func TestKeywordStatementsKamailio(t *testing.T) {
	bin := kwKamailio(t)
	cases := []struct {
		stmt string
		ok   bool
	}{
		{`children = 4`, true},
		{`children = "4"`, false},
		{`children = -1`, false},
		{`debug = -1`, true},
		{`tcp_connection_lifetime = -1`, true},
		{`port = 0x13c4`, true},
		{`dns_try_ipv6 = on`, true},
		{`rundir = "/tmp"`, true},
		{`rundir = tmp`, true},
		{`rundir = /tmp`, false},
		{`workdir = /tmp`, false},
		{`user = root`, true},
		{`log_facility = LOG_LOCAL0`, true},
		{`log_facility = "LOG_LOCAL0"`, false},
		{`tos = IPTOS_LOWDELAY`, true},
		{`mcast = eth0`, true},
		{`shm = 64`, true},
		{`listen = udp:127.0.0.1:5060 advertise 1.2.3.4:5060 name "s1"`, true},
		{`listen = (127.0.0.1, 127.0.0.2):5100`, true},
		{`listen = udp:127.0.0.1:5060 advertise udp:1.2.3.4:5060`, false},
		{`alias = "example.com":5060`, true},
		{`alias = udp:example.com:5060 tcp:example.org`, true},
		{`advertised_address = "1.2.3.4"`, true},
		{`advertised_address = sip.example.com`, true},
		{`tcp_source_ipv4 = 127.0.0.1`, true},
		{`tls_method = TLSv1`, true},
		{`tls_method = "TLSv1"`, false},
		{`udp_mtu_try_proto = TCP`, true},
		{`udp_mtu_try_proto = ws`, false},
		{`ipv6_hex_style = "a"`, true},
		{`kemi.onsend_route_callback = "ksr_onsend"`, true},
		{`onsend_route_callback = "ksr_onsend"`, false},
		{`loadpath = "/usr/lib"`, true},
		{`use_dns_cache = off`, true},
		{`dns_use_cache = 1`, false},
		{`dst_blocklist_init = 1`, true},
		{`dst_blacklist_init = 1`, false},
		{`statistics = 1`, false},
		{`rpc_exec_delta = 5`, false},
		{`return_mode = 1`, false},
		{`xavp_via_reply_params = "x"`, false},
		{`socket = { bind = udp:127.0.0.1:5060; }`, false},
		{`test.x = 1`, true},
		{`test.on = 1`, false},
		{`test.x = 1 desc "d"`, true},
	}
	texts := make([]string, len(cases))
	for i, c := range cases {
		texts[i] = "debug=2\n" + c.stmt + "\n"
	}
	for i, r := range kwCheckAll(t, bin, texts) {
		if got := r.rc == 0; got != cases[i].ok {
			t.Errorf("%s: kamailio -c exit %d, want accepted=%v\n%s", cases[i].stmt, r.rc, cases[i].ok, kwTail(r.out))
		}
	}
}

// kwTail returns the last lines of a kamailio output, for messages.
func kwTail(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	return strings.Join(lines, "\n")
}

// TestKeywordReservedKamailio checks every reserved word, and words that
// look like keywords but are not, with the define test: a #!define named
// after a keyword does not expand, so the cfg variable gets a keyword
// instead of a string and the file is refused.
func TestKeywordReservedKamailio(t *testing.T) {
	bin := kwKamailio(t)
	if testing.Short() {
		t.Skip("runs kamailio once per word")
	}
	notReserved := []string{"branch_failure_route", "VIRTUAL", "Virtual",
		"Udp", "Ipv4", "Yes", "TRUE", "int", "str", "subst", "define",
		"ifdef", "KAMAILIO", "SER", "f", "t", "g", "retcode", "bind",
		"workers", "haproxy", "routes", "setbflag", "bflags",
		"request_route_callback", "dst_blacklist_init", "use_dst_blacklist",
		"listen_on", "foobar"}
	for key := range newerCoreAssign {
		for _, w := range kwParts(key) {
			if w != "kemi" {
				notReserved = append(notReserved, w)
			}
		}
	}
	words := make([]string, 0, len(reservedWords)+len(notReserved))
	for w := range reservedWords {
		words = append(words, w)
	}
	sort.Strings(words)
	words = append(words, notReserved...)
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = "debug=2\n#!define " + w + " \"zz\"\nkwgrp.kwvar = " + w + " \"yy\"\n"
	}
	for i, r := range kwCheckAll(t, bin, texts) {
		if got, want := r.rc != 0, reservedWords[words[i]]; got != want {
			t.Errorf("%q: kamailio says reserved=%v, reservedWords says %v\n%s", words[i], got, want, kwTail(r.out))
		}
	}
}

// TestKeywordKindsKamailio checks every coreAssign entry against the
// grammar: each sample value must parse exactly when the setting's kinds
// cover it (a value that parses may still fail a later check, such as an
// unknown user; only "syntax error" counts as refused).
func TestKeywordKindsKamailio(t *testing.T) {
	bin := kwKamailio(t)
	if testing.Short() {
		t.Skip("runs kamailio several times per setting")
	}
	num := kindInt | kindHost | kindSocket
	samples := []struct {
		val string
		ok  func(key string, k valueKind) bool
	}{
		// 0 and no rather than other numbers: auto_bind_ipv6 = 1 makes
		// "kamailio -c" hang in a sandbox without IPv6 routes.
		{`0`, func(_ string, k valueKind) bool { return k&num != 0 }},
		{`no`, func(_ string, k valueKind) bool { return k&num != 0 }},
		{`-5`, func(_ string, k valueKind) bool { return k&kindSigned != 0 }},
		{`"str"`, func(_ string, k valueKind) bool { return k&(kindString|kindSocket) != 0 }},
		{`abcid`, func(_ string, k valueKind) bool { return k&(kindID|kindHost|kindSocket) != 0 }},
		{`abc.example.com`, func(_ string, k valueKind) bool { return k&(kindHost|kindSocket) != 0 }},
		{`127.0.0.1`, func(key string, k valueKind) bool {
			return k&(kindHost|kindSocket) != 0 || key == "tcp_source_ipv4"
		}},
		{`[::1]`, func(key string, k valueKind) bool {
			return k&(kindHost|kindSocket) != 0 || key == "tcp_source_ipv6"
		}},
		{`udp:127.0.0.1:5070`, func(_ string, k valueKind) bool { return k&kindSocket != 0 }},
	}
	type probe struct {
		stmt string
		ok   bool
	}
	var probes []probe
	for key, k := range coreAssign {
		if strings.HasPrefix(key, "kemi.") {
			probes = append(probes, probe{key + ` = "f"`, true}, probe{key + ` = 5`, false})
			continue
		}
		for _, s := range samples {
			probes = append(probes, probe{key + " = " + s.val, s.ok(key, k)})
		}
	}
	// The kindOther settings, with values of their own.
	for _, p := range []probe{
		{`tls_method = sslv23`, true}, {`tls_method = SSLV3`, true},
		{`tls_method = tlsv1`, true}, {`tls_method = foo`, false},
		{`udp_mtu_try_proto = udp`, true}, {`udp_mtu_try_proto = SCTP`, true},
		{`udp_mtu_try_proto = *`, true}, {`udp_mtu_try_proto = "udp"`, false},
		{`tcp_source_ipv6 = ::1`, true},
	} {
		probes = append(probes, p)
	}
	sort.Slice(probes, func(i, j int) bool { return probes[i].stmt < probes[j].stmt })
	texts := make([]string, len(probes))
	for i, p := range probes {
		texts[i] = "debug=2\n" + p.stmt + "\n"
	}
	for i, r := range kwCheckAll(t, bin, texts) {
		if got := !r.syntaxError(); got != probes[i].ok {
			t.Errorf("%s: parses=%v, coreAssign says %v\n%s", probes[i].stmt, got, probes[i].ok, kwTail(r.out))
		}
	}
}
