package school

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/org"
)

// Figures are a school's day in numbers, for the health authority: never
// a name.
type Figures struct {
	Org         *org.Org
	Classes     int64
	Pupils      int64
	Morning     int64 // morning checks reported
	Noon        int64 // noon checks reported
	Fever       int64 // checks of 37.3 °C or more, morning and noon
	Symptomatic int64 // checks with a symptom
	Admitted    int64 // entries admitted at the gate
	Refused     int64 // entries refused at the gate
}

// MorningAbsent is the pupils with no morning check: the absentees.
func (f *Figures) MorningAbsent() int64 { return max(f.Pupils-f.Morning, 0) }

// NoonAbsent is the pupils with no noon check.
func (f *Figures) NoonAbsent() int64 { return max(f.Pupils-f.Noon, 0) }

// Overview is the schools in an operator's scope on one day.
type Overview struct {
	Day     time.Time
	Schools []*Figures
	Total   Figures // Org nil
}

// Overview counts a day's checks and entries of every school in the
// operator's scope; for operators who read statistics.
func (s *Service) Overview(ctx context.Context, by *auth.Principal, day time.Time) (*Overview, error) {
	os, err := org.InScope(ctx, s.orgs, by, org.School)
	if err != nil {
		return nil, err
	}
	fs, err := s.figures(ctx, os, day)
	if err != nil {
		return nil, err
	}
	out := &Overview{Day: day, Schools: fs}
	for _, f := range fs {
		t := &out.Total
		t.Classes += f.Classes
		t.Pupils += f.Pupils
		t.Morning += f.Morning
		t.Noon += f.Noon
		t.Fever += f.Fever
		t.Symptomatic += f.Symptomatic
		t.Admitted += f.Admitted
		t.Refused += f.Refused
	}
	return out, nil
}

// Figures counts one school's day: for its own keys and accounts (orgID
// "" or their own), for operators who read organisations, of a school in
// their scope.
func (s *Service) Figures(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Figures, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopeSchoolCheck, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.School {
		return nil, ErrNotSchool.Withf("%s is not a school", o.Name)
	}
	fs, err := s.figures(ctx, []*org.Org{o}, day)
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func (s *Service) figures(ctx context.Context, os []*org.Org, day time.Time) ([]*Figures, error) {
	out, byID := org.Index(os, func(o *org.Org) *Figures { return &Figures{Org: o} })
	ids := org.IDs(os)
	e := s.db.Engine()
	date := day.Format(time.DateOnly)
	fever := int64(math.Round(fact.FeverCelsius * 10))
	each := func(head string, args []any, tail string, fn func(f *Figures, n []int64, key string)) error {
		return db.QueryIn(ctx, s.db, e, head, args, ids, tail, func(sc db.Scanner) error {
			var id, key string
			n := make([]int64, 3)
			if err := sc.Scan(&id, &key, &n[0], &n[1], &n[2]); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				fn(f, n, key)
			}
			return nil
		})
	}
	err := each(`SELECT org_id, '', COUNT(*), 0, 0 FROM school_classes WHERE org_id IN `, nil, ` GROUP BY org_id`,
		func(f *Figures, n []int64, _ string) { f.Classes = n[0] })
	if err == nil {
		err = each(`SELECT org_id, '', COUNT(*), 0, 0 FROM school_pupils WHERE org_id IN `, nil, ` GROUP BY org_id`,
			func(f *Figures, n []int64, _ string) { f.Pupils = n[0] })
	}
	if err == nil {
		err = each(`SELECT org_id, slot, COUNT(*), COALESCE(SUM(CASE WHEN temperature >= $2 THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN symptoms <> '' THEN 1 ELSE 0 END), 0)
			FROM school_checks WHERE day = $1 AND org_id IN `, []any{date, fever}, ` GROUP BY org_id, slot`,
			func(f *Figures, n []int64, slot string) {
				switch slot {
				case Morning:
					f.Morning = n[0]
				case Noon:
					f.Noon = n[0]
				}
				f.Fever += n[1]
				f.Symptomatic += n[2]
			})
	}
	if err == nil {
		err = each(`SELECT org_id, CASE WHEN admitted THEN 'in' ELSE 'out' END, COUNT(*), 0, 0 FROM school_entries WHERE day = $1 AND org_id IN `,
			[]any{date}, ` GROUP BY org_id, admitted`, func(f *Figures, n []int64, k string) {
				if k == "in" {
					f.Admitted = n[0]
				} else {
					f.Refused = n[0]
				}
			})
	}
	if err != nil {
		return nil, fmt.Errorf("school: figures: %w", err)
	}
	return out, nil
}
