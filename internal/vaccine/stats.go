package vaccine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// DayCount is the appointments of one day in scope.
type DayCount struct {
	Day                             string // YYYY-MM-DD
	Places, Booked, Cancelled, Done int64
}

// AppointmentsPerDay counts the appointments of the slots in scope on each
// of days days from the day of from.
func (s *Service) AppointmentsPerDay(ctx context.Context, by *auth.Principal, from time.Time, days int) ([]DayCount, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	if days <= 0 || days > 31 {
		days = 7
	}
	start := s.dayStart(from)
	out := make([]DayCount, days)
	index := map[string]int{}
	for i := range out {
		out[i].Day = start.AddDate(0, 0, i).Format("2006-01-02")
		index[out[i].Day] = i
	}
	end := start.AddDate(0, 0, days)
	scope, args := db.Scope("sl.region_code", lo(by), hi(by), []any{start.UnixMilli(), end.UnixMilli()})
	day := func(ms int64) (int, bool) {
		i, ok := index[db.Time(ms).In(s.cfg.Location).Format("2006-01-02")]
		return i, ok
	}
	err := db.Each(ctx, s.db, `SELECT sl.starts_at, sl.capacity FROM vac_slots sl WHERE sl.starts_at >= $1 AND sl.starts_at < $2 AND `+scope,
		args, func(sc db.Scanner) error {
			var at, c int64
			if err := sc.Scan(&at, &c); err != nil {
				return err
			}
			if i, ok := day(at); ok {
				out[i].Places += c
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("vaccine: places per day: %w", err)
	}
	err = db.Each(ctx, s.db, `SELECT a.starts_at, a.state FROM vac_appointments a JOIN vac_slots sl ON sl.id = a.slot_id
		WHERE a.starts_at >= $1 AND a.starts_at < $2 AND `+scope, args, func(sc db.Scanner) error {
		var at int64
		var st string
		if err := sc.Scan(&at, &st); err != nil {
			return err
		}
		if i, ok := day(at); ok {
			switch st {
			case Booked:
				out[i].Booked++
			case Cancelled:
				out[i].Cancelled++
			case Done:
				out[i].Done++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vaccine: appointments per day: %w", err)
	}
	return out, nil
}

// TownProduct is the doses given in one town with one vaccine.
type TownProduct struct {
	Town, TownName, Product string
	Doses                   int64
}

// DosesByTown counts the doses given at the sites in scope by town (the
// site's) and vaccine.
func (s *Service) DosesByTown(ctx context.Context, by *auth.Principal) ([]TownProduct, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	scope, args := db.Scope("d.region_code", lo(by), hi(by), nil)
	counts := map[[2]string]int64{}
	err := db.Each(ctx, s.db, `SELECT d.region_code, p.name, COUNT(*) FROM vac_doses d JOIN vac_products p ON p.id = d.product_id
		WHERE `+scope+` GROUP BY d.region_code, p.name`, args, func(sc db.Scanner) error {
		var reg, name string
		var n int64
		if err := sc.Scan(&reg, &name, &n); err != nil {
			return err
		}
		counts[[2]string{town(reg), name}] += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vaccine: doses by town: %w", err)
	}
	out := make([]TownProduct, 0, len(counts))
	for k, n := range counts {
		out = append(out, TownProduct{Town: k[0], TownName: s.regions.FullName(k[0]), Product: k[1], Doses: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Town != out[j].Town {
			return out[i].Town < out[j].Town
		}
		return out[i].Product < out[j].Product
	})
	return out, nil
}

// town is the township (乡镇街道) a region code lies in: its first nine
// digits.
func town(code string) string {
	if len(code) > 9 {
		return code[:9]
	}
	return code
}

// AgeBand is the coverage of one band of ages among the residents in scope.
type AgeBand struct {
	Band                         string // 0-17, 18-59, 60-69, 70-79, 80+, unknown
	Residents, AnyDose, Complete int64
}

// AgeBands are the bands of coverage, youngest first.
var AgeBands = []string{"0-17", "18-59", "60-69", "70-79", "80+", "unknown"}

func band(age int) string {
	switch {
	case age < 0:
		return "unknown"
	case age < 18:
		return "0-17"
	case age < 60:
		return "18-59"
	case age < 70:
		return "60-69"
	case age < 80:
		return "70-79"
	}
	return "80+"
}

// Coverage counts the residents in scope by age band (from the birth year
// of their identity number), and how many had a dose and the whole series.
func (s *Service) Coverage(ctx context.Context, by *auth.Principal) ([]AgeBand, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	year := s.clock().In(s.cfg.Location).Year()
	bands := map[string]*AgeBand{}
	out := make([]AgeBand, len(AgeBands))
	for i, b := range AgeBands {
		out[i].Band = b
		bands[b] = &out[i]
	}
	scope, args := db.Scope("p.region_code", lo(by), hi(by), nil)
	err := db.Each(ctx, s.db, `SELECT p.birth_year, COUNT(*), COUNT(v.n), COUNT(CASE WHEN v.n >= v.doses THEN 1 END)
		FROM persons p LEFT JOIN (SELECT d.person_num, COUNT(*) AS n, MAX(pr.doses) AS doses FROM vac_doses d
			JOIN vac_products pr ON pr.id = d.product_id GROUP BY d.person_num) v ON v.person_num = p.num
		WHERE `+scope+` GROUP BY p.birth_year`, args, func(sc db.Scanner) error {
		var by *int64
		var n, any, full int64
		if err := sc.Scan(&by, &n, &any, &full); err != nil {
			return err
		}
		age := -1
		if by != nil && *by > 0 {
			age = year - int(*by)
		}
		b := bands[band(age)]
		b.Residents += n
		b.AnyDose += any
		b.Complete += full
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vaccine: coverage: %w", err)
	}
	return out, nil
}
