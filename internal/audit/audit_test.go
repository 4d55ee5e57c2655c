package audit_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

func fill(t *testing.T, d *db.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := audit.Record(context.Background(), d, audit.Entry{
			Actor: "operator:op1", Action: "person.read", Subject: "person:p" + string(rune('a'+i)),
			Region: "341881001", Detail: map[string]any{"i": i},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, d *db.DB) audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestChainDetectsTampering(t *testing.T) {
	tamper := []struct {
		name, sql, want string
	}{
		{"edited detail", `UPDATE audit_log SET detail = '{"i":99}' WHERE seq = 3`, "edited"},
		{"edited actor", `UPDATE audit_log SET actor = 'operator:someone-else' WHERE seq = 2`, "edited"},
		{"deleted middle", `DELETE FROM audit_log WHERE seq = 3`, "missing"},
		{"deleted last", `DELETE FROM audit_log WHERE seq = 5`, "removed from the end"},
		{"edited and rehashed", `UPDATE audit_log SET detail = '{}', hash = 'ab' WHERE seq = 2`, "link"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				fill(t, d, 5)
				if r := verify(t, d); !r.OK || r.Entries != 5 {
					t.Fatalf("untouched log: %+v", r)
				}
				if _, err := d.ExecContext(context.Background(), tc.sql); err != nil {
					t.Fatal(err)
				}
				r := verify(t, d)
				if r.OK {
					t.Fatalf("tampering not detected: %+v", r)
				}
				found := false
				for _, p := range r.Problems {
					found = found || strings.Contains(p.Reason, tc.want)
				}
				if !found {
					t.Fatalf("problems %+v do not mention %q", r.Problems, tc.want)
				}
			})
		})
	}
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := audit.Record(context.Background(), d, audit.Entry{Actor: "system", Action: "x", Subject: "s", Region: "34"}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if r := verify(t, d); !r.OK || r.Entries != 40 {
			t.Fatalf("after concurrent appends: %+v", r)
		}
	})
}

func TestRolledBackChangeLeavesNoEntry(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d, 1)
		d.InTx(ctx, func(tx db.Tx) error {
			if _, err := audit.Append(ctx, tx, audit.Entry{Actor: "system", Action: "x", Subject: "s", Region: "34"}); err != nil {
				t.Fatal(err)
			}
			return context.Canceled // the change fails, so its audit entry must go too
		})
		fill(t, d, 1)
		if r := verify(t, d); !r.OK || r.Entries != 2 {
			t.Fatalf("after a rolled-back append: %+v", r)
		}
	})
}

func TestListIsScoped(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, region := range []string{"341881001", "341881100", "340102001"} {
			audit.Record(ctx, d, audit.Entry{Actor: "system", Action: "x", Subject: "s", Region: region})
		}
		got, err := audit.List(ctx, d, audit.Filter{Lo: "341881", Hi: "341882"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Region != "341881100" || got[1].Region != "341881001" {
			t.Fatalf("scoped list = %+v", got)
		}
		all, _ := audit.List(ctx, d, audit.Filter{})
		if len(all) != 3 {
			t.Fatalf("unscoped list has %d entries, want 3", len(all))
		}
	})
}
