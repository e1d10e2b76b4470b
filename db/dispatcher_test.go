package db_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/db/dbtest"
)

func byID(rs []db.DispatcherRow) []db.DispatcherRow {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	for i := range rs {
		rs[i].Pos = 0
	}
	return rs
}

const versionTable = "CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL)"

// customTable uses every naming modparam, nullable columns, an extra
// attribute column and rows as found in real dumps (NULLs, no sip:).
var customTable = []string{
	versionTable,
	"INSERT INTO version (table_name, table_version) VALUES ('gw_list', 4)",
	"CREATE TABLE gw_list (id INTEGER PRIMARY KEY, grp INTEGER, uri VARCHAR(192), fl INTEGER, prio INTEGER, att VARCHAR(128), sockcol VARCHAR(64), description VARCHAR(64))",
	"INSERT INTO gw_list (id, grp, uri, fl, prio, att, sockcol, description) VALUES (1, 1, 'sip:10.0.0.1:5060', 0, 0, 'duid=a', NULL, 'gw one')",
	"INSERT INTO gw_list (id, grp, uri, fl, prio, att, sockcol, description) VALUES (2, 1, '10.0.0.2:5060', 8, 5, NULL, 'udp:1.2.3.4:5060', NULL)",
	"INSERT INTO gw_list (id, grp, uri, fl, prio, att, sockcol, description) VALUES (3, NULL, 'sip:10.0.0.3', NULL, NULL, 'weight=5;', '', NULL)",
	"INSERT INTO gw_list (id, grp, uri, fl, prio, att, sockcol, description) VALUES (4, -3, NULL, 16, -1, '', NULL, NULL)",
}

func customSpec() db.Table {
	return db.Table{Name: "gw_list", SetIDCol: "grp", DestinationCol: "uri", FlagsCol: "fl",
		PriorityCol: "prio", AttrsCol: "att", ExtraAttrs: []db.ExtraAttr{{Name: "socket", Column: "sockcol"}}}
}

