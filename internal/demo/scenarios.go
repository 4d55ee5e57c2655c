package demo

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/server"
)

// The scenarios' part of the demo, on the gateway's organisations: unit
// accounts of the hospital and the ride-hailing platform, keys of the
// clinic's and the hospital's HIS and of the platform's dispatch (new
// secrets at every start, printed), two fever-clinic visits (one closed
// with a negative test, one open), a morning's queue at the hospital (a
// yellow code sent to the fever clinic), and four residents who share a
// handle with the platform as drivers. Every colour stays as the demo's
// residents had it: the closed visit's negative test clears the visit,
// the open one is a red resident's, the queue changes no colour.

// demoUnit is a unit account or key the scenarios add to an organisation
// the gateway's part registered.
type demoUnit struct {
	org     string // its name in demoOrgs
	account string // "" for none
	admin   bool
	key     string // "" for none
	scopes  []string
	perDay  int64
}

var demoUnits = []*demoUnit{
	{org: demoOrgs[1].name, account: "hospital", key: "HIS", scopes: []string{org.ScopeScan, org.ScopeScanID,
		org.ScopeHospitalIdentity, org.ScopeHospitalQueue, org.ScopeClinicFever}},
	{org: demoOrgs[2].name, key: "HIS", scopes: []string{org.ScopeScan, org.ScopeScanID, org.ScopeClinicFever, org.ScopeHospitalIdentity}},
	{org: demoOrgs[3].name, account: "ride", admin: true, key: "派单系统", scopes: []string{org.ScopeRideCheck}, perDay: 1_000_000},
}

// drivers are the residents (by their index) who share a handle with the
// platform: three green and 王建国, red.
var drivers = []int{5, 6, 7, 2}

func loadScenarios(ctx context.Context, s *server.Server) error {
	for _, u := range demoUnits {
		o, err := demoOrgByName(ctx, s, u.org)
		if err != nil {
			return err
		}
		if u.account != "" {
			if _, err := s.Orgs.CreateAccount(ctx, loader, o.ID, org.AccountInput{Username: u.account, Password: auth.GeneratePassword(),
				Admin: u.admin}); err != nil {
				return fmt.Errorf("unit account %s: %w", u.account, err)
			}
		}
		if u.key != "" {
			if _, _, err := s.Orgs.CreateKey(ctx, loader, o.ID, org.KeyInput{Name: u.key, Scopes: u.scopes,
				Limits: auth.KeyLimits{PerDay: u.perDay}}); err != nil {
				return fmt.Errorf("key of %s: %w", u.org, err)
			}
		}
	}
	if err := visits(ctx, s); err != nil {
		return err
	}
	if err := queue(ctx, s); err != nil {
		return err
	}
	return handles(ctx, s)
}

// staffOf is the first unit account of an organisation, as its pages
// would act.
func staffOf(ctx context.Context, s *server.Server, name string) (*auth.Principal, error) {
	o, err := demoOrgByName(ctx, s, name)
	if err != nil {
		return nil, err
	}
	accts, err := s.Orgs.Accounts(ctx, loader, o.ID)
	if err != nil || len(accts) == 0 {
		return nil, fmt.Errorf("the account of %s: %v", name, err)
	}
	return &auth.Principal{Kind: auth.Unit, ID: accts[0].ID, Name: accts[0].Username, Role: auth.UnitStaff, Region: o.Region, Org: o.ID}, nil
}

// scanByID scans a demo resident at a desk, by ID number.
func scanByID(ctx context.Context, s *server.Server, by *auth.Principal, resident int) (string, error) {
	r := residents[resident]
	sc, err := s.Gateway.Scan(ctx, by, gateway.ScanInput{IDType: string(idnum.ResidentID), IDNumber: residentID(r.birth, r.seq)})
	if err != nil {
		return "", fmt.Errorf("scan %s: %w", r.name, err)
	}
	return sc.Subject, nil
}

// visits: 孙志强 with a fever, tested negative at the visit (closed);
// 王建国, a close contact already red, still followed up (open).
func visits(ctx context.Context, s *server.Server) error {
	desk, err := staffOf(ctx, s, demoOrgs[2].name)
	if err != nil {
		return err
	}
	for _, v := range []struct {
		resident int
		in       clinic.VisitInput
		close    string
	}{
		{6, clinic.VisitInput{Temperature: 38.4, Symptoms: []string{"fever", "dry_cough", "sore_throat"}, Diagnosis: "上呼吸道感染",
			Doctor: "刘医生"}, clinic.Negative},
		{2, clinic.VisitInput{Temperature: 37.9, Symptoms: []string{"fever", "fatigue"}, Diagnosis: "发热待查（密接）", Doctor: "刘医生"}, ""},
	} {
		if v.in.Subject, err = scanByID(ctx, s, desk, v.resident); err != nil {
			return err
		}
		visit, err := s.Clinic.Register(ctx, desk, v.in)
		if err != nil {
			return fmt.Errorf("visit of %s: %w", residents[v.resident].name, err)
		}
		if v.close != "" {
			if _, err := s.Clinic.Close(ctx, desk, visit.ID, clinic.CloseInput{Outcome: v.close, Note: "核酸阴性，居家观察"}); err != nil {
				return fmt.Errorf("close the visit of %s: %w", residents[v.resident].name, err)
			}
		}
	}
	return nil
}

// queue: 赵敏 at 内科 and 刘洋 at 外科 (green), 陈静 asked for 内科 and,
// yellow, was sent to the fever clinic.
func queue(ctx context.Context, s *server.Server) error {
	desk, err := staffOf(ctx, s, demoOrgs[1].name)
	if err != nil {
		return err
	}
	for _, q := range []struct {
		resident   int
		department string
	}{{5, "内科"}, {3, "内科"}, {4, "外科"}} {
		subject, err := scanByID(ctx, s, desk, q.resident)
		if err != nil {
			return err
		}
		if _, err := s.Hospital.Queue(ctx, desk, subject, q.department); err != nil {
			return fmt.Errorf("queue number of %s: %w", residents[q.resident].name, err)
		}
	}
	return nil
}

// handles: the drivers share a handle with the platform on their pages.
func handles(ctx context.Context, s *server.Server) error {
	platform, err := demoOrgByName(ctx, s, demoOrgs[3].name)
	if err != nil {
		return err
	}
	for _, i := range drivers {
		acct, err := s.Auth.EnsureAccount(ctx, fmt.Sprintf("138000000%02d", i+1))
		if err != nil {
			return err
		}
		if _, err := s.Ride.Grant(ctx, &auth.Principal{Kind: auth.Resident, ID: acct}, platform.ID); err != nil {
			return fmt.Errorf("handle of %s: %w", residents[i].name, err)
		}
	}
	return nil
}

// scenariosLoaded reports whether the scenarios' demo data is there (a
// demo database made before them gets it at its next start).
func scenariosLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_scenarios_loaded")
	return n > 0, err
}

func markScenariosLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_scenarios_loaded", 1); return err })
}
