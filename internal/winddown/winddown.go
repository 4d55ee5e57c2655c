// Package winddown ends the emergency: it stops issuing codes, destroys the
// personal data in the order the law asks (codes and keys, check-ins, facts,
// persons and everything linked to them), and signs a report of what each
// table held before and after, which anyone verifies with the region's trust
// list. The features destroy their own tables (the steps the server lists);
// this package orders them, counts, audits and signs.
package winddown

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/emergency"
)

// Format names the report's layout.
const Format = "healthcode-destruction-report/1"

// sigPrefix is signed before the report's bytes: no code's signed structure
// (a CBOR array) begins with it, so a report signature is never a code's.
const sigPrefix = "healthcode destruction report\n"

// Table is what the report counts: a table, or the rows of one that a
// condition picks ("signing_keys.private").
type Table struct {
	Name  string
	Count string // the SELECT COUNT(*) query
}

// Rows counts a whole table.
func Rows(table string) Table { return Table{Name: table, Count: `SELECT COUNT(*) FROM ` + table} }

// Step is one stage of the destruction, in the order Steps are given.
type Step struct {
	Name    string
	Tables  []Table
	Destroy func(ctx context.Context) error
}

// Deps is what a wind-down needs. Signer is the region's current signing
// key; it is taken before the steps run, since the first destroys the
// stored private keys, and kept in memory only until the report is signed.
type Deps struct {
	DB        *db.DB
	Region    string
	Emergency *emergency.State
	Signer    func() *codeformat.Signer
	Steps     []Step
	Log       *slog.Logger
}

// Service runs wind-downs.
type Service struct {
	d   Deps
	now func() time.Time
}

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{d: d, now: time.Now}
}

// ConfirmationPhrase is what the operator types to confirm the real run;
// it names the region, so a phrase copied from another deployment fails.
func ConfirmationPhrase(region string) string { return "END THE EMERGENCY IN " + region }

// Count is one table's rows before and after (nil in a dry run).
type Count struct {
	Step   string `json:"step"`
	Table  string `json:"table"`
	Before int64  `json:"before"`
	After  *int64 `json:"after"`
}

