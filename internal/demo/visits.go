package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/server"
)

// Scenic spots and service halls in the demo: a scenic spot with time
// slots for the rest of today and the coming three days, and bookings of
// demo residents (one cancelled); a service hall with its own slots and a
// morning's tickets taken by showing the code (张三丰 served and rated,
// 赵敏 waiting, 陈静 yellow and sent to the designated window) and 张三丰's
// ticket of yesterday, served and not rated yet. Both have a
// unit account and a key (new secrets at every start, printed).
var visitOrgs = []*demoOrg{
	{kind: org.ScenicSpot, name: "宁国恩龙世界木屋村", uscc: usccOf("MA2N9K4E"), region: "341881100", address: "宁国市港口镇",
		account: "scenic", admin: true, key: "闸机", scopes: []string{org.ScopeScan, org.ScopeEntry, org.ScopeSlots}},
	{kind: org.ServiceHall, name: "宁国市政务服务中心", uscc: usccOf("MA2NA05F"), region: "341881001", address: "宁国市西津街道津北路",
		account: "hall", admin: true, key: "取号机", scopes: []string{org.ScopeScan, org.ScopeHallQueue, org.ScopeHallTerminal, org.ScopeSlots}},
}

func loadVisits(ctx context.Context, s *server.Server) error {
	for _, o := range visitOrgs {
		created, err := s.Orgs.Create(ctx, loader, org.Input{Kind: string(o.kind), Name: o.name, USCC: o.uscc, Region: o.region, Address: o.address})
		if err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
		if _, err := s.Orgs.CreateAccount(ctx, loader, created.ID, org.AccountInput{Username: o.account, Password: auth.GeneratePassword(),
			Admin: o.admin}); err != nil {
			return fmt.Errorf("unit account %s: %w", o.account, err)
		}
		if _, _, err := s.Orgs.CreateKey(ctx, loader, created.ID, org.KeyInput{Name: o.key, Scopes: o.scopes}); err != nil {
			return fmt.Errorf("key of %s: %w", o.name, err)
		}
	}
	spot, err := openSlots(ctx, s, visitOrgs[0].name, 200, [][2]int{{8, 10}, {10, 12}, {12, 14}, {14, 16}, {16, 18}, {18, 22}})
	if err != nil {
		return err
	}
	if _, err := openSlots(ctx, s, visitOrgs[1].name, 30, [][2]int{{9, 12}, {14, 17}}); err != nil {
		return err
	}
	// Bookings of tomorrow's first slot: 张三丰, 李秀英 and 刘洋; 孙志强
	// booked and cancelled.
	for i, who := range []int{0, 1, 4, 6} {
		by, err := visitorOf(ctx, s, who)
		if err != nil {
			return err
		}
		b, err := s.Booking.Book(ctx, by, "", spot.ID)
		if err != nil {
			return fmt.Errorf("booking of %s: %w", residents[who].name, err)
		}
		if i == 3 {
			if _, err := s.Booking.Cancel(ctx, by, "", b.ID); err != nil {
				return fmt.Errorf("cancel the booking of %s: %w", residents[who].name, err)
			}
		}
	}
	return hallTickets(ctx, s)
}

// openSlots opens the place's slots (hours in the deployment's zone) that
// have not ended today, and all of them on the next three days; it returns
// tomorrow's first.
func openSlots(ctx context.Context, s *server.Server, name string, places int64, hours [][2]int) (*booking.Slot, error) {
	staff, err := staffOf(ctx, s, name)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	today := s.Booking.DayStart(now)
	var first *booking.Slot
	for day := 0; day <= 3; day++ {
		d := today.AddDate(0, 0, day)
		for _, h := range hours {
			start, end := d.Add(time.Duration(h[0])*time.Hour), d.Add(time.Duration(h[1])*time.Hour)
			if !end.After(now) {
				continue
			}
			sl, err := s.Booking.CreateSlot(ctx, staff, booking.SlotInput{StartsAt: start, EndsAt: end, Capacity: places})
			if err != nil {
				return nil, fmt.Errorf("slot of %s: %w", name, err)
			}
			if day == 1 && first == nil {
				first = sl
			}
		}
	}
	return first, nil
}

func visitorOf(ctx context.Context, s *server.Server, i int) (*auth.Principal, error) {
	acct, err := s.Auth.EnsureAccount(ctx, fmt.Sprintf("138000000%02d", i+1))
	if err != nil {
		return nil, err
	}
	return &auth.Principal{Kind: auth.Resident, ID: acct}, nil
}

// hallTickets: the hall's queue machine gives tickets to codes shown to it.
func hallTickets(ctx context.Context, s *server.Server) error {
	machine, err := staffOf(ctx, s, visitOrgs[1].name)
	if err != nil {
		return err
	}
	for _, t := range []struct {
		resident int
		service  string
		rating   int
	}{{0, "户籍办理", 5}, {5, "社保业务", 0}, {3, "不动产登记", 0}} {
		by, err := visitorOf(ctx, s, t.resident)
		if err != nil {
			return err
		}
		code, err := s.Codes.MyCode(ctx, by.ID)
		if err != nil {
			return fmt.Errorf("code of %s: %w", residents[t.resident].name, err)
		}
		tk, err := s.Hall.Take(ctx, machine, code.Code, t.service)
		if err != nil {
			return fmt.Errorf("ticket of %s: %w", residents[t.resident].name, err)
		}
		if t.rating > 0 {
			if _, err := s.Hall.Finish(ctx, machine, tk.ID); err != nil {
				return err
			}
			if _, err := s.Hall.Rate(ctx, by, "", tk.ID, t.rating, "窗口服务热情，一次办结"); err != nil {
				return err
			}
		}
	}
	// 张三丰 came yesterday too and was served: a newcomer logged in as him
	// finds a ticket to rate. The hall's clock is set back for that one
	// ticket, so that today's queue stays the morning above.
	by, err := visitorOf(ctx, s, 0)
	if err != nil {
		return err
	}
	code, err := s.Codes.MyCode(ctx, by.ID)
	if err != nil {
		return fmt.Errorf("code of %s: %w", residents[0].name, err)
	}
	s.Hall.SetClock(func() time.Time { return time.Now().Add(-24 * time.Hour) })
	defer s.Hall.SetClock(time.Now)
	tk, err := s.Hall.Take(ctx, machine, code.Code, "社保业务")
	if err != nil {
		return fmt.Errorf("yesterday's ticket of %s: %w", residents[0].name, err)
	}
	if _, err := s.Hall.Finish(ctx, machine, tk.ID); err != nil {
		return err
	}
	return nil
}

// visitsLoaded reports whether the scenic spot's and hall's demo data is
// there (a demo database made before them gets it at its next start).
func visitsLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_visits_loaded")
	return n > 0, err
}

func markVisitsLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_visits_loaded", 1); return err })
}
