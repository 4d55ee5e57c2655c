package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/tracing"
)

// The living city: at the first start the demo simulates the last
// HistoryDays days of Ningguo, so that a newcomer meets every screen with
// data in it (the dashboard's shows, verifications and swabs, the
// registration chart, sampling sites, cases with a tracing run and its
// tasks, appeals waiting for a reviewer).
//
// Each feature seeds its own part: a seeder in the history list below,
// which reads what earlier ones made from the city and writes through its
// feature's service, in batches (an Import method of the service, not one
// call per row). A feature that lands later adds its seeder at the end.

// HistoryDays is how far back the simulated history reaches.
const HistoryDays = 14

// Options size the demo. The zero value loads no history (the fixed
// residents and facts only).
type Options struct {
	// Residents is how many simulated residents the history registers
	// (0: no history). Everything else scales with it.
	Residents int
}

// DefaultResidents is the size of `serve --demo`'s city: a few seconds of
// generation at the first start.
const DefaultResidents = 20000

// seeder is one feature's part of the history.
type seeder struct {
	name string
	fn   func(context.Context, *city) error
}

// history is every feature's seeder, in order: later ones read what
// earlier ones made (residents before their check-ins, sites before their
// tubes).
var history = []seeder{
	{"residents", seedResidents},
	{"code shows", seedShows},
	{"check-ins", seedCheckins},
	{"verifications", seedVerifications},
	{"sampling sites", seedSites},
	{"tests", seedTests},
	{"cases and tracing", seedCases},
	{"appeals", seedAppeals},
	{"school pupils", seedPupils},
	{"grids", seedGrids},
}

// city is what the seeders share: the server, the size, the clock and
// random source of the simulation, and what earlier seeders made.
type city struct {
	s    *server.Server
	opt  Options
	now  time.Time
	rng  *rand.Rand
	from time.Time // the first day of the history, at midnight local time

	residents []resident // the simulated ones, in registration order
	venues    []string   // venue ids
	sites     []string   // sampling site ids
}

type resident struct {
	num    int64
	id     string
	region string
	number string // identity number
}

// historyCounter marks the history as loaded.
const historyCounter = "demo_history_loaded"

func loadHistory(ctx context.Context, s *server.Server, opt Options) error {
	if opt.Residents <= 0 {
		return nil
	}
	loaded, err := db.Counter(ctx, s.DB, historyCounter)
	if err != nil || loaded > 0 {
		return err
	}
	now := time.Now()
	loc, err := time.LoadLocation("Asia/Shanghai") // the region's days, as the dashboard counts them
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	y, m, d := now.In(loc).Date()
	c := &city{s: s, opt: opt, now: now, rng: rand.New(rand.NewPCG(2020, 341881)),
		from: time.Date(y, m, d, 0, 0, 0, 0, loc).AddDate(0, 0, -(HistoryDays - 1))}
	start := time.Now()
	for _, sd := range history {
		t0 := time.Now()
		if err := sd.fn(ctx, c); err != nil {
			return fmt.Errorf("demo: history: %s: %w", sd.name, err)
		}
		s.Log.Debug("demo history", "part", sd.name, "took", time.Since(t0).Round(time.Millisecond))
	}
	if err := s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, historyCounter, 1); return err }); err != nil {
		return err
	}
	s.Log.Info("demo history simulated", "days", HistoryDays, "residents", opt.Residents, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// at is a moment of day d of the history (0 the first) at the hour h
// (fractional), or false when it is still to come.
func (c *city) at(d int, h float64) (time.Time, bool) {
	t := c.from.AddDate(0, 0, d).Add(time.Duration(h * float64(time.Hour)))
	return t, t.Before(c.now)
}

// daytime draws an hour of the day, mostly 7:00-21:00 with peaks in the
// morning and the evening.
func (c *city) daytime() float64 {
	if c.rng.IntN(3) == 0 {
		return 17 + c.rng.Float64()*3
	}
	if c.rng.IntN(2) == 0 {
		return 7 + c.rng.Float64()*2.5
	}
	return 7 + c.rng.Float64()*14
}

// towns are the demo's towns with their share of the simulated residents:
// the population times a registration rate that is higher downtown.
func (c *city) towns() ([]string, []float64, error) {
	rows, err := readCSV("towns.csv")
	if err != nil {
		return nil, nil, err
	}
	var codes []string
	var weights []float64
	for i, r := range rows {
		code := r["region_code"]
		if code == "" {
			code = tianhu.Code
		}
		var pop float64
		fmt.Sscan(r["population"], &pop)
		rate := 0.4 + 0.6*float64((i*7)%10)/10
		if code[6:] < "100" { // the streets (街道) of the town centre
			rate *= 2
		}
		codes, weights = append(codes, code), append(weights, pop*rate)
	}
	return codes, weights, nil
}

func pick(rng *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x := rng.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文春梅海波晨雪琳思雨子涵梓轩一诺欣怡佳豪")
)

func (c *city) name() string {
	n := string(surnames[c.rng.IntN(len(surnames))]) + string(given[c.rng.IntN(len(given))])
	if c.rng.IntN(3) > 0 {
		n += string(given[c.rng.IntN(len(given))])
	}
	return n
}

// seedResidents registers the simulated residents, spread over the towns
// by their registration rate, with unique valid identity numbers.
func seedResidents(ctx context.Context, c *city) error {
	codes, weights, err := c.towns()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	ins := make([]person.Input, 0, c.opt.Residents)
	for len(ins) < c.opt.Residents {
		birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, c.rng.IntN(29000))
		first17 := fmt.Sprintf("%s%s%03d", Region, birth.Format("20060102"), c.rng.IntN(999)+1)
		if seen[first17] {
			continue
		}
		seen[first17] = true
		ch, err := idnum.ResidentCheckChar(first17)
		if err != nil {
			return err
		}
		ins = append(ins, person.Input{Name: c.name(), IDType: string(idnum.ResidentID), IDNumber: first17 + string(ch),
			Region: codes[pick(c.rng, weights)]})
	}
	const per = 5000 // one transaction each: a slow engine still shows progress
	for len(ins) > 0 {
		part := ins[:min(per, len(ins))]
		ins = ins[len(part):]
		ps, err := c.s.Persons.Import(ctx, loader, part)
		if err != nil {
			return err
		}
		for i, p := range ps {
			c.residents = append(c.residents, resident{num: p.Num, id: p.ID, region: p.Region, number: part[i].IDNumber})
		}
	}
	return nil
}

