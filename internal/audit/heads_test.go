package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// regionKey stands in for the key store: one Ed25519 key of region 341881.
type regionKey struct{ s *codeformat.Signer }

func (k regionKey) Signer() *codeformat.Signer { return k.s }
func (k regionKey) Region() string             { return "341881" }

func newRegionKey(t *testing.T) (regionKey, codeformat.TrustList) {
	t.Helper()
	priv, err := codeformat.GenerateKey(codeformat.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	s, err := codeformat.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: s.KeyID(), Alg: s.Alg(), Key: s.Public(), Issuer: "341881"}); err != nil {
		t.Fatal(err)
	}
	return regionKey{s}, tl
}

func dbAnchors(t *testing.T, d *db.DB, keys codeformat.TrustList) audit.Anchors {
	t.Helper()
	heads, err := audit.Heads(context.Background(), d, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Anchors{Source: "the database", Heads: heads, Keys: keys}
}

func mentions(r audit.Report, want string) bool {
	for _, p := range r.Problems {
		if strings.Contains(p.Reason, want) {
			return true
		}
	}
	return false
}

// TestSignedHeadsCatchRewrites: the two rewrites the chain alone cannot
// see (a cut tail with the head moved; an edited entry with the chain
// recomputed) pass the chain check but contradict a head signed before
// them, in the database or, when the heads were deleted too, in a kept file.
func TestSignedHeadsCatchRewrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  []string
		// dbCatches is false where the rewrite deletes the database's
		// heads too, so that only the kept file contradicts it.
		dbCatches bool
		want      []string
	}{
		{"tail cut, head moved", []string{`DELETE FROM audit_log WHERE seq > 3`}, true,
			[]string{"records entry 5, but the log ends at entry 3: entries 4 to 5 were removed"}},
		{"entry edited, chain recomputed", []string{`UPDATE audit_log SET actor = 'operator:someone-else' WHERE seq = 2`}, true,
			[]string{"entry 5 is not the one signed head 1 of the database", "entries 1 to 5 were rewritten"}},
		{"entry edited, chain recomputed, heads deleted", []string{`UPDATE audit_log SET detail = '{}' WHERE seq = 4`, `DELETE FROM audit_heads`}, false,
			[]string{"signed head 1 of kept.json", "is not in the database (deleted)", "entries 1 to 5 were rewritten"}},
		{"tail cut, heads deleted", []string{`DELETE FROM audit_log WHERE seq > 4`, `DELETE FROM audit_heads`}, false,
			[]string{"entries 5 to 5 were removed"}},
		{"tail cut, head row forged to match", []string{`DELETE FROM audit_log WHERE seq > 3`,
			`UPDATE audit_heads SET log_seq = 3, log_hash = (SELECT hash FROM audit_log WHERE seq = 3)`}, true,
			[]string{"signed head 1 (the database): its signature does not verify", "signed head 1 differs between the database (entry 3) and kept.json (entry 5)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				key, trust := newRegionKey(t)
				anchor := audit.NewAnchor(d, audit.AnchorConfig{Signer: key})
				fill(t, d, 5)
				h, err := anchor.Sign(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if h.Seq != 1 || h.LogSeq != 5 {
					t.Fatalf("first head %+v, want seq 1 at entry 5", h)
				}
				doc, err := audit.MarshalHeads(trust, []audit.Head{h})
				if err != nil {
					t.Fatal(err)
				}
				kept, err := audit.ParseHeads(doc, "kept.json")
				if err != nil {
					t.Fatal(err)
				}
				fill(t, d, 2) // entries after the head: not yet anchored
				if r, err := audit.Verify(ctx, d, dbAnchors(t, d, trust), kept); err != nil || !r.OK || r.AnchoredTo != 5 || r.Heads != 2 {
					t.Fatalf("untouched log against its heads: %+v %v", r, err)
				}

				for _, q := range tc.sql {
					if _, err := d.ExecContext(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				if err := audit.Rechain(ctx, d); err != nil {
					t.Fatal(err)
				}
				// The chain alone holds: this is what verify saw before heads.
				if r := verify(t, d); !r.OK {
					t.Fatalf("the rewrite should pass the chain check alone: %+v", r)
				}
				r, err := audit.Verify(ctx, d, dbAnchors(t, d, trust))
				if err != nil {
					t.Fatal(err)
				}
				if r.OK == tc.dbCatches {
					t.Fatalf("against the database's heads: ok=%v, want %v: %+v", r.OK, !tc.dbCatches, r)
				}
				r, err = audit.Verify(ctx, d, dbAnchors(t, d, trust), kept)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK {
					t.Fatalf("rewrite not detected against the kept heads: %+v", r)
				}
				for _, w := range tc.want {
					if !mentions(r, w) {
						t.Errorf("problems do not say %q: %+v", w, r.Problems)
					}
				}
			})
		})
	}
}

