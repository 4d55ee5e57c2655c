package status

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/rules"
)

// Appeal states.
const (
	AppealPending  = "pending"
	AppealGranted  = "granted"
	AppealRejected = "rejected"
)

// Limits on what a resident may send with an appeal.
const (
	maxAppealReason   = 1000
	maxAppealEvidence = 10
	maxAppealTTL      = 90 * 24 * time.Hour
)

// Appeal is a resident's request to review a colour (申诉).
type Appeal struct {
	ID        string
	PersonID  string
	Person    int64
	Region    string
	AccountID string
	Reason    string
	// Evidence are ids of the person's own test results (nat.result facts).
	Evidence []string
	// Credentials are outside evidence, as verified when filed.
	Credentials []Credential
	// Color and RuleID are the decision appealed against.
	Color  rules.Color
	RuleID string
	// RulesVersion is the rule-set version that decided it (0: not known).
	RulesVersion int64
	State        string
	Auto         bool // granted by the evidence check, without an operator
	Note         string
	Until        time.Time
	DecidedBy    string
	DecidedAt    time.Time
	CreatedAt    time.Time
}

const appealCols = `id, person_num, region_code, account_id, reason, evidence, color, rule_id, state, auto, note,
	COALESCE(until_at, 0), decided_by, COALESCE(decided_at, 0), created_at, rules_version, credentials`

func (s *Service) scanAppeal(sc scanner) (*Appeal, error) {
	var a Appeal
	var evidence, creds string
	var color, until, decided, created int64
	if err := sc.Scan(&a.ID, &a.Person, &a.Region, &a.AccountID, &a.Reason, &evidence, &color, &a.RuleID, &a.State, &a.Auto,
		&a.Note, &until, &a.DecidedBy, &decided, &created, &a.RulesVersion, &creds); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(evidence), &a.Evidence); err != nil {
		return nil, fmt.Errorf("status: appeal %s: evidence: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(creds), &a.Credentials); err != nil {
		return nil, fmt.Errorf("status: appeal %s: credentials: %w", a.ID, err)
	}
	a.PersonID, a.Color = s.ids.ID(a.Person), rules.Color(color)
	a.Until, a.DecidedAt, a.CreatedAt = db.Time(until), db.Time(decided), db.Time(created)
	return &a, nil
}

// AppealInput is what a resident sends.
type AppealInput struct {
	Reason   string
	Evidence []string // fact ids of the person's own test results
	// Credentials are texts of outside evidence as scanned or downloaded:
	// a code or test certificate of another region, an EU DCC (HC1:), a
	// SMART Health Card. Each is verified by signature and shown to the
	// reviewer as verified or not, with the reasons.
	Credentials []string
}

