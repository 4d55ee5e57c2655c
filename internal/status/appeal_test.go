package status

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// TestAutoGrantBesideRecord files an appeal that its evidence grants at
// once while a fact about someone else is recorded. Both store facts and
// append to the audit log: the grant takes the facts counter, and the record
// the audit head, after what the other took first, unless they take them in
// the same order, and PostgreSQL ends one of them as a deadlock. On
// PostgreSQL the test holds the audit head until both wait for it, the
// filing first, so that the filing, once it has it, needs the counter the
// record took.
func TestAutoGrantBesideRecord(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		p, other := f.person(""), f.person("")
		resident := &auth.Principal{Kind: auth.Resident, ID: f.phone(p, "13900000031")}
		tick := func() { f.clock.set(f.clock.now().Add(time.Minute)) }
		grant := func(in AppealInput) {
			t.Helper()
			tick()
			a, err := f.svc.FileAppeal(ctx, resident, "", in)
			if err != nil {
				t.Fatal(err)
			}
			tick()
			if _, err := f.svc.Decide(ctx, admin, a.ID, Decision{Decision: AppealGranted, Note: "核实无误"}); err != nil {
				t.Fatal(err)
			}
			tick()
		}

		// As in the server's TestAppealsBothWays: a close contact with a
		// negative test after it, granted; a fever-clinic visit after the
		// test, granted; then a visit before the test reported late, which
		// the test answers but the grants hide. Filed with the test, that
		// appeal is granted at once.
		rec(t, f.svc, p, fact.ContactClose, t0.Add(-2*time.Hour), nil)
		rec(t, f.svc, p, fact.NATResult, t0.Add(-time.Hour), negative)
		var test int64
		if err := d.QueryRowContext(ctx, `SELECT id FROM facts WHERE person_num = $1 AND kind = $2`, p, fact.NATResult).Scan(&test); err != nil {
			t.Fatal(err)
		}
		evidence := []string{strconv.FormatInt(test, 10)}
		grant(AppealInput{Reason: "当天我不在该场所", Evidence: evidence})
		rec(t, f.svc, p, fact.ClinicFever, t0.Add(-30*time.Minute), map[string]any{"clinic": "h-1"})
		grant(AppealInput{Reason: "门诊误登记"})
		rec(t, f.svc, p, fact.ClinicFever, t0.Add(-100*time.Minute), map[string]any{"clinic": "h-2"})
		want(t, f.svc, p, rules.Yellow, "fever_clinic")

		tick()
		var a *Appeal
		errs := dbtest.Contend(t, d, `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`, nil,
			func() error {
				var err error
				a, err = f.svc.FileAppeal(ctx, resident, "", AppealInput{Reason: "就诊后已做核酸", Evidence: evidence})
				return err
			},
			func() error {
				_, err := f.svc.Record(ctx, NewFact{Person: other, RecordedBy: "system",
					Fact: fact.Fact{Kind: fact.ClinicFever, At: t0, Attrs: map[string]any{"clinic": "h-3"}}})
				return err
			})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if a.State != AppealGranted || !a.Auto {
			t.Errorf("the appeal is %s (auto %v), want granted at once", a.State, a.Auto)
		}
		want(t, f.svc, p, rules.Green, rules.AppealRuleID)
		want(t, f.svc, other, rules.Yellow, "fever_clinic")
	})
}