func TestReadDispatcher(t *testing.T) {
	type tc struct {
		name    string
		setup   []string
		table   db.Table
		want    []db.DispatcherRow
		wantErr error
		errHas  []string
	}
	v := func(n string) []string {
		return []string{versionTable, "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', " + n + ")",
			"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid INTEGER, destination VARCHAR(192), flags INTEGER, priority INTEGER, attrs VARCHAR(128))",
			"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (9, 2, 'sip:h', 3, 4, 'a=1')"}
	}
	cases := []tc{
		{name: "custom table and columns, NULLs, extra attrs", setup: customTable, table: customSpec(),
			want: []db.DispatcherRow{
				{ID: 1, SetID: 1, Destination: "sip:10.0.0.1:5060", Attrs: "duid=a;"},
				{ID: 2, SetID: 1, Destination: "10.0.0.2:5060", Flags: 8, Priority: 5, Attrs: "socket=udp:1.2.3.4:5060;"},
				{ID: 3, Destination: "sip:10.0.0.3", Attrs: "weight=5;", NullColumns: []string{"grp", "fl", "prio"}},
				{ID: 4, SetID: -3, Flags: 16, Priority: -1, DestinationNull: true},
			}},
		{name: "version 1 reads setid and destination", setup: v("1"),
			want: []db.DispatcherRow{{ID: 9, SetID: 2, Destination: "sip:h"}}},
		{name: "version 2 adds flags", setup: v("2"),
			want: []db.DispatcherRow{{ID: 9, SetID: 2, Destination: "sip:h", Flags: 3}}},
		{name: "version 3 adds priority, ignores attrs", setup: v("3"),
			want: []db.DispatcherRow{{ID: 9, SetID: 2, Destination: "sip:h", Flags: 3, Priority: 4}}},
		{name: "version 3 ignores extra attrs", setup: v("3"), table: db.Table{ExtraAttrs: []db.ExtraAttr{{Name: "x", Column: "nosuchcol"}}},
			want: []db.DispatcherRow{{ID: 9, SetID: 2, Destination: "sip:h", Flags: 3, Priority: 4}}},
		{name: "version 4 reads attrs", setup: v("4"),
			want: []db.DispatcherRow{{ID: 9, SetID: 2, Destination: "sip:h", Flags: 3, Priority: 4, Attrs: "a=1"}}},
		{name: "version 5 refused", setup: v("5"), wantErr: db.ErrTableVersion, errHas: []string{"dispatcher", "found 5"}},
		{name: "version 0 refused", setup: v("0"), wantErr: db.ErrTableVersion, errHas: []string{"found 0"}},
		{name: "no version row", setup: []string{versionTable, "CREATE TABLE dispatcher (id INTEGER, setid INTEGER, destination VARCHAR(10))"},
			wantErr: db.ErrTableVersion, errHas: []string{"dispatcher", "found 0"}},
		{name: "two version rows", setup: append(v("4"), "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 4)"),
			wantErr: db.ErrTableVersion, errHas: []string{"2 rows"}},
		{name: "no version table", setup: nil, wantErr: db.ErrQuery, errHas: []string{"dispatcher"}},
		{name: "version row for another table name", setup: v("4"), table: db.Table{Name: "ds"},
			wantErr: db.ErrTableVersion, errHas: []string{"table ds"}},
		{name: "missing column", setup: v("4"), table: db.Table{AttrsCol: "nope"},
			wantErr: db.ErrQuery, errHas: []string{"table dispatcher"}},
		{name: "non-integer setid names table and row id",
			setup: []string{versionTable, "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 4)",
				"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid VARCHAR(10), destination VARCHAR(192), flags INTEGER, priority INTEGER, attrs VARCHAR(128))",
				"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (1, '1', 'sip:a', 0, 0, '')",
				"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs) VALUES (42, 'x1', 'sip:b', 0, 0, '')"},
			wantErr: db.ErrRow, errHas: []string{"table dispatcher row id 42", "setid", `"x1"`}},
		{name: "table without id column names the row position",
			setup: []string{versionTable, "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 2)",
				"CREATE TABLE dispatcher (setid INTEGER, destination VARCHAR(192), flags VARCHAR(20))",
				"INSERT INTO dispatcher (setid, destination, flags) VALUES (1, 'sip:a', '99999999999')"},
			wantErr: db.ErrRow, errHas: []string{"table dispatcher row 1", "flags"}},
		{name: "extra attrs too long",
			setup: []string{versionTable, "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 4)",
				"CREATE TABLE dispatcher (id INTEGER PRIMARY KEY, setid INTEGER, destination VARCHAR(192), flags INTEGER, priority INTEGER, attrs VARCHAR(1000), big VARCHAR(1000))",
				"INSERT INTO dispatcher (id, setid, destination, flags, priority, attrs, big) VALUES (7, 1, 'sip:a', 0, 0, '" + strings.Repeat("a", 600) + "', '" + strings.Repeat("b", 600) + "')"},
			table:   db.Table{ExtraAttrs: []db.ExtraAttr{{Name: "big", Column: "big"}}},
			wantErr: db.ErrRow, errHas: []string{"table dispatcher row id 7", "1023"}},
		{name: "empty table", setup: v("4")[:3], want: nil},
	}
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h, _ := dbtest.Open(t, d)
				dbtest.Exec(t, h, c.setup...)
				got, err := h.ReadDispatcher(dbtest.Context(t), c.table)
				if c.wantErr != nil {
					if !errors.Is(err, c.wantErr) {
						t.Fatalf("err %v, want %v", err, c.wantErr)
					}
					for _, s := range c.errHas {
						if !strings.Contains(err.Error(), s) {
							t.Fatalf("error %q lacks %q", err, s)
						}
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got = byID(got); !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got  %+v\nwant %+v", got, c.want)
				}
			})
		}
	})
}

func TestTableVersionAndExists(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d db.Dialect) {
		h, _ := dbtest.Open(t, d)
		if ok, err := h.TableExists(dbtest.Context(t), "version"); ok || err != nil {
			t.Fatalf("exists before create: %v %v", ok, err)
		}
		dbtest.Exec(t, h, versionTable, "INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 3)")
		if ok, err := h.TableExists(dbtest.Context(t), "version"); !ok || err != nil {
			t.Fatalf("exists after create: %v %v", ok, err)
		}
		if v, found, err := h.TableVersion(dbtest.Context(t), "dispatcher"); v != 3 || !found || err != nil {
			t.Fatalf("version %d %v %v", v, found, err)
		}
		if v, found, err := h.TableVersion(dbtest.Context(t), "other"); v != 0 || found || err != nil {
			t.Fatalf("missing version %d %v %v", v, found, err)
		}
	})
}

func TestQueryTimeout(t *testing.T) {
	h, _ := dbtest.Open(t, db.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.ReadDispatcher(ctx, db.Table{}); err == nil {
		t.Fatal("canceled context: no error")
	}
}