// FileAppeal records a resident's appeal against a person's current colour:
// their own (personID empty or their id) or a dependent's; anyone else is a
// 404, and only residents appeal. A green person has nothing to appeal (409
// appeal_not_needed) and a person has at most one pending appeal (409
// appeal_pending).
//
// The appeal is granted at once, without an operator, when its evidence
// already satisfies the active rule set: every referenced fact is a negative
// nat.result of the person sampled no later than now, and the rule that
// decides the person's colour, evaluated alone at now over the person's facts
// plus the referenced tests presented again as recorded now, no longer
// matches. Presenting them as recorded now is what lets a test count that an
// earlier appeal had hidden (facts recorded before a grant are hidden while
// it lasts): "my negative test after the fever-clinic visit was recorded
// before my last appeal". A status that time has made stale is cleared the
// same way.
func (s *Service) FileAppeal(ctx context.Context, by *auth.Principal, personID string, in AppealInput) (*Appeal, error) {
	who, err := s.people.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	accountID, num := by.ID, who.Num
	reason := strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > maxAppealReason {
		return nil, ErrAppealReasonInvalid.Withf("reason must be 1-%d characters", maxAppealReason)
	}
	if len(in.Evidence) > maxAppealEvidence {
		return nil, ErrEvidenceInvalid.Withf("at most %d test results may be referenced", maxAppealEvidence)
	}
	evIDs := make([]int64, 0, len(in.Evidence))
	for _, e := range in.Evidence {
		id, err := strconv.ParseInt(e, 10, 64)
		if err != nil || id <= 0 {
			return nil, ErrEvidenceInvalid.Withf("evidence %q is not a fact id", e)
		}
		if slices.Contains(evIDs, id) {
			return nil, ErrEvidenceInvalid.Withf("evidence %q is listed twice", e)
		}
		evIDs = append(evIDs, id)
	}
	creds, err := s.checkCredentials(ctx, in.Credentials)
	if err != nil {
		return nil, err
	}
	var a *Appeal
	var w written
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		ver, _, err := s.activeProgram(ctx, tx)
		if err != nil {
			return err
		}
		// A grant at once stores a fact, and Record takes the facts counter
		// before the status rows and the audit head; taken here only with
		// the grant, after both, it waited for a Record that waited for it.
		// SQLite's single writer has no such locks.
		if s.db.Engine() == db.Postgres {
			if _, err := db.LockCounter(ctx, tx, s.db.Engine(), "facts"); err != nil {
				return err
			}
		}
		now := s.now()
		people, err := s.personRegions(ctx, tx, []int64{num})
		if err != nil {
			return err
		}
		cur, err := s.lockRows(ctx, tx, people)
		if err != nil {
			return err
		}
		st, ok := cur[num]
		if !ok {
			st = defaultRow(people[0])
		}
		if st.color == rules.Green {
			return ErrAppealNotNeeded
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals WHERE person_num = $1 AND state = 'pending'`, num).Scan(&pending); err != nil {
			return fmt.Errorf("status: appeals: %w", err)
		}
		if pending > 0 {
			return ErrAppealPending
		}
		evidence, err := s.evidence(ctx, tx, num, evIDs)
		if err != nil {
			return err
		}
		a = &Appeal{ID: ids.New(), Person: num, PersonID: s.ids.ID(num), Region: people[0].region, AccountID: accountID,
			Reason: reason, Evidence: in.Evidence, Credentials: creds, Color: st.color, RuleID: st.ruleID, RulesVersion: st.rulesVer, State: AppealPending,
			CreatedAt: now.UTC().Truncate(time.Millisecond)}
		if a.Evidence == nil {
			a.Evidence = []string{}
		}
		ev, _ := json.Marshal(a.Evidence)
		cr, _ := json.Marshal(a.Credentials)
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeals (id, person_num, region_code, account_id, reason, evidence, color,
			rule_id, state, auto, note, until_at, decided_by, decided_at, created_at, rules_version, credentials)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', FALSE, '', NULL, '', NULL, $9, $10, $11)`,
			a.ID, num, a.Region, accountID, reason, string(ev), int64(st.color), st.ruleID, a.CreatedAt.UnixMilli(), st.rulesVer, string(cr)); err != nil {
			return fmt.Errorf("status: store appeal: %w", err)
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: "resident:" + accountID, Action: "appeal.file",
			Subject: "person:" + a.PersonID, Region: a.Region, Detail: map[string]any{"appeal": a.ID, "evidence": a.Evidence,
				"credentials": credentialSummary(a.Credentials)}}); err != nil {
			return err
		}
		clears, err := s.evidenceClears(ctx, tx, ver, st, evidence, now)
		if err != nil || !clears {
			return err
		}
		text, err := s.ruleText(ctx, tx, st.rulesVer, st.ruleID)
		if err != nil {
			return err
		}
		note := fmt.Sprintf("系统核验：所附阴性核酸检测结果已满足解除条件（%s），申诉自动通过。", strings.TrimSuffix(text.reason.ZH, "。"))
		w, err = s.grant(ctx, tx, a, "system", note, now.Add(s.cfg.AppealTTL), now)
		if err != nil {
			return err
		}
		a.Auto = true
		_, err = tx.ExecContext(ctx, `UPDATE appeals SET auto = TRUE WHERE id = $1`, a.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.applyLocal(w)
	return a, nil
}

// evidence reads the referenced facts, which must be the person's own test
// results.
func (s *Service) evidence(ctx context.Context, tx db.Tx, num int64, evIDs []int64) ([]storedFact, error) {
	if len(evIDs) == 0 {
		return nil, nil
	}
	var found []storedFact
	err := db.QueryIn(ctx, tx, s.db.Engine(), `SELECT `+factCols+` FROM facts WHERE person_num = $1 AND id IN `, []any{num}, evIDs, ` ORDER BY id`,
		collectFacts(&found))
	if err != nil {
		return nil, fmt.Errorf("status: read evidence: %w", err)
	}
	for _, id := range evIDs {
		i := slices.IndexFunc(found, func(f storedFact) bool { return f.id == id })
		if i < 0 || found[i].kind != fact.NATResult {
			return nil, ErrEvidenceInvalid.Withf("fact %d is not one of this person's test results", id)
		}
	}
	return found, nil
}

