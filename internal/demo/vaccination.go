package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/vaccine"
)

// Vaccination in the demo: three sites, three vaccines, two slots a day at
// each site for the coming week, and residents with doses (张三丰 and his
// father complete, 李秀英 with one dose and her second booked).

var demoVacSites = []vaccine.SiteInput{
	{Name: "西津街道社区卫生服务中心接种点", Address: "宁国市西津街道河沥路18号", Phone: "0563-4011234", Hours: "08:00-11:30, 14:00-17:00",
		Lat: 30.6331, Lng: 118.9826, Region: "341881001"},
	{Name: "南山街道社区卫生服务中心接种点", Address: "宁国市南山街道南山路2号", Phone: "0563-4022345", Hours: "08:00-11:30, 14:00-17:00",
		Lat: 30.6102, Lng: 118.9903, Region: "341881002"},
	{Name: "港口镇卫生院接种点", Address: "宁国市港口镇港口街1号", Phone: "0563-4033456", Hours: "08:30-11:30",
		Lat: 30.7402, Lng: 119.0498, Region: "341881100"},
}

var demoVaccines = []vaccine.ProductInput{
	{Name: "克尔来福 CoronaVac", Maker: "北京科兴中维", Doses: 2, IntervalDays: 21},
	{Name: "众爱可维 BBIBP-CorV", Maker: "北京生物制品研究所", Doses: 2, IntervalDays: 21},
	{Name: "克威莎 Ad5-nCoV", Maker: "康希诺生物", Doses: 1, IntervalDays: 0},
}

func loadVaccination(ctx context.Context, s *server.Server) error {
	var sites []*vaccine.Site
	for _, in := range demoVacSites {
		st, err := s.Vaccine.CreateSite(ctx, loader, in)
		if err != nil {
			return fmt.Errorf("site %s: %w", in.Name, err)
		}
		sites = append(sites, st)
	}
	var products []*vaccine.Product
	for _, in := range demoVaccines {
		p, err := s.Vaccine.CreateProduct(ctx, loader, in)
		if err != nil {
			return fmt.Errorf("vaccine %s: %w", in.Name, err)
		}
		products = append(products, p)
	}
	loc := s.Vaccine.Location()
	today := time.Now().In(loc)
	var tomorrowMorning *vaccine.Slot
	for day := 1; day <= 7; day++ {
		d := time.Date(today.Year(), today.Month(), today.Day()+day, 0, 0, 0, 0, loc)
		for i, st := range sites {
			for _, half := range [][2]int{{9, 11}, {14, 16}} {
				sl, err := s.Vaccine.CreateSlot(ctx, loader, vaccine.SlotInput{SiteID: st.ID, ProductID: products[i%2].ID,
					StartsAt: d.Add(time.Duration(half[0]) * time.Hour), EndsAt: d.Add(time.Duration(half[1])*time.Hour + 30*time.Minute),
					Capacity: 50})
				if err != nil {
					return fmt.Errorf("slot: %w", err)
				}
				if tomorrowMorning == nil {
					tomorrowMorning = sl
				}
			}
		}
	}
	// Earlier doses come in the way a district's records would: a CSV
	// import, checked line by line.
	at := func(days int) string { return today.AddDate(0, 0, -days).Format("2006-01-02") + " 09:30" }
	var b strings.Builder
	b.WriteString("id_type,id_number,vaccine,dose,lot,site,given_at\n")
	line := func(id string, dose int, lot string, days int) {
		fmt.Fprintf(&b, "resident_id,%s,%s,%d,%s,%s,%s\n", id, products[0].Name, dose, lot, sites[0].Name, at(days))
	}
	line(residentID(residents[0].birth, residents[0].seq), 1, "202104B021", 120)
	line(residentID(residents[0].birth, residents[0].seq), 2, "202105B117", 95)
	line(residentID(dependents[0].birth, dependents[0].seq), 1, "202104B021", 118)
	line(residentID(dependents[0].birth, dependents[0].seq), 2, "202105B117", 90)
	line(residentID(residents[1].birth, residents[1].seq), 1, "202105B117", 30)
	rep, err := s.Vaccine.ImportDoses(ctx, loader, []byte(b.String()))
	if err != nil {
		return err
	}
	if len(rep.Refused) > 0 {
		return fmt.Errorf("doses refused: %+v", rep.Refused)
	}
	acct, err := s.Auth.EnsureAccount(ctx, "13800000002")
	if err != nil {
		return err
	}
	if _, err := s.Vaccine.Book(ctx, residentPrincipal(acct), "", tomorrowMorning.ID); err != nil {
		return fmt.Errorf("appointment: %w", err)
	}
	return nil
}

func vaccinationLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_vaccination_loaded")
	return n > 0, err
}

func markVaccinationLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_vaccination_loaded", 1); return err })
}

func residentPrincipal(acct string) *auth.Principal {
	return &auth.Principal{Kind: auth.Resident, ID: acct}
}
