package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/kamcfg"
)

// ErrNoSource marks dispatcher settings that name neither a list file nor a
// database (spec §1.1: list_file or db_url).
var ErrNoSource = errors.New("no list_file and no db_url")

// Source is where the destinations come from: the list file (list_file) or
// the database (db_url and the table modparams), spec §1.1, §2, §3. Load
// reads it and builds a new snapshot aside, validated through the add path
// (§2.2); it never touches a Store. A failed Load returns a nil *Sets and an
// error wrapping ErrLoad and the cause (spec §2.8).
type Source interface {
	// Load reads the source and builds its snapshot (spec §2.8).
	Load(ctx context.Context) (*Sets, []Problem, error)
	// String names the source in messages (file name, or table and
	// redacted db_url).
	String() string
}

// FileSource is the list file of list_file (spec §1.1, §2). The path is
// opened as written (relative to the working directory).
type FileSource struct {
	// Path is list_file.
	Path string
	// Options are the add path's settings (spec §2.2).
	Options Options
}

// String returns the file name, as list_file gives it (spec §1.1).
func (f *FileSource) String() string { return f.Path }

// Load reads and builds the list file (spec §2.8): a file that cannot be
// opened or read wraps ErrLoad and ErrRead, a bad line ErrBadLine, a
// destination refused with ds_load_mode 1 ErrBadDestination. An empty file
// gives zero sets.
func (f *FileSource) Load(ctx context.Context) (*Sets, []Problem, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		p := Problem{Source: f.Path, Msg: fmt.Sprintf("can't open list file: %v", err), Severity: Fatal, Err: ErrRead}
		return nil, []Problem{p}, fmt.Errorf("%w: %w", ErrLoad, p)
	}
	defer fh.Close()
	return Load(f.Path, fh, withContext(f.Options, ctx))
}

// DBSource is the dispatcher table behind db_url (spec §3). Like Kamailio it
// opens the connection for each load and closes it right after (§3.2).
type DBSource struct {
	// URL is db_url (spec §3.4).
	URL string
	// Table is the table and columns (table_name, *_col, ds_db_extra_attrs;
	// see db.TableOf).
	Table db.Table
	// DB are the connect and query timeouts (zero: db's defaults).
	DB db.Options
	// Options are the add path's settings (spec §2.2).
	Options Options
}

// String names the table and the db_url with its password hidden (spec
// §3.4), for messages.
func (s *DBSource) String() string {
	name := s.Table.Name
	if name == "" {
		name = db.DefaultTable().Name
	}
	return fmt.Sprintf("table %s at %s", name, db.RedactURL(s.URL))
}

// Load opens the database, reads the dispatcher table (version 1-4,
// spec §3.2, §3.3), closes it and builds the rows through the add path
// (§2.2). A database that cannot be reached, a missing table or a bad
// table version wraps ErrLoad and db's error (db.ErrOpen, db.ErrQuery,
// db.ErrTableVersion); ds_load_mode 1 refusals wrap ErrBadDestination.
// Rows with NULL columns are Warning problems (see RowEntries). Unlike
// 5.6.3, which checks the table version only at start-up (§2.8) and reloads
// with the columns chosen then, every load checks it again.
func (s *DBSource) Load(ctx context.Context) (*Sets, []Problem, error) {
	h, err := db.Open(ctx, s.URL, s.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	rows, err := h.ReadDispatcher(ctx, s.Table)
	_ = h.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	name := s.Table.Name
	if name == "" {
		name = db.DefaultTable().Name
	}
	entries, probs := RowEntries(name, rows)
	sets, more, err := Build(entries, withContext(s.Options, ctx))
	return sets, append(probs, more...), err
}

// RowEntries turns dispatcher table rows into Entries (spec §3.2): each
// Entry's Source names the table and the row ("table dispatcher row id 42",
// or "row 7" by position when the table has no id). Empty attrs are no
// attrs (§3.2: NULL attrs = no attrs). A NULL destination, setid, flags or
// priority column is a Warning problem: Kamailio 5.6.3 reads such values as
// 0 or "" only with db_sqlite and gets undefined values with db_postgres
// and db_mysql, so the row is loaded as read (0 / "") and flagged.
func RowEntries(table string, rows []db.DispatcherRow) ([]Entry, []Problem) {
	entries := make([]Entry, 0, len(rows))
	var probs []Problem
	for _, r := range rows {
		origin := fmt.Sprintf("table %s row id %d", table, r.ID)
		if r.ID == 0 {
			origin = fmt.Sprintf("table %s row %d", table, r.Pos)
		}
		if r.DestinationNull {
			probs = append(probs, Problem{Source: origin, Msg: "destination column is NULL", Severity: Warning})
		}
		for _, c := range r.NullColumns {
			probs = append(probs, Problem{Source: origin, Msg: fmt.Sprintf("column %s is NULL, read as 0", c), Severity: Warning})
		}
		entries = append(entries, Entry{Source: origin, SetID: r.SetID, URI: r.Destination,
			Flags: r.Flags, Priority: r.Priority, Attrs: r.Attrs, HasAttrs: r.Attrs != ""})
	}
	return entries, probs
}

// SourceFrom picks the source of the cfg's dispatcher modparams (spec §1.1):
// db_url when set (the table from db.TableOf, which may fail with
// db.ErrExtraAttrs), else list_file, else ErrNoSource. dbOpts are the
// database timeouts.
func SourceFrom(d kamcfg.Dispatcher, opts Options, dbOpts db.Options) (Source, error) {
	if d.DBURL != "" {
		t, err := db.TableOf(d)
		if err != nil {
			return nil, err
		}
		return &DBSource{URL: d.DBURL, Table: t, DB: dbOpts, Options: opts}, nil
	}
	if d.ListFile != "" {
		return &FileSource{Path: d.ListFile, Options: opts}, nil
	}
	return nil, ErrNoSource
}

// ReloadFrom is dispatcher.reload (spec §6.5, §2.8): it loads src aside and
// swaps the new snapshot in only on success, carrying the state of
// unchanged destinations (Carry). A failed load keeps the old snapshot and
// returns why, wrapping ErrLoad. It returns how many destinations kept
// their state and the load's problems. Concurrent calls run one after the
// other, so an older load never replaces a newer one; readers are never
// blocked. At start-up call src.Load directly: there a failure is fatal.
// Skipped destinations (ds_load_mode 0) are Warning problems and the reload
// succeeds; 5.6.3 answers 500 "Reload Failed" for skipped DB rows although
// it activates the list (§2.8 DB reload quirk, fixed in 6.1) — the RPC
// handler decides whether to mimic that.
func (st *Store) ReloadFrom(ctx context.Context, src Source) (int, []Problem, error) {
	st.reloadMu.Lock()
	defer st.reloadMu.Unlock()
	next, probs, err := src.Load(ctx)
	if err != nil {
		return 0, probs, fmt.Errorf("reload %s: %w", src, err)
	}
	return st.Swap(next), probs, nil
}

func withContext(o Options, ctx context.Context) Options {
	if o.Context == nil {
		o.Context = ctx
	}
	return o
}
