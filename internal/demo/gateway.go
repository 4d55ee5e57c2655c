package demo

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/server"
)

// The gateway's part of the demo: a pharmacy, a hospital with its fever
// clinic and a ride-hailing platform in Ningguo, unit accounts for the
// pharmacy and the clinic (new passwords at each start, printed like the
// operators'; scenarios.go adds the hospital's and the platform's), a key
// of the pharmacy's till (a new secret at each start, printed), and two
// purchases registered the way a till does: a scan
// (here by ID number at the counter), then the purchase. The buyers are
// already yellow and red, so the demo's colours stay as they were.

type demoOrg struct {
	kind               org.Kind
	name, uscc, region string
	address            string
	account            string // a unit account's username, "" for none
	admin              bool
	key                string // a key's name, "" for none
	scopes             []string
}

// The hospital's code is the one the demo venue of the same hospital
// has; its fever clinic is the same legal entity.
var demoOrgs = []*demoOrg{
	{kind: org.Pharmacy, name: "宁国市国胜大药房（西津店）", uscc: usccOf("MA2N7T1D"), region: "341881001", address: "宁国市西津街道宁阳西路",
		account: "pharmacy", admin: true, key: "收银系统", scopes: []string{org.ScopeScan, org.ScopeScanID, org.ScopePharmacyPurchase}},
	{kind: org.Hospital, name: "宁国市人民医院", uscc: "1234188148572011XC", region: "341881001", address: "宁国市西津街道宁阳西路"},
	{kind: org.FeverClinic, name: "宁国市人民医院发热门诊", uscc: "1234188148572011XC", region: "341881001", address: "宁国市西津街道宁阳西路",
		account: "feverclinic"},
	{kind: org.RideHailing, name: "宁国畅行网约车平台", uscc: usccOf("MA2N8Q3C"), region: "341881002", address: "宁国市南山街道"},
}

func usccOf(body string) string {
	c, err := idnum.BuildUSCC("91", Region, body)
	if err != nil {
		panic(err) // the demo's own constants are wrong
	}
	return c
}

func loadGateway(ctx context.Context, s *server.Server) error {
	for _, o := range demoOrgs {
		created, err := s.Orgs.Create(ctx, loader, org.Input{Kind: string(o.kind), Name: o.name, USCC: o.uscc, Region: o.region, Address: o.address})
		if err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
		if o.account != "" {
			if _, err := s.Orgs.CreateAccount(ctx, loader, created.ID, org.AccountInput{Username: o.account, Password: auth.GeneratePassword(),
				Admin: o.admin}); err != nil {
				return fmt.Errorf("unit account %s: %w", o.account, err)
			}
		}
		if o.key != "" {
			if _, _, err := s.Orgs.CreateKey(ctx, loader, created.ID, org.KeyInput{Name: o.key, Scopes: o.scopes}); err != nil {
				return fmt.Errorf("key of %s: %w", o.name, err)
			}
		}
	}
	return purchases(ctx, s)
}

// purchases registers two purchases at the pharmacy as its till would:
// 王建国 (red, a close contact) buys an antipyretic and 陈静 (yellow, a
// companion) cough medicine.
func purchases(ctx context.Context, s *server.Server) error {
	ph, err := demoOrgByName(ctx, s, demoOrgs[0].name)
	if err != nil {
		return err
	}
	accts, err := s.Orgs.Accounts(ctx, loader, ph.ID)
	if err != nil || len(accts) == 0 {
		return fmt.Errorf("the pharmacy's account: %v", err)
	}
	till := &auth.Principal{Kind: auth.Unit, ID: accts[0].ID, Name: accts[0].Username, Role: auth.UnitStaff, Region: ph.Region, Org: ph.ID}
	for _, b := range []struct {
		resident int
		class    string
		drug     string
	}{{2, "antipyretic", "布洛芬缓释胶囊"}, {3, "cough", "复方甘草片"}} {
		r := residents[b.resident]
		sc, err := s.Gateway.Scan(ctx, till, gateway.ScanInput{IDType: string(idnum.ResidentID), IDNumber: residentID(r.birth, r.seq)})
		if err != nil {
			return fmt.Errorf("scan %s: %w", r.name, err)
		}
		if _, err := s.Pharmacy.Register(ctx, till, pharmacy.PurchaseInput{Subject: sc.Subject, DrugClass: b.class,
			Items: []pharmacy.Item{{Name: b.drug, Quantity: 1}}}); err != nil {
			return fmt.Errorf("purchase of %s: %w", r.name, err)
		}
	}
	return nil
}

func demoOrgByName(ctx context.Context, s *server.Server, name string) (*org.Org, error) {
	os, err := s.Orgs.List(ctx, loader, org.Filter{Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, o := range os {
		if o.Name == name {
			return o, nil
		}
	}
	return nil, fmt.Errorf("demo: no organisation %s", name)
}

// gatewayLogins gives the demo's unit accounts new passwords and the
// pharmacy's till key a new secret, to print.
func gatewayLogins(ctx context.Context, s *server.Server) ([]Login, error) {
	var units []demoUnit
	for _, o := range demoOrgs {
		units = append(units, demoUnit{org: o.name, account: o.account, admin: o.admin, key: o.key})
	}
	for _, u := range demoUnits {
		units = append(units, *u)
	}
	for _, o := range visitOrgs {
		units = append(units, demoUnit{org: o.name, account: o.account, admin: o.admin, key: o.key})
	}
	var out []Login
	for _, o := range units {
		if o.account == "" && o.key == "" {
			continue
		}
		ref, err := demoOrgByName(ctx, s, o.org)
		if err != nil {
			return nil, err
		}
		l := Login{Org: o.org, Role: "unit_staff", Region: ref.Region}
		if o.admin {
			l.Role = "unit_admin"
		}
		if o.account != "" {
			l.Username, l.Password = o.account, auth.GeneratePassword()
			if err := s.Auth.SetUnitPassword(ctx, o.account, l.Password); err != nil {
				return nil, fmt.Errorf("password of %s: %w", o.account, err)
			}
		}
		if o.key != "" {
			ks, err := s.Orgs.Keys(ctx, loader, ref.ID)
			if err != nil {
				return nil, err
			}
			for _, k := range ks {
				if k.Name == o.key && !k.Revoked() {
					if _, l.Key, err = s.Orgs.RotateKey(ctx, loader, ref.ID, k.ID); err != nil {
						return nil, err
					}
					break
				}
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// gatewayLoaded reports whether the gateway's demo data is there (a demo
// database made before the gateway existed gets it at its next start).
func gatewayLoaded(ctx context.Context, s *server.Server) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM counters WHERE name = 'demo_gateway_loaded'`).Scan(&n)
	return n > 0, err
}

func markGatewayLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_gateway_loaded", 1); return err })
}
