package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sentinel errors of reading the dispatcher table, wrapped with %w.
var (
	// ErrTableVersion: the table's row in `version` is missing, duplicated
	// or not one of the versions 1-4 Kamailio 5.6.3 accepts
	// (dispatcher.md §2.8, §3.2).
	ErrTableVersion = errors.New("invalid table version")
	// ErrRow: a row of the dispatcher table cannot be read; the message
	// names the table and the row.
	ErrRow = errors.New("bad dispatcher row")
	// ErrQuery: a query failed (missing table or column, timeout, ...).
	ErrQuery = errors.New("query failed")
	// ErrExtraAttrs: ds_db_extra_attrs is malformed (dispatcher.md §1.1).
	ErrExtraAttrs = errors.New("bad ds_db_extra_attrs")
)

// MaxAttrsLen is the size of Kamailio 5.6.3's attrs buffer for rows with
// ds_db_extra_attrs; a longer result is a load error (dispatcher.md §3.3).
const MaxAttrsLen = 1024

// ExtraAttr is one attrname=column entry of ds_db_extra_attrs (§3.3).
type ExtraAttr struct {
	// Name is the attribute name written into attrs.
	Name string
	// Column is the table column whose value becomes the attribute value.
	Column string
}

// ParseExtraAttrs parses ds_db_extra_attrs, "attrname=column;attrname2=column2;..."
// (dispatcher.md §1.1): one trailing ';' is tolerated, blanks around names
// are trimmed, an entry without a column name is an error, like Kamailio's
// start-up error. Empty input gives no entries.
func ParseExtraAttrs(s string) ([]ExtraAttr, error) {
	s = strings.TrimSuffix(s, ";")
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []ExtraAttr
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, col, ok := strings.Cut(part, "=")
		name, col = strings.TrimSpace(name), strings.TrimSpace(col)
		if name == "" {
			return nil, fmt.Errorf("%w %q: entry %q has no attribute name", ErrExtraAttrs, s, part)
		}
		if !ok || col == "" {
			return nil, fmt.Errorf("%w %q: attribute %q has no column name", ErrExtraAttrs, s, name)
		}
		out = append(out, ExtraAttr{Name: name, Column: col})
	}
	return out, nil
}

// Table names the dispatcher table and its columns, the modparams of
// dispatcher.md §1.1 (table_name, setid_col, destination_col, flags_col,
// priority_col, attrs_col, ds_db_extra_attrs). Empty fields take
// Kamailio's defaults.
type Table struct {
	// Name is table_name (default "dispatcher").
	Name string
	// SetIDCol is setid_col (default "setid").
	SetIDCol string
	// DestinationCol is destination_col (default "destination").
	DestinationCol string
	// FlagsCol is flags_col (default "flags").
	FlagsCol string
	// PriorityCol is priority_col (default "priority").
	PriorityCol string
	// AttrsCol is attrs_col (default "attrs").
	AttrsCol string
	// ExtraAttrs are read only with table version 4 (§3.3).
	ExtraAttrs []ExtraAttr
}

// DefaultTable is the table layout of the shipped schema (§3.1).
func DefaultTable() Table {
	return Table{Name: "dispatcher", SetIDCol: "setid", DestinationCol: "destination",
		FlagsCol: "flags", PriorityCol: "priority", AttrsCol: "attrs"}
}

func (t Table) withDefaults() Table {
	d := DefaultTable()
	set := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	set(&t.Name, d.Name)
	set(&t.SetIDCol, d.SetIDCol)
	set(&t.DestinationCol, d.DestinationCol)
	set(&t.FlagsCol, d.FlagsCol)
	set(&t.PriorityCol, d.PriorityCol)
	set(&t.AttrsCol, d.AttrsCol)
	return t
}

// DispatcherRow is one destination as Kamailio 5.6.3 hands it to the
// dispatcher's add routine (dispatcher.md §2.2, §3.2, §3.3): NULL integers
// read as 0, NULL strings as "", columns absent from the table version as
// 0 / "". Attrs already carries the ds_db_extra_attrs entries, in Kamailio's
// buffer form (base attrs, ';', then "name=value;" per non-empty extra
// column, in reverse modparam order as 5.6.3 does); the attrs parser strips
// one trailing ';' (§2.4).
type DispatcherRow struct {
	// ID is the id column when the table has one, else 0 (the module never
	// reads it; kamsidecar uses it in messages).
	ID int64
	// Pos is the 1-based position of the row in the result, in the order
	// the driver returned it (Kamailio sends no ORDER BY, §2.5).
	Pos int
	// SetID, Destination, Flags, Priority and Attrs are the columns named
	// by the *_col modparams.
	SetID       int
	Destination string
	Flags       int
	Priority    int
	Attrs       string
	// DestinationNull is set when the destination column was NULL.
	DestinationNull bool
	// NullColumns names the setid, flags and priority columns that were
	// NULL and read as 0. Kamailio 5.6.3 reads them as 0 only with
	// db_sqlite; db_postgres and db_mysql hand the module an undefined value
	// (verified: garbage set ids and priorities, random flag bits), so a
	// caller should warn about such rows.
	NullColumns []string
}