// seedShows counts the codes the residents showed over the last three
// days: the activity chart covers a day, and older hours are never read.
func seedShows(ctx context.Context, c *city) error {
	byRegion := map[string]int64{}
	for _, r := range c.residents {
		byRegion[r.region]++
	}
	counts := map[time.Time]map[string]int64{}
	for h := c.now.Add(-72 * time.Hour).Truncate(time.Hour); h.Before(c.now); h = h.Add(time.Hour) {
		w := hourWeight(h.In(c.from.Location()).Hour())
		m := map[string]int64{}
		for region, n := range byRegion {
			if k := int64(float64(n)*w*(0.8+0.4*c.rng.Float64()) + c.rng.Float64()); k > 0 { // rounded at random, so small towns count too
				m[region] = k
			}
		}
		counts[h] = m
	}
	return c.s.Codes.ImportShows(ctx, counts)
}

// hourWeight is the share of residents who show their code in an hour of
// the day: hardly any at night, most on the way to work and back.
func hourWeight(h int) float64 {
	switch {
	case h < 6 || h >= 23:
		return 0.002
	case h >= 7 && h < 9, h >= 17 && h < 19:
		return 0.12
	default:
		return 0.04
	}
}

// seedCheckins has the residents scan the venues' posters: about two
// check-ins each over the history.
func seedCheckins(ctx context.Context, c *city) error {
	vs, err := c.s.Venues.List(ctx, loader, 100)
	if err != nil {
		return err
	}
	places := make([]int64, len(vs))
	for i, v := range vs {
		c.venues = append(c.venues, v.ID)
		if places[i], err = c.s.Checkins.PlaceOf(ctx, checkin.PlaceVenue, v.ID); err != nil {
			return err
		}
	}
	if len(places) == 0 {
		return nil
	}
	if err := c.s.Checkins.EnsureDays(ctx, c.from, c.now); err != nil {
		return err
	}
	rows := make([]checkin.ImportRow, 0, 2*len(c.residents))
	for range 2 * len(c.residents) {
		t, ok := c.at(c.rng.IntN(HistoryDays), c.daytime())
		if !ok {
			continue
		}
		r := c.residents[c.rng.IntN(len(c.residents))]
		rows = append(rows, checkin.ImportRow{Place: places[c.rng.IntN(len(places))], At: t.UnixMilli(), Person: r.num})
	}
	return c.s.Checkins.Import(ctx, rows)
}

