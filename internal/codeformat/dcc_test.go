package codeformat

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cose "github.com/veraison/go-cose"
)

// dccDir is the EU DCC test data, kept beside the project in ../shared.
var dccDir = filepath.Join("..", "..", "..", "shared", "testdata", "dgc")

type dccVector struct {
	COSE       string `json:"COSE"`
	COMPRESSED string `json:"COMPRESSED"`
	BASE45     string `json:"BASE45"`
	PREFIX     string `json:"PREFIX"`
	TESTCTX    struct {
		CERTIFICATE string `json:"CERTIFICATE"`
		DESCRIPTION string `json:"DESCRIPTION"`
	} `json:"TESTCTX"`
	EXPECTEDRESULTS struct {
		EXPECTEDB45DECODE   *bool `json:"EXPECTEDB45DECODE"`
		EXPECTEDCOMPRESSION *bool `json:"EXPECTEDCOMPRESSION"`
		EXPECTEDVERIFY      *bool `json:"EXPECTEDVERIFY"`
	} `json:"EXPECTEDRESULTS"`
}

// TestDCCSharedStages runs the stages our format shares with the EU DCC
// (base45, zlib, COSE_Sign1 with ES256 or EdDSA) over the DCC test data.
// The prefix differs by design, and the DCC payload is not our claim set.
func TestDCCSharedStages(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dccDir, "*", "2DCode", "raw", "*.json"))
	if len(files) == 0 {
		t.Skipf("EU DCC test data not found under %s; skipping the shared-stage checks", dccDir)
	}
	var nB45, nZlib, nVerify, nPrefix int
	for _, f := range files {
		name, _ := filepath.Rel(dccDir, f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v dccVector
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // a few upstream files are not valid JSON
		}
		e := v.EXPECTEDRESULTS
		compressed, cerr := hex.DecodeString(strings.TrimSpace(v.COMPRESSED))
		coseBytes, coseErr := hex.DecodeString(strings.TrimSpace(v.COSE))

		if e.EXPECTEDB45DECODE != nil && v.BASE45 != "" && v.COMPRESSED != "" && cerr == nil {
			got, err := Base45Decode(v.BASE45)
			if ok := err == nil && bytes.Equal(got, compressed); ok != *e.EXPECTEDB45DECODE {
				t.Errorf("%s: base45 stage %v, want %v (%s)", name, ok, *e.EXPECTEDB45DECODE, v.TESTCTX.DESCRIPTION)
			}
			nB45++
		}
		if e.EXPECTEDCOMPRESSION != nil && v.COMPRESSED != "" && v.COSE != "" && cerr == nil && coseErr == nil {
			got, err := Decompress(compressed)
			if ok := err == nil && bytes.Equal(got, coseBytes); ok != *e.EXPECTEDCOMPRESSION {
				t.Errorf("%s: zlib stage %v (%v), want %v (%s)", name, ok, err, *e.EXPECTEDCOMPRESSION, v.TESTCTX.DESCRIPTION)
			}
			nZlib++
		}
		if e.EXPECTEDVERIFY != nil && v.COSE != "" && coseErr == nil {
			if checked, ok := dccVerify(coseBytes, v.TESTCTX.CERTIFICATE); checked {
				if ok != *e.EXPECTEDVERIFY {
					t.Errorf("%s: COSE verify %v, want %v (%s)", name, ok, *e.EXPECTEDVERIFY, v.TESTCTX.DESCRIPTION)
				}
				nVerify++
			}
		}
		if v.PREFIX != "" {
			if _, err := Decode(v.PREFIX); reasonOf(err) != ReasonBadPrefix {
				t.Errorf("%s: our decoder gives %v for a DCC code, want bad_prefix", name, err)
			}
			nPrefix++
		}
	}
	t.Logf("EU DCC vectors: %d base45, %d zlib, %d COSE signature, %d prefix checks", nB45, nZlib, nVerify, nPrefix)
	if nB45 == 0 || nZlib == 0 || nVerify == 0 {
		t.Error("a shared stage found no vectors to run")
	}
}

// dccVerify checks a DCC COSE_Sign1 with our parser and signature code
// against the vector's certificate. It reports checked=false where our
// format cannot say: algorithms we do not support (RSA-PSS) and messages
// whose kid is only in the unprotected header, which DCC allows and we
// refuse by design.
func dccVerify(msg []byte, certB64 string) (checked, ok bool) {
	der, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		return false, false
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return false, false
	}
	alg, err := AlgFor(cert.PublicKey)
	if err != nil {
		return false, false
	}
	m, err := ParseSign1(msg)
	if err != nil {
		var gm cose.Sign1Message
		if gm.UnmarshalCBOR(msg) == nil {
			if _, inProtected := gm.Headers.Protected[cose.HeaderLabelKeyID]; !inProtected {
				return false, false
			}
		}
		return true, false
	}
	if m.Alg != alg {
		return true, false
	}
	return true, verifySignature(alg, cert.PublicKey, AppendSigStructure(nil, m.Protected, m.Payload), m.Signature)
}

func reasonOf(err error) Reason {
	if e, ok := err.(*Error); ok {
		return e.Reason
	}
	return ""
}
