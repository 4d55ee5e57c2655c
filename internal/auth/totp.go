package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// TOTP (RFC 6238) as authenticator apps speak it: HMAC-SHA1 of the count of
// 30-second steps since the epoch, truncated to six digits (RFC 4226).
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// totpSkew is how many steps a code may be early or late: a phone's
	// clock off by up to half a minute, and the time it takes to type.
	totpSkew = 1
)

// totpCode is the code of secret at step counter (RFC 4226 section 5.3).
func totpCode(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	mac := hmac.New(h, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpStepAt is the step counter at t.
func totpStepAt(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// totpMatch returns the step whose code code is, within the skew of now's
// step and later than last (a code is good once), or -1.
func totpMatch(secret []byte, code string, now time.Time, last int64) int64 {
	if len(code) != totpDigits {
		return -1
	}
	at := totpStepAt(now)
	for s := at - totpSkew; s <= at+totpSkew; s++ {
		if s > last && hmac.Equal([]byte(totpCode(sha1.New, secret, uint64(s), totpDigits)), []byte(code)) {
			return s
		}
	}
	return -1
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpURI is the otpauth:// URI authenticator apps read from a QR code
// (the Key Uri Format of Google Authenticator, which the others follow).
func totpURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{"secret": {b32.EncodeToString(secret)}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(int(totpStep / time.Second))}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// TOTPCode is the code an authenticator app shows at t for a secret in
// base32 (TOTPEnrolment.Secret): for tools and tests that log in as an
// operator with a second factor.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := b32.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("auth: TOTP secret: %w", err)
	}
	return totpCode(sha1.New, key, uint64(totpStepAt(t)), totpDigits), nil
}
