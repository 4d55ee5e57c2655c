package school

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/org"
)

// ClassDay is a class's check of a day.
type ClassDay struct {
	Class       *Class
	Pupils      int
	Reported    int
	Fever       int // 37.3 °C or more
	Symptomatic int // any symptom reported
	ByParent    int
	AtSchool    int // taken at the gate or in class
	Absent      []*Pupil
	Flagged     []*Flagged // fever or symptoms, by name
}

// Flagged is a pupil whose check needs a look.
type Flagged struct {
	Pupil       *Pupil
	Temperature float64
	Symptoms    []string
}

// Day is a school's check of a day: per class and for the school.
type Day struct {
	Org      *org.Org
	Day      time.Time
	Slot     string
	Classes  []*ClassDay
	Total    ClassDay // Class nil; Absent and Flagged empty
	Admitted int      // entries admitted at the gate that day
	Refused  int      // entries refused at the gate that day
}

// Day reports one check (morning or noon) of a day for the school: per
// class, the pupils, who reported (and how), fevers, symptoms and the
// absentees, who have no report. It reads the school's pupils and the
// day's checks once each.
func (s *Service) Day(ctx context.Context, by *auth.Principal, day time.Time, slot string) (*Day, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	if slot, err = ParseSlot(slot); err != nil {
		return nil, err
	}
	cs, err := s.classes(ctx, s.db, o.ID)
	if err != nil {
		return nil, err
	}
	d := &Day{Org: o, Day: day, Slot: slot, Classes: make([]*ClassDay, len(cs))}
	byClass := make(map[string]*ClassDay, len(cs))
	for i, c := range cs {
		d.Classes[i] = &ClassDay{Class: c}
		byClass[c.ID] = d.Classes[i]
	}
	type check struct {
		temp   int64
		syms   string
		source string
	}
	checks := map[string]check{}
	date := day.Format(time.DateOnly)
	err = db.Each(ctx, s.db, `SELECT pupil_id, temperature, symptoms, source FROM school_checks WHERE org_id = $1 AND day = $2 AND slot = $3`,
		[]any{o.ID, date, slot}, func(sc db.Scanner) error {
			var id string
			var c check
			if err := sc.Scan(&id, &c.temp, &c.syms, &c.source); err != nil {
				return err
			}
			checks[id] = c
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("school: checks of the day: %w", err)
	}
	fever := int64(math.Round(fact.FeverCelsius * 10))
	err = db.Each(ctx, s.db, `SELECT id, class_id, masked_name FROM school_pupils WHERE org_id = $1 ORDER BY masked_name, id`, []any{o.ID},
		func(sc db.Scanner) error {
			p := &Pupil{}
			if err := sc.Scan(&p.ID, &p.ClassID, &p.MaskedName); err != nil {
				return err
			}
			cd := byClass[p.ClassID]
			if cd == nil {
				return nil
			}
			cd.Pupils++
			c, ok := checks[p.ID]
			if !ok {
				cd.Absent = append(cd.Absent, p)
				return nil
			}
			cd.Reported++
			if c.source == ByParent {
				cd.ByParent++
			} else {
				cd.AtSchool++
			}
			hot, sick := c.temp >= fever, c.syms != ""
			if hot {
				cd.Fever++
			}
			if sick {
				cd.Symptomatic++
			}
			if hot || sick {
				f := &Flagged{Pupil: p, Temperature: float64(c.temp) / 10}
				if sick {
					f.Symptoms = strings.Split(c.syms, ",")
				}
				cd.Flagged = append(cd.Flagged, f)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("school: pupils: %w", err)
	}
	for _, cd := range d.Classes {
		d.Total.Pupils += cd.Pupils
		d.Total.Reported += cd.Reported
		d.Total.Fever += cd.Fever
		d.Total.Symptomatic += cd.Symptomatic
		d.Total.ByParent += cd.ByParent
		d.Total.AtSchool += cd.AtSchool
	}
	err = db.Each(ctx, s.db, `SELECT admitted, COUNT(*) FROM school_entries WHERE org_id = $1 AND day = $2 GROUP BY admitted`,
		[]any{o.ID, date}, func(sc db.Scanner) error {
			var ok bool
			var n int
			if err := sc.Scan(&ok, &n); err != nil {
				return err
			}
			if ok {
				d.Admitted = n
			} else {
				d.Refused = n
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("school: entries: %w", err)
	}
	return d, nil
}

// Purge deletes the checks and entries before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "school_checks", Query: `DELETE FROM school_checks WHERE at < $1`},
		db.Deletion{Table: "school_entries", Query: `DELETE FROM school_entries WHERE at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("school: purge: %w", err)
	}
	return out, nil
}

// Forget deletes every pupil with their checks and entries (the wind-down:
// pupils are persons).
func (s *Service) Forget(ctx context.Context) error {
	for _, t := range []string{"school_checks", "school_entries", "school_pupils"} {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("school: forget %s: %w", t, err)
		}
	}
	return nil
}
