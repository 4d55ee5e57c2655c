package checkpoint_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/venue"
)

func newService(t *testing.T, d *db.DB) *checkpoint.Service {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	keys, err := secret.New(master)
	if err != nil {
		t.Fatal(err)
	}
	regions := region.Default()
	return checkpoint.New(d, auth.New(d, keys, sms.NewOutbox(d, keys), regions, auth.Config{}), regions)
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A checkpoint's venue kind (whose entry policy holds at its scans) is set
// when it is created or later, by an operator who may edit checkpoints;
// an unknown kind or a reader without the permission changes nothing, and
// each change is audited with the kind.
func TestVenueKindIsSetOnCreateAndEdit(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(t, d)
		admin := &auth.Principal{Kind: auth.Operator, ID: "a", Role: auth.Admin, Region: "341881"}
		viewer := &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer, Region: "341881"}

		for _, c := range []struct {
			name string
			by   *auth.Principal
			kind string
			want error
		}{
			{"an unknown kind", admin, "palace", venue.ErrKindInvalid},
			{"a viewer", viewer, "entertainment", auth.ErrForbidden},
		} {
			if _, _, err := s.Create(ctx, c.by, checkpoint.Input{Name: "博物馆入口", Region: "341881001", VenueKind: c.kind}); !errors.Is(err, c.want) {
				t.Errorf("create by %s: %v, want %v", c.name, err, c.want)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkpoints`); n != 0 {
			t.Fatalf("%d checkpoints stored after refusals", n)
		}

		c, _, err := s.Create(ctx, admin, checkpoint.Input{Name: "博物馆入口", Region: "341881001", VenueKind: "entertainment"})
		if err != nil || c.VenueKind != "entertainment" {
			t.Fatalf("create: %+v %v", c, err)
		}
		plain, _, err := s.Create(ctx, admin, checkpoint.Input{Name: "河沥溪卡口", Region: "341881001"})
		if err != nil || plain.VenueKind != "" {
			t.Fatalf("create without a kind: %+v %v", plain, err)
		}

		mall, none := "mall", ""
		bad := "palace"
		for _, x := range []struct {
			name string
			by   *auth.Principal
			kind *string
			want error
		}{
			{"an unknown kind", admin, &bad, venue.ErrKindInvalid},
			{"a viewer", viewer, &mall, auth.ErrForbidden},
		} {
			if _, _, err := s.Update(ctx, x.by, c.ID, nil, nil, x.kind); !errors.Is(err, x.want) {
				t.Errorf("update by %s: %v, want %v", x.name, err, x.want)
			}
		}
		kindOf := func(id string) string {
			t.Helper()
			tab, err := s.List(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range tab.Checkpoints {
				if x.ID == id {
					return x.VenueKind
				}
			}
			t.Fatalf("checkpoint %s not listed", id)
			return ""
		}
		if k := kindOf(c.ID); k != "entertainment" {
			t.Fatalf("kind after refused edits: %q", k)
		}
		if _, _, err := s.Update(ctx, admin, c.ID, nil, nil, &mall); err != nil {
			t.Fatal(err)
		}
		if k := kindOf(c.ID); k != "mall" {
			t.Fatalf("kind after the edit: %q", k)
		}
		if _, _, err := s.Update(ctx, admin, c.ID, nil, nil, &none); err != nil {
			t.Fatal(err)
		}
		if k := kindOf(c.ID); k != "" {
			t.Fatalf("kind after clearing it: %q", k)
		}

		entries, err := audit.List(ctx, d, audit.Filter{Subject: "checkpoint:" + c.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(entries) - 1; i >= 0; i-- {
			kind, _ := entries[i].Detail["venue_kind"].(string)
			got = append(got, entries[i].Action+":"+kind)
		}
		if want := []string{"checkpoint.create:entertainment", "checkpoint.update:mall", "checkpoint.update:"}; !slices.Equal(got, want) {
			t.Fatalf("audit: %v, want %v", got, want)
		}
	})
}
