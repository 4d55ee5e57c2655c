package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/server"
)

// The employer's and the school's part of the demo: a machinery company
// whose roster holds six of the demo's residents, four of them through
// its gate today (张三丰 and 李秀英 admitted; 王建国, red, and 陈静, yellow,
// refused with the reason; the other two absent), and a primary school
// with two classes, where 张三丰 enrolled his son 张小宝 and reported his
// morning check; the history adds simulated pupils with this morning's
// reports (a few absent, one fever, one cough). Unit accounts "employer"
// and "school" (new passwords at each start, printed).

var dailyOrgs = []*demoOrg{
	{kind: org.Employer, name: "宁国市中溪机械有限公司", uscc: usccOf("MA2P5E2K"), region: "341881001", address: "宁国市经济技术开发区",
		account: "employer", admin: true},
	{kind: org.School, name: "宁国市津河小学", uscc: usccOf("MA2P6T3L"), region: "341881001", address: "宁国市西津街道",
		account: "school", admin: true},
}

// demoClasses are the school's classes.
var demoClasses = []string{"一年级（1）班", "一年级（2）班"}

func loadDaily(ctx context.Context, s *server.Server) error {
	var staff [2]*auth.Principal
	for i, o := range dailyOrgs {
		created, err := s.Orgs.Create(ctx, loader, org.Input{Kind: string(o.kind), Name: o.name, USCC: o.uscc, Region: o.region, Address: o.address})
		if err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
		if _, err := s.Orgs.CreateAccount(ctx, loader, created.ID, org.AccountInput{Username: o.account, Password: auth.GeneratePassword(),
			Admin: o.admin}); err != nil {
			return fmt.Errorf("unit account %s: %w", o.account, err)
		}
		if staff[i], err = staffOf(ctx, s, o.name); err != nil {
			return err
		}
	}
	gate, desk := staff[0], staff[1]
	roster := "工号,姓名,部门\nE001,张三丰,总装车间\nE002,李秀英,质检部\nE003,王建国,总装车间\nE004,陈静,仓储物流部\nE005,刘洋,研发部\nE006,孙志强,后勤保障部\n"
	if _, err := s.Employer.Import(ctx, gate, roster); err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	for i, resident := range []int{0, 1, 2, 3} {
		r := residents[resident]
		if _, err := s.Employer.Gate(ctx, gate, employer.GateInput{IDType: string(idnum.ResidentID), IDNumber: residentID(r.birth, r.seq),
			StaffNo: fmt.Sprintf("E%03d", i+1)}); err != nil {
			return fmt.Errorf("gate of %s: %w", r.name, err)
		}
	}
	var first *school.Class
	for _, name := range demoClasses {
		c, err := s.School.CreateClass(ctx, desk, name)
		if err != nil {
			return fmt.Errorf("class %s: %w", name, err)
		}
		if first == nil {
			first = c
		}
	}
	acct, err := s.Auth.EnsureAccount(ctx, "13800000001")
	if err != nil {
		return err
	}
	parent := &auth.Principal{Kind: auth.Resident, ID: acct, Region: residents[0].region}
	deps, err := s.Persons.Dependents(ctx, acct)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if d.Name != dependents[1].name {
			continue
		}
		if _, err := s.School.Join(ctx, parent, first.JoinCode, d.ID); err != nil {
			return fmt.Errorf("enrol %s: %w", d.Name, err)
		}
		if _, err := s.School.Report(ctx, parent, d.ID, school.CheckInput{Slot: school.Morning, Temperature: 36.6}); err != nil {
			return fmt.Errorf("morning check of %s: %w", d.Name, err)
		}
	}
	return nil
}

func dailyLogins(ctx context.Context, s *server.Server) ([]Login, error) {
	var out []Login
	for _, o := range dailyOrgs {
		l := Login{Org: o.name, Role: "unit_admin", Region: o.region, Username: o.account, Password: auth.GeneratePassword()}
		if err := s.Auth.SetUnitPassword(ctx, o.account, l.Password); err != nil {
			return nil, fmt.Errorf("password of %s: %w", o.account, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func dailyLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_daily_loaded")
	return n > 0, err
}

func markDailyLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_daily_loaded", 1); return err })
}

// demoPupils is how many simulated residents the history enrols at the
// school (fewer when the history has fewer residents).
const demoPupils = 120

// seedPupils enrols simulated residents in the school's classes, with
// this morning's reports: every tenth absent, one fever, one cough.
func seedPupils(ctx context.Context, c *city) error {
	s := c.s
	o, err := demoOrgByName(ctx, s, dailyOrgs[1].name)
	if err != nil {
		return err
	}
	desk, err := staffOf(ctx, s, o.Name)
	if err != nil {
		return err
	}
	classes, err := s.School.Classes(ctx, desk)
	if err != nil || len(classes) == 0 {
		return fmt.Errorf("the school's classes: %v", err)
	}
	n := min(demoPupils, len(c.residents))
	per := make([][]school.ImportPupil, len(classes))
	for i, r := range c.residents[:n] {
		p, err := s.Persons.Get(ctx, r.num)
		if err != nil {
			return err
		}
		per[i%len(classes)] = append(per[i%len(classes)], school.ImportPupil{Num: r.num, MaskedName: idnum.MaskName(p.Name)})
	}
	for i, cl := range classes {
		if err := s.School.ImportPupils(ctx, cl.ID, per[i]); err != nil {
			return err
		}
	}
	// This morning's reports, before 7:30 or a minute ago, whichever is earlier.
	loc := c.from.Location()
	y, m, d := c.now.In(loc).Date()
	at := time.Date(y, m, d, 7, 30, 0, 0, loc)
	if c.now.Before(at) {
		at = c.now.Add(-time.Minute)
	}
	var checks []school.ImportCheck
	for i, cl := range classes {
		_, pupils, err := s.School.Pupils(ctx, desk, cl.ID)
		if err != nil {
			return err
		}
		for j, p := range pupils {
			if j%10 == 9 {
				continue // no report: absent
			}
			ch := school.ImportCheck{PupilID: p.ID, Slot: school.Morning, Temperature: 36.2 + float64(c.rng.IntN(8))/10, Source: school.ByParent,
				At: at.Add(time.Duration(c.rng.IntN(40)) * time.Minute)}
			switch {
			case i == 0 && j == 3:
				ch.Temperature = 37.8
			case i == 1 && j == 4:
				ch.Symptoms = []string{"dry_cough"}
			}
			if ch.At.After(c.now) {
				ch.At = at
			}
			checks = append(checks, ch)
		}
	}
	return s.School.ImportChecks(ctx, checks)
}
