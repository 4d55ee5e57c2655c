package grid

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// PersonQuery selects persons by colour, reason (the deciding rule) and
// grid. A grid worker's list is always their grid's.
type PersonQuery struct {
	Color string // yellow, red; "" for both
	Rule  string
	Grid  string
	After string // id of the last person of the previous page
	Limit int    // default 100, at most 1,000
}

// PersonRow is a yellow or red person with their decision and grid.
type PersonRow struct {
	Person   person.Masked
	Grid     string
	Color    rules.Color
	Rule     string
	ReasonZH string
	ReasonEN string
	AdviceZH string
	Since    time.Time
}

// Persons lists the yellow and red persons in by's scope, masked as by
// may see them; the list is audited.
func (s *Service) Persons(ctx context.Context, by *auth.Principal, q PersonQuery) ([]PersonRow, string, error) {
	rows, next, err := s.persons_(ctx, by, q)
	if err != nil {
		return nil, "", err
	}
	listed := make([]string, len(rows))
	for i, r := range rows {
		listed[i] = r.Person.ID
	}
	if len(rows) > 0 {
		err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.list_by_colour",
			Subject: "persons", Region: by.Region, Detail: map[string]any{"color": q.Color, "rule": q.Rule, "grid": q.Grid, "results": listed}})
	}
	return rows, next, err
}

func (s *Service) persons_(ctx context.Context, by *auth.Principal, q PersonQuery) ([]PersonRow, string, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, "", err
	}
	var cq status.ColourQuery
	switch q.Color {
	case "":
	case "yellow":
		cq.Color = rules.Yellow
	case "red":
		cq.Color = rules.Red
	default:
		return nil, "", ErrColorInvalid
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	cq.Limit, cq.Rule = min(q.Limit, 1000), q.Rule
	if q.After != "" {
		n, err := s.persons.Handles().ParseID(q.After)
		if err != nil {
			return nil, "", person.ErrAfterInvalid
		}
		cq.After = n
	}
	if q.Grid == "" && len(by.Region) == CodeLen {
		q.Grid = by.Region
	}
	if q.Grid != "" {
		if !by.InScope(q.Grid) {
			return nil, "", auth.ErrOutOfScope.Withf("grid %s is outside your scope %s", q.Grid, by.Region)
		}
		nums, err := s.members(ctx, q.Grid)
		if err != nil {
			return nil, "", err
		}
		if len(nums) == 0 {
			if ok, err := s.Exists(ctx, q.Grid); err != nil || !ok {
				return nil, "", firstErr(err, ErrGridNotFound)
			}
		}
		cq.Among = nums
	} else {
		cq.Lo, cq.Hi = by.Bounds()
	}
	rows, err := s.facts.ByColour(ctx, cq)
	if err != nil {
		return nil, "", err
	}
	nums := make([]int64, len(rows))
	for i, r := range rows {
		nums[i] = r.Person
	}
	grids, err := s.GridOf(ctx, s.db, nums)
	if err != nil {
		return nil, "", err
	}
	out := make([]PersonRow, 0, len(rows))
	for _, r := range rows {
		p, err := s.persons.Get(ctx, r.Person)
		if err != nil {
			return nil, "", err
		}
		out = append(out, PersonRow{Person: p.For(by), Grid: grids[r.Person], Color: r.Color, Rule: r.RuleID,
			ReasonZH: r.ReasonZH, ReasonEN: r.ReasonEN, AdviceZH: r.AdviceZH, Since: time.UnixMilli(r.Updated).In(s.loc)})
	}
	next := ""
	if len(out) == cq.Limit {
		next = out[len(out)-1].Person.ID
	}
	return out, next, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ExportCSV writes the whole list (every page) as CSV, with a header in
// Chinese and English; it is audited as one read.
func (s *Service) ExportCSV(ctx context.Context, by *auth.Principal, q PersonQuery, w io.Writer) error {
	q.Limit, q.After = 1000, ""
	first, _, err := s.persons_(ctx, by, q) // refusals before anything is written
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"人员编号 person_id", "姓名 name", "证件号码 id_number", "网格 grid", "颜色 color", "规则 rule", "原因 reason", "建议 advice", "变更时间 since"})
	listed := 0
	page := first
	for {
		for _, r := range page {
			cw.Write([]string{r.Person.ID, csvsafe.Text(r.Person.Name), r.Person.IDNumber, r.Grid, r.Color.String(), r.Rule,
				csvsafe.Text(r.ReasonZH), csvsafe.Text(r.AdviceZH), r.Since.Format(time.RFC3339)})
		}
		listed += len(page)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Person.ID
		if page, _, err = s.persons_(ctx, by, q); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("grid: export: %w", err)
	}
	return audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.export_by_colour",
		Subject: "persons", Region: by.Region, Detail: map[string]any{"color": q.Color, "rule": q.Rule, "grid": q.Grid, "rows": listed}})
}

// CoverageRow is one grid's 应检未检: its population (the imported list,
// registered through the app or not) and who of it tested negative in
// the window.
type CoverageRow struct {
	Grid          string
	Name          string
	CommunityName string
	Population    int64
	Tested        int64
	Untested      int64
}

// Coverage is 应检未检 by grid, with the untested persons of one grid
// when the region asked for is a grid.
type Coverage struct {
	Region   string
	Hours    int
	Since    time.Time
	At       time.Time
	Rows     []CoverageRow
	Untested []person.Masked
}

// Coverage counts, for each grid in region (by's scope if empty), the
// population and those without a negative result in the last hours.
func (s *Service) Coverage(ctx context.Context, by *auth.Principal, under string, hours int) (*Coverage, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	if hours == 0 {
		hours = 48
	}
	if hours < 1 || hours > 720 {
		return nil, nat.ErrHoursInvalid.Withf("hours must be 1-%d", nat.MaxCoverageHours)
	}
	if under == "" {
		under = by.Region
	}
	grids, err := s.Grids(ctx, by, under)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &Coverage{Region: under, Hours: hours, Since: now.Add(-time.Duration(hours) * time.Hour), At: now, Rows: []CoverageRow{},
		Untested: []person.Masked{}}
	var listed []string
	for _, g := range grids {
		nums, err := s.members(ctx, g.Code)
		if err != nil {
			return nil, err
		}
		lo, hi := auth.Bounds(g.Town)
		neg, err := s.tests.NegativeAmong(ctx, nums, lo, hi, c.Since.UnixMilli(), now.UnixMilli())
		if err != nil {
			return nil, err
		}
		row := CoverageRow{Grid: g.Code, Name: g.Name, CommunityName: g.CommunityName, Population: int64(len(nums))}
		for _, n := range nums {
			if neg[n] {
				row.Tested++
				continue
			}
			row.Untested++
			if g.Code == under && len(c.Untested) < 500 {
				p, err := s.persons.Get(ctx, n)
				if err != nil {
					return nil, err
				}
				c.Untested = append(c.Untested, p.For(by))
				listed = append(listed, p.ID)
			}
		}
		c.Rows = append(c.Rows, row)
	}
	if len(listed) > 0 {
		err = audit.Record(ctx, s.db, audit.Entry{At: now, Actor: by.Actor(), Action: "grid.coverage.read", Subject: "grid:" + under,
			Region: by.Region, Detail: map[string]any{"hours": hours, "results": listed}})
	}
	return c, err
}
