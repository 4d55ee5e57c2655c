package server_test

import (
	"context"
	"testing"

	"github.com/healthcode/healthcode/internal/audit"
)

// The audit log's signed heads are public: anyone fetches them, keeps the
// copy and checks the log against it later; an operator who reads the log
// signs one on demand, and the head counts the codes issued.
func TestAuditHeadsArePublished(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.Admin()
		viewer := e.NewOperator("auditviewer", "viewer", "341881")
		e.Want(e.Do("POST", "/api/v1/admin/audit/heads", viewer, map[string]any{}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/audit/heads", "", map[string]any{}), 401, "")

		tok, _ := e.Resident("13900000881", "赵审计", rid("19800101", 881), "341881001")
		e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "")
		if err := e.App.Codes.FlushShows(ctx); err != nil {
			t.Fatal(err)
		}
		signed := e.Want(e.Do("POST", "/api/v1/admin/audit/heads", admin, map[string]any{}), 201, "")
		mine, err := audit.ParseHeads(signed.Raw, "the answer")
		if err != nil || len(mine.Heads) != 1 {
			t.Fatalf("signed head: %v %s", err, signed.Raw)
		}
		if h := mine.Heads[0]; h.LogSeq == 0 || h.CodesIssued < 1 || h.Issuer != "341881" {
			t.Fatalf("signed head %+v: want the log's tip and the code shown", h)
		}
		// The head covers the entry that says who asked for it.
		asked, err := audit.List(ctx, e.App.DB, audit.Filter{Subject: "audit", Limit: 1})
		if err != nil || len(asked) != 1 || asked[0].Action != "audit.sign_head" || asked[0].Seq != mine.Heads[0].LogSeq {
			t.Fatalf("the request's audit entry: %+v %v (head at entry %d)", asked, err, mine.Heads[0].LogSeq)
		}

		e.Want(e.Do("GET", "/api/v1/audit/heads?after=x", "", nil), 400, "after_invalid")
		res := e.Want(e.Do("GET", "/api/v1/audit/heads", "", nil), 200, "")
		kept, err := audit.ParseHeads(res.Raw, "kept.json")
		if err != nil || len(kept.Heads) == 0 || kept.Heads[len(kept.Heads)-1].Seq != mine.Heads[0].Seq {
			t.Fatalf("published heads: %v %s", err, res.Raw)
		}
		r, err := audit.Verify(ctx, e.App.DB, kept)
		if err != nil || !r.OK || r.AnchoredTo != mine.Heads[0].LogSeq {
			t.Fatalf("the log against the published heads: %+v %v", r, err)
		}
		res = e.Want(e.Do("GET", "/api/v1/audit/heads?after=1000000", "", nil), 200, "")
		if none, err := audit.ParseHeads(res.Raw, "empty"); err != nil || len(none.Heads) != 0 {
			t.Fatalf("heads after the last: %v %s", err, res.Raw)
		}
	})
}
