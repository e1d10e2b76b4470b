package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/db/dbtest"
)

// TestMigrate runs `kamsidecar migrate` twice on a fresh database of each
// dialect: the first run provisions the dispatcher table at Kamailio's
// version 4, the second changes nothing (cli.md: idempotent).
func TestMigrate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		url := dbtest.URL(t, d)
		stdout, stderr, code := runBinary(t, t.TempDir(), "migrate", "--db-url", url)
		if code != 0 || !strings.Contains(string(stdout), "applied") {
			t.Fatalf("first run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		stdout, stderr, code = runBinary(t, t.TempDir(), "migrate", "--db-url", url)
		if code != 0 || !strings.Contains(string(stdout), "up to date") || strings.Contains(string(stdout), "applied") {
			t.Fatalf("second run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h, err := db.Open(ctx, url, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		v, found, err := h.TableVersion(ctx, "dispatcher")
		if err != nil || !found || v != 4 {
			t.Fatalf("version row: %d found=%v err=%v", v, found, err)
		}
	})
}

// TestMigrateErrors checks the usage and connection errors, and that a
// password never appears in a message.
func TestMigrateErrors(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no url", []string{}, 2, "usage: kamsidecar migrate --db-url URL"},
		{"unsupported scheme", []string{"--db-url", "text:///tmp/x"}, 1, "kamsidecar migrate:"},
		{"unreachable server", []string{"--db-url", "mysql://root:s3cret@127.0.0.1:1/kamailio"}, 1, "kamsidecar migrate:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, t.TempDir(), append([]string{"migrate"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("the password is shown: %q", stderr)
			}
		})
	}
}