// seedVerifications has the enabled checkpoints scan codes: a few hundred
// a day each in a full-sized city, one in fifty refused (an expired
// screenshot, a forged code).
func seedVerifications(ctx context.Context, c *city) error {
	t, err := c.s.Checkpoints.List(ctx, loader)
	if err != nil {
		return err
	}
	var cps []*checkpoint.Checkpoint
	for _, cp := range t.Checkpoints {
		if cp.Enabled && cp.APIKeyID != "" {
			cps = append(cps, cp)
		}
	}
	if len(cps) == 0 {
		return nil
	}
	reasons := []string{"expired", "bad_signature", "expired"}
	vs := make([]checkin.Verification, 0, 2*len(c.residents))
	for range 2 * len(c.residents) {
		at, ok := c.at(c.rng.IntN(HistoryDays), c.daytime())
		if !ok {
			continue
		}
		cp, r := cps[c.rng.IntN(len(cps))], c.residents[c.rng.IntN(len(c.residents))]
		v := checkin.Verification{KeyID: cp.APIKeyID, Checkpoint: cp.ID, Person: r.num, At: at, Valid: true, Color: rules.Green, Kind: "dynamic"}
		if c.rng.IntN(50) == 0 {
			v.Valid, v.Reason, v.Person = false, reasons[c.rng.IntN(len(reasons))], 0
		}
		vs = append(vs, v)
	}
	return c.s.Checkins.ImportVerifications(ctx, vs)
}

// demoSites are the city's sampling sites (便民核酸采样点).
var demoSites = []struct {
	name, address, region, hours string
	lat, lng                     float64
}{
	{"西津街道宁阳广场采样点", "宁国市西津街道宁阳西路宁阳广场", "341881001", "07:00-21:00", 30.6331, 118.9832},
	{"南山街道汽车站采样点", "宁国市南山街道宁国汽车站东侧", "341881002", "07:30-20:00", 30.6179, 118.9947},
	{"河沥溪街道社区卫生服务中心采样点", "宁国市河沥溪街道河沥路", "341881003", "08:00-17:30", 30.6402, 119.0058},
	{"汪溪街道便民采样点", "宁国市汪溪街道汪溪路", "341881004", "08:00-18:00", 30.6005, 118.9621},
	{"港口镇卫生院采样点", "宁国市港口镇港口街", "341881100", "08:00-12:00,14:00-17:00", 30.7210, 118.9093},
	{"宁国市人民医院发热门诊采样点", "宁国市西津街道宁阳西路", "341881001", "00:00-24:00", 30.6345, 118.9801},
}

func seedSites(ctx context.Context, c *city) error {
	open, phone := true, "0563-4012120"
	for _, d := range demoSites {
		name, address, region, hours, lat, lng := d.name, d.address, d.region, d.hours, d.lat, d.lng
		st, err := c.s.NAT.CreateSite(ctx, loader, nat.SiteInput{Name: &name, Address: &address, Phone: &phone, Hours: &hours,
			Lat: &lat, Lng: &lng, Region: &region, Open: &open})
		if err != nil {
			return fmt.Errorf("site %s: %w", d.name, err)
		}
		c.sites = append(c.sites, st.ID)
	}
	return nil
}

const lab = "宁国市人民医院检验科"

// seedTests swabs the residents: every one on two or three days of the
// history, ten to a tube, the tubes reported negative half a day later;
// today's still wait for the lab.
func seedTests(ctx context.Context, c *city) error {
	if len(c.sites) == 0 {
		return nil
	}
	type slot struct{ day, site int }
	queue := map[slot][]int64{}
	for _, r := range c.residents {
		days := c.rng.Perm(HistoryDays)[:2+c.rng.IntN(2)]
		for _, d := range days {
			k := slot{d, c.rng.IntN(len(c.sites))}
			queue[k] = append(queue[k], r.num)
		}
	}
	keys := make([]slot, 0, len(queue))
	for k := range queue {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].day != keys[j].day {
			return keys[i].day < keys[j].day
		}
		return keys[i].site < keys[j].site
	})
	var tubes []nat.HistoryTube
	for _, k := range keys {
		nums := queue[k]
		for i := 0; i < len(nums); i += 10 {
			at, ok := c.at(k.day, 8+c.rng.Float64()*9)
			if !ok {
				continue
			}
			t := nat.HistoryTube{Barcode: fmt.Sprintf("NG%s%05d", at.In(c.from.Location()).Format("0102"), len(tubes)+1),
				SiteID: c.sites[k.site], Capacity: 10, Persons: nums[i:min(i+10, len(nums))], SampledAt: at, Lab: lab}
			if rep := at.Add(time.Duration(6+c.rng.IntN(8)) * time.Hour); rep.Before(c.now) {
				t.Negative, t.ReportedAt = true, rep
			}
			tubes = append(tubes, t)
		}
	}
	const per = 2000 // tubes a transaction, and facts a Record call about ten times as many
	for len(tubes) > 0 {
		part := tubes[:min(per, len(tubes))]
		tubes = tubes[len(part):]
		if err := c.s.NAT.ImportHistory(ctx, loader, part); err != nil {
			return err
		}
	}
	return nil
}

