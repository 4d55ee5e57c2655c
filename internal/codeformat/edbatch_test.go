package codeformat

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"filippo.io/edwards25519"
)

// edCase is a signature to check and the standard library's verdict on it.
type edCase struct {
	name          string
	pub, msg, sig []byte
}

func edCases(t testing.TB) []edCase {
	t.Helper()
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	msg := []byte("a health code of region 341802")
	sig := ed25519.Sign(priv, msg)
	mut := func(f func(s []byte)) []byte {
		s := bytes.Clone(sig)
		f(s)
		return s
	}
	// S + l: the same scalar, not reduced.
	sPlusL := func(s []byte) {
		l, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
		var carry int
		for i := 0; i < 32; i++ {
			v := int(s[32+i]) + int(l[i]) + carry
			s[32+i], carry = byte(v), v>>8
		}
	}
	var cases []edCase
	add := func(name string, p, m, s []byte) { cases = append(cases, edCase{name, p, m, s}) }
	add("valid", pub, msg, sig)
	add("other message", pub, []byte("another code"), sig)
	add("other key", other.Public().(ed25519.PublicKey), msg, sig)
	add("R bit flipped", pub, msg, mut(func(s []byte) { s[3] ^= 0x10 }))
	add("S bit flipped", pub, msg, mut(func(s []byte) { s[40] ^= 0x01 }))
	add("S not reduced", pub, msg, mut(sPlusL))
	add("S top bits", pub, msg, mut(func(s []byte) { s[63] |= 0xe0 }))
	add("R sign flipped", pub, msg, mut(func(s []byte) { s[31] ^= 0x80 }))
	add("R not canonical (y = p + 1)", pub, msg, mut(func(s []byte) {
		copy(s[:32], append([]byte{0xee}, bytes.Repeat([]byte{0xff}, 30)...))
		s[31] = 0x7f
	}))
	add("R identity with a sign", pub, msg, mut(func(s []byte) {
		copy(s[:32], make([]byte, 32))
		s[0], s[31] = 1, 0x80
	}))
	add("zero signature", pub, msg, make([]byte, 64))
	add("key not on the curve", bytes.Repeat([]byte{0xff}, 32), msg, sig)
	for i := 0; i < 8; i++ {
		m := []byte(fmt.Sprintf("code %d", i))
		add(fmt.Sprintf("valid %d", i), pub, m, ed25519.Sign(priv, m))
	}
	return cases
}

// The batch gives the standard library's verdict on every signature,
// checked alone or among others, valid or not.
func TestEd25519BatchAgreesWithTheLibrary(t *testing.T) {
	cases := edCases(t)
	var b Ed25519Batch
	for _, c := range cases {
		want := ed25519.Verify(c.pub, c.msg, c.sig)
		if got := b.Verify(c.pub, c.msg, c.sig); got != want {
			t.Errorf("%s alone: %v, the library %v", c.name, got, want)
		}
	}
	// Every case inside a batch of valid ones, and all of them together.
	var valid []*edCheck
	for _, c := range cases {
		if ed25519.Verify(c.pub, c.msg, c.sig) {
			valid = append(valid, &edCheck{pub: c.pub, msg: c.msg, sig: c.sig})
		}
	}
	if len(valid) < 5 {
		t.Fatalf("only %d valid cases", len(valid))
	}
	for _, c := range cases {
		batch := []*edCheck{valid[0], {pub: c.pub, msg: c.msg, sig: c.sig}, valid[1], valid[2]}
		b.check(batch)
		want := ed25519.Verify(c.pub, c.msg, c.sig)
		if batch[1].ok != want {
			t.Errorf("%s in a batch: %v, the library %v", c.name, batch[1].ok, want)
		}
		for _, v := range []*edCheck{batch[0], batch[2], batch[3]} {
			if !v.ok {
				t.Errorf("a valid signature refused beside %s", c.name)
			}
		}
	}
	var all []*edCheck
	for _, c := range cases {
		all = append(all, &edCheck{pub: c.pub, msg: c.msg, sig: c.sig})
	}
	b.check(all)
	for i, c := range cases {
		if want := ed25519.Verify(c.pub, c.msg, c.sig); all[i].ok != want {
			t.Errorf("%s among all: %v, the library %v", c.name, all[i].ok, want)
		}
	}
}

