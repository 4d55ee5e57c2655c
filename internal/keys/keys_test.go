package keys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/secret"
)

var algs = []codeformat.Alg{codeformat.AlgEdDSA, codeformat.AlgES256, codeformat.AlgSM2}

func keyring(t *testing.T, fill byte) *secret.Keyring {
	t.Helper()
	k, err := secret.New(bytes.Repeat([]byte{fill}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable time shared by the stores of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const retain = 14*24*time.Hour + 3*time.Minute

func open(t *testing.T, d *db.DB, ring *secret.Keyring, c *clock) *keys.Store {
	t.Helper()
	st, err := keys.Open(context.Background(), d, ring, keys.Config{Region: "341881", Retain: retain})
	if err != nil {
		t.Fatal(err)
	}
	st.SetClock(c.now)
	if err := st.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// sign makes a dynamic code with the store's current signer and MAC key.
func sign(t *testing.T, st *keys.Store, at time.Time, ttl time.Duration) string {
	t.Helper()
	s := st.SignerAt(at)
	if s == nil {
		t.Fatalf("no signer at %v", at)
	}
	return signWith(t, s, st.MACKey(), at, ttl)
}

func signWith(t *testing.T, s *codeformat.Signer, mac []byte, at time.Time, ttl time.Duration) string {
	t.Helper()
	c, err := codeformat.Encode(codeformat.Claims{Issuer: "341881", IssuedAt: at, Expires: at.Add(ttl), ID: codeformat.NewID(),
		Handle: codeformat.NewID(), Color: codeformat.ColorGreen, MaskedName: "张*离", Kind: codeformat.KindDynamic, StatusVersion: 1}, s, mac)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// offline verifies against the published JSON trust list, as a verifier
// elsewhere would.
func offline(t *testing.T, st *keys.Store, c string, at time.Time) codeformat.Result {
	t.Helper()
	var tl codeformat.TrustList
	if err := json.Unmarshal(st.TrustListJSON(), &tl); err != nil {
		t.Fatalf("trust list JSON: %v\n%s", err, st.TrustListJSON())
	}
	return codeformat.NewVerifier(tl, codeformat.Options{}).Verify(c, at)
}

func wantValid(t *testing.T, r codeformat.Result, what string) {
	t.Helper()
	if !r.Valid {
		t.Fatalf("%s: not valid: %v", what, r.Reasons)
	}
}

func wantReason(t *testing.T, r codeformat.Result, reason codeformat.Reason, what string) {
	t.Helper()
	if r.Valid || len(r.Reasons) == 0 || r.Reasons[0] != reason {
		t.Fatalf("%s: valid=%v reasons=%v, want %s", what, r.Valid, r.Reasons, reason)
	}
}

func TestGenerateEachAlgorithm(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)}
		for i, alg := range algs {
			region := []string{"341881", "341802", "341821"}[i]
			st, err := keys.Open(ctx, d, keyring(t, 1), keys.Config{Region: region})
			if err != nil {
				t.Fatal(err)
			}
			st.SetClock(c.now)
			if st.Signer() != nil || len(st.TrustList()) != 0 || string(st.TrustListJSON()) != `{"keys":[]}` {
				t.Fatalf("%v: a new region has keys", alg)
			}
			k, err := st.Generate(ctx, alg, "test")
			if err != nil {
				t.Fatal(err)
			}
			s := st.Signer()
			if s == nil || s.Alg() != alg || keys.KID(s.KeyID()) != k.KID || k.State != keys.StateActive {
				t.Fatalf("%v: signer %v after generating %+v", alg, s, k)
			}
			pub, ok := st.Key(s.KeyID())
			if !ok || pub.Issuer != region || pub.Alg != alg || !pub.NotAfter.IsZero() {
				t.Fatalf("%v: trust list entry %+v", alg, pub)
			}
			if _, err := st.Generate(ctx, alg, "test"); !errors.Is(err, keys.ErrKeyExists) {
				t.Fatalf("%v: second generate: %v, want key_exists", alg, err)
			}
			// A code it signs verifies offline through the JSON trust list.
			at := c.now()
			cd, err := codeformat.Encode(codeformat.Claims{Issuer: region, IssuedAt: at, Expires: at.Add(3 * time.Minute), ID: codeformat.NewID(),
				Handle: codeformat.NewID(), Color: codeformat.ColorRed, MaskedName: "李*", Kind: codeformat.KindDynamic}, s, st.MACKey())
			if err != nil {
				t.Fatal(err)
			}
			wantValid(t, offline(t, st, cd, at.Add(time.Minute)), alg.String())
			// The MAC key is the region's derived key: a node of the region
			// verifies by MAC without the signature.
			if !bytes.Equal(st.MACKey(), keys.MACKeyFor(keyring(t, 1), region)) {
				t.Fatal("MAC key is not derived from the keyring and region")
			}
			r := codeformat.NewVerifier(st, codeformat.Options{MACKeys: map[string][]byte{region: st.MACKey()}}).Verify(cd, at)
			if !r.Valid || !r.ByMAC {
				t.Fatalf("%v: region node: valid=%v byMAC=%v", alg, r.Valid, r.ByMAC)
			}
		}
	})
}

func TestPrivateKeysAreSealed(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{t: time.Now()}
		st := open(t, d, keyring(t, 1), c)
		if _, err := st.Generate(ctx, codeformat.AlgSM2, "test"); err != nil {
			t.Fatal(err)
		}
		var kid string
		var pub, enc []byte
		if err := d.QueryRowContext(ctx, `SELECT kid, public_key, private_enc FROM signing_keys`).Scan(&kid, &pub, &enc); err != nil {
			t.Fatal(err)
		}
		// Sealed with the master keyring, the AAD binding the kid: it opens
		// to the PKCS #8 of the published key, which is not stored in clear.
		der, err := keyring(t, 1).Open(enc, []byte("signing_keys.private_key:"+kid))
		if err != nil {
			t.Fatalf("the sealed private key does not open with its kid: %v", err)
		}
		priv, err := codeformat.ParsePrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		if spki, _ := codeformat.MarshalPublicKey(priv.Public()); !bytes.Equal(spki, pub) || bytes.Contains(enc, der[len(der)/2:]) {
			t.Fatal("the stored private key is not the sealed key of the published one")
		}
		// Another master key cannot open it: the store refuses to start.
		if _, err := keys.Open(ctx, d, keyring(t, 2), keys.Config{Region: "341881"}); err == nil {
			t.Fatal("a store with the wrong master key opened")
		}
		// Nor does the sealed key open under another kid (AAD binds it).
		if _, err := d.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, issuer, public_key, private_enc, not_before, created_at, created_by)
			VALUES ('AAAAAAAAAAA', 'SM2', '341802', $1, $2, 0, 0, 'x')`, pub, enc); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Open(ctx, d, keyring(t, 1), keys.Config{Region: "341802"}); err == nil {
			t.Fatal("a row whose kid does not match its key was accepted")
		}
	})
}

func TestRotationKeepsOldKeyUntilItsCodesExpire(t *testing.T) {
	for _, from := range algs {
		for _, to := range algs {
			t.Run(from.String()+"→"+to.String(), func(t *testing.T) {
				testRotation(t, dbtest.NewSQLite(t), from, to)
			})
		}
	}
	t.Run("postgres", func(t *testing.T) { testRotation(t, dbtest.NewPostgres(t), codeformat.AlgEdDSA, codeformat.AlgSM2) })
}

func testRotation(t *testing.T, d *db.DB, from, to codeformat.Alg) {
	ctx := context.Background()
	c := &clock{t: time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)}
	a := open(t, d, keyring(t, 1), c) // the node where the operator rotates
	b := open(t, d, keyring(t, 1), c) // another node of the region
	old, err := a.Generate(ctx, from, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	oldSigner := b.Signer()
	before := sign(t, b, c.now(), 3*time.Minute)

	c.add(time.Hour)
	r, err := a.Rotate(ctx, to, "test")
	if err != nil {
		t.Fatal(err)
	}
	if r.Old.KID != old.KID || r.New.Alg != to || r.New.State != keys.StatePending || r.Old.State != keys.StateActive ||
		!r.SwitchAt.Equal(c.now().Add(keys.DefaultGrace)) || !r.Old.PublishUntil.Equal(r.SwitchAt.Add(retain)) {
		t.Fatalf("rotation %+v", r)
	}
	if _, err := a.Rotate(ctx, to, "test"); !errors.Is(err, keys.ErrRotationPending) {
		t.Fatalf("second rotation during the grace: %v", err)
	}
	// Until the switch the old key signs on every node; node b learns of
	// the new key at its next reload, well before the switch.
	if keys.KID(a.Signer().KeyID()) != old.KID {
		t.Fatal("the new key signs before the switch")
	}
	c.add(keys.ReloadPeriod)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if len(b.TrustList()) != 2 {
		t.Fatalf("node b trusts %d keys after reloading, want old and new", len(b.TrustList()))
	}
	c.add(keys.DefaultGrace - keys.ReloadPeriod)
	for _, st := range []*keys.Store{a, b} {
		if s := st.Signer(); s == nil || keys.KID(s.KeyID()) != r.New.KID {
			t.Fatalf("after the switch a node signs with %v, want %s", s, r.New.KID)
		}
	}
	after := sign(t, b, c.now(), 3*time.Minute)
	wantValid(t, offline(t, a, after, c.now()), "a code of the new key")
	care := signWith(t, oldSigner, nil, c.now().Add(-time.Second), 14*24*time.Hour)
	wantValid(t, offline(t, a, care, c.now().Add(13*24*time.Hour)), "a long code the old key signed before the switch")
	// The old key cannot sign codes dated after it stopped.
	forged := signWith(t, oldSigner, nil, c.now().Add(time.Second), 3*time.Minute)
	wantReason(t, offline(t, a, forged, c.now()), codeformat.ReasonUnknownKey, "a code the old key signed after it stopped")
	wantReason(t, offline(t, a, before, c.now()), codeformat.ReasonExpired, "the first code, hours later")

	// Once it stops signing its private key can be wiped.
	if err := a.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	var wiped int
	d.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE kid = $1 AND private_enc IS NULL`, old.KID).Scan(&wiped)
	if wiped != 1 {
		t.Fatal("the retired private key was not wiped")
	}
	ks, err := a.List(ctx)
	if err != nil || len(ks) != 2 || ks[0].KID != r.New.KID || ks[0].State != keys.StateActive || ks[1].State != keys.StateRetired {
		t.Fatalf("list: %+v %v", ks, err)
	}

	// The old key stays published until every code it signed has expired,
	// then drops out.
	c.add(retain - time.Second)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Key(oldSigner.KeyID()); !ok {
		t.Fatal("the old key dropped out before its codes expired")
	}
	c.add(time.Second)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Key(oldSigner.KeyID()); ok || len(b.TrustList()) != 1 {
		t.Fatalf("the old key is still published after its codes expired: %s", b.TrustListJSON())
	}
	if ks, _ := a.List(ctx); ks[1].State != keys.StateDropped {
		t.Fatalf("the old key's state is %s, want dropped", ks[1].State)
	}
	var audits int
	d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('keys.generate', 'keys.rotate')`).Scan(&audits)
	if audits != 2 {
		t.Fatalf("%d audit entries for generate and rotate, want 2", audits)
	}
}

func TestRotateNeedsAKey(t *testing.T) {
	st := open(t, dbtest.NewSQLite(t), keyring(t, 1), &clock{t: time.Now()})
	if _, err := st.Rotate(context.Background(), 0, "test"); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("rotate without a key: %v", err)
	}
}

func TestNodesStartingTogetherMakeOneKey(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{t: time.Now()}
		stores := make([]*keys.Store, 4)
		for i := range stores {
			stores[i] = open(t, d, keyring(t, 1), c)
		}
		var wg sync.WaitGroup
		created := make([]bool, len(stores))
		errs := make([]error, len(stores))
		for i, st := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				created[i], errs[i] = st.EnsureKey(ctx, codeformat.AlgEdDSA, "system")
			}()
		}
		wg.Wait()
		n := 0
		for i := range stores {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if created[i] {
				n++
			}
			if stores[i].Signer() == nil || stores[i].Signer().KeyID() != stores[0].Signer().KeyID() {
				t.Fatal("the nodes do not sign with the same key")
			}
		}
		var rows int
		d.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys`).Scan(&rows)
		if n != 1 || rows != 1 {
			t.Fatalf("%d nodes created a key, %d rows; want 1 and 1", n, rows)
		}
	})
}

func TestParseAlg(t *testing.T) {
	for in, want := range map[string]codeformat.Alg{"ed25519": codeformat.AlgEdDSA, "EdDSA": codeformat.AlgEdDSA, "es256": codeformat.AlgES256, "sm2": codeformat.AlgSM2, "SM2": codeformat.AlgSM2} {
		if got, err := keys.ParseAlg(in); err != nil || got != want {
			t.Errorf("ParseAlg(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := keys.ParseAlg("rsa"); !errors.Is(err, keys.ErrAlgUnknown) {
		t.Errorf("ParseAlg(rsa): %v", err)
	}
}
