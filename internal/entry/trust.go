package entry

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/foreign"
)

// Trust material kinds, as stored.
const (
	TrustCertificate = "certificate" // a DCC signer certificate
	TrustJWKS        = "jwks"        // an SHC issuer's public keys
	TrustCRL         = "crl"         // an SHC issuer's revocation list
)

// TrustEntry is one imported item of trust material.
type TrustEntry struct {
	Format   foreign.Format
	Kind     string
	Issuer   string // the certificate's country, or the SHC iss
	Country  string
	KID      string // base64 (DCC) or the JWK kid; for a JWKS, its kids
	NotAfter time.Time
	AddedAt  time.Time
	AddedBy  string
}

// ImportCertificates trusts DCC signer certificates (PEM or base64 DER).
// The country answered for a DCC is the one it names in iss; the
// certificate's own is listed.
func (s *Service) ImportCertificates(ctx context.Context, actor string, data []byte) ([]TrustEntry, error) {
	certs, err := foreign.ParseCertificates(data)
	if err != nil {
		return nil, ErrTrustInvalid.Withf("DCC signer certificates: %v", err)
	}
	var out []TrustEntry
	var rows [][]any
	now := s.now().UTC()
	for _, c := range certs {
		var t foreign.Trust
		kid := base64.StdEncoding.EncodeToString(t.AddCertificate(c))
		country := ""
		if len(c.Subject.Country) > 0 {
			country = c.Subject.Country[0]
		}
		sum := sha256.Sum256(c.Raw)
		e := TrustEntry{Format: foreign.FormatDCC, Kind: TrustCertificate, Issuer: country, Country: country, KID: kid,
			NotAfter: c.NotAfter.UTC(), AddedAt: now, AddedBy: actor}
		out = append(out, e)
		rows = append(rows, []any{"cert:" + hex.EncodeToString(sum[:]), e, base64.StdEncoding.EncodeToString(c.Raw)})
	}
	return out, s.store(ctx, actor, rows)
}

// ImportJWKS trusts an SHC issuer's public keys, for cards whose iss is
// iss; country is answered as their issuer_country. It replaces the
// issuer's earlier JWKS.
func (s *Service) ImportJWKS(ctx context.Context, actor, iss, country string, data []byte) (TrustEntry, error) {
	iss = strings.TrimSpace(iss)
	if !strings.HasPrefix(iss, "https://") && !strings.HasPrefix(iss, "http://") {
		return TrustEntry{}, ErrIssMissing
	}
	if country != "" && Alpha3(country) == "" {
		return TrustEntry{}, ErrOriginInvalid.Withf("--country %q is not an ISO 3166 country code", country)
	}
	keys, err := foreign.ParseJWKS(data)
	if err != nil {
		return TrustEntry{}, ErrTrustInvalid.Withf("SHC issuer JWKS: %v", err)
	}
	kids := make([]string, 0, len(keys.Keys))
	for k := range keys.Keys {
		kids = append(kids, k)
	}
	e := TrustEntry{Format: foreign.FormatSHC, Kind: TrustJWKS, Issuer: iss, Country: strings.ToUpper(country),
		KID: strings.Join(kids, " "), AddedAt: s.now().UTC(), AddedBy: actor}
	return e, s.store(ctx, actor, [][]any{{"jwks:" + iss, e, string(data)}})
}

// ImportCRL applies an SHC issuer's revocation list (its keys first).
func (s *Service) ImportCRL(ctx context.Context, actor, iss string, data []byte) (TrustEntry, error) {
	crl, err := foreign.ParseCRL(data)
	if err != nil {
		return TrustEntry{}, ErrTrustInvalid.Withf("SHC revocation list: %v", err)
	}
	t, err := s.Trust(ctx)
	if err != nil {
		return TrustEntry{}, err
	}
	if !t.HasIssuer(iss) {
		return TrustEntry{}, ErrTrustInvalid.Withf("SHC revocation list: no issuer %s; import its JWKS first", iss)
	}
	e := TrustEntry{Format: foreign.FormatSHC, Kind: TrustCRL, Issuer: iss, KID: crl.KID, AddedAt: s.now().UTC(), AddedBy: actor}
	return e, s.store(ctx, actor, [][]any{{"crl:" + iss + ":" + crl.KID, e, string(data)}})
}

