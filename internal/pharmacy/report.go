package pharmacy

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// ParseDay reads a day ("2022-04-01") in the deployment's zone; "" is today.
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		y, m, d := s.now().In(s.cfg.Location).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Location)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// ClassCount is how many purchases of a class a day had.
type ClassCount struct {
	Class string
	Count int64
}

// DayReport is one pharmacy's purchases of one day.
type DayReport struct {
	Org       *org.Org
	Day       time.Time // midnight in the deployment's zone
	Purchases []*Purchase
	Counts    []ClassCount // every class in use, and any other the day had
	Total     int64
	Buyers    int64 // distinct people
}

// maxReport bounds one day's list (a busy pharmacy registers hundreds).
const maxReport = 5000

// Report is a pharmacy's day, newest first: for the pharmacy's own keys
// (scope pharmacy.purchase) and accounts, with orgID "" or their own; for
// operators who read organisations, of a pharmacy in their scope.
func (s *Service) Report(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*DayReport, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopePharmacyPurchase, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Pharmacy {
		return nil, ErrNotPharmacy.Withf("%s is not a pharmacy", o.Name)
	}
	from, to := day, day.AddDate(0, 0, 1)
	rows, err := s.db.QueryContext(ctx, `SELECT id, drug_class, items, at, masked_name, person_num FROM pharmacy_purchases
		WHERE org_id = $1 AND at >= $2 AND at < $3 ORDER BY at DESC, id LIMIT $4`, o.ID, from.UnixMilli(), to.UnixMilli(), maxReport)
	if err != nil {
		return nil, fmt.Errorf("pharmacy: report: %w", err)
	}
	defer rows.Close()
	r := &DayReport{Org: o, Day: day, Purchases: []*Purchase{}}
	counts := map[string]int64{}
	buyers := map[int64]bool{}
	for rows.Next() {
		p := &Purchase{Org: o.ID}
		var items string
		var at, num int64
		if err := rows.Scan(&p.ID, &p.DrugClass, &items, &at, &p.MaskedName, &num); err != nil {
			return nil, fmt.Errorf("pharmacy: report: %w", err)
		}
		p.At, p.Items = time.UnixMilli(at).UTC(), parseItems(items)
		r.Purchases = append(r.Purchases, p)
		counts[p.DrugClass]++
		buyers[num] = true
		r.Total++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Buyers = int64(len(buyers))
	if r.Counts, err = s.classCounts(ctx, counts); err != nil {
		return nil, err
	}
	return r, nil
}

// classCounts orders counts by the classes' order, with a zero for every
// class in use the day did not have.
func (s *Service) classCounts(ctx context.Context, counts map[string]int64) ([]ClassCount, error) {
	cs, err := s.Classes(ctx, true)
	if err != nil {
		return nil, err
	}
	var out []ClassCount
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Active || counts[c.Code] > 0 {
			out = append(out, ClassCount{c.Code, counts[c.Code]})
		}
		seen[c.Code] = true
	}
	for code, n := range counts {
		if !seen[code] {
			out = append(out, ClassCount{code, n})
		}
	}
	return out, nil
}

// ClassNames maps each class code to its names, for reports.
func (s *Service) ClassNames(ctx context.Context) (map[string]Class, error) {
	cs, err := s.Classes(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Class, len(cs))
	for _, c := range cs {
		out[c.Code] = *c
	}
	return out, nil
}

// WriteCSV writes a day report as CSV with a header in the language
// ("en", or Chinese), names of classes in it too, times in the
// deployment's zone. Free text goes through csvsafe.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, r *DayReport, lang string) error {
	names, err := s.ClassNames(ctx)
	if err != nil {
		return err
	}
	en := lang == "en"
	head := []string{"时间", "购药人", "药品类别", "药品", "编号"}
	if en {
		head = []string{"time", "buyer", "drug class", "drugs", "id"}
	}
	cw := csv.NewWriter(w)
	cw.Write(head)
	for _, p := range r.Purchases {
		class := p.DrugClass
		if c, ok := names[p.DrugClass]; ok {
			class = c.Name.ZH
			if en {
				class = c.Name.EN
			}
		}
		var drugs string
		for i, it := range p.Items {
			if i > 0 {
				drugs += "; "
			}
			drugs += it.Name + " ×" + strconv.FormatInt(it.Quantity, 10)
		}
		cw.Write([]string{p.At.In(s.cfg.Location).Format(time.DateTime), csvsafe.Text(p.MaskedName), csvsafe.Text(class),
			csvsafe.Text(drugs), p.ID})
	}
	cw.Flush()
	return cw.Error()
}