// seedCases confirms two cases among the simulated residents: each was
// at the market three days ago, among some twenty others; a tracing run
// of the two finds those companions and gives the grid their tasks.
func seedCases(ctx context.Context, c *city) error {
	if len(c.residents) < 100 || len(c.venues) == 0 {
		return nil
	}
	place, err := c.s.Checkins.PlaceOf(ctx, checkin.PlaceVenue, c.venues[1%len(c.venues)]) // 西津农贸市场
	if err != nil {
		return err
	}
	var rows []checkin.ImportRow
	var facts []status.NewFact
	var ids []string
	for i, hour := range []float64{9.5, 17.25} {
		cs := c.residents[len(c.residents)/3+i*7]
		at, _ := c.at(HistoryDays-4, hour)
		rows = append(rows, checkin.ImportRow{Place: place, At: at.UnixMilli(), Person: cs.num})
		for j := range 12 + 6*i {
			o := c.residents[(len(c.residents)/2+i*97+j*13)%len(c.residents)]
			rows = append(rows, checkin.ImportRow{Place: place, At: at.Add(time.Duration(j-6) * 2 * time.Minute).UnixMilli(), Person: o.num})
		}
		diagnosed, _ := c.at(HistoryDays-2, 11+float64(i))
		facts = append(facts, status.NewFact{Person: cs.num, RecordedBy: loader.Actor(), Fact: fact.Fact{Kind: fact.CaseConfirmed, At: diagnosed,
			Source: "demo", Attrs: map[string]any{"case_id": fmt.Sprintf("NG-%s-%03d", diagnosed.Format("2006"), i+1), "severity": "mild", "hospital": "宁国市人民医院"}}})
		ids = append(ids, cs.id)
	}
	if err := c.s.Checkins.Import(ctx, rows); err != nil {
		return err
	}
	if _, err := c.s.Status.Record(ctx, facts...); err != nil {
		return err
	}
	// The city's CDC starts the run, so the console names who did.
	by := loader
	ops, err := c.s.Auth.Operators(ctx, loader)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.Username == "cdc" {
			by = &auth.Principal{Kind: auth.Operator, ID: op.ID, Name: op.DisplayName, Role: op.Role, Region: op.Region}
		}
	}
	if _, err := c.s.Tracing.Submit(ctx, by, tracing.Request{PersonIDs: ids, Lookback: "7d"}); err != nil {
		return err
	}
	// The run is done before the server serves, so the first look at it
	// finds its contacts and tasks rather than a queue.
	for {
		more, err := c.s.Tracing.RunNext(ctx)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// seedAppeals has two fixed residents appeal their colour: 王建国 his red
// (a close contact), 陈静 her yellow (a companion), both waiting for a
// reviewer. 陈静 attaches outside evidence: an EU DCC of a negative test
// taken on a trip, under a demo signer the trust holds, so the reviewer
// sees it verified.
func seedAppeals(ctx context.Context, c *city) error {
	dcc, err := demoTestDCC(ctx, c.s, "Chen", "Jing", "1985-03-12", c.now.Add(-30*time.Hour))
	if err != nil {
		return err
	}
	for _, a := range []struct {
		resident    int
		reason      string
		credentials []string
	}{
		{2, "我当天不在西津农贸市场，一直在南山街道上班，有单位考勤记录可以证明。", nil},
		{3, "我只是路过市场门口，没有进入，已做过一次核酸检测为阴性（附出差时的检测证书）。", []string{dcc}},
	} {
		acct, err := c.s.Auth.EnsureAccount(ctx, fmt.Sprintf("138000000%02d", a.resident+1))
		if err != nil {
			return err
		}
		by := &auth.Principal{Kind: auth.Resident, ID: acct}
		if _, err := c.s.Status.FileAppeal(ctx, by, "", status.AppealInput{Reason: a.reason, Credentials: a.credentials}); err != nil {
			return fmt.Errorf("appeal of %s: %w", residents[a.resident].name, err)
		}
	}
	return nil
}
