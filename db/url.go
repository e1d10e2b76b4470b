// Package db reads Kamailio's dispatcher table the way the dispatcher
// module of Kamailio 5.6.3 does (shared/spec/dispatcher.md §3): it parses
// Kamailio's db_url, opens SQLite, PostgreSQL or MySQL/MariaDB with bounded
// timeouts, checks the table's row in Kamailio's `version` table and returns
// plain rows. It knows SQL dialects and the table layout, nothing about
// probing or dispatching.
package db

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Dialect is the SQL dialect of a database, named like Kamailio's db_url
// scheme (db_<scheme> is the module; dispatcher.md §3.4).
type Dialect string

// The dialects kamsidecar reads and provisions (dispatcher.md §3.1, §3.4).
const (
	// SQLite is db_sqlite, opened with the pure Go modernc.org/sqlite.
	SQLite Dialect = "sqlite"
	// Postgres is db_postgres (the scheme is "postgres", not "postgresql").
	Postgres Dialect = "postgres"
	// MySQL is db_mysql, which also serves MariaDB.
	MySQL Dialect = "mysql"
)

// Sentinel errors of URL parsing, wrapped with %w so callers can test them
// with errors.Is.
var (
	// ErrUnsupportedURL: the db_url names a scheme (driver) kamsidecar
	// cannot read, e.g. text:// or redis:// (dispatcher.md §3.4).
	ErrUnsupportedURL = errors.New("unsupported db_url")
	// ErrBadURL: the db_url does not follow Kamailio's syntax.
	ErrBadURL = errors.New("bad db_url")
)

// URL is a parsed Kamailio db_url, scheme://[user[:password]@]host[:port]/database
// (dispatcher.md §3.4, cli.md "kamsidecar migrate").
type URL struct {
	// Dialect is the scheme.
	Dialect Dialect
	// User and Password are the credentials ("" when absent).
	User, Password string
	// Host is the server host (IPv6 without brackets); "" means the
	// client library's default (for SQLite always "").
	Host string
	// Port is the server port; 0 means the dialect's default.
	Port int
	// Database is the database name, or for SQLite the file name: the
	// text after the third slash, used verbatim (sqlite:////abs/k.db is
	// /abs/k.db, sqlite:///k.db is k.db relative to the working directory).
	Database string
}

// Redacted returns the URL as Kamailio's syntax with the password replaced
// by "xxxxx", for logs and error messages.
func (u URL) Redacted() string {
	var b strings.Builder
	b.WriteString(string(u.Dialect))
	b.WriteString("://")
	if u.User != "" || u.Password != "" {
		b.WriteString(u.User)
		if u.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteByte('@')
	}
	if strings.Contains(u.Host, ":") {
		b.WriteString("[" + u.Host + "]")
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != 0 {
		b.WriteString(":" + strconv.Itoa(u.Port))
	}
	b.WriteByte('/')
	b.WriteString(u.Database)
	return b.String()
}

// RedactURL returns raw with the password of a Kamailio-style URL hidden, for
// error messages about URLs that did not parse (best effort, never panics).
func RedactURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := len(rest)
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		end = j
	}
	auth := rest[:end]
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return raw
	}
	cred := auth[:at]
	if c := strings.IndexByte(cred, ':'); c >= 0 {
		cred = cred[:c] + ":xxxxx"
	}
	return raw[:i+3] + cred + rest[at:]
}

// ParseURL parses a Kamailio db_url (dispatcher.md §3.4) for the sqlite,
// postgres and mysql schemes. Other schemes fail with ErrUnsupportedURL,
// malformed URLs with ErrBadURL; both messages carry the URL without its
// password. MySQL option groups (mysql://[group]host/db) are refused: they
// need my.cnf, which kamsidecar does not read.
func ParseURL(raw string) (URL, error) {
	bad := func(why string) (URL, error) {
		return URL{}, fmt.Errorf("%w %q: %s", ErrBadURL, RedactURL(raw), why)
	}
	i := strings.Index(raw, "://")
	if i <= 0 {
		return bad("want scheme://[user[:password]@]host[:port]/database")
	}
	var u URL
	switch scheme := raw[:i]; scheme {
	case "sqlite":
		u.Dialect = SQLite
	case "postgres":
		u.Dialect = Postgres
	case "mysql":
		u.Dialect = MySQL
	default:
		return URL{}, fmt.Errorf("%w %q: scheme %q (kamsidecar reads sqlite, postgres and mysql)", ErrUnsupportedURL, RedactURL(raw), scheme)
	}
	rest := raw[i+3:]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return bad("no /database after the host")
	}
	auth := rest[:slash]
	u.Database = rest[slash+1:]
	if u.Database == "" {
		return bad("empty database name")
	}
	if strings.ContainsRune(u.Database, 0) {
		return bad("NUL in the database name")
	}
	if u.Dialect == SQLite {
		if auth != "" {
			return bad("sqlite takes no host: write sqlite:///file or sqlite:////absolute/file")
		}
		if strings.ContainsRune(u.Database, '?') {
			return bad("'?' in the sqlite file name is not supported")
		}
		return u, nil
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		cred := auth[:at]
		auth = auth[at+1:]
		if c := strings.IndexByte(cred, ':'); c >= 0 {
			u.User, u.Password = cred[:c], cred[c+1:]
		} else {
			u.User = cred
		}
	}
	hostport := auth
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return bad("unclosed '['")
		}
		inside := hostport[1:end]
		if net.ParseIP(inside) == nil {
			if u.Dialect == MySQL {
				return URL{}, fmt.Errorf("%w %q: mysql option group [%s] (my.cnf) is not supported", ErrUnsupportedURL, RedactURL(raw), inside)
			}
			return bad("bad IPv6 address [" + inside + "]")
		}
		u.Host = inside
		hostport = hostport[end+1:]
		if hostport != "" && hostport[0] != ':' {
			return bad("junk after ']'")
		}
		if hostport != "" {
			p, err := parsePort(hostport[1:])
			if err != nil {
				return bad(err.Error())
			}
			u.Port = p
		}
		return u, nil
	}
	if c := strings.IndexByte(hostport, ':'); c >= 0 {
		p, err := parsePort(hostport[c+1:])
		if err != nil {
			return bad(err.Error())
		}
		u.Host, u.Port = hostport[:c], p
	} else {
		u.Host = hostport
	}
	return u, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return p, nil
}
