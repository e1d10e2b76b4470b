package kamcfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzOptions reads includes from a tiny in-memory tree so that fuzzed
// include_file/import_file directives exercise the include code without
// touching the disk: "a.cfg" holds a define, "loop.cfg" includes itself.
func fuzzOptions() Options {
	files := map[string]string{
		"a.cfg":    "#!define FROM_A 1\nmodparam(\"tm\", \"fr_timer\", FROM_A)\n",
		"loop.cfg": "include_file \"loop.cfg\"\n",
		"half.cfg": "route[X] {\n",
	}
	return Options{
		Presets: []Preset{{Kind: "define", Value: "FUZZ=1"}},
		LookupEnv: func(name string) (string, bool) {
			if name == "HOME" {
				return "/root", true
			}
			return "", false
		},
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[filepath.Base(name)]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		},
	}
}

// addSeeds adds the fuzz seeds: the golden cases of testdata/kamcfg, the
// demo, and the corpus configs when the corpus is there (they are read,
// not copied into the project).
func addSeeds(f *testing.F) {
	var files []string
	for _, pat := range []string{
		"../testdata/kamcfg/*.cfg",
		"../testdata/demo/*.cfg",
		"../../shared/corpus/cfg/*.cfg",
		"../../shared/corpus/cfg/*.d/*.cfg",
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("#!define A A\nlisten=A\n"))
	f.Add([]byte("#!substdef \"!X!<X>!g\"\nlisten=udp:X:5060\n"))
	f.Add([]byte("include_file \"a.cfg\"\nimport_file \"loop.cfg\"\n"))
	f.Add([]byte("include_file \"half.cfg\"\n}\n"))
}

// FuzzPreprocess runs the preprocessing lexer alone on any input: it must
// end, never panic, and keep its token stream consistent.
func FuzzPreprocess(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOptions()
		l := &lexState{
			opts:    &opts,
			stack:   []*source{{text: string(data), name: "fuzz.cfg", abs: "/fuzz.cfg", line: 1, col: 1}},
			defines: map[string]*define{},
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.run()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("lexer did not finish within 10s")
		}
		if l.fatal != nil {
			return
		}
		if n := len(l.toks); n == 0 || l.toks[n-1].typ != tkEOF {
			t.Fatalf("token stream does not end with EOF")
		}
		for _, tk := range l.toks[:len(l.toks)-1] {
			if tk.typ == tkEOF {
				t.Fatalf("EOF token inside the stream")
			}
			if tk.pos.Line < 1 || tk.pos.Col < 1 {
				t.Fatalf("token %q without a position: %+v", tk.val, tk.pos)
			}
		}
	})
}

// FuzzParse runs the whole reader (lexer, grammar, settings, JSON) on any
// input: it must never panic, every diagnostic must carry a place, and the
// JSON must render.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c *Config
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err = Parse("fuzz.cfg", data, fuzzOptions())
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("reader did not finish within 10s")
		}
		if err != nil {
			var ue *UnusableError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnusable) {
				t.Fatalf("error of the wrong type: %T %v", err, err)
			}
			if ue.Pos.File == "" {
				t.Fatalf("unusable error without a file: %v", err)
			}
			return
		}
		for _, d := range c.Diagnostics {
			if d.Pos.File == "" || d.Msg == "" {
				t.Fatalf("diagnostic without a place or message: %+v", d)
			}
			if strings.ContainsRune(d.Msg, '\n') && !strings.Contains(d.Msg, "\"") {
				t.Fatalf("multi-line diagnostic: %q", d.Msg)
			}
		}
		if _, err := c.JSON(); err != nil {
			t.Fatalf("JSON: %v", err)
		}
	})
}
