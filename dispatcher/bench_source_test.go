package dispatcher

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/db/dbtest"
	"github.com/kamsidecar/kamsidecar/migrations"
)

// benchDest is the i-th generated destination: 100 sets, IPv4 literals,
// priorities and attrs varied (spec §2.1 columns). gen shifts the address
// so that another generation reads as a different destination.
func benchDest(i, gen int) (setid int, uri string, prio int, attrs string) {
	n := i + gen*1_000_000
	return i%100 + 1, fmt.Sprintf("sip:10.%d.%d.%d:5060", n>>16&255, n>>8&255, n&255), i % 7, fmt.Sprintf("duid=d%d;weight=%d", i, i%10+1)
}

// benchList writes a list file of n destinations in which every
// changeEvery-th destination (0: none) comes from another generation.
func benchList(b *testing.B, n, changeEvery int) string {
	b.Helper()
	var sb strings.Builder
	for i := range n {
		gen := 0
		if changeEvery > 0 && i%changeEvery == 0 {
			gen = 1
		}
		setid, uri, prio, attrs := benchDest(i, gen)
		fmt.Fprintf(&sb, "%d %s 0 %d %s\n", setid, uri, prio, attrs)
	}
	path := filepath.Join(b.TempDir(), fmt.Sprintf("d%d_%d.list", n, changeEvery))
	writeList(b, path, sb.String())
	return path
}

func benchSource(b *testing.B, src Source, n int) {
	ctx := context.Background()
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _, err := src.Load(ctx)
			if err != nil || s.Destinations() != n {
				b.Fatal(err, s.Destinations())
			}
		}
	})
	b.Run("reload", func(b *testing.B) {
		st := NewStore(nil)
		if _, _, err := st.ReloadFrom(ctx, src); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			kept, _, err := st.ReloadFrom(ctx, src)
			if err != nil || kept != n {
				b.Fatal(err, kept)
			}
		}
	})
}

// BenchmarkSourceFile loads and reloads (state carried) 100,000
// destinations from a list file (spec §2, §2.8).
func BenchmarkSourceFile(b *testing.B) {
	const n = 100_000
	benchSource(b, &FileSource{Path: benchList(b, n, 0), Options: srcOptions(0)}, n)
}

// BenchmarkSourceDB loads and reloads 100,000 destinations from the
// dispatcher table of each database (spec §3); PostgreSQL and MariaDB are
// skipped when unreachable outside CI.
func BenchmarkSourceDB(b *testing.B) {
	const n = 100_000
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			h, url := dbtest.Open(b, d)
			ctx := context.Background()
			if _, err := migrations.ApplyDB(ctx, h); err != nil {
				b.Fatal(err)
			}
			tx, err := h.X.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 1000
			for start := 0; start < n; start += batch {
				var sb strings.Builder
				sb.WriteString("INSERT INTO dispatcher (setid, destination, flags, priority, attrs) VALUES ")
				for i := start; i < start+batch; i++ {
					setid, uri, prio, attrs := benchDest(i, 0)
					if i > start {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, "(%d, '%s', 0, %d, '%s')", setid, uri, prio, attrs)
				}
				if _, err := tx.ExecContext(ctx, sb.String()); err != nil {
					_ = tx.Rollback()
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			benchSource(b, &DBSource{URL: url, Table: db.DefaultTable(), Options: srcOptions(0)}, n)
		})
	}
}

// BenchmarkReloadChanged reloads 10,000 destinations from a list file in
// which 1% changed since the last load, alternately, so that 9,900 keep
// their state each time (Carry, spec §2.8).
func BenchmarkReloadChanged(b *testing.B) {
	const n = 10_000
	srcs := []Source{
		&FileSource{Path: benchList(b, n, 0), Options: srcOptions(0)},
		&FileSource{Path: benchList(b, n, 100), Options: srcOptions(0)},
	}
	ctx := context.Background()
	st := NewStore(nil)
	if _, _, err := st.ReloadFrom(ctx, srcs[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		kept, _, err := st.ReloadFrom(ctx, srcs[i%2])
		if err != nil || kept != n-n/100 {
			b.Fatal(err, kept)
		}
		i++
	}
}