// Report is what a wind-down did, or in a dry run would do.
type Report struct {
	Format     string    `json:"format"`
	Region     string    `json:"region"`
	DryRun     bool      `json:"dry_run"`
	EndedBy    string    `json:"ended_by"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Tables     []Count   `json:"tables"`
}

// Signed is the report file: the report as signed (compact JSON; white
// space added around it is allowed), and the
// signature with the id of the key (in the trust list) that made it.
type Signed struct {
	Report    json.RawMessage `json:"report"`
	KID       string          `json:"kid"`
	Alg       string          `json:"alg"`
	Signature string          `json:"signature"` // base64url, unpadded
}

func (s *Service) allow(by *auth.Principal) error {
	if err := by.Require(auth.EmergencyEnd); err != nil {
		return ErrForbidden.Withf("%v", err)
	}
	if by.Region != "" && by.Region != s.d.Region {
		return ErrForbidden.Withf("your scope is %s; ending the emergency needs the deployment-wide scope (%s)", by.Region, s.d.Region)
	}
	return nil
}

// Plan is the dry run: what each table holds now. It changes nothing.
func (s *Service) Plan(ctx context.Context, by *auth.Principal) (*Report, error) {
	if err := s.allow(by); err != nil {
		return nil, err
	}
	r := &Report{Format: Format, Region: s.d.Region, DryRun: true, EndedBy: by.Actor(), StartedAt: s.now().UTC()}
	var err error
	if r.Tables, err = s.count(ctx, nil); err != nil {
		return nil, err
	}
	r.FinishedAt = s.now().UTC()
	return r, nil
}

func (s *Service) count(ctx context.Context, before []Count) ([]Count, error) {
	var out []Count
	for _, st := range s.d.Steps {
		for _, t := range st.Tables {
			var n int64
			if err := s.d.DB.QueryRowContext(ctx, t.Count).Scan(&n); err != nil {
				return nil, fmt.Errorf("winddown: count %s: %w", t.Name, err)
			}
			if before == nil {
				out = append(out, Count{Step: st.Name, Table: t.Name, Before: n})
				continue
			}
			c := before[len(out)]
			c.After = &n
			out = append(out, c)
		}
	}
	return out, nil
}

// Run ends the emergency and destroys the personal data, after the
// confirmation phrase; it returns the signed report. Without the phrase it
// changes nothing. Run again after a failure, it carries on: each step
// destroys what is left.
func (s *Service) Run(ctx context.Context, by *auth.Principal, confirm string) (*Signed, error) {
	if err := s.allow(by); err != nil {
		return nil, err
	}
	if want := ConfirmationPhrase(s.d.Region); confirm != want {
		return nil, ErrConfirmation.Withf("to destroy every person's data, confirm with --confirm %q", want)
	}
	signer := s.d.Signer()
	if signer == nil {
		return nil, ErrNoSigner
	}
	r := &Report{Format: Format, Region: s.d.Region, EndedBy: by.Actor(), StartedAt: s.now().UTC()}
	before, err := s.count(ctx, nil)
	if err != nil {
		return nil, err
	}
	err = s.d.DB.InTx(ctx, func(tx db.Tx) error {
		if err := emergency.MarkEnded(ctx, tx, emergency.End{At: r.StartedAt, By: by.Actor(), Region: s.d.Region}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: r.StartedAt, Actor: by.Actor(), Action: "emergency.end",
			Subject: "region:" + s.d.Region, Region: s.d.Region, Detail: map[string]any{"rows_before": totals(before)}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("winddown: end the emergency: %w", err)
	}
	if err := s.d.Emergency.Refresh(ctx); err != nil {
		return nil, err
	}
	s.d.Log.Warn("the emergency has ended: codes are no longer issued; destroying personal data", "region", s.d.Region, "by", by.Actor())
	for _, st := range s.d.Steps {
		if err := st.Destroy(ctx); err != nil {
			return nil, fmt.Errorf("winddown: destroy %s: %w", st.Name, err)
		}
		s.d.Log.Info("destroyed", "step", st.Name)
	}
	if r.Tables, err = s.count(ctx, before); err != nil {
		return nil, err
	}
	r.FinishedAt = s.now().UTC()
	signed, err := sign(r, signer)
	if err != nil {
		return nil, err
	}
	err = audit.Record(ctx, s.d.DB, audit.Entry{At: r.FinishedAt, Actor: by.Actor(), Action: "emergency.destruction_report",
		Subject: "region:" + s.d.Region, Region: s.d.Region, Detail: map[string]any{
			"kid": signed.KID, "signature": signed.Signature, "rows_before": totals(before), "rows_after": totals(r.Tables),
		}})
	if err != nil {
		return nil, fmt.Errorf("winddown: audit the report: %w", err)
	}
	return signed, nil
}

// totals maps table to rows, for the audit log (after when known).
func totals(cs []Count) map[string]any {
	out := make(map[string]any, len(cs))
	for _, c := range cs {
		if c.After != nil {
			out[c.Table] = *c.After
		} else {
			out[c.Table] = c.Before
		}
	}
	return out
}

func sign(r *Report, signer *codeformat.Signer) (*Signed, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("winddown: encode the report: %w", err)
	}
	sig, err := signer.Sign(append([]byte(sigPrefix), body...))
	if err != nil {
		return nil, fmt.Errorf("winddown: sign the report: %w", err)
	}
	kid := signer.KeyID()
	return &Signed{Report: body, KID: base64.RawURLEncoding.EncodeToString(kid[:]), Alg: signer.Alg().String(),
		Signature: base64.RawURLEncoding.EncodeToString(sig)}, nil
}

// Verify checks a report file against a trust list: the key must be in it,
// for the report's region, and the signature must hold over the report as
// it is in the file, up to white space. It returns the report.
func Verify(file []byte, trust codeformat.TrustList) (*Report, error) {
	var sd Signed
	if err := json.Unmarshal(file, &sd); err != nil || len(sd.Report) == 0 {
		return nil, ErrReportMalformed
	}
	var r Report
	if err := json.Unmarshal(sd.Report, &r); err != nil || r.Format != Format {
		return nil, ErrReportMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(sd.KID)
	if err != nil || len(raw) != len(codeformat.KeyID{}) {
		return nil, ErrReportMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(sd.Signature)
	if err != nil {
		return nil, ErrReportMalformed
	}
	pub, ok := trust.Key(codeformat.KeyID(raw))
	if !ok || pub.Issuer != r.Region {
		return nil, ErrReportUnknownKey
	}
	// Signed compact; a file may hold it indented.
	var body bytes.Buffer
	if err := json.Compact(&body, sd.Report); err != nil {
		return nil, ErrReportMalformed
	}
	if !pub.VerifyRaw(append([]byte(sigPrefix), body.Bytes()...), sig) {
		return nil, ErrReportSignature
	}
	return &r, nil
}

// DeleteAll is the step of tables no feature purge covers yet: it empties
// them in the order given (children before the parents they reference), in
// one transaction.
func DeleteAll(d *db.DB, tables ...string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return d.InTx(ctx, func(tx db.Tx) error {
			for _, t := range tables {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
					return fmt.Errorf("%s: %w", t, err)
				}
			}
			return nil
		})
	}
}
