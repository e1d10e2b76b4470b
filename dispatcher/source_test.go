package dispatcher

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/db/dbtest"
	"github.com/kamsidecar/kamsidecar/kamcfg"
	"github.com/kamsidecar/kamsidecar/migrations"
)

func srcOptions(loadMode int) Options {
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	o.LoadMode = loadMode
	return o
}

func writeList(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// find returns the destination (setid, uri) of s, or nil.
func find(s *Sets, setid int, uri string) *Destination {
	set, ok := s.Set(setid)
	if !ok {
		return nil
	}
	for _, d := range set.All() {
		if d.URI == uri {
			return d
		}
	}
	return nil
}

// TestFileSourceReload reloads a list file that changes between loads:
// kept destinations keep their state (also when only their priority or
// flags column changed), removed ones vanish, added ones start fresh
// (spec §2.8, kamsidecar keeps state unlike 5.6.3).
func TestFileSourceReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dispatcher.list")
	writeList(t, path, "1 sip:1.1.1.1\n1 sip:2.2.2.2\n2 sip:3.3.3.3\n")
	src := &FileSource{Path: path, Options: srcOptions(0)}
	st := NewStore(nil)
	kept, probs, err := st.ReloadFrom(ctx, src)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	want(t, kept, 0)
	want(t, st.Sets().Destinations(), 3)

	one := find(st.Sets(), 1, "sip:1.1.1.1").State()
	one.SetFlags(FlagInactive)
	one.RecordProbe(false)
	three := find(st.Sets(), 2, "sip:3.3.3.3").State()
	three.RecordProbe(true)

	writeList(t, path, "1 sip:1.1.1.1 0 5\n2 sip:3.3.3.3\n2 sip:4.4.4.4\n")
	kept, probs, err = st.ReloadFrom(ctx, src)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	want(t, kept, 2)
	s := st.Sets()
	cases := []struct {
		name    string
		setid   int
		uri     string
		present bool
		state   *State // nil: a fresh state
	}{
		{"changed priority keeps state", 1, "sip:1.1.1.1", true, one},
		{"unchanged keeps state", 2, "sip:3.3.3.3", true, three},
		{"removed is gone", 1, "sip:2.2.2.2", false, nil},
		{"added starts fresh", 2, "sip:4.4.4.4", true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := find(s, c.setid, c.uri)
			if (d != nil) != c.present {
				t.Fatalf("present = %v, want %v", d != nil, c.present)
			}
			if d == nil {
				return
			}
			if c.state != nil {
				if d.State() != c.state {
					t.Fatal("state not carried")
				}
				return
			}
			want(t, d.State().Failures(), 0)
			want(t, d.State().Successes(), 0)
		})
	}
	want(t, find(s, 1, "sip:1.1.1.1").Priority, 5)
	want(t, one.Flags()&FlagInactive, FlagInactive)
	want(t, one.Failures(), 1)
}

// TestFileSourceReloadFailures checks spec §2.8's reload column: a missing
// or unreadable file, a bad line and a ds_load_mode 1 refusal keep the old
// sets and say why; ds_load_mode 0 skips and an empty file gives zero sets.
func TestFileSourceReloadFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		name     string
		text     string // "" with noFile: the file does not exist
		noFile   bool
		dir      bool // the path is a directory: open works, read fails
		loadMode int
		wantErr  error // nil: the reload is accepted
		wantDsts int   // after an accepted reload
		errHas   string
	}{
		{name: "missing file", noFile: true, wantErr: ErrRead, errHas: "can't open list file"},
		{name: "unreadable (a directory)", dir: true, wantErr: ErrRead},
		{name: "bad line", text: "1 sip:9.9.9.9\n2\n", wantErr: ErrBadLine, errHas: ":2:"},
		{name: "ds_load_mode 1 refuses a bad destination", text: "1 sip:9.9.9.9\n1 sip:[::1]\n", loadMode: 1,
			wantErr: ErrBadDestination, errHas: "IPv6"},
		{name: "ds_load_mode 0 skips a bad destination", text: "1 sip:9.9.9.9\n1 sip:[::1]\n", wantDsts: 1},
		{name: "empty file gives zero sets", text: "# nothing\n", wantDsts: 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			good := filepath.Join(dir, "good.list")
			writeList(t, good, "1 sip:1.1.1.1\n")
			st := NewStore(nil)
			if _, _, err := st.ReloadFrom(ctx, &FileSource{Path: good, Options: srcOptions(0)}); err != nil {
				t.Fatal(err)
			}
			old := st.Sets()
			path := filepath.Join(dir, "case"+string(rune('a'+i)))
			switch {
			case c.dir:
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			case !c.noFile:
				writeList(t, path, c.text)
			}
			_, _, err := st.ReloadFrom(ctx, &FileSource{Path: path, Options: srcOptions(c.loadMode)})
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				want(t, st.Sets().Destinations(), c.wantDsts)
				return
			}
			if !errors.Is(err, ErrLoad) || !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v and %v", err, ErrLoad, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.errHas) || !strings.HasPrefix(err.Error(), "reload "+path) {
				t.Fatalf("err = %q, want it to name %s and contain %q", err, path, c.errHas)
			}
			if st.Sets() != old {
				t.Fatal("a failed reload replaced the sets")
			}
		})
	}
}

