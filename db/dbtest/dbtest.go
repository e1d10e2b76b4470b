// Package dbtest gives tests a fresh, uniquely named database on each
// dialect of this machine (SQLite in a temp dir, PostgreSQL and MariaDB on
// 127.0.0.1), dropped at the end of the test. An unreachable server skips
// the test, or fails it when CI is set (internal/testutil.Need).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// Servers on this machine (dispatcher.md §3.4 URL forms); the database
// `test` must exist and the users need no password.
var (
	// PostgresUsers are tried in order (trust authentication).
	PostgresUsers = []string{"postgres", "root"}
	// PostgresHostPort is the PostgreSQL server.
	PostgresHostPort = "127.0.0.1:5432"
	// MySQLHostPort is the MariaDB/MySQL server (user root, no password).
	MySQLHostPort = "127.0.0.1:3306"
)

// Dialects lists the dialects ForEach runs.
var Dialects = []db.Dialect{db.SQLite, db.Postgres, db.MySQL}

func uniqueName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "kamsidecar_t_" + hex.EncodeToString(b)
}

func open(t testing.TB, url string) (*db.DB, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.Open(ctx, url, db.Options{ConnectTimeout: 3 * time.Second, QueryTimeout: 20 * time.Second})
}

// URL returns the db_url of a fresh empty database of the dialect, dropped
// (or removed) when the test ends.
func URL(t testing.TB, d db.Dialect) string {
	t.Helper()
	name := uniqueName()
	switch d {
	case db.SQLite:
		return "sqlite:///" + filepath.Join(t.TempDir(), name+".db")
	case db.Postgres:
		var admin *db.DB
		var user string
		var errs []error
		for _, u := range PostgresUsers {
			a, err := open(t, "postgres://"+u+"@"+PostgresHostPort+"/test")
			if err == nil {
				admin, user = a, u
				break
			}
			errs = append(errs, err)
		}
		testutil.Need(t, admin != nil, fmt.Sprintf("PostgreSQL is unreachable at %s: %v", PostgresHostPort, errs))
		create(t, admin, "CREATE DATABASE "+name, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return "postgres://" + user + "@" + PostgresHostPort + "/" + name
	case db.MySQL:
		admin, err := open(t, "mysql://root@"+MySQLHostPort+"/test")
		testutil.Need(t, err == nil, fmt.Sprintf("MariaDB/MySQL is unreachable at %s: %v", MySQLHostPort, err))
		create(t, admin, "CREATE DATABASE "+name, "DROP DATABASE IF EXISTS "+name)
		return "mysql://root@" + MySQLHostPort + "/" + name
	}
	t.Fatalf("unknown dialect %q", d)
	return ""
}

func create(t testing.TB, admin *db.DB, createSQL, dropSQL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.X.ExecContext(ctx, createSQL); err != nil {
		_ = admin.Close()
		t.Fatalf("%s: %v", createSQL, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.X.ExecContext(ctx, dropSQL); err != nil {
			t.Errorf("%s: %v", dropSQL, err)
		}
		_ = admin.Close()
	})
}

// Open returns an open handle on a fresh database of the dialect and its
// URL; the handle is closed before the database is dropped.
func Open(t testing.TB, d db.Dialect) (*db.DB, string) {
	t.Helper()
	url := URL(t, d)
	h, err := open(t, url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, url
}

// ForEach runs f as a subtest named after each dialect.
func ForEach(t *testing.T, f func(t *testing.T, d db.Dialect)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) { f(t, d) })
	}
}

// Context returns a context that ends after a minute or with the test.
func Context(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// Exec runs each statement (placeholders rebound for the dialect) and
// fails the test on the first error.
func Exec(t testing.TB, h *db.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := h.X.ExecContext(Context(t), h.X.Rebind(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
