// Package demo loads the Ningguo demo (宁国市, 341881) from the city's 2020
// rollout plan for the Ankang code: the 19 towns with their populations and
// registration targets, the 88 government checkpoints with whether each was
// built and enabled, and a few operators, venues, residents and dependents so
// that every screen has something to show. Loading is idempotent. The demo's
// passwords and keys are made when their accounts are, and printed then
// only: a terminal's scrollback and a service's log keep whatever is printed
// at every start. A password that came from the configuration is never
// printed.
package demo

import (
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

//go:embed data/*.csv
var data embed.FS

// Region is the demo city.
const Region = "341881"

// tianhu is the local code the demo gives 天湖街道, which the GB/T 2260
// table lacks (see data/SOURCE.md).
var tianhu = region.Region{Code: "341881900", Name: "天湖街道", Level: region.Street, Parent: Region}

// Prepare adjusts the configuration before the server is built: the demo's
// region and the local region it needs.
func Prepare(_ context.Context, cfg *server.Config) error {
	if cfg.Region == "" || cfg.Region == Region {
		cfg.Region = Region
	} else {
		return fmt.Errorf("demo: --demo loads Ningguo (%s) but --region is %s", Region, cfg.Region)
	}
	cfg.LocalRegions = append(cfg.LocalRegions, tianhu)
	return nil
}

// Login is a demo credential to print: an operator, or (Org set) a unit
// account of an organisation and the secret of its key, if it has one.
type Login struct {
	Username, Password, Role, Region string
	Org, Key                         string
}

// loader acts as a system operator scoped to the city.
var loader = &auth.Principal{Kind: auth.Operator, ID: "demo-loader", Name: "demo", Role: auth.Admin, Region: Region}

// Load seeds the demo data once (with the simulated history opt sizes).
// It returns the logins it created, with their passwords (nothing on a
// later start): the demo operators' when the demo is first loaded (admin's
// too, unless its password came from the configuration, which is then left
// as it is and not returned), and the organisations' accounts and keys when
// they are.
func Load(ctx context.Context, s *server.Server, opt Options) ([]Login, error) {
	var logins []Login
	newUnits := false // organisations' accounts and keys made now
	loaded, err := db.Counter(ctx, s.DB, "demo_loaded")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if loaded == 0 {
		start := time.Now()
		steps := []struct {
			name string
			fn   func(context.Context, *server.Server) error
		}{
			{"populations", loadPopulations}, {"checkpoints", loadCheckpoints}, {"operators", loadOperators},
			{"venues", loadVenues}, {"residents", loadResidents},
		}
		for _, st := range steps {
			if err := st.fn(ctx, s); err != nil {
				return nil, fmt.Errorf("demo: load %s: %w", st.name, err)
			}
		}
		if err := s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_loaded", 1); return err }); err != nil {
			return nil, err
		}
		s.Log.Info("demo data loaded", "region", Region, "took", time.Since(start).Round(time.Millisecond))
		ops, err := operatorPasswords(ctx, s)
		if err != nil {
			return nil, err
		}
		logins = append(logins, ops...)
	}
	if loaded, err := gatewayLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadGateway(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the gateway's organisations: %w", err)
		}
		if err := markGatewayLoaded(ctx, s); err != nil {
			return nil, err
		}
		newUnits = true
	}
	if loaded, err := scenariosLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadScenarios(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the gateway's scenarios: %w", err)
		}
		if err := markScenariosLoaded(ctx, s); err != nil {
			return nil, err
		}
		newUnits = true
	}
	if loaded, err := visitsLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadVisits(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the scenic spot and the service hall: %w", err)
		}
		if err := markVisitsLoaded(ctx, s); err != nil {
			return nil, err
		}
		newUnits = true
	}
	if loaded, err := coldChainLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadColdChain(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the cold chain: %w", err)
		}
		if err := markColdChainLoaded(ctx, s); err != nil {
			return nil, err
		}
		holders, err := coldChainLogins(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		logins = append(logins, holders...)
	}
	if loaded, err := vaccinationLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadVaccination(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load vaccination: %w", err)
		}
		if err := markVaccinationLoaded(ctx, s); err != nil {
			return nil, err
		}
	}
	if loaded, err := entryLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadEntry(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the border desk's arrivals: %w", err)
		}
		border, err := operatorPassword(ctx, s, borderOperator)
		if err != nil {
			return nil, err
		}
		logins = append(logins, border)
	}
	if loaded, err := dailyLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadDaily(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the employer and the school: %w", err)
		}
		if err := markDailyLoaded(ctx, s); err != nil {
			return nil, err
		}
		units, err := dailyLogins(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		logins = append(logins, units...)
	}
	if units, err := loadTransport(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: load the bus operator: %w", err)
	} else {
		logins = append(logins, units...)
	}
	if loaded, err := tripLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadTrip(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load the trip card: %w", err)
		}
		if err := markTripLoaded(ctx, s); err != nil {
			return nil, err
		}
	}
	if loaded, err := closedLoopLoaded(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	} else if !loaded {
		if err := loadClosedLoop(ctx, s); err != nil {
			return nil, fmt.Errorf("demo: load isolation, transfers and the hotline: %w", err)
		}
		if err := markClosedLoopLoaded(ctx, s); err != nil {
			return nil, err
		}
	}
	hadGrids, err := gridWorkerExists(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := loadHistory(ctx, s, opt); err != nil {
		return nil, err
	}
	if hasGrids, err := gridWorkerExists(ctx, s); err != nil {
		return nil, err
	} else if hasGrids && !hadGrids {
		l, err := operatorPassword(ctx, s, gridOperator)
		if err != nil {
			return nil, err
		}
		logins = append(logins, l)
	}
	if newUnits {
		units, err := gatewayLogins(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		logins = append(logins, units...)
	}
	return logins, nil
}

// NewPasswords gives every demo login a fresh password (and every demo key
// a fresh secret) and returns them: for `serve --demo --demo-new-passwords`,
// the way back in for whoever lost the ones printed when the demo was made.
// An admin password from the configuration stays as it is.
func NewPasswords(ctx context.Context, s *server.Server) ([]Login, error) {
	logins, err := operatorPasswords(ctx, s)
	if err != nil {
		return nil, err
	}
	border, err := operatorPassword(ctx, s, borderOperator)
	if err != nil {
		return nil, err
	}
	logins = append(logins, border)
	if ok, err := gridWorkerExists(ctx, s); err != nil {
		return nil, err
	} else if ok {
		l, err := operatorPassword(ctx, s, gridOperator)
		if err != nil {
			return nil, err
		}
		logins = append(logins, l)
	}
	units, err := gatewayLogins(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	holders, err := coldChainLogins(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return append(append(logins, units...), holders...), nil
}

// operatorPasswords sets fresh passwords of the demo operators; admin's
// only when it did not come from the configuration.
func operatorPasswords(ctx context.Context, s *server.Server) ([]Login, error) {
	var logins []Login
	for _, op := range operators {
		l, err := operatorPassword(ctx, s, op)
		if err != nil {
			return nil, err
		}
		logins = append(logins, l)
	}
	return logins, nil
}

// operatorPassword sets a fresh password of one demo operator; admin's only
// when it did not come from the configuration.
func operatorPassword(ctx context.Context, s *server.Server, op struct{ username, display, role, region string }) (Login, error) {
	if op.username == "admin" && s.Config.AdminPassword != "" {
		return Login{Username: op.username, Role: op.role, Region: op.region}, nil
	}
	pw := auth.GeneratePassword()
	if err := s.Auth.SetPassword(ctx, op.username, pw); err != nil {
		return Login{}, fmt.Errorf("demo: password of %s: %w", op.username, err)
	}
	return Login{Username: op.username, Password: pw, Role: op.role, Region: op.region}, nil
}

// Print tells the person at the terminal how to use the demo.
func Print(w io.Writer, url string, logins []Login) {
	fmt.Fprintf(w, "\nDemo: Ningguo (宁国市, %s), with a simulated history of its last %d days (docs/TOUR.md).\n", Region, HistoryDays)
	fmt.Fprintf(w, "  Residents (phone-sized pages): %s/  log in with 13800000001 ... 13800000008 (registered);\n", url)
	fmt.Fprintf(w, "    the one-time code goes to the SMS outbox: %s/console/outbox (as admin).\n", url)
	fmt.Fprintf(w, "  Operator console: %s/console   Checkpoint scanner: %s/scan (needs a checkpoint API key from the console)\n", url, url)
	if len(logins) == 0 {
		fmt.Fprintf(w, "The demo's passwords and keys were printed when it was created, and are not printed again.\n")
		fmt.Fprintf(w, "Lost them? Start once with --demo-new-passwords to get new ones.\n\n")
		return
	}
	fmt.Fprintf(w, "Operator logins (shown once: note them; --demo-new-passwords makes new ones):\n")
	for _, l := range logins {
		if l.Org == "" {
			pw := l.Password
			if pw == "" {
				pw = "(the one you set)"
			}
			fmt.Fprintf(w, "  %-8s %-28s role %-15s region %s\n", l.Username, pw, l.Role, l.Region)
		}
	}
	fmt.Fprintf(w, "Organisations of the gateway: unit pages at %s/unit, API at %s/gateway/v1/ (docs/GATEWAY.md):\n", url, url)
	for _, l := range logins {
		if l.Org == "" {
			continue
		}
		if l.Username != "" {
			fmt.Fprintf(w, "  %-11s %-28s %-10s %s\n", l.Username, l.Password, l.Role, l.Org)
		}
		if l.Key != "" {
			fmt.Fprintf(w, "  API key of %s (shown once): %s\n", l.Org, l.Key)
		}
	}
	fmt.Fprintln(w)
}

func readCSV(name string) ([]map[string]string, error) {
	f, err := data.Open("data/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = strings.TrimSpace(rec[i])
		}
		out = append(out, m)
	}
	return out, nil
}

func loadPopulations(ctx context.Context, s *server.Server) error {
	rows, err := readCSV("towns.csv")
	if err != nil {
		return err
	}
	var ps []rollout.Population
	for _, r := range rows {
		code := r["region_code"]
		if code == "" && r["name"] == tianhu.Name {
			code = tianhu.Code
		}
		if _, ok := s.Regions.Lookup(code); !ok {
			return fmt.Errorf("town %s: region %q unknown", r["name"], code)
		}
		pop, err1 := strconv.ParseInt(r["population"], 10, 64)
		target, err2 := strconv.ParseInt(r["target"], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("town %s: bad numbers", r["name"])
		}
		ps = append(ps, rollout.Population{Region: code, Name: r["name"], Population: pop, PublishedTarget: target,
			Source: "宁国市安康码推广应用工作方案（2020）附件1"})
	}
	return s.DB.InTx(ctx, func(tx db.Tx) error { return rollout.Save(ctx, tx, ps) })
}

// townOf finds the town a checkpoint belongs to from its name ("梅林镇政府"
// is in 梅林镇); city-level units are in the city.
func townOf(s *server.Server, name string) string {
	best, bestLen := Region, 0
	for _, t := range append(s.Regions.Children(Region), tianhu) {
		for _, n := range []string{t.Name, strings.TrimSuffix(t.Name, "街道"), strings.Replace(t.Name, "畲族乡", "乡", 1)} {
			if len([]rune(n)) >= 2 && strings.Contains(name, n) && len(n) > bestLen {
				best, bestLen = t.Code, len(n)
			}
		}
	}
	return best
}

func loadCheckpoints(ctx context.Context, s *server.Server) error {
	rows, err := readCSV("checkpoints.csv")
	if err != nil {
		return err
	}
	for _, r := range rows {
		seq, _ := strconv.ParseInt(r["seq"], 10, 64)
		built, enabled := r["built"] == "yes", r["enabled"] == "yes"
		_, _, err := s.Checkpoints.Create(ctx, loader, checkpoint.Input{Seq: seq, Name: r["name"], Region: townOf(s, r["name"]),
			Built: &built, Enabled: &enabled})
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", r["name"], err)
		}
	}
	return nil
}

var operators = []struct{ username, display, role, region string }{
	{"admin", "管理员", "admin", Region},
	{"cdc", "市疾控中心", "health_officer", Region},
	{"xijin", "西津街道社区卫生服务中心", "health_officer", "341881001"},
	{"sampler", "西津街道采样点", "sampler", "341881001"},
	{"lab", "市人民医院检验科", "lab", Region},
	{"viewer", "市数据资源局", "viewer", Region},
}

func loadOperators(ctx context.Context, s *server.Server) error {
	for _, op := range operators {
		if op.username == "admin" {
			continue
		}
		_, err := s.Auth.CreateOperator(ctx, loader, auth.NewOperator{Username: op.username, DisplayName: op.display,
			Password: auth.GeneratePassword(), Role: op.role, Region: op.region})
		if err != nil {
			return fmt.Errorf("operator %s: %w", op.username, err)
		}
	}
	return nil
}

var venues = []venue.Input{
	{Name: "宁国市人民医院", Kind: "hospital", Address: "宁国市西津街道宁阳西路", Region: "341881001", UnitUSCC: "1234188148572011XC", UnitName: "宁国市人民医院"},
	{Name: "西津农贸市场", Kind: "market", Address: "宁国市西津街道", Region: "341881001"},
	{Name: "宁国汽车站", Kind: "transport", Address: "宁国市南山街道", Region: "341881002"},
	{Name: "港口镇中心小学", Kind: "school", Address: "宁国市港口镇", Region: "341881100"},
	{Name: "河沥溪超市", Kind: "supermarket", Address: "宁国市河沥溪街道", Region: "341881003"},
}

func loadVenues(ctx context.Context, s *server.Server) error {
	for _, in := range venues {
		if _, err := s.Venues.Create(ctx, loader, in); err != nil {
			return fmt.Errorf("venue %s: %w", in.Name, err)
		}
	}
	return nil
}

// residentID builds a valid GB 11643 number for a demo person.
func residentID(birth string, seq int) string {
	first17 := fmt.Sprintf("%s%s%03d", Region, birth, seq)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err) // the demo's own constants are wrong
	}
	return first17 + string(c)
}

