package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/org"
)

func testService(t *testing.T, now *time.Time) *Service {
	t.Helper()
	s, err := New(nil, nil, bytes.Repeat([]byte{9}, 32), Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return *now })
	return s
}

// A reference opens for the organisation it was made for until it
// expires, and for nobody else; an altered one does not open at all.
func TestSubjectReferences(t *testing.T) {
	now := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)
	s := testService(t, &now)
	pharmacy := &org.Org{ID: "a", Num: 7}
	clinic := &org.Org{ID: "b", Num: 8}
	exp := now.Add(DefaultSubjectTTL)
	ref := s.seal.seal(subject{org: 7, person: 123456789, expires: exp})
	if !strings.HasPrefix(ref, "hcs_") || strings.Contains(ref, "123456789") {
		t.Fatalf("reference %q", ref)
	}
	if again := s.seal.seal(subject{org: 7, person: 123456789, expires: exp}); again == ref {
		t.Fatal("two scans of one person gave the same reference: references could be linked")
	}
	sub, err := s.Resolve(pharmacy, ref)
	if err != nil || sub.Person != 123456789 || !sub.ExpiresAt.Equal(exp) {
		t.Fatalf("resolve: %+v %v", sub, err)
	}
	// Ref tells this scan from another (calls allowed once per scan store
	// it); a refused foreign reference still names the person, for audit.
	again, _ := s.Resolve(pharmacy, ref)
	next, _ := s.Resolve(pharmacy, s.seal.seal(subject{org: 7, person: 123456789, expires: exp}))
	if len(sub.Ref) != 48 || again.Ref != sub.Ref || next.Ref == sub.Ref {
		t.Fatalf("refs %q, %q, %q", sub.Ref, again.Ref, next.Ref)
	}
	if foreign, err := s.Resolve(clinic, ref); !errors.Is(err, ErrSubjectForeign) || foreign.Person != 123456789 {
		t.Fatalf("another organisation: %+v %v", foreign, err)
	}
	for i := len("hcs_"); i < len(ref); i += 7 {
		b := []byte(ref)
		b[i] ^= 0x01
		if _, err := s.Resolve(pharmacy, string(b)); !errors.Is(err, ErrSubjectInvalid) {
			t.Fatalf("altered at %d: %v", i, err)
		}
	}
	for _, bad := range []string{"hcs_", "hcs_abc", "hck_" + ref[4:], ref + "A", ref[:len(ref)-1], "person-1"} {
		if _, err := s.Resolve(pharmacy, bad); !errors.Is(err, ErrSubjectInvalid) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if _, err := s.Resolve(pharmacy, ""); !errors.Is(err, ErrSubjectMissing) {
		t.Fatalf("empty: %v", err)
	}
	// Another deployment's key does not open it.
	other, _ := New(nil, nil, bytes.Repeat([]byte{8}, 32), Config{})
	if _, err := other.Resolve(pharmacy, ref); !errors.Is(err, ErrSubjectInvalid) {
		t.Fatalf("another key: %v", err)
	}
	now = exp.Add(-time.Second)
	if _, err := s.Resolve(pharmacy, ref); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	now = exp
	if _, err := s.Resolve(pharmacy, ref); !errors.Is(err, ErrSubjectExpired) {
		t.Fatalf("at expiry: %v", err)
	}
}

func FuzzOpenSubject(f *testing.F) {
	now := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)
	s, _ := New(nil, nil, bytes.Repeat([]byte{9}, 32), Config{})
	f.Add(s.seal.seal(subject{org: 7, person: 1, expires: now}))
	f.Add("hcs_")
	f.Add("")
	f.Fuzz(func(t *testing.T, ref string) {
		sub, err := s.seal.open(ref)
		if err == nil && (sub.org != 7 || sub.person != 1) {
			t.Fatalf("%q opened as %+v", ref, sub)
		}
	})
}
