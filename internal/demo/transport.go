package demo

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/transport"
)

// The transport part of the demo: 宁国市公共交通有限公司 with bus 1路 皖P·A1001,
// its own code, 张三丰 on duty driving it, and three of the demo's
// residents who rode it today
// (unit account "bus", an admin; its password is printed).
var transportOrg = &demoOrg{kind: org.Bus, name: "宁国市公共交通有限公司", uscc: usccOf("MA2P7B5T"), region: "341881001",
	address: "宁国市西津街道", account: "bus", admin: true}

func loadTransport(ctx context.Context, s *server.Server) ([]Login, error) {
	n, err := db.Counter(ctx, s.DB, "demo_transport_loaded")
	if err != nil || n > 0 {
		return nil, err
	}
	o := transportOrg
	created, err := s.Orgs.Create(ctx, loader, org.Input{Kind: string(o.kind), Name: o.name, USCC: o.uscc, Region: o.region, Address: o.address})
	if err != nil {
		return nil, fmt.Errorf("organisation %s: %w", o.name, err)
	}
	l := Login{Org: o.name, Role: "unit_admin", Region: o.region, Username: o.account, Password: auth.GeneratePassword()}
	if _, err := s.Orgs.CreateAccount(ctx, loader, created.ID, org.AccountInput{Username: o.account, Password: l.Password, Admin: o.admin}); err != nil {
		return nil, fmt.Errorf("unit account %s: %w", o.account, err)
	}
	staff, err := staffOf(ctx, s, o.name)
	if err != nil {
		return nil, err
	}
	bus, err := s.Transport.AddVehicle(ctx, staff, transport.VehicleInput{Plate: "皖P·A1001", Route: "1路"})
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	r := residents[0]
	duty, err := s.Transport.Driver(ctx, staff, bus.ID, transport.DriverInput{IDType: string(idnum.ResidentID), IDNumber: residentID(r.birth, r.seq)})
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", r.name, err)
	}
	if !duty.Bound {
		return nil, fmt.Errorf("driver %s refused: %v", r.name, duty.Scan.Reasons)
	}
	for _, phone := range []string{"13800000001", "13800000004", "13800000006"} {
		acct, err := s.Auth.EnsureAccount(ctx, phone)
		if err != nil {
			return nil, err
		}
		if _, err := s.Checkins.CheckIn(ctx, acct, checkin.Input{VenueToken: bus.Token}); err != nil {
			return nil, fmt.Errorf("ride of %s: %w", phone, err)
		}
	}
	err = s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_transport_loaded", 1); return err })
	return []Login{l}, err
}
