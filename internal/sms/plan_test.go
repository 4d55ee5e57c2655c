package sms_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/sms"
)

// TestOutboxByPhoneUsesItsIndex asks PostgreSQL how it plans reading one
// phone's messages from a large outbox, in the plan a prepared statement
// settles on after a few runs (the generic plan, made once for every
// value): through the index on to_hash, never a scan of the whole outbox,
// for the whole region and for a town alike.
func TestOutboxByPhoneUsesItsIndex(t *testing.T) {
	d := dbtest.NewPostgres(t)
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `INSERT INTO sms_outbox (id, to_hash, to_enc, region_code, purpose, body, created_at, state)
		SELECT i, decode(lpad(to_hex(i % 20000), 8, '0'), 'hex'), '\x00', '34188100' || (i % 9), 'otp', 'code', i, 'delivered'
		FROM generate_series(1, 200000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE sms_outbox`); err != nil {
		t.Fatal(err)
	}
	conn, err := d.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	phone := []byte{0, 0, 0x12, 0x34}
	for i, f := range []sms.Filter{
		{Before: 1 << 62, Limit: 100},
		{Before: 1 << 62, Limit: 100, Lo: "341881003", Hi: "341881004"},
		{Before: 1 << 62, Limit: 100, State: "delivered"},
	} {
		query, args := sms.ListQuery(f, phone)
		name := "outbox_by_phone_" + string(rune('a'+i))
		if _, err := conn.ExecContext(ctx, `PREPARE `+name+` AS `+query); err != nil {
			t.Fatal(err)
		}
		// EXECUTE takes no bound parameters: the values as literals.
		params := make([]string, len(args))
		for j, a := range args {
			switch v := a.(type) {
			case []byte:
				params[j] = `'\x` + hex.EncodeToString(v) + `'::bytea`
			case string:
				params[j] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			default:
				params[j] = fmt.Sprint(v)
			}
		}
		rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE `+name+`(`+strings.Join(params, ", ")+`)`)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if !strings.Contains(plan.String(), "sms_outbox_to") || strings.Contains(plan.String(), "Seq Scan") {
			t.Errorf("filter %+v: the outbox by phone is not read through its index:\n%s", f, plan.String())
		}
	}
}
