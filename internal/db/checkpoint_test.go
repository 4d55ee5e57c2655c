package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// The writer does not checkpoint below 64 MiB of WAL; the background
// checkpointer copies committed pages into the database file meanwhile.
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	// About 8 MiB in 20 transactions: far below the writer's own mark.
	row := strings.Repeat("x", 4000)
	for i := range 20 {
		if err := d.InTx(ctx, func(tx db.Tx) error {
			for j := range 100 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i*100+j, row); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+7<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes (from %d): nothing was checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
