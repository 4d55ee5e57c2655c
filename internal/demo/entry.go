package demo

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/server"
)

// The border desk's demo: a border staff account, two demo DCC document
// signers (Germany for tests, France for vaccinations) in the trust, and
// two inbound travellers registered with their certificates: one three
// days ago (red: central quarantine), one sixteen days ago (yellow: home
// monitoring). The signers' private keys are not kept.

var borderOperator = struct{ username, display, role, region string }{"border", "入境人员转运专班", string(auth.Border), Region}

func entryLoaded(ctx context.Context, s *server.Server) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM counters WHERE name = 'demo_entry_loaded'`).Scan(&n)
	return n > 0, err
}

func loadEntry(ctx context.Context, s *server.Server) error {
	op := borderOperator
	if _, err := s.Auth.CreateOperator(ctx, loader, auth.NewOperator{Username: op.username, DisplayName: op.display,
		Password: auth.GeneratePassword(), Role: op.role, Region: op.region}); err != nil {
		return fmt.Errorf("operator %s: %w", op.username, err)
	}
	now := time.Now()
	for _, t := range []struct {
		country, family, given, dob, passport string
		kind                                  foreign.Kind
		ago                                   time.Duration
	}{
		{"DE", "Mustermann", "Erika", "1964-08-12", "C01X00T47", foreign.KindTest, 3 * 24 * time.Hour},
		{"FR", "Dupont", "Marie", "1988-02-29", "18FR52311", foreign.KindVaccination, 16 * 24 * time.Hour},
	} {
		key, cert, err := foreign.NewSigner(t.country, t.kind)
		if err != nil {
			return err
		}
		pem := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n"
		if _, err := s.Entry.ImportCertificates(ctx, "demo", []byte(pem)); err != nil {
			return err
		}
		arrived := now.Add(-t.ago)
		payload := foreign.TestDCC(t.country, t.family, t.given, t.dob, arrived.Add(-30*time.Hour))
		if t.kind == foreign.KindVaccination {
			delete(payload, "t")
			payload["v"] = []any{map[string]any{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
				"dn": 2, "sd": 2, "dt": arrived.AddDate(0, -3, 0).Format("2006-01-02"), "co": t.country, "is": "Ministère de la Santé",
				"ci": "URN:UVCI:01:FR:DEMO" + t.passport}}
		}
		qr, err := foreign.IssueDCC(key, cert, foreign.DCC{Country: t.country, IssuedAt: arrived.Add(-24 * time.Hour),
			Expires: now.AddDate(0, 6, 0), Payload: payload})
		if err != nil {
			return err
		}
		if _, err := s.Entry.RegisterArrival(ctx, loader, entry.ArrivalInput{Credential: qr, Name: t.given + " " + t.family,
			IDType: "passport", IDNumber: t.passport, Port: "上海浦东国际机场", Transport: "air", ArrivedAt: arrived}); err != nil {
			return fmt.Errorf("arrival of %s: %w", t.family, err)
		}
	}
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_entry_loaded", 1); return err })
}

// demoTestDCC issues an EU DCC of a negative test under a new demo signer
// (Germany, tests) and puts the signer's certificate in the trust.
func demoTestDCC(ctx context.Context, s *server.Server, family, given, dob string, sampled time.Time) (string, error) {
	key, cert, err := foreign.NewSigner("DE", foreign.KindTest)
	if err != nil {
		return "", err
	}
	pem := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n"
	if _, err := s.Entry.ImportCertificates(ctx, "demo", []byte(pem)); err != nil {
		return "", err
	}
	return foreign.IssueDCC(key, cert, foreign.DCC{Country: "DE", IssuedAt: sampled.Add(4 * time.Hour),
		Expires: time.Now().AddDate(0, 1, 0), Payload: foreign.TestDCC("DE", family, given, dob, sampled)})
}
