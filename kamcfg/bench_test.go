package kamcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// BenchmarkCorpusLargest reads the largest corpus config
// (dsiprouter__kamailio.cfg, 4,326 lines with two includes).
func BenchmarkCorpusLargest(b *testing.B) {
	dir := filepath.Join(testutil.CorpusDir(b), "cfg", "dsiprouter__kamailio.d")
	opts := Options{Dir: dir, LookupEnv: func(string) (string, bool) { return "", false }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("../dsiprouter__kamailio.cfg", opts); err != nil {
			b.Fatal(err)
		}
	}
}

// generatedConfig builds a config of about n lines in the shape of real
// ones: defines and ifdefs, modules and modparams, then route blocks with
// strings, comments, pseudo-variables and nested braces.
func generatedConfig(n int) string {
	var b strings.Builder
	b.WriteString("#!KAMAILIO\n#!define WITH_DEBUG\n#!substdef \"!MY_IP!127.0.0.1!g\"\n")
	b.WriteString("#!define DBURL \"mysql://kamailio:kamailiorw@localhost/kamailio\"\n")
	b.WriteString("listen=udp:MY_IP:5060\nlisten=tcp:MY_IP:5060 advertise 192.0.2.1:5060 name \"main\"\n")
	b.WriteString("debug=2\nchildren=8\nlog_facility=LOG_LOCAL0\n")
	mods := []string{"tm", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "xlog", "sanity", "ctl", "jsonrpcs", "dispatcher", "keepalive", "usrloc", "registrar"}
	for _, m := range mods {
		fmt.Fprintf(&b, "loadmodule \"%s.so\"\n", m)
	}
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "#!ifdef WITH_DEBUG\nmodparam(\"dispatcher\", \"ds_ping_interval\", %d)\n#!else\nmodparam(\"tm\", \"fr_timer\", 0x%x)\n#!endif\n", i, i)
		fmt.Fprintf(&b, "modparam(\"usrloc|registrar\", \"db_url\", DBURL) # comment %d\n", i)
	}
	lines := strings.Count(b.String(), "\n")
	for r := 0; lines < n; r++ {
		fmt.Fprintf(&b, "route[R%d] {\n", r)
		body := []string{
			"\t# handle the request",
			"\tif (is_method(\"INVITE\") && $rU =~ \"^\\+?[0-9]{3,}$\") {",
			"\t\txlog(\"L_INFO\", \"call from $fu to $(ru{uri.user}) {braces} in a string\\n\");",
			"\t\t/* a block comment with { unbalanced braces */",
			"\t\t$var(x) = $(hdr(X-Foo){s.select,0,;});",
			"\t\tif (!ds_select_dst(\"1\", \"4\")) { sl_send_reply(\"503\", \"No destination\"); exit; }",
			"\t} else {",
			"\t\tswitch ($rm) {",
			"\t\t\tcase \"OPTIONS\": sl_send_reply(\"200\", \"OK\"); break;",
			"\t\t\tdefault: route(RELAY);",
			"\t\t}",
			"\t}",
			"}",
		}
		for _, l := range body {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		lines += len(body) + 1
	}
	return b.String()
}

// BenchmarkGenerated10k reads a generated 10,000-line config with route
// blocks (target: under 50 ms).
func BenchmarkGenerated10k(b *testing.B) {
	text := []byte(generatedConfig(10000))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := Parse("gen.cfg", text, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if c.HasErrors() {
			b.Fatal(c.Diagnostics)
		}
	}
}

// TestGeneratedConfig checks that the benchmark's input reads cleanly, so
// the benchmark measures a real parse.
func TestGeneratedConfig(t *testing.T) {
	text := generatedConfig(10000)
	if n := strings.Count(text, "\n"); n < 10000 {
		t.Fatalf("generated %d lines", n)
	}
	c, err := Parse("gen.cfg", []byte(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Diagnostics {
		if d.Severity == Error {
			t.Errorf("%s", d)
		}
	}
	if len(c.Routes) < 690 || len(c.LoadModules) != 15 || len(c.ModParams) != 80 || len(c.Listen) != 2 {
		t.Errorf("routes %d, modules %d, modparams %d, listen %d", len(c.Routes), len(c.LoadModules), len(c.ModParams), len(c.Listen))
	}
	if os.Getenv("KAMCFG_DUMP_GENERATED") != "" {
		os.WriteFile(os.Getenv("KAMCFG_DUMP_GENERATED"), []byte(text), 0o644)
	}
}
