package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Default timeouts of Open when Options leaves them zero.
const (
	// DefaultConnectTimeout bounds connecting and the first ping.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultQueryTimeout bounds each query issued by this package.
	DefaultQueryTimeout = 10 * time.Second
)

// ErrOpen wraps every failure to open or reach a database.
var ErrOpen = errors.New("cannot open database")

// Options are the timeouts of Open; zero fields take the defaults.
type Options struct {
	// ConnectTimeout bounds dialling and the initial ping.
	ConnectTimeout time.Duration
	// QueryTimeout bounds every query of ReadDispatcher, TableVersion and
	// migrations.Apply.
	QueryTimeout time.Duration
}

// DB is an open database with its dialect and query timeout. Kamailio opens
// the connection only for a load and closes it right after (dispatcher.md
// §3.2); callers should do the same with Open and Close.
type DB struct {
	// X is the underlying handle (placeholders are '?', rebind with X.Rebind).
	X *sqlx.DB
	// URL is the parsed db_url.
	URL URL
	// QueryTimeout bounds each query.
	QueryTimeout time.Duration
}

// Dialect is the database's dialect.
func (d *DB) Dialect() Dialect { return d.URL.Dialect }

// Close closes the database.
func (d *DB) Close() error { return d.X.Close() }

// QueryContext derives the context of one query: ctx bounded by QueryTimeout.
func (d *DB) QueryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.QueryTimeout)
}

// driverDSN maps a parsed URL to a database/sql driver name and DSN.
func driverDSN(u URL, connect time.Duration) (string, string) {
	switch u.Dialect {
	case Postgres:
		v := url.URL{Scheme: "postgres", Path: "/" + u.Database}
		if u.User != "" {
			if u.Password != "" {
				v.User = url.UserPassword(u.User, u.Password)
			} else {
				v.User = url.User(u.User)
			}
		}
		host := u.Host
		if u.Port != 0 {
			host = net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
		} else if host != "" && net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
			host = "[" + host + "]"
		}
		v.Host = host
		secs := int(connect / time.Second)
		if secs < 1 {
			secs = 1
		}
		q := url.Values{}
		q.Set("connect_timeout", strconv.Itoa(secs))
		// No statement cache: migrations change the tables read afterwards.
		q.Set("default_query_exec_mode", "exec")
		if u.Host == "" {
			q.Set("host", "/var/run/postgresql")
		}
		v.RawQuery = q.Encode()
		return "pgx", v.String()
	case MySQL:
		c := mysql.NewConfig()
		c.User, c.Passwd, c.DBName = u.User, u.Password, u.Database
		port := u.Port
		if port == 0 {
			port = 3306
		}
		host := u.Host
		if host == "" {
			host = "localhost"
		}
		c.Net, c.Addr = "tcp", net.JoinHostPort(host, strconv.Itoa(port))
		c.Timeout = connect
		return "mysql", c.FormatDSN()
	default:
		return "sqlite", u.Database + "?_pragma=busy_timeout(" + strconv.Itoa(int(connect/time.Millisecond)) + ")"
	}
}

// Open parses rawURL (Kamailio's db_url, dispatcher.md §3.4) and connects,
// bounded by ctx and opts.ConnectTimeout. Errors name the URL without its
// password and wrap ErrOpen, ErrBadURL or ErrUnsupportedURL.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenURL(ctx, u, opts)
}

// OpenURL is Open for an already parsed URL.
func OpenURL(ctx context.Context, u URL, opts Options) (*DB, error) {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	name, dsn := driverDSN(u, opts.ConnectTimeout)
	x, err := sqlx.Open(name, dsn)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrOpen, u.Redacted(), err)
	}
	if u.Dialect == SQLite {
		// One connection: a fresh in-memory or file handle per connection
		// would not see uncommitted schema changes of another.
		x.SetMaxOpenConns(1)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := x.PingContext(pctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("%w %s: %v", ErrOpen, u.Redacted(), err)
	}
	return &DB{X: x, URL: u, QueryTimeout: opts.QueryTimeout}, nil
}

// execer is what both *sqlx.DB and *sqlx.Tx offer.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
