package auth

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
	"testing"
	"time"
)

// The test vectors of RFC 6238, appendix B (eight digits, 30-second steps).
func TestTOTPRFC6238Vectors(t *testing.T) {
	seeds := map[string]struct {
		h      func() hash.Hash
		secret string
	}{
		"SHA1":   {sha1.New, "12345678901234567890"},
		"SHA256": {sha256.New, "12345678901234567890123456789012"},
		"SHA512": {sha512.New, strings.Repeat("1234567890", 6) + "1234"},
	}
	for _, v := range []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	} {
		s := seeds[v.alg]
		step := totpStepAt(time.Unix(v.unix, 0))
		if got := totpCode(s.h, []byte(s.secret), uint64(step), 8); got != v.want {
			t.Errorf("%s at %d: %s, want %s", v.alg, v.unix, got, v.want)
		}
	}
}

func TestTOTPMatch(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	step := totpStepAt(now)
	code := totpCode(sha1.New, secret, uint64(step), totpDigits)
	if got := totpMatch(secret, code, now, 0); got != step {
		t.Fatalf("the current code: step %d, want %d", got, step)
	}
	if got := totpMatch(secret, code, now.Add(30*time.Second), 0); got != step {
		t.Errorf("a code one step late refused")
	}
	if got := totpMatch(secret, code, now.Add(90*time.Second), 0); got != -1 {
		t.Errorf("a code three steps late accepted")
	}
	if got := totpMatch(secret, code, now, step); got != -1 {
		t.Errorf("a code used twice accepted")
	}
	if got := totpMatch(secret, "12345", now, 0); got != -1 {
		t.Errorf("a short code accepted")
	}
	uri := totpURI("healthcode", "admin", secret)
	if !strings.HasPrefix(uri, "otpauth://totp/healthcode:admin?") || !strings.Contains(uri, "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") {
		t.Errorf("uri %s", uri)
	}
}
