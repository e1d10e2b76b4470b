package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/migrations"
)

// migrateTimeout bounds a whole migrate run (connect and every statement).
const migrateTimeout = 2 * time.Minute

// runMigrate is `kamsidecar migrate --db-url URL` (shared/spec/cli.md):
// create or upgrade the dispatcher table and its row in Kamailio's version
// table. A second run changes nothing and says so.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("db-url", "", "database in Kamailio's db_url syntax (sqlite:////path, postgres://user@host/db, mysql://user:pass@host/db)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dbURL == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "kamsidecar migrate: usage: kamsidecar migrate --db-url URL")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), migrateTimeout)
	defer cancel()
	h, err := db.Open(ctx, *dbURL, db.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar migrate: %v\n", err)
		return 1
	}
	defer h.Close()
	applied, err := migrations.ApplyDB(ctx, h)
	for _, a := range applied {
		fmt.Fprintf(stdout, "applied %s\n", a)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar migrate: %s: %v\n", h.URL.Redacted(), err)
		return 1
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s: up to date\n", h.URL.Redacted())
	}
	return 0
}