// rowName names a row in error messages: its id when known, else its position.
func rowName(table string, id int64, hasID bool, pos int) string {
	if hasID {
		return fmt.Sprintf("table %s row id %d", table, id)
	}
	return fmt.Sprintf("table %s row %d", table, pos)
}

// quoteIdent quotes an identifier for the dialect (back quotes for MySQL
// and SQLite, where a double-quoted unknown column silently becomes a
// string literal; double quotes for PostgreSQL), so that modparam names are
// used verbatim.
func quoteIdent(d Dialect, name string) string {
	if d == MySQL || d == SQLite {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteIdent quotes an identifier (table or column name) for the dialect.
func (d *DB) QuoteIdent(name string) string { return quoteIdent(d.Dialect(), name) }

// TableVersion reads table_version from Kamailio's `version` table for
// table (dispatcher.md §3.1). found is false when there is no row, which
// Kamailio treats as version 0. More than one row, or a NULL, is an error
// wrapping ErrTableVersion, as in Kamailio's db_table_version.
func (d *DB) TableVersion(ctx context.Context, table string) (version int, found bool, err error) {
	return tableVersion(ctx, d, d.X, table)
}

func tableVersion(ctx context.Context, d *DB, q execer, table string) (int, bool, error) {
	qctx, cancel := d.QueryContext(ctx)
	defer cancel()
	rows, err := q.QueryContext(qctx, d.X.Rebind("SELECT table_version FROM version WHERE table_name = ?"), table)
	if err != nil {
		return 0, false, fmt.Errorf("%w: reading the version of table %s: %v", ErrQuery, table, err)
	}
	defer rows.Close()
	var vs []sql.NullInt64
	for rows.Next() {
		var v sql.NullInt64
		if err := rows.Scan(&v); err != nil {
			return 0, false, fmt.Errorf("%w of table %s: %v", ErrTableVersion, table, err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("%w: reading the version of table %s: %v", ErrQuery, table, err)
	}
	switch {
	case len(vs) == 0:
		return 0, false, nil
	case len(vs) > 1:
		return 0, false, fmt.Errorf("%w of table %s: %d rows in table version", ErrTableVersion, table, len(vs))
	case !vs[0].Valid:
		return 0, false, fmt.Errorf("%w of table %s: NULL in table version", ErrTableVersion, table)
	case vs[0].Int64 < math.MinInt32 || vs[0].Int64 > math.MaxInt32:
		return 0, false, fmt.Errorf("%w of table %s: %d", ErrTableVersion, table, vs[0].Int64)
	}
	return int(vs[0].Int64), true, nil
}

// Columns lists the columns of table (a table or a view) in the order the
// database reports them.
func (d *DB) Columns(ctx context.Context, table string) ([]string, error) {
	return columns(ctx, d, d.X, table)
}

func columns(ctx context.Context, d *DB, q execer, table string) ([]string, error) {
	qctx, cancel := d.QueryContext(ctx)
	defer cancel()
	rows, err := q.QueryContext(qctx, "SELECT * FROM "+d.QuoteIdent(table)+" WHERE 1=0")
	if err != nil {
		return nil, fmt.Errorf("%w: table %s: %v", ErrQuery, table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("%w: table %s: %v", ErrQuery, table, err)
	}
	return cols, rows.Err()
}

// ReadDispatcher loads the dispatcher table as Kamailio 5.6.3's
// dispatcher module does at start-up and on reload (dispatcher.md §3.2,
// §3.3): it checks the table's version row (1-4, else ErrTableVersion),
// selects the columns that version uses, plus the ds_db_extra_attrs columns
// with version 4, without WHERE or ORDER BY, and returns the rows in the
// driver's order. Errors name the table and, for a row, its id (or its
// position when the table has no id column).
func (d *DB) ReadDispatcher(ctx context.Context, t Table) ([]DispatcherRow, error) {
	t = t.withDefaults()
	version, found, err := d.TableVersion(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	if !found || version < 1 || version > 4 {
		return nil, fmt.Errorf("%w of table %s (found %d, required 1, 2, 3 or 4)", ErrTableVersion, t.Name, version)
	}
	have, err := d.Columns(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	hasID := false
	for _, c := range have {
		if strings.EqualFold(c, "id") {
			hasID = true
		}
	}
	cols := []string{t.SetIDCol, t.DestinationCol}
	if version >= 2 {
		cols = append(cols, t.FlagsCol)
	}
	if version >= 3 {
		cols = append(cols, t.PriorityCol)
	}
	var extra []ExtraAttr
	if version >= 4 {
		cols = append(cols, t.AttrsCol)
		extra = t.ExtraAttrs
		for _, e := range extra {
			cols = append(cols, e.Column)
		}
	}
	for _, c := range cols {
		found := false
		for _, h := range have {
			found = found || strings.EqualFold(c, h)
		}
		if !found {
			return nil, fmt.Errorf("%w: table %s has no column %s (columns: %s)", ErrQuery, t.Name, c, strings.Join(have, ", "))
		}
	}
	var sel []string
	if hasID {
		sel = append(sel, d.QuoteIdent("id"))
	}
	for _, c := range cols {
		sel = append(sel, d.QuoteIdent(c))
	}
	qctx, cancel := d.QueryContext(ctx)
	defer cancel()
	rows, err := d.X.QueryContext(qctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+d.QuoteIdent(t.Name))
	if err != nil {
		return nil, fmt.Errorf("%w: table %s: %v", ErrQuery, t.Name, err)
	}
	defer rows.Close()
	var out []DispatcherRow
	for pos := 1; rows.Next(); pos++ {
		var id sql.NullInt64
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, 0, len(sel))
		if hasID {
			dest = append(dest, &id)
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%w: table %s row %d: %v", ErrRow, t.Name, pos, err)
		}
		name := rowName(t.Name, id.Int64, hasID && id.Valid, pos)
		r := DispatcherRow{ID: id.Int64, Pos: pos}
		toInt := func(i int) (int, error) {
			if !vals[i].Valid {
				r.NullColumns = append(r.NullColumns, cols[i])
				return 0, nil
			}
			s := strings.TrimSpace(vals[i].String)
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("%w: %s: column %s: %q is not a 32-bit integer", ErrRow, name, cols[i], vals[i].String)
			}
			return int(n), nil
		}
		if r.SetID, err = toInt(0); err != nil {
			return nil, err
		}
		r.Destination, r.DestinationNull = vals[1].String, !vals[1].Valid
		if version >= 2 {
			if r.Flags, err = toInt(2); err != nil {
				return nil, err
			}
		}
		if version >= 3 {
			if r.Priority, err = toInt(3); err != nil {
				return nil, err
			}
		}
		if version >= 4 {
			r.Attrs = vals[4].String
			if len(extra) > 0 {
				if r.Attrs, err = appendExtra(r.Attrs, extra, vals[5:]); err != nil {
					return nil, fmt.Errorf("%w: %s: %v", ErrRow, name, err)
				}
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: table %s: %v", ErrQuery, t.Name, err)
	}
	return out, nil
}

// appendExtra builds Kamailio's attrs buffer (dispatcher.md §3.3): base
// attrs with a ';' appended unless they end with one, then "name=value;"
// for every non-NULL, non-empty extra column, last modparam entry first.
func appendExtra(base string, extra []ExtraAttr, vals []sql.NullString) (string, error) {
	var b strings.Builder
	b.WriteString(base)
	if base != "" && !strings.HasSuffix(base, ";") {
		b.WriteByte(';')
	}
	// Kamailio 5.6.3 parses ds_db_extra_attrs into a list in reverse order
	// and appends from that list: the last entry of the modparam comes
	// first (verified against Kamailio 5.6.3, migrations/kamailio_test.go).
	for i := len(extra) - 1; i >= 0; i-- {
		e := extra[i]
		if !vals[i].Valid || vals[i].String == "" {
			continue
		}
		if b.Len()+len(e.Name)+len(vals[i].String)+2 >= MaxAttrsLen {
			return "", fmt.Errorf("attrs with extra attribute %s longer than %d bytes", e.Name, MaxAttrsLen-1)
		}
		b.WriteString(e.Name)
		b.WriteByte('=')
		b.WriteString(vals[i].String)
		b.WriteByte(';')
	}
	return b.String(), nil
}

// TableExists reports whether a table or view of that name exists in the
// database's current schema.
func (d *DB) TableExists(ctx context.Context, table string) (bool, error) {
	var q string
	switch d.Dialect() {
	case SQLite:
		q = "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?"
	case Postgres:
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	default:
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	}
	qctx, cancel := d.QueryContext(ctx)
	defer cancel()
	var n int
	if err := d.X.QueryRowContext(qctx, d.X.Rebind(q), table).Scan(&n); err != nil {
		return false, fmt.Errorf("%w: looking for table %s: %v", ErrQuery, table, err)
	}
	return n > 0, nil
}
