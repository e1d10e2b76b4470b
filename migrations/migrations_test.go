package migrations_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/db/dbtest"
	"github.com/kamsidecar/kamsidecar/migrations"
)

func version(t *testing.T, h *db.DB) int {
	t.Helper()
	v, found, err := h.TableVersion(dbtest.Context(t), "dispatcher")
	if err != nil || !found {
		t.Fatalf("version: %d %v %v", v, found, err)
	}
	return v
}

func TestApplyTwice(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		h, _ := dbtest.Open(t, d)
		got, err := migrations.Apply(dbtest.Context(t), h.X, d)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{string(d) + "/version.sql", string(d) + "/dispatcher.sql"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("first run applied %q, want %q", got, want)
		}
		got, err = migrations.Apply(dbtest.Context(t), h.X, d)
		if err != nil || len(got) != 0 {
			t.Fatalf("second run applied %q, %v; want nothing", got, err)
		}
		if v := version(t, h); v != 4 {
			t.Fatalf("version %d", v)
		}
		cols, err := h.Columns(dbtest.Context(t), "dispatcher")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"id", "setid", "destination", "flags", "priority", "attrs", "description"}; !reflect.DeepEqual(cols, want) {
			t.Fatalf("columns %q, want %q", cols, want)
		}
		// Defaults: a row with only a destination reads as Kamailio's defaults.
		dbtest.Exec(t, h, "INSERT INTO dispatcher (destination) VALUES ('sip:a')")
		rows, err := h.ReadDispatcher(dbtest.Context(t), db.Table{})
		if err != nil {
			t.Fatal(err)
		}
		if want := []db.DispatcherRow{{ID: 1, Pos: 1, Destination: "sip:a"}}; !reflect.DeepEqual(rows, want) {
			t.Fatalf("rows %+v, want %+v", rows, want)
		}
	})
}

func TestApplyExistingDatabases(t *testing.T) {
	cases := []struct {
		name        string
		setup       []string // '?' placeholders not used; plain SQL
		wantApplied []string // without the dialect prefix
		wantErr     bool
	}{
		{"version table exists without dispatcher row",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO version (table_name, table_version) VALUES ('location', 9)"},
			[]string{"dispatcher.sql"}, false},
		{"stale version row without table",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 2)"},
			[]string{"dispatcher.sql"}, false},
		{"upgrade from version 1",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 1)",
				"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid INTEGER DEFAULT 0 NOT NULL, destination VARCHAR(192) DEFAULT '' NOT NULL, description VARCHAR(64) DEFAULT '' NOT NULL)",
				"INSERT INTO dispatcher (id, setid, destination) VALUES (7, 3, 'sip:old')"},
			[]string{"dispatcher-2.sql", "dispatcher-3.sql", "dispatcher-4.sql"}, false},
		{"upgrade from version 3",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 3)",
				"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid INTEGER DEFAULT 0 NOT NULL, destination VARCHAR(192) DEFAULT '' NOT NULL, flags INTEGER DEFAULT 0 NOT NULL, priority INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO dispatcher (id, setid, destination) VALUES (7, 3, 'sip:old')"},
			[]string{"dispatcher-4.sql"}, false},
		{"table without version row: version inferred",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid INTEGER DEFAULT 0 NOT NULL, destination VARCHAR(192) DEFAULT '' NOT NULL, flags INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO dispatcher (id, setid, destination) VALUES (7, 3, 'sip:old')"},
			[]string{"version row dispatcher=2", "dispatcher-3.sql", "dispatcher-4.sql"}, false},
		{"newer version refused",
			[]string{"CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)",
				"INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 5)"},
			nil, true},
	}
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h, _ := dbtest.Open(t, d)
				dbtest.Exec(t, h, c.setup...)
				got, err := migrations.Apply(dbtest.Context(t), h.X, d)
				if c.wantErr {
					if !errors.Is(err, migrations.ErrMigrate) {
						t.Fatalf("err %v, want ErrMigrate", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, w := range c.wantApplied {
					if strings.HasSuffix(w, ".sql") {
						w = string(d) + "/" + w
					}
					want = append(want, w)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("applied %q, want %q", got, want)
				}
				if again, err := migrations.Apply(dbtest.Context(t), h.X, d); err != nil || len(again) != 0 {
					t.Fatalf("second run applied %q, %v", again, err)
				}
				if v := version(t, h); v != 4 {
					t.Fatalf("version %d", v)
				}
				rows, err := h.ReadDispatcher(dbtest.Context(t), db.Table{})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.ID == 7 && (r.SetID != 3 || r.Destination != "sip:old") {
						t.Fatalf("old row changed: %+v", r)
					}
				}
			})
		}
	})
}

func TestApplyUnknownDialect(t *testing.T) {
	if _, err := migrations.Apply(context.Background(), nil, db.Dialect("oracle")); !errors.Is(err, migrations.ErrMigrate) {
		t.Fatalf("err %v", err)
	}
}

func TestScriptsExist(t *testing.T) {
	for _, d := range dbtest.Dialects {
		for _, n := range []string{"version", "dispatcher", "dispatcher-2", "dispatcher-3", "dispatcher-4"} {
			if s, err := migrations.SQL(d, n); err != nil || s == "" {
				t.Errorf("%s/%s: %v", d, n, err)
			}
		}
	}
}