// store upserts trust rows (fingerprint, entry, material) and audits the
// import, then reloads this node's trust.
func (s *Service) store(ctx context.Context, actor string, rows [][]any) error {
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for _, r := range rows {
			e := r[1].(TrustEntry)
			var notAfter sql.NullInt64
			if !e.NotAfter.IsZero() {
				notAfter = sql.NullInt64{Int64: e.NotAfter.UnixMilli(), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM entry_trust WHERE fingerprint = $1`, r[0]); err != nil {
				return fmt.Errorf("entry: replace trust: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO entry_trust (fingerprint, format, kind, issuer, country, kid, material, not_after, added_at, added_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r[0], string(e.Format), e.Kind, e.Issuer, e.Country, e.KID, r[2],
				notAfter, e.AddedAt.UnixMilli(), actor); err != nil {
				return fmt.Errorf("entry: store trust: %w", err)
			}
			if _, err := audit.Append(ctx, tx, audit.Entry{At: e.AddedAt, Actor: actor, Action: "entry.trust.import",
				Subject: string(e.Format) + ":" + e.Kind + ":" + e.Issuer, Detail: map[string]any{"kid": e.KID}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.reload(ctx)
	return err
}

// TrustEntries lists the imported trust material, certificates first.
func (s *Service) TrustEntries(ctx context.Context) ([]TrustEntry, error) {
	out, err := db.Collect(ctx, s.db, `SELECT format, kind, issuer, country, kid, not_after, added_at, added_by FROM entry_trust
		ORDER BY format, kind, issuer, kid`, nil, func(r db.Scanner) (TrustEntry, error) {
		var e TrustEntry
		var format string
		var notAfter sql.NullInt64
		var added int64
		err := r.Scan(&format, &e.Kind, &e.Issuer, &e.Country, &e.KID, &notAfter, &added, &e.AddedBy)
		e.Format, e.AddedAt = foreign.Format(format), time.UnixMilli(added).UTC()
		if notAfter.Valid {
			e.NotAfter = time.UnixMilli(notAfter.Int64).UTC()
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("entry: list trust: %w", err)
	}
	return out, nil
}

// reloadEvery is how stale this node's copy of the trust may get: an import
// by `healthcode trust import` (another process) shows within it.
const reloadEvery = 30 * time.Second

type trustState struct {
	t      *foreign.Trust
	loaded time.Time
}

// Trust is the trust material this node verifies against.
func (s *Service) Trust(ctx context.Context) (*foreign.Trust, error) {
	if st := s.trust.Load(); st != nil && s.now().Sub(st.loaded) < reloadEvery {
		return st.t, nil
	}
	return s.reload(ctx)
}

func (s *Service) reload(ctx context.Context) (*foreign.Trust, error) {
	type row struct{ format, kind, issuer, country, material string }
	rows, err := db.Collect(ctx, s.db, `SELECT format, kind, issuer, country, material FROM entry_trust ORDER BY kind DESC`, nil,
		func(r db.Scanner) (row, error) {
			var x row
			return x, r.Scan(&x.format, &x.kind, &x.issuer, &x.country, &x.material)
		})
	if err != nil {
		return nil, fmt.Errorf("entry: load trust: %w", err)
	}
	t := &foreign.Trust{}
	// jwks sorts before crl in descending kind order: keys before lists.
	for _, x := range rows {
		switch x.kind {
		case TrustCertificate:
			cs, err := foreign.ParseCertificates([]byte(x.material))
			if err != nil {
				s.log.Warn("entry: a stored DCC certificate does not parse", "err", err)
				continue
			}
			t.AddCertificate(cs[0])
		case TrustJWKS:
			keys, err := foreign.ParseJWKS([]byte(x.material))
			if err != nil {
				s.log.Warn("entry: a stored JWKS does not parse", "iss", x.issuer, "err", err)
				continue
			}
			t.AddIssuer(x.issuer, x.country, keys)
		case TrustCRL:
			crl, err := foreign.ParseCRL([]byte(x.material))
			if err == nil {
				err = t.AddCRL(x.issuer, crl)
			}
			if err != nil {
				s.log.Warn("entry: a stored revocation list does not apply", "iss", x.issuer, "err", err)
			}
		}
	}
	s.trust.Store(&trustState{t: t, loaded: s.now()})
	return t, nil
}
