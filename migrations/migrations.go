// Package migrations creates and upgrades Kamailio's dispatcher table so
// that Kamailio 5.6.3 itself reads what kamsidecar provisions
// (shared/spec/dispatcher.md §3.1-§3.2, cli.md "kamsidecar migrate"). The
// SQL lives in sql/<dialect>/*.sql, embedded; versions are recorded only in
// Kamailio's own `version` table, with no bookkeeping table of ours.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kamsidecar/kamsidecar/db"
)

//go:embed sql
var files embed.FS

// Table is the table the migrations create: Kamailio's default table_name.
const Table = "dispatcher"

// LatestVersion is the dispatcher table version the migrations reach, the
// one Kamailio 5.6.3 ships (dispatcher.md §3.1).
const LatestVersion = 4

// ErrMigrate wraps every migration failure.
var ErrMigrate = errors.New("migration failed")

// upgradeColumn is the column each table version adds (dispatcher.md §3.2).
var upgradeColumn = map[int]string{2: "flags", 3: "priority", 4: "attrs"}

// SQL returns the text of the embedded script of a dialect named name
// ("version", "dispatcher", "dispatcher-2", "dispatcher-3", "dispatcher-4"),
// for inspection and tests.
func SQL(dialect db.Dialect, name string) (string, error) {
	b, err := files.ReadFile("sql/" + string(dialect) + "/" + name + ".sql")
	if err != nil {
		return "", fmt.Errorf("%w: no script %s for dialect %q", ErrMigrate, name, dialect)
	}
	return string(b), nil
}

// statements splits a script into statements: '--' comment lines are
// dropped and a statement ends with ';' at the end of a line.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Apply creates or upgrades the dispatcher table of x to version 4 and
// returns what it did: the scripts it ran ("sqlite/version.sql", ...) and
// "version row dispatcher=N" for a version row written without a script.
// It is empty when there was nothing to do: running it twice changes
// nothing the second time.
//
//   - no `version` table: created (Kamailio's layout);
//   - no dispatcher table: created at version 4 with its version row (a
//     stale row is replaced);
//   - a dispatcher table at version 1-3: the missing columns are added and
//     the version row raised step by step;
//   - a dispatcher table without a version row (or with 0): its version is
//     inferred from its columns, recorded, then upgraded;
//   - a version above 4: an error, nothing is changed.
//
// Every statement is bounded by ctx and db.DefaultQueryTimeout.
func Apply(ctx context.Context, x *sqlx.DB, dialect db.Dialect) (applied []string, err error) {
	switch dialect {
	case db.SQLite, db.Postgres, db.MySQL:
	default:
		return nil, fmt.Errorf("%w: unknown dialect %q", ErrMigrate, dialect)
	}
	if x == nil {
		return nil, fmt.Errorf("%w: no database", ErrMigrate)
	}
	d := &db.DB{X: x, URL: db.URL{Dialect: dialect}, QueryTimeout: db.DefaultQueryTimeout}
	return ApplyDB(ctx, d)
}

// ApplyDB is Apply for a database opened with db.Open (its query timeout
// applies).
func ApplyDB(ctx context.Context, d *db.DB) (applied []string, err error) {
	if d == nil || d.X == nil {
		return nil, fmt.Errorf("%w: no database", ErrMigrate)
	}
	switch d.Dialect() {
	case db.SQLite, db.Postgres, db.MySQL:
	default:
		return nil, fmt.Errorf("%w: unknown dialect %q", ErrMigrate, d.Dialect())
	}
	run := func(name string, before, after func(tx *sqlx.Tx) error) error {
		script, err := SQL(d.Dialect(), name)
		if err != nil {
			return err
		}
		tx, err := d.X.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMigrate, name, err)
		}
		defer func() { _ = tx.Rollback() }()
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		for _, st := range statements(script) {
			qctx, cancel := d.QueryContext(ctx)
			_, err := tx.ExecContext(qctx, st)
			cancel()
			if err != nil {
				return fmt.Errorf("%w: %s/%s.sql: %v", ErrMigrate, d.Dialect(), name, err)
			}
		}
		if after != nil {
			if err := after(tx); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMigrate, name, err)
		}
		applied = append(applied, string(d.Dialect())+"/"+name+".sql")
		return nil
	}
	exec := func(tx *sqlx.Tx, q string, args ...any) error {
		qctx, cancel := d.QueryContext(ctx)
		defer cancel()
		if _, err := tx.ExecContext(qctx, d.X.Rebind(q), args...); err != nil {
			return fmt.Errorf("%w: %v", ErrMigrate, err)
		}
		return nil
	}
	setVersion := func(v int, insert bool) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			if insert {
				return exec(tx, "INSERT INTO version (table_name, table_version) VALUES (?, ?)", Table, v)
			}
			return exec(tx, "UPDATE version SET table_version = ? WHERE table_name = ?", v, Table)
		}
	}

	ok, err := d.TableExists(ctx, "version")
	if err != nil {
		return applied, err
	}
	if !ok {
		if err := run("version", nil, nil); err != nil {
			return applied, err
		}
	}
	version, found, err := d.TableVersion(ctx, Table)
	if err != nil {
		return applied, err
	}
	if found && version > LatestVersion {
		return applied, fmt.Errorf("%w: table %s has version %d, newer than %d", ErrMigrate, Table, version, LatestVersion)
	}
	ok, err = d.TableExists(ctx, Table)
	if err != nil {
		return applied, err
	}
	if !ok {
		var before func(tx *sqlx.Tx) error
		if found {
			// A stale version row without its table: replace it.
			before = func(tx *sqlx.Tx) error {
				return exec(tx, "DELETE FROM version WHERE table_name = ?", Table)
			}
		}
		return applied, run("dispatcher", before, nil)
	}
	cols, err := d.Columns(ctx, Table)
	if err != nil {
		return applied, err
	}
	has := func(c string) bool {
		for _, x := range cols {
			if strings.EqualFold(x, c) {
				return true
			}
		}
		return false
	}
	if !found || version < 1 {
		// Infer the version from the columns and record it, so that the
		// upgrades below start from the truth.
		inferred := 1
		for v := 2; v <= LatestVersion && has(upgradeColumn[v]); v++ {
			inferred = v
		}
		tx, err := d.X.BeginTxx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("%w: %v", ErrMigrate, err)
		}
		if err := setVersion(inferred, !found)(tx); err != nil {
			_ = tx.Rollback()
			return applied, err
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("%w: %v", ErrMigrate, err)
		}
		applied = append(applied, fmt.Sprintf("version row %s=%d", Table, inferred))
		version = inferred
	}
	for v := version + 1; v <= LatestVersion; v++ {
		name := fmt.Sprintf("dispatcher-%d", v)
		if has(upgradeColumn[v]) {
			// The column is there already (e.g. a MySQL run cut short
			// between its DDL and the version update): record only.
			tx, err := d.X.BeginTxx(ctx, nil)
			if err != nil {
				return applied, fmt.Errorf("%w: %v", ErrMigrate, err)
			}
			if err := setVersion(v, false)(tx); err != nil {
				_ = tx.Rollback()
				return applied, err
			}
			if err := tx.Commit(); err != nil {
				return applied, fmt.Errorf("%w: %v", ErrMigrate, err)
			}
			applied = append(applied, fmt.Sprintf("version row %s=%d", Table, v))
			continue
		}
		if err := run(name, nil, setVersion(v, false)); err != nil {
			return applied, err
		}
	}
	return applied, nil
}