// TestKeptHeadsNeedTheirOwnKeys: a file's heads are checked with the keys
// the file carries; one altered in the file, or signed by another key,
// anchors nothing and is reported.
func TestKeptHeadsNeedTheirOwnKeys(t *testing.T) {
	d := dbtest.NewSQLite(t)
	ctx := context.Background()
	key, trust := newRegionKey(t)
	_, other := newRegionKey(t)
	fill(t, d, 3)
	h, err := audit.NewAnchor(d, audit.AnchorConfig{Signer: key}).Sign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	altered := h
	altered.LogSeq = 2
	for _, tc := range []struct {
		name string
		keys codeformat.TrustList
		head audit.Head
		want string
	}{
		{"altered", trust, altered, "its signature does not verify"},
		{"unknown key", other, h, "which is not among the keys"},
	} {
		doc, err := audit.MarshalHeads(tc.keys, []audit.Head{tc.head})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := audit.ParseHeads(doc, "kept.json")
		if err != nil {
			t.Fatal(err)
		}
		r, err := audit.Verify(ctx, d, dbAnchors(t, d, trust), kept)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK || !mentions(r, tc.want) {
			t.Errorf("%s: %+v, want a problem saying %q", tc.name, r, tc.want)
		}
	}
}

// TestHeadsCountAndSkip: a head records the codes issued and adds up the
// verifications window after window; the periodic tick signs only when
// something moved and no head is recent.
func TestHeadsCountAndSkip(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		key, trust := newRegionKey(t)
		now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		issued := int64(40)
		var windows [][2]time.Time
		anchor := audit.NewAnchor(d, audit.AnchorConfig{Signer: key, Interval: 10 * time.Minute, Lag: time.Minute,
			CodesIssued: func(context.Context) (int64, error) { return issued, nil },
			Verifications: func(_ context.Context, from, to time.Time) (int64, error) {
				windows = append(windows, [2]time.Time{from, to})
				return 7, nil
			}})
		anchor.SetClock(func() time.Time { return now })
		fill(t, d, 2)
		if err := anchor.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(4 * time.Minute)
		fill(t, d, 1)
		if err := anchor.Tick(ctx); err != nil { // another node's head is recent: skipped
			t.Fatal(err)
		}
		now = now.Add(2 * time.Minute)
		issued = 45
		if err := anchor.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Minute)
		if err := anchor.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		heads, err := audit.Heads(ctx, d, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(heads) != 3 {
			t.Fatalf("%d heads, want 3 (one skipped as too soon): %+v", len(heads), heads)
		}
		h1, h2, h3 := heads[0], heads[1], heads[2]
		if h1.LogSeq != 2 || h1.CodesIssued != 40 || h1.Verifications != 7 || !h1.VerifiedTo.Equal(now.Add(-17*time.Minute)) {
			t.Errorf("first head %+v", h1)
		}
		if h2.LogSeq != 3 || h2.CodesIssued != 45 || h2.Verifications != 14 {
			t.Errorf("second head %+v", h2)
		}
		if h3.LogSeq != 3 || h3.Verifications != 21 {
			t.Errorf("third head (new verifications) %+v", h3)
		}
		// The windows follow each other: nothing counted twice or skipped.
		for i := 1; i < len(windows); i++ {
			if !windows[i][0].Equal(windows[i-1][1]) {
				t.Errorf("window %d starts at %v, the one before ended at %v", i, windows[i][0], windows[i-1][1])
			}
		}
		if r, err := audit.Verify(ctx, d, dbAnchors(t, d, trust)); err != nil || !r.OK || r.AnchoredTo != 3 {
			t.Fatalf("verify: %+v %v", r, err)
		}
	})
}