// evidenceClears is the automatic check described at FileAppeal.
func (s *Service) evidenceClears(ctx context.Context, tx db.Tx, ver int64, st row, evidence []storedFact, now time.Time) (bool, error) {
	if len(evidence) == 0 || st.ruleID == "" || st.ruleID == rules.AppealRuleID {
		return false, nil
	}
	extra := make([]fact.Fact, 0, len(evidence))
	for i := range evidence {
		f, err := evidence[i].fact()
		if err != nil {
			return false, err
		}
		if r, _ := f.Attr("result"); r != "negative" || f.At.After(now) {
			return false, nil
		}
		f.RecordedAt = now
		extra = append(extra, f)
	}
	single, err := s.singleRule(ctx, tx, ver, st.ruleID)
	if err != nil || single == nil {
		// A rule the active set no longer has: the recompute settles it.
		return false, err
	}
	stored, _, err := s.packsOf(ctx, tx, []int64{st.num})
	if err != nil {
		return false, err
	}
	all := make([]fact.Fact, 0, len(stored)+len(extra))
	for i := range stored {
		f, err := stored[i].fact()
		if err != nil {
			return false, err
		}
		all = append(all, f)
	}
	all = append(all, extra...)
	d := single.Eval(all, now)
	return d.RuleID != st.ruleID && len(d.Errors) == 0, nil
}

// grant appends the appeal.granted fact (idempotent by the appeal's id) and
// marks the appeal granted, in the caller's transaction.
func (s *Service) grant(ctx context.Context, tx db.Tx, a *Appeal, by, note string, until, now time.Time) (written, error) {
	// The grant overrides what the appeal named: its rule, over the facts
	// recorded before it was filed (docs/RULES.md, Appeals).
	attrs := map[string]any{"appeal": a.ID, "filed_at": a.CreatedAt.UTC().Format(time.RFC3339Nano)}
	if a.RuleID != "" && a.RuleID != rules.AppealRuleID {
		attrs["rule"] = a.RuleID
	}
	if note != "" {
		attrs["note"] = note
	}
	nf := []NewFact{{Person: a.Person, RecordedBy: by, Key: "appeal:" + a.ID,
		Fact: fact.Fact{Kind: fact.AppealGranted, At: now, Until: until, Attrs: attrs, Source: "appeal:" + a.ID}}}
	if err := check(nf, now); err != nil {
		return written{}, err
	}
	_, w, err := s.recordTx(ctx, tx, nf, CauseAppeal)
	if err != nil {
		return written{}, err
	}
	a.State, a.Note, a.Until, a.DecidedBy, a.DecidedAt = AppealGranted, note, until.UTC().Truncate(time.Millisecond), by, now.UTC().Truncate(time.Millisecond)
	_, err = tx.ExecContext(ctx, `UPDATE appeals SET state = 'granted', note = $1, until_at = $2, decided_by = $3, decided_at = $4 WHERE id = $5`,
		note, a.Until.UnixMilli(), by, a.DecidedAt.UnixMilli(), a.ID)
	if err != nil {
		return written{}, fmt.Errorf("status: grant appeal: %w", err)
	}
	return w, nil
}

// Decision is an operator's verdict on an appeal.
type Decision struct {
	Decision string    // granted or rejected
	Note     string    // shown to the resident; required to reject
	Until    time.Time // when a grant expires; zero: now + Config.AppealTTL
}

