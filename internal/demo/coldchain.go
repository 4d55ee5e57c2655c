package demo

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/server"
)

// Cold-chain traceability's part of the demo: an importer, a cold store
// and a market, each with a unit account (new passwords at each start,
// printed), and two batches with a chain importer -> cold store -> market.
// 巴西冻鸡翅 passed a packaging test and was disinfected. 厄瓜多尔冻白虾's
// packaging tested positive at the cold store: the trace found the cold
// store's and the market's stock and their handlers. The workers of both are 王建国 (at the importer and
// the cold store, already red) and 陈静 (at the market, already yellow), so
// the demo's colours stay as they were; the cold store and the market have
// their seal and disinfection tasks open (the importer, upstream of the
// positive sample, none).

var coldOrgs = []*demoOrg{
	{kind: org.Importer, name: "宁国市华东冷链进出口有限公司", uscc: usccOf("MA2P1C5N"), region: "341881001", address: "宁国市经济技术开发区",
		account: "importer", admin: true},
	{kind: org.ColdStore, name: "宁国市冷链食品集中监管仓", uscc: usccOf("MA2P2K7T"), region: "341881001", address: "宁国市西津街道",
		account: "coldstore"},
	{kind: org.Market, name: "宁国市西津农贸市场", uscc: usccOf("MA2P3M9R"), region: "341881002", address: "宁国市南山街道",
		account: "market"},
}

func loadColdChain(ctx context.Context, s *server.Server) error {
	staff := make([]*auth.Principal, len(coldOrgs))
	for i, o := range coldOrgs {
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
	imp, store, market := staff[0], staff[1], staff[2]
	// A scan's reference serves every handling of that worker at that
	// holder, so each is scanned once (each scan by ID number is audited).
	subjects := map[string]string{}
	for _, b := range []struct {
		in       coldchain.BatchInput
		handlers [3]int // residents by index, at the importer, the cold store and the market
		positive bool
	}{
		{coldchain.BatchInput{Product: "巴西冻鸡翅", OriginCountry: "BR", Port: "上海洋山港", Declaration: "220120221000318842", Quantity: 800},
			[3]int{2, 2, 3}, false},
		{coldchain.BatchInput{Product: "厄瓜多尔冻白虾", OriginCountry: "EC", Port: "宁波舟山港", Declaration: "310420221000527716", Quantity: 500},
			[3]int{2, 2, 3}, true},
	} {
		batch, err := s.ColdChain.Register(ctx, imp, b.in)
		if err != nil {
			return fmt.Errorf("batch %s: %w", b.in.Product, err)
		}
		handle := func(by *auth.Principal, resident int) error {
			key := fmt.Sprint(by.Org, resident)
			subject, ok := subjects[key]
			if !ok {
				var err error
				if subject, err = scanByID(ctx, s, by, resident); err != nil {
					return err
				}
				subjects[key] = subject
			}
			if _, err := s.ColdChain.Handle(ctx, by, subject, batch.Code); err != nil {
				return fmt.Errorf("handler of %s: %w", b.in.Product, err)
			}
			return nil
		}
		steps := []func() error{
			func() error { return handle(imp, b.handlers[0]) },
			func() error {
				_, err := s.ColdChain.Transfer(ctx, imp, coldchain.MoveInput{Code: batch.Code, To: store.Org, Quantity: b.in.Quantity * 3 / 5})
				return err
			},
			func() error { return handle(store, b.handlers[1]) },
			func() error {
				_, err := s.ColdChain.Transfer(ctx, store, coldchain.MoveInput{Code: batch.Code, To: market.Org, Quantity: b.in.Quantity / 5})
				return err
			},
			func() error { return handle(market, b.handlers[2]) },
			func() error {
				_, err := s.ColdChain.Sell(ctx, market, coldchain.MoveInput{Code: batch.Code, Quantity: b.in.Quantity / 20})
				return err
			},
		}
		if b.positive {
			steps = append(steps, func() error {
				_, err := s.ColdChain.Inspect(ctx, store, coldchain.InspectionInput{Code: batch.Code, Kind: coldchain.Packaging,
					Result: "positive", Certificate: "宁疾控冷检2022-031"})
				return err
			})
		} else {
			steps = append(steps, func() error {
				_, err := s.ColdChain.Inspect(ctx, imp, coldchain.InspectionInput{Code: batch.Code, Kind: coldchain.Packaging,
					Result: "negative", Certificate: "沪海关检2022-118"})
				return err
			}, func() error {
				_, err := s.ColdChain.Inspect(ctx, imp, coldchain.InspectionInput{Code: batch.Code, Kind: coldchain.Disinfection,
					Certificate: "XD-2022-0457"})
				return err
			})
		}
		for _, st := range steps {
			if err := st(); err != nil {
				return fmt.Errorf("chain of %s: %w", b.in.Product, err)
			}
		}
	}
	return nil
}

// coldChainLogins gives the holders' accounts new passwords, to print.
func coldChainLogins(ctx context.Context, s *server.Server) ([]Login, error) {
	var out []Login
	for _, o := range coldOrgs {
		l := Login{Org: o.name, Role: "unit_staff", Region: o.region, Username: o.account, Password: auth.GeneratePassword()}
		if o.admin {
			l.Role = "unit_admin"
		}
		if err := s.Auth.SetUnitPassword(ctx, o.account, l.Password); err != nil {
			return nil, fmt.Errorf("password of %s: %w", o.account, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func coldChainLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_coldchain_loaded")
	return n > 0, err
}

func markColdChainLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_coldchain_loaded", 1); return err })
}
