package person

import (
	"bytes"
	"testing"
)

func testHandles(t testing.TB) *Handles {
	h, err := NewHandles(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandleRoundTrip(t *testing.T) {
	h := testHandles(t)
	seen := map[[8]byte]bool{}
	for _, n := range []int64{1, 2, 3, 1000, 1 << 31, 1<<40 + 7, 1<<62 + 1} {
		hd := h.Handle(n)
		if seen[hd] {
			t.Fatalf("handle collision at %d", n)
		}
		seen[hd] = true
		if got := h.Num(hd); got != n {
			t.Fatalf("Num(Handle(%d)) = %d", n, got)
		}
		id := h.ID(n)
		if got, err := h.ParseID(id); err != nil || got != n {
			t.Fatalf("ParseID(ID(%d)=%q) = %d, %v", n, id, got, err)
		}
	}
	// Consecutive numbers must not give visibly related handles.
	a, b := h.Handle(1), h.Handle(2)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same > 3 {
		t.Fatalf("handles of 1 and 2 share %d of 8 bytes: %x %x", same, a, b)
	}
	for _, bad := range []string{"", "abc", "0000000000000!", "zzzzzzzzzzzzzzzz"} {
		if _, err := h.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

func FuzzParseID(f *testing.F) {
	h := testHandles(f)
	f.Add(h.ID(1))
	f.Add("0000000000000")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := h.ParseID(s)
		if err == nil && h.Num(h.Handle(n)) != n {
			t.Fatalf("%q parsed to %d which does not round-trip", s, n)
		}
	})
}

func BenchmarkHandleNum(b *testing.B) {
	h := testHandles(b)
	hd := h.Handle(123456789)
	for b.Loop() {
		h.Num(hd)
	}
}