// TestRowEntries checks the DB row → Entry mapping (spec §3.2): origins
// name table and row, NULL columns are warnings, empty attrs are no attrs.
func TestRowEntries(t *testing.T) {
	cases := []struct {
		name      string
		row       db.DispatcherRow
		want      Entry
		wantProbs []string
	}{
		{name: "plain row", row: db.DispatcherRow{ID: 42, Pos: 1, SetID: 3, Destination: "sip:h", Flags: 8, Priority: 2, Attrs: "duid=a"},
			want: Entry{Source: "table dispatcher row id 42", SetID: 3, URI: "sip:h", Flags: 8, Priority: 2, Attrs: "duid=a", HasAttrs: true}},
		{name: "no id names the position", row: db.DispatcherRow{Pos: 7, SetID: 1, Destination: "sip:h"},
			want: Entry{Source: "table dispatcher row 7", SetID: 1, URI: "sip:h"}},
		{name: "NULL columns warn", row: db.DispatcherRow{ID: 5, Pos: 2, DestinationNull: true, NullColumns: []string{"setid", "priority"}},
			want: Entry{Source: "table dispatcher row id 5"},
			wantProbs: []string{"table dispatcher row id 5: destination column is NULL",
				"table dispatcher row id 5: column setid is NULL, read as 0",
				"table dispatcher row id 5: column priority is NULL, read as 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, ps := RowEntries("dispatcher", []db.DispatcherRow{c.row})
			want(t, len(es), 1)
			want(t, es[0], c.want)
			want(t, len(ps), len(c.wantProbs))
			for i, p := range ps {
				want(t, p.String(), c.wantProbs[i])
				want(t, p.Severity, Warning)
			}
		})
	}
}

// TestSourceFrom checks that db_url wins over list_file (spec §1.1).
func TestSourceFrom(t *testing.T) {
	cases := []struct {
		name    string
		cfg     kamcfg.Dispatcher
		want    string
		wantErr error
	}{
		{name: "list file", cfg: kamcfg.Dispatcher{ListFile: "/etc/kamailio/dispatcher.list"}, want: "/etc/kamailio/dispatcher.list"},
		{name: "db_url wins", cfg: kamcfg.Dispatcher{ListFile: "x", DBURL: "mysql://u:secret@h/k", TableName: "gw"}, want: "table gw at mysql://u:xxxxx@h/k"},
		{name: "bad extra attrs", cfg: kamcfg.Dispatcher{DBURL: "sqlite:////x.db", DSDBExtraAttrs: "a=;b"}, wantErr: db.ErrExtraAttrs},
		{name: "neither", wantErr: ErrNoSource},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := SourceFrom(c.cfg, srcOptions(0), db.Options{})
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want(t, src.String(), c.want)
		})
	}
}