// A batch of valid signatures under several keys passes as a whole: the
// multi-scalar check, not the fallback, decides it.
func TestEd25519BatchTogether(t *testing.T) {
	var batch []*edCheck
	for i := 0; i < 20; i++ {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i % 3)}, ed25519.SeedSize))
		m := []byte(fmt.Sprintf("code %d", i))
		batch = append(batch, &edCheck{pub: priv.Public().(ed25519.PublicKey), msg: m, sig: ed25519.Sign(priv, m)})
	}
	var b Ed25519Batch
	if !b.together(batch) {
		t.Fatal("valid signatures under three keys failed together")
	}
	batch[7].msg = []byte("changed")
	if b.together(batch) {
		t.Fatal("a batch with one wrong signature passed together")
	}
}

// A signature whose key holder added a small-order point to R passes the
// cofactored equation (RFC 8032 §5.1.7) here, alone or in a batch, and not
// the library's cofactorless one: the one difference, and a deterministic
// one.
func TestEd25519BatchCofactored(t *testing.T) {
	seed := bytes.Repeat([]byte{3}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	h := sha512.Sum512(seed)
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	// A point of order 8.
	t8, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	torsion, err := new(edwards25519.Point).SetBytes(t8)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := edwards25519.NewScalar().SetUniformBytes(bytes.Repeat([]byte{5}, 64))
	R := new(edwards25519.Point).ScalarBaseMult(r)
	R.Add(R, torsion)
	msg := []byte("crafted by the key holder")
	sig := signWithR(a, r, R, pub, msg)
	if ed25519.Verify(pub, msg, sig) {
		t.Fatal("the library accepted the signature with a small-order R")
	}
	var b Ed25519Batch
	if !b.Verify(pub, msg, sig) {
		t.Error("refused alone")
	}
	m2 := []byte("honest")
	batch := []*edCheck{{pub: pub, msg: msg, sig: sig}, {pub: pub, msg: m2, sig: ed25519.Sign(priv, m2)}}
	b.check(batch)
	if !batch[0].ok || !batch[1].ok {
		t.Errorf("in a batch: %v, %v", batch[0].ok, batch[1].ok)
	}
}

// A key whose discrete logarithm may be known (a small-order point, the
// identity, a key with a small-order component) would let anyone, or a
// forger who knows it, make a signature the cofactored equation accepts and
// the library refuses: under such keys every signature gets the library's
// verdict, alone and in a batch. Found by FuzzEd25519Batch (all-zero key and
// signature).
func TestEd25519BatchKeysOutsideThePrimeOrderSubgroup(t *testing.T) {
	t8, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	torsion, err := new(edwards25519.Point).SetBytes(t8)
	if err != nil {
		t.Fatal(err)
	}
	identityKey := append([]byte{1}, make([]byte, 31)...)
	type sigCase struct {
		name          string
		pub, msg, sig []byte
	}
	var cases []sigCase
	// R = [S]B + T under any key: [8] clears T, the library does not.
	for _, key := range []struct {
		name string
		pub  []byte
	}{{"all-zero key (order 4)", make([]byte, 32)}, {"identity key", identityKey}, {"order-8 key", t8}} {
		cases = append(cases,
			sigCase{key.name + ", all-zero signature", key.pub, nil, make([]byte, 64)},
			sigCase{key.name + ", R of order 8, S zero", key.pub, []byte("m"), append(bytes.Clone(t8), make([]byte, 32)...)})
	}
	// A key holder's signatures under A + T: the library accepts those whose
	// k is a multiple of 8 and refuses the others.
	a, _ := edwards25519.NewScalar().SetUniformBytes(bytes.Repeat([]byte{11}, 64))
	mixed := new(edwards25519.Point).ScalarBaseMult(a)
	mixed.Add(mixed, torsion)
	pub := mixed.Bytes()
	for i := 0; i < 16; i++ {
		r, _ := edwards25519.NewScalar().SetUniformBytes(bytes.Repeat([]byte{byte(20 + i)}, 64))
		R := new(edwards25519.Point).ScalarBaseMult(r)
		msg := []byte(fmt.Sprintf("mixed %d", i))
		cases = append(cases, sigCase{fmt.Sprintf("mixed-order key %d", i), pub, msg, signWithR(a, r, R, pub, msg)})
	}
	refused := 0
	var b Ed25519Batch
	valid := edCases(t)[0]
	for _, c := range cases {
		want := ed25519.Verify(c.pub, c.msg, c.sig)
		if !want {
			refused++
		}
		if got := b.Verify(c.pub, c.msg, c.sig); got != want {
			t.Errorf("%s alone: %v, the library %v", c.name, got, want)
		}
		batch := []*edCheck{{pub: valid.pub, msg: valid.msg, sig: valid.sig}, {pub: c.pub, msg: c.msg, sig: c.sig}}
		b.check(batch)
		if !batch[0].ok || batch[1].ok != want {
			t.Errorf("%s in a batch: valid %v, this %v, the library %v", c.name, batch[0].ok, batch[1].ok, want)
		}
	}
	if refused < len(cases)/2 {
		t.Errorf("the library refused %d of %d: the cases do not test the difference", refused, len(cases))
	}
}

// signWithR signs msg as the holder of secret scalar a whose public key
// bytes are pub, with the nonce r and the R a crafted signature states
// (which need not be [r]B): S = r + H(R || A || M)·a.
func signWithR(a, r *edwards25519.Scalar, R *edwards25519.Point, pub, msg []byte) []byte {
	kh := sha512.New()
	kh.Write(R.Bytes())
	kh.Write(pub)
	kh.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, a, r)
	return append(R.Bytes(), S.Bytes()...)
}

