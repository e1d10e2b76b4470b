package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/db"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want db.URL
		err  error
	}{
		{"sqlite absolute", "sqlite:////var/lib/kamailio/k.db", db.URL{Dialect: db.SQLite, Database: "/var/lib/kamailio/k.db"}, nil},
		{"sqlite relative verbatim", "sqlite:///etc/kamailio/k.db", db.URL{Dialect: db.SQLite, Database: "etc/kamailio/k.db"}, nil},
		{"postgres user host db", "postgres://user@host/db", db.URL{Dialect: db.Postgres, User: "user", Host: "host", Database: "db"}, nil},
		{"postgres full", "postgres://kamailio:pw@127.0.0.1:5432/kamailio", db.URL{Dialect: db.Postgres, User: "kamailio", Password: "pw", Host: "127.0.0.1", Port: 5432, Database: "kamailio"}, nil},
		{"mysql", "mysql://user:pass@host/db", db.URL{Dialect: db.MySQL, User: "user", Password: "pass", Host: "host", Database: "db"}, nil},
		{"mysql port", "mysql://kamailio:kamailiorw@localhost:3306/kamailio", db.URL{Dialect: db.MySQL, User: "kamailio", Password: "kamailiorw", Host: "localhost", Port: 3306, Database: "kamailio"}, nil},
		{"ipv6 host", "postgres://u@[::1]:5433/d", db.URL{Dialect: db.Postgres, User: "u", Host: "::1", Port: 5433, Database: "d"}, nil},
		{"no credentials", "mysql://db.example/k", db.URL{Dialect: db.MySQL, Host: "db.example", Database: "k"}, nil},
		{"postgresql scheme", "postgresql://u:secret@h/d", db.URL{}, db.ErrUnsupportedURL},
		{"text scheme", "text:///var/lib/kamailio/dbtext", db.URL{}, db.ErrUnsupportedURL},
		{"mysql group", "mysql://u:secret@[grp]host/db", db.URL{}, db.ErrUnsupportedURL},
		{"no scheme", "/var/lib/k.db", db.URL{}, db.ErrBadURL},
		{"empty", "", db.URL{}, db.ErrBadURL},
		{"no database", "mysql://u:secret@host", db.URL{}, db.ErrBadURL},
		{"empty database", "mysql://u:secret@host/", db.URL{}, db.ErrBadURL},
		{"bad port", "postgres://u:secret@host:99999/d", db.URL{}, db.ErrBadURL},
		{"sqlite with host", "sqlite://host/k.db", db.URL{}, db.ErrBadURL},
		{"unclosed bracket", "postgres://u:secret@[::1/d", db.URL{}, db.ErrBadURL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.ParseURL(c.in)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"password", "mysql://u:secret@h:3306/d", "mysql://u:xxxxx@h:3306/d"},
		{"no password", "postgres://u@h/d", "postgres://u@h/d"},
		{"ipv6", "postgres://u:secret@[::1]:5432/d", "postgres://u:xxxxx@[::1]:5432/d"},
		{"sqlite", "sqlite:////a/b.db", "sqlite:////a/b.db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := db.ParseURL(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Redacted(); got != c.want {
				t.Fatalf("Redacted %q, want %q", got, c.want)
			}
			if got := db.RedactURL(c.in); got != c.want {
				t.Fatalf("RedactURL %q, want %q", got, c.want)
			}
		})
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{"mysql://u:secret@127.0.0.1:1/d", "postgres://u:secret@127.0.0.1:1/d"} {
		_, err := db.Open(ctx, u, db.Options{ConnectTimeout: time.Second})
		if !errors.Is(err, db.ErrOpen) || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("%s: %v", db.RedactURL(u), err)
		}
	}
}

func TestParseExtraAttrs(t *testing.T) {
	cases := []struct {
		name, in string
		want     []db.ExtraAttr
		wantErr  bool
	}{
		{"empty", "", nil, false},
		{"one", "socket=sockcol", []db.ExtraAttr{{"socket", "sockcol"}}, false},
		{"trailing semicolon", "socket=sockcol;", []db.ExtraAttr{{"socket", "sockcol"}}, false},
		{"two with blanks", "a = ca ; b=cb", []db.ExtraAttr{{"a", "ca"}, {"b", "cb"}}, false},
		{"no column", "a=", nil, true},
		{"no equals", "a", nil, true},
		{"no name", "=c", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.ParseExtraAttrs(c.in)
			if c.wantErr {
				if !errors.Is(err, db.ErrExtraAttrs) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("got %v, %v", got, err)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

// FuzzParseURL checks that no input makes ParseURL or RedactURL panic and
// that a parsed URL never shows its password when redacted.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite:////a.db", "mysql://u:p@[g]h/d", "postgres://u:p@[::1]:1/d", "://", "a://@/", "mysql://:@:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = db.RedactURL(s)
		u, err := db.ParseURL(s)
		if err == nil && u.Password != "" && strings.Contains(u.Redacted(), ":"+u.Password+"@") && u.Password != "xxxxx" {
			t.Fatalf("%q redacted as %q", s, u.Redacted())
		}
	})
}