var residents = []struct {
	name, birth, region string
	seq                 int
}{
	{"张三丰", "19850312", "341881001", 31}, {"李秀英", "19900721", "341881001", 42},
	{"王建国", "19781105", "341881002", 13}, {"陈静", "19950218", "341881003", 24},
	{"刘洋", "20010930", "341881100", 35}, {"赵敏", "19880614", "341881101", 46},
	{"孙志强", "19720403", "341881004", 57}, {"周丽", "19930827", "341881900", 68},
}

var dependents = []struct {
	name, birth, relation string
	seq                   int
}{
	{"张老汉", "19480101", "parent", 11}, {"张小宝", "20180606", "child", 22},
}

func loadResidents(ctx context.Context, s *server.Server) error {
	var first, second string
	nums := make([]int64, len(residents))
	for i, r := range residents {
		acct, err := s.Auth.EnsureAccount(ctx, fmt.Sprintf("138000000%02d", i+1))
		if err != nil {
			return err
		}
		switch i {
		case 0:
			first = acct
		case 1:
			second = acct
		}
		p, err := s.Persons.Register(ctx, acct, person.Input{Name: r.name, IDType: string(idnum.ResidentID),
			IDNumber: residentID(r.birth, r.seq), Region: r.region})
		if err != nil {
			return fmt.Errorf("resident %s: %w", r.name, err)
		}
		nums[i] = p.Num
	}
	if err := recordFacts(ctx, s, nums); err != nil {
		return err
	}
	for _, d := range dependents {
		_, _, err := s.Persons.AddDependent(ctx, first, person.Input{Name: d.name, IDType: string(idnum.ResidentID),
			IDNumber: residentID(d.birth, d.seq), Region: residents[0].region, Relation: d.relation})
		if err != nil {
			return fmt.Errorf("dependent %s: %w", d.name, err)
		}
	}
	// 李秀英 knows 张老汉's name and number and asks to manage him too: 张三丰
	// (13800000001) finds the request under 我的代办 and its text in the outbox.
	d := dependents[0]
	_, req, err := s.Persons.AddDependent(ctx, second, person.Input{Name: d.name, IDType: string(idnum.ResidentID),
		IDNumber: residentID(d.birth, d.seq), Region: residents[0].region, Relation: "relative"})
	if err != nil {
		return fmt.Errorf("a request to manage %s: %w", d.name, err)
	}
	if req == nil {
		return fmt.Errorf("managing %s took no consent", d.name)
	}
	return nil
}