func execDB(t testing.TB, h *db.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := h.X.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestDBSource loads the dispatcher table of each real database (spec §3),
// reloads after a change keeping state, and checks that an unreachable
// database, a dropped table and a ds_load_mode 1 refusal keep the old sets
// (§2.8).
func TestDBSource(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, url := dbtest.Open(t, d)
		if _, err := migrations.ApplyDB(ctx, h); err != nil {
			t.Fatal(err)
		}
		execDB(t, h,
			"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (1, 1, 'sip:10.0.0.1:5060', 0, 0, 'duid=a')",
			"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (2, 1, 'sip:10.0.0.2:5060', 0, 5, '')",
			"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (42, 2, 'sip:[::1]', 0, 0, '')")
		src := &DBSource{URL: url, Table: db.DefaultTable(), Options: srcOptions(0)}
		st := NewStore(nil)
		_, probs, err := st.ReloadFrom(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		want(t, len(probs), 1)
		want(t, probs[0].Source, "table dispatcher row id 42")
		want(t, st.Sets().Destinations(), 2)
		d1 := find(st.Sets(), 1, "sip:10.0.0.1:5060")
		if d1 == nil {
			t.Fatal("row 1 missing")
		}
		want(t, d1.Source, "table dispatcher row id 1")
		d1.State().RecordProbe(false)

		execDB(t, h, "DELETE FROM dispatcher WHERE id = 2",
			"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (3, 3, 'sip:10.0.0.3', 0, 0, '')")
		kept, _, err := st.ReloadFrom(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		want(t, kept, 1)
		want(t, find(st.Sets(), 1, "sip:10.0.0.1:5060").State(), d1.State())
		if find(st.Sets(), 1, "sip:10.0.0.2:5060") != nil || find(st.Sets(), 3, "sip:10.0.0.3") == nil {
			t.Fatal("reload did not apply the table's changes")
		}
		good := st.Sets()

		wrong := url + "_nosuch"
		if d == db.SQLite {
			wrong = "sqlite:///" + filepath.Join(t.TempDir(), "nosuchdir", "x.db")
		}
		down := strings.Replace(url, "@"+dbtest.PostgresHostPort, "@127.0.0.1:1", 1)
		down = strings.Replace(down, "@"+dbtest.MySQLHostPort, "@127.0.0.1:1", 1)
		if d == db.SQLite {
			down = wrong
		}
		fails := []struct {
			name  string
			src   *DBSource
			setup []string
			cause error
		}{
			{name: "server down", src: &DBSource{URL: down, Options: srcOptions(0), DB: db.Options{ConnectTimeout: 3 * time.Second}}, cause: db.ErrOpen},
			{name: "wrong url", src: &DBSource{URL: wrong, Options: srcOptions(0), DB: db.Options{ConnectTimeout: 3 * time.Second}}},
			{name: "ds_load_mode 1", src: &DBSource{URL: url, Options: srcOptions(1)}, cause: ErrBadDestination},
			{name: "table version 5", src: src, setup: []string{"UPDATE version SET table_version = 5 WHERE table_name = 'dispatcher'"}, cause: db.ErrTableVersion},
			{name: "dropped table", src: src, setup: []string{"UPDATE version SET table_version = 4 WHERE table_name = 'dispatcher'", "DROP TABLE dispatcher"}, cause: db.ErrQuery},
		}
		for _, f := range fails {
			t.Run(f.name, func(t *testing.T) {
				execDB(t, h, f.setup...)
				_, _, err := st.ReloadFrom(ctx, f.src)
				if !errors.Is(err, ErrLoad) || (f.cause != nil && !errors.Is(err, f.cause)) {
					t.Fatalf("err = %v, want %v (%v)", err, ErrLoad, f.cause)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatal("password in error")
				}
				t.Log(err)
				if st.Sets() != good {
					t.Fatal("a failed reload replaced the sets")
				}
			})
		}
	})
}

// TestReloadConcurrentReaders reads the snapshot and the states while
// reloads (good and broken) run; run with -race.
func TestReloadConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dispatcher.list")
	lists := []string{
		"1 sip:1.1.1.1\n1 sip:2.2.2.2\n2 sip:3.3.3.3\n",
		"1 sip:1.1.1.1\n2 sip:3.3.3.3\n2 sip:4.4.4.4 0 3\n",
		"1 sip:1.1.1.1\n7\n", // bad line: refused
	}
	writeList(t, path, lists[0])
	src := &FileSource{Path: path, Options: srcOptions(0)}
	st := NewStore(nil)
	if _, _, err := st.ReloadFrom(ctx, src); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				s := st.Sets()
				n := 0
				for set := range s.All() {
					for _, d := range set.All() {
						d.State().RecordProbe(n%2 == 0)
						_ = d.State().Flags()
						n++
					}
				}
				if n != s.Destinations() || n == 0 {
					t.Errorf("snapshot changed under a reader: %d vs %d", n, s.Destinations())
					return
				}
				reads.Add(1)
			}
		}()
	}
	var wmu sync.Mutex // the file is rewritten between loads
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wmu.Lock()
			writeList(t, path, lists[i%len(lists)])
			_, _, err := st.ReloadFrom(ctx, src)
			wmu.Unlock()
			if (err != nil) != (i%len(lists) == 2) {
				t.Errorf("reload %d: %v", i, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no reads")
	}
}