// Concurrent callers each get their own verdict, whatever batch they land in.
func TestEd25519BatchConcurrent(t *testing.T) {
	cases := edCases(t)
	var b Ed25519Batch
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				c := cases[(g+i)%len(cases)]
				if got, want := b.Verify(c.pub, c.msg, c.sig), ed25519.Verify(c.pub, c.msg, c.sig); got != want {
					select {
					case errs <- fmt.Sprintf("%s: %v, want %v", c.name, got, want):
					default:
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if b.busy || len(b.queue) != 0 {
		t.Errorf("left busy %v with %d queued", b.busy, len(b.queue))
	}
	if batches, sigs := b.Counts(); sigs != 16*20 || batches == 0 || batches > sigs {
		t.Errorf("counted %d signatures in %d batches, want 320 in 1 to 320", sigs, batches)
	}
}

// canonicalPoint agrees with decoding and re-encoding.
func FuzzCanonicalPoint(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add(append([]byte{1}, make([]byte, 31)...))
	one := append([]byte{1}, make([]byte, 31)...)
	one[31] = 0x80
	f.Add(one)
	f.Add(edwards25519.NewGeneratorPoint().Bytes())
	f.Fuzz(func(t *testing.T, e []byte) {
		if len(e) != 32 {
			if canonicalPoint(e) {
				t.Fatal("a wrong length passed")
			}
			return
		}
		p, err := new(edwards25519.Point).SetBytes(e)
		if err != nil {
			return
		}
		if want := bytes.Equal(p.Bytes(), e); canonicalPoint(e) != want {
			t.Fatalf("%x: canonical %v, re-encoding equal %v", e, !want, want)
		}
	})
}

// Whatever bytes a signature, key or message holds, the batch and the
// library agree (a fuzzed signature is almost never valid; what this
// finds is a panic or a malformed input one of them lets through).
func FuzzEd25519Batch(f *testing.F) {
	for _, c := range edCases(f) {
		f.Add(c.pub, c.msg, c.sig)
	}
	var b Ed25519Batch
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		want := len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
		if got := b.Verify(pub, msg, sig); got != want {
			t.Fatalf("batch %v, library %v", got, want)
		}
	})
}

func BenchmarkEd25519Batch(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	checks := make([]*edCheck, maxBatch)
	for i := range checks {
		m := []byte(fmt.Sprintf("a code %d", i))
		checks[i] = &edCheck{pub: pub, msg: m, sig: ed25519.Sign(priv, m)}
	}
	b.Run("library", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			c := checks[i%len(checks)]
			ed25519.Verify(c.pub, c.msg, c.sig)
		}
	})
	for _, n := range []int{1, 2, 4, 8, 16, 64} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			var v Ed25519Batch
			for b.Loop() {
				v.check(checks[:n])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
	}
	// Many callers at once, as a busy checkpoint's scans arrive: ns/op is the
	// time per signature of the whole machine.
	b.Run("library/parallel", func(b *testing.B) {
		b.SetParallelism(16)
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c := checks[int(i.Add(1))%len(checks)]
				ed25519.Verify(c.pub, c.msg, c.sig)
			}
		})
	})
	b.Run("batch/parallel", func(b *testing.B) {
		b.SetParallelism(16)
		var v Ed25519Batch
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c := checks[int(i.Add(1))%len(checks)]
				if !v.Verify(c.pub, c.msg, c.sig) {
					b.Error("refused")
				}
			}
		})
	})
}