// Decide grants or rejects a pending appeal in the operator's scope (one
// outside it is a 404), for an operator with appeal.decide. A grant appends
// appeal.granted until Until, which turns the person green at once unless
// something recorded after the grant says otherwise (docs/RULES.md,
// Appeals). Audited.
func (s *Service) Decide(ctx context.Context, by *auth.Principal, id string, dec Decision) (*Appeal, error) {
	if err := by.Require(auth.AppealDecide); err != nil {
		return nil, err
	}
	note := strings.TrimSpace(dec.Note)
	if utf8.RuneCountInString(note) > maxAppealReason {
		return nil, ErrNoteInvalid.Withf("note must be at most %d characters", maxAppealReason)
	}
	switch dec.Decision {
	case AppealGranted:
	case AppealRejected:
		if note == "" {
			return nil, ErrNoteRequired
		}
		if !dec.Until.IsZero() {
			return nil, ErrUntilNotAllowed
		}
	default:
		return nil, ErrDecisionInvalid.Withf("decision must be granted or rejected, got %q", dec.Decision)
	}
	var a *Appeal
	var w written
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if _, _, err := s.activeProgram(ctx, tx); err != nil {
			return err
		}
		now := s.now()
		var err error
		a, err = s.scanAppeal(tx.QueryRowContext(ctx, `SELECT `+appealCols+` FROM appeals WHERE id = $1`+s.forUpdate(false), id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(a.Region)) {
			return ErrAppealNotFound
		}
		if err != nil {
			return fmt.Errorf("status: read appeal: %w", err)
		}
		if a.State != AppealPending {
			return ErrAppealDecided.Withf("this appeal was already %s", a.State)
		}
		if dec.Decision == AppealGranted {
			until := dec.Until
			if until.IsZero() {
				until = now.Add(s.cfg.AppealTTL)
			}
			if !until.After(now) || until.Sub(now) > maxAppealTTL {
				return ErrUntilInvalid.Withf("until must be in the future and at most %d days away", int(maxAppealTTL.Hours()/24))
			}
			if w, err = s.grant(ctx, tx, a, by.Actor(), note, until, now); err != nil {
				return err
			}
		} else {
			a.State, a.Note, a.DecidedBy, a.DecidedAt = AppealRejected, note, by.Actor(), now.UTC().Truncate(time.Millisecond)
			if _, err := tx.ExecContext(ctx, `UPDATE appeals SET state = 'rejected', note = $1, decided_by = $2, decided_at = $3 WHERE id = $4`,
				note, a.DecidedBy, a.DecidedAt.UnixMilli(), a.ID); err != nil {
				return fmt.Errorf("status: reject appeal: %w", err)
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "appeal.decide", Subject: "person:" + a.PersonID,
			Region: a.Region, Detail: map[string]any{"appeal": a.ID, "decision": a.State}})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.applyLocal(w)
	return a, nil
}

// Appeals lists the appeals a resident filed, newest first.
func (s *Service) Appeals(ctx context.Context, by *auth.Principal) ([]*Appeal, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, auth.ErrForbidden.Withf("only a resident has appeals of their own")
	}
	return s.listAppeals(ctx, `SELECT `+appealCols+` FROM appeals WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 100`, by.ID)
}

// AppealQueue lists appeals in the operator's scope in a state (default
// pending), oldest first: the review queue, for an operator with
// appeal.decide.
func (s *Service) AppealQueue(ctx context.Context, by *auth.Principal, state string, limit int) ([]*Appeal, error) {
	if err := by.Require(auth.AppealDecide); err != nil {
		return nil, err
	}
	if state == "" {
		state = AppealPending
	}
	if state != AppealPending && state != AppealGranted && state != AppealRejected {
		return nil, ErrStateInvalid
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, nil)
	as, err := s.listAppeals(ctx, `SELECT `+appealCols+` FROM appeals WHERE `+scope+`
		AND state = $3 ORDER BY created_at, id LIMIT $4`, append(args, state, limit)...)
	if err != nil || len(as) == 0 {
		return as, err
	}
	// The queue shows operators persons, their colours and their reasons:
	// audited like any other list of persons.
	listed := make([]string, len(as))
	for i, a := range as {
		listed[i] = a.PersonID
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "appeal.list", Subject: "appeals",
		Region: lo, Detail: map[string]any{"state": state, "results": listed}})
	return as, err
}

func (s *Service) listAppeals(ctx context.Context, q string, args ...any) ([]*Appeal, error) {
	out, err := db.Collect(ctx, s.db, q, args, s.scanAppeal)
	if err != nil {
		return nil, fmt.Errorf("status: list appeals: %w", err)
	}
	if out == nil {
		out = []*Appeal{}
	}
	return out, nil
}

// credentialSummary is what the audit log keeps of attached credentials:
// format, issuer and whether each verified, no holder.
func credentialSummary(cs []Credential) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		v := "not verified"
		if c.Valid {
			v = "verified"
		}
		out[i] = c.Format + " " + c.Issuer + " " + v
	}
	return out
}

// PersonAppeals lists a person's appeals, newest first (at most 100), for
// features that link to them (a hotline ticket about the person's code);
// the caller has decided that its operator may see the person.
func (s *Service) PersonAppeals(ctx context.Context, num int64) ([]*Appeal, error) {
	return s.listAppeals(ctx, `SELECT `+appealCols+` FROM appeals WHERE person_num = $1 ORDER BY created_at DESC, id LIMIT 100`, num)
}