// TownRow is one town's purchases of a day.
type TownRow struct {
	Region     string // the town (or the finer region a pharmacy is registered in, rolled up to its town)
	Counts     map[string]int64
	Total      int64
	Pharmacies int64 // pharmacies that registered a purchase
	Buyers     int64 // distinct people
}

// Summary is the authority's view of a day: purchases per town of the
// pharmacy, per class.
type Summary struct {
	Day     time.Time
	Classes []*Class
	Towns   []*TownRow
	Total   TownRow
}

// townLen is the length of a town's code (GB/T 2260 with the 3-digit
// township level): finer local codes roll up into their town.
const townLen = 9

// Summary counts a day's purchases per town in the operator's scope; for
// operators who read statistics.
func (s *Service) Summary(ctx context.Context, by *auth.Principal, day time.Time) (*Summary, error) {
	if by == nil || !by.Can(auth.StatsRead) {
		return nil, ErrForbidden.Withf("this needs an operator with %s", auth.StatsRead)
	}
	lo, hi := by.Bounds()
	from, to := day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()
	town := fmt.Sprintf("SUBSTR(org_region, 1, %d)", townLen)
	scope, _ := db.Scope("org_region", lo, hi, nil) // $1, $2: lo and hi below
	rows, err := s.db.QueryContext(ctx, `SELECT `+town+`, drug_class, COUNT(*) FROM pharmacy_purchases
		WHERE `+scope+` AND at >= $3 AND at < $4
		GROUP BY `+town+`, drug_class`, lo, hi, from, to)
	if err != nil {
		return nil, fmt.Errorf("pharmacy: summary: %w", err)
	}
	defer rows.Close()
	sum := &Summary{Day: day, Total: TownRow{Counts: map[string]int64{}}}
	towns := map[string]*TownRow{}
	for rows.Next() {
		var region, class string
		var n int64
		if err := rows.Scan(&region, &class, &n); err != nil {
			return nil, fmt.Errorf("pharmacy: summary: %w", err)
		}
		t := towns[region]
		if t == nil {
			t = &TownRow{Region: region, Counts: map[string]int64{}}
			towns[region] = t
		}
		t.Counts[class] += n
		t.Total += n
		sum.Total.Counts[class] += n
		sum.Total.Total += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// Distinct pharmacies and buyers per town, and in all, need their own
	// grouping: a person who bought two classes is one buyer.
	rows2, err := s.db.QueryContext(ctx, `SELECT `+town+`, COUNT(DISTINCT org_id), COUNT(DISTINCT person_num)
		FROM pharmacy_purchases
		WHERE `+scope+` AND at >= $3 AND at < $4
		GROUP BY `+town, lo, hi, from, to)
	if err != nil {
		return nil, fmt.Errorf("pharmacy: summary: %w", err)
	}
	defer rows2.Close()
	for rows2.Next() {
		var region string
		var pharmacies, buyers int64
		if err := rows2.Scan(&region, &pharmacies, &buyers); err != nil {
			return nil, fmt.Errorf("pharmacy: summary: %w", err)
		}
		if t := towns[region]; t != nil {
			t.Pharmacies, t.Buyers = pharmacies, buyers
		}
		sum.Total.Pharmacies += pharmacies
	}
	if err := rows2.Err(); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT person_num) FROM pharmacy_purchases
		WHERE `+scope+` AND at >= $3 AND at < $4`, lo, hi, from, to).Scan(&sum.Total.Buyers); err != nil {
		return nil, fmt.Errorf("pharmacy: summary: %w", err)
	}
	for _, t := range towns {
		sum.Towns = append(sum.Towns, t)
	}
	sort.Slice(sum.Towns, func(i, j int) bool { return sum.Towns[i].Region < sum.Towns[j].Region })
	if sum.Classes, err = s.Classes(ctx, true); err != nil {
		return nil, err
	}
	return sum, nil
}
