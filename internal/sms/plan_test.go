package sms_test

import (
	"context"
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
	phone := []byte{0, 0, 0x12, 0x34}
	for _, f := range []sms.Filter{
		{Before: 1 << 62, Limit: 100},
		{Before: 1 << 62, Limit: 100, Lo: "341881003", Hi: "341881004"},
		{Before: 1 << 62, Limit: 100, State: "delivered"},
	} {
		query, args := sms.ListQuery(f, phone)
		plan := dbtest.GenericPlan(t, d, query, args...)
		if !strings.Contains(plan, "sms_outbox_to") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("filter %+v: the outbox by phone is not read through its index:\n%s", f, plan)
		}
	}
}
