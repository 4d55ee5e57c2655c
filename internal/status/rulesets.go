package status

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

func errNoVersion(v int64) error {
	return ErrRulesVersionNotFound.Withf("no rule set version %d", v)
}

// ParseVersion reads a rule-set version as a path gives it; a malformed one
// names no version, so it is not found like a missing one.
func ParseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, ErrRulesVersionNotFound.Withf("no rule set version %q", s)
	}
	return v, nil
}

// Version describes a stored rule-set version.
type Version struct {
	Version   int64
	Rules     int
	Examples  int
	CreatedAt time.Time
	CreatedBy string
	Active    bool
}

// Activation is one entry of the activation history.
type Activation struct {
	Version     int64
	ActivatedAt time.Time
	ActivatedBy string
	Job         int64
}

// CreateRuleSet stores a new version after validating it: it must parse
// (400 rules_json), compile, type-check and pass its own examples (an
// *rules.InvalidError listing every problem, 400 rules_invalid). A stored
// version is immutable; it takes effect only when activated. by needs
// rules.write.
func (s *Service) CreateRuleSet(ctx context.Context, by *auth.Principal, body []byte) (Version, error) {
	if err := by.Require(auth.RulesWrite); err != nil {
		return Version{}, err
	}
	set, err := rules.ParseSet(body)
	if err != nil {
		return Version{}, err
	}
	if _, err := rules.Compile(set, rules.Options{Location: s.cfg.Location}); err != nil {
		return Version{}, err
	}
	v := Version{Rules: len(set.Rules), Examples: len(set.Examples), CreatedAt: s.now().UTC().Truncate(time.Millisecond), CreatedBy: by.Actor()}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if v.Version, err = db.NextVal(ctx, tx, "rule_sets", 1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_sets (version, body, rules, examples, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, v.Version, string(body), v.Rules, v.Examples, v.CreatedAt.UnixMilli(), v.CreatedBy); err != nil {
			return fmt.Errorf("status: store rule set: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: v.CreatedAt, Actor: by.Actor(), Action: "rules.create",
			Subject: fmt.Sprintf("rules:%d", v.Version), Region: by.Region, Detail: map[string]any{"rules": v.Rules, "examples": v.Examples}})
		return err
	})
	return v, err
}

// RuleSet returns a stored version and its rules, to a reader with
// rules.read.
func (s *Service) RuleSet(ctx context.Context, by *auth.Principal, version int64) (Version, rules.Set, error) {
	if err := by.Require(auth.RulesRead); err != nil {
		return Version{}, rules.Set{}, err
	}
	return s.ruleSet(ctx, version)
}

func (s *Service) ruleSet(ctx context.Context, version int64) (Version, rules.Set, error) {
	var v Version
	var at int64
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT r.version, r.body, r.rules, r.examples, r.created_at, r.created_by, a.version = r.version
		FROM rule_sets r, rules_active a WHERE a.id = 1 AND r.version = $1`, version).
		Scan(&v.Version, &body, &v.Rules, &v.Examples, &at, &v.CreatedBy, &v.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return v, rules.Set{}, errNoVersion(version)
	}
	if err != nil {
		return v, rules.Set{}, fmt.Errorf("status: read rule set: %w", err)
	}
	v.CreatedAt = db.Time(at)
	set, err := rules.ParseSet([]byte(body))
	if err != nil {
		return v, rules.Set{}, fmt.Errorf("status: stored rule set %d: %w", version, err)
	}
	return v, set, nil
}

// Overview is what the rules console shows: the active version, every
// version, the activation history and the latest recompute.
type Overview struct {
	Active      Version
	ActiveSet   rules.Set
	Versions    []Version
	Activations []Activation
	Recompute   *Job
}

// Rules returns the overview, to a reader with rules.read.
func (s *Service) Rules(ctx context.Context, by *auth.Principal) (Overview, error) {
	var o Overview
	if err := by.Require(auth.RulesRead); err != nil {
		return o, err
	}
	var active int64
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`).Scan(&active); err != nil {
		return o, fmt.Errorf("status: read active rules: %w", err)
	}
	var err error
	if o.Active, o.ActiveSet, err = s.ruleSet(ctx, active); err != nil {
		return o, err
	}
	o.Versions, err = db.Collect(ctx, s.db, `SELECT version, rules, examples, created_at, created_by FROM rule_sets ORDER BY version DESC LIMIT 200`,
		nil, func(sc db.Scanner) (Version, error) {
			var v Version
			var at int64
			err := sc.Scan(&v.Version, &v.Rules, &v.Examples, &at, &v.CreatedBy)
			v.CreatedAt, v.Active = db.Time(at), v.Version == active
			return v, err
		})
	if err != nil {
		return o, fmt.Errorf("status: list rule sets: %w", err)
	}
	o.Activations, err = db.Collect(ctx, s.db, `SELECT version, activated_at, activated_by, COALESCE(job_id, 0) FROM rule_activations ORDER BY seq DESC LIMIT 200`,
		nil, func(sc db.Scanner) (Activation, error) {
			var a Activation
			var at int64
			err := sc.Scan(&a.Version, &at, &a.ActivatedBy, &a.Job)
			a.ActivatedAt = db.Time(at)
			return a, err
		})
	if err != nil {
		return o, fmt.Errorf("status: list activations: %w", err)
	}
	o.Recompute, err = s.LatestJob(ctx)
	return o, err
}

// Activate makes a version the active one, audited, and starts the
// background recompute of everyone under it (see RunRecompute). Activating
// the active version is a 409. A job still running for an older activation
// is superseded: the new one covers everyone again. The caller needs
// rules.activate, and a scope that covers the deployment's region
// (Config.Region): the set decides everyone.
func (s *Service) Activate(ctx context.Context, by *auth.Principal, version int64) (*Job, error) {
	if err := by.Require(auth.RulesActivate); err != nil {
		return nil, err
	}
	if !by.InScope(s.cfg.Region) {
		return nil, auth.ErrOutOfScope.Withf("activating rules changes colours across %s; your scope is %s", s.cfg.Region, by.Region)
	}
	// Compiling first refuses an unknown version, and warms this node.
	if _, err := s.program(ctx, s.db, version); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var job *Job
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// Taking the active row exclusively first waits for every
		// transaction evaluating under the old version (they hold it FOR
		// SHARE), so none commits an old-version decision after this.
		var previous int64
		if err := tx.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`+s.forUpdate(false)).Scan(&previous); err != nil {
			return fmt.Errorf("status: read active rules: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE rules_active SET version = $1, activated_at = $2, activated_by = $3
			WHERE id = 1 AND version <> $1`, version, now.UnixMilli(), by.Actor())
		if err != nil {
			return fmt.Errorf("status: activate: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrRulesAlreadyActive.Withf("rule set version %d is already active", version)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recompute_jobs SET state = 'superseded', finished_at = $1 WHERE state = 'running'`,
			now.UnixMilli()); err != nil {
			return fmt.Errorf("status: supersede recompute: %w", err)
		}
		if job, err = s.newJob(ctx, tx, version, now); err != nil {
			return err
		}
		seq, err := db.NextVal(ctx, tx, "rule_activations", 1)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_activations (seq, version, activated_at, activated_by, job_id)
			VALUES ($1, $2, $3, $4, $5)`, seq, version, now.UnixMilli(), by.Actor(), job.ID); err != nil {
			return fmt.Errorf("status: record activation: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "rules.activate",
			Subject: fmt.Sprintf("rules:%d", version), Region: by.Region,
			Detail: map[string]any{"previous": previous, "recompute_job": job.ID, "persons": job.Total}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}
