package federation

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// AnyRegion is the policy row that applies to every region without its own.
const AnyRegion = "*"

// colorPolicy maps (foreign region, foreign colour) to a local colour; a
// colour without a row reads as itself.
type colorPolicy struct {
	byRegion map[string][4]rules.Color
}

// Rule is one row of the colour-mapping policy.
type Rule struct {
	ForeignRegion string // a region code or "*"
	ForeignColor  rules.Color
	LocalColor    rules.Color
	UpdatedAt     time.Time
	UpdatedBy     string
}

// LoadPolicy reads the colour-mapping policy (at start, after an edit, and
// with every pull so that an edit on another node arrives).
func (n *Node) LoadPolicy(ctx context.Context) error {
	rs, err := n.readPolicy(ctx)
	if err != nil {
		return err
	}
	p := &colorPolicy{byRegion: map[string][4]rules.Color{}}
	for _, r := range rs {
		m := p.byRegion[r.ForeignRegion]
		m[r.ForeignColor] = r.LocalColor
		p.byRegion[r.ForeignRegion] = m
	}
	n.policy.Store(p)
	return nil
}

func (n *Node) readPolicy(ctx context.Context) ([]Rule, error) {
	rs, err := db.Collect(ctx, n.db, `SELECT foreign_region, foreign_color, local_color, updated_at, updated_by
		FROM fed_color_policy ORDER BY foreign_region, foreign_color`, nil, func(sc db.Scanner) (Rule, error) {
		var r Rule
		var fc, lc string
		var at int64
		if err := sc.Scan(&r.ForeignRegion, &fc, &lc, &at, &r.UpdatedBy); err != nil {
			return r, err
		}
		r.ForeignColor, _ = rules.ParseColor(fc)
		r.LocalColor, _ = rules.ParseColor(lc)
		r.UpdatedAt = db.Time(at)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("federation: read the colour policy: %w", err)
	}
	out := rs[:0]
	for _, r := range rs {
		if r.ForeignColor.Valid() && r.LocalColor.Valid() {
			out = append(out, r)
		}
	}
	return out, nil
}

// Map is how a colour of issuer reads here under the policy.
func (n *Node) Map(issuer string, c rules.Color) rules.Color {
	if !c.Valid() {
		return c
	}
	p := n.policy.Load()
	if m, ok := p.byRegion[issuer]; ok && m[c].Valid() {
		return m[c]
	}
	if m, ok := p.byRegion[AnyRegion]; ok && m[c].Valid() {
		return m[c]
	}
	return c
}

// Policy lists the policy's rows, for operators who may read rules.
func (n *Node) Policy(ctx context.Context, by *auth.Principal) ([]Rule, error) {
	if err := by.Require(auth.RulesRead); err != nil {
		return nil, err
	}
	return n.readPolicy(ctx)
}

// Overview is the federation's state and the colour policy, for operators
// who may read rules.
func (n *Node) Overview(ctx context.Context, by *auth.Principal) (Info, []Rule, error) {
	if err := by.Require(auth.RulesRead); err != nil {
		return Info{}, nil, err
	}
	rs, err := n.readPolicy(ctx)
	return n.Info(), rs, err
}

// SetPolicy sets how a foreign region's colour reads here, audited. It is
// the deployment's policy, so only an operator whose scope is the whole
// deployment region with the permission to activate rules may change it.
// Setting a colour to itself removes the row.
func (n *Node) SetPolicy(ctx context.Context, by *auth.Principal, foreignRegion string, foreign, local rules.Color) error {
	if err := by.Require(auth.RulesActivate); err != nil {
		return err
	}
	if !by.InScope(n.cfg.Region) {
		return auth.ErrOutOfScope.Withf("the colour policy is the whole region's (%s); your scope is %s", n.cfg.Region, by.Region)
	}
	if foreignRegion != AnyRegion {
		if err := CheckRegion(foreignRegion); err != nil {
			return err
		}
	}
	if !foreign.Valid() || !local.Valid() {
		return ErrBadColor
	}
	now := n.now()
	err := n.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if foreign == local {
			_, err = tx.ExecContext(ctx, `DELETE FROM fed_color_policy WHERE foreign_region = $1 AND foreign_color = $2`,
				foreignRegion, foreign.String())
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO fed_color_policy (foreign_region, foreign_color, local_color, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (foreign_region, foreign_color) DO UPDATE
				SET local_color = excluded.local_color, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				foreignRegion, foreign.String(), local.String(), now.UnixMilli(), by.Actor())
		}
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "federation.color_policy",
			Subject: "region:" + foreignRegion, Region: n.cfg.Region,
			Detail: map[string]any{"foreign_color": foreign.String(), "local_color": local.String()}})
		return err
	})
	if err != nil {
		return fmt.Errorf("federation: set the colour policy: %w", err)
	}
	return n.LoadPolicy(ctx)
}

func kidText(kid codeformat.KeyID) string { return base64.RawURLEncoding.EncodeToString(kid[:]) }
