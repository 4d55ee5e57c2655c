package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testKeyring(t *testing.T, fill byte) *Keyring {
	t.Helper()
	k, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := testKeyring(t, 1)
	sealed := k.SealString("张三丰", "persons.name:p1")
	if bytes.Contains(sealed, []byte("张三丰")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := k.OpenString(sealed, "persons.name:p1")
	if err != nil || got != "张三丰" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if again := k.SealString("张三丰", "persons.name:p1"); bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
	cases := map[string]func() ([]byte, error){
		"other row": func() ([]byte, error) { return k.Open(sealed, []byte("persons.name:p2")) },
		"other key": func() ([]byte, error) { return testKeyring(t, 2).Open(sealed, []byte("persons.name:p1")) },
		"flipped bit": func() ([]byte, error) {
			s := bytes.Clone(sealed)
			s[len(s)-1] ^= 1
			return k.Open(s, []byte("persons.name:p1"))
		},
		"truncated": func() ([]byte, error) { return k.Open(sealed[:5], []byte("persons.name:p1")) },
	}
	for name, open := range cases {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open err = %v, want ErrOpen", name, err)
		}
	}
}

func TestBlindIndex(t *testing.T) {
	k := testKeyring(t, 1)
	a := k.BlindIndex("phone", "13800000001")
	if !bytes.Equal(a, k.BlindIndex("phone", "13800000001")) {
		t.Fatal("blind index not deterministic")
	}
	if bytes.Equal(a, k.BlindIndex("id", "13800000001")) {
		t.Fatal("same value in two domains gives the same index")
	}
	if bytes.Equal(a, testKeyring(t, 2).BlindIndex("phone", "13800000001")) {
		t.Fatal("blind index does not depend on the key")
	}
	if bytes.Equal(a, k.BlindIndex("phone", "13800000002")) {
		t.Fatal("different values collide")
	}
}

func TestDeriveSeparatesPurposes(t *testing.T) {
	k := testKeyring(t, 1)
	if bytes.Equal(k.Derive("a", 32), k.Derive("b", 32)) {
		t.Fatal("different purposes derive the same key")
	}
	if !bytes.Equal(k.Derive("a", 32), k.Derive("a", 32)) {
		t.Fatal("derive is not deterministic")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	sealed := k1.SealString("x", "a")
	if got, err := k2.OpenString(sealed, "a"); err != nil || got != "x" {
		t.Fatal("reloaded key does not open what the first one sealed")
	}
	os.WriteFile(path, []byte("not base64!!"), 0o600)
	if _, _, err := LoadOrCreate(path); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse("AAAA"); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := Parse("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="); err != nil {
		t.Fatalf("valid key refused: %v", err)
	}
}