// recordFacts gives a few demo residents a history, so that the code pages,
// the person pages and the dashboard show every colour: a close contact of
// a case (red for 14 days), a spatiotemporal companion with one negative test
// (yellow until a second one a day later), and a resident with a negative test.
func recordFacts(ctx context.Context, s *server.Server, nums []int64) error {
	now := time.Now().UTC().Truncate(time.Minute)
	exposure := now.Add(-30 * time.Hour)
	evidence := map[string]any{"case_person": "demo-case", "venue": "西津农贸市场",
		"case_at": exposure.Format(time.RFC3339), "person_at": exposure.Add(10 * time.Minute).Format(time.RFC3339), "overlap_minutes": 20}
	facts := []status.NewFact{
		{Person: nums[2], Fact: fact.Fact{Kind: fact.ContactClose, At: exposure, Attrs: evidence}},
		{Person: nums[3], Fact: fact.Fact{Kind: fact.ContactCompanion, At: exposure, Attrs: evidence}},
		{Person: nums[3], Fact: fact.Fact{Kind: fact.NATResult, At: now.Add(-6 * time.Hour), Attrs: map[string]any{"result": "negative"}}},
		{Person: nums[4], Fact: fact.Fact{Kind: fact.NATResult, At: now.Add(-20 * time.Hour), Attrs: map[string]any{"result": "negative"}}},
		// Half a year old, past the facts' retention (180 days): the first
		// retention purge of `serve --demo` removes it, and the audit log
		// shows a retention.purge of one fact.
		{Person: nums[1], Fact: fact.Fact{Kind: fact.NATResult, At: now.Add(-200 * 24 * time.Hour), Attrs: map[string]any{"result": "negative"}}},
	}
	for i := range facts {
		facts[i].RecordedBy = loader.Actor()
		facts[i].Fact.Source = "demo"
	}
	_, err := s.Status.Record(ctx, facts...)
	return err
}
