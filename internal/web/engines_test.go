package web_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

var tileRe = regexp.MustCompile(`<span class="tile-value">(\d+)</span><span class="tile-label">([^<]+)</span>`)

// Every console page answers on both engines with the data of the demo,
// a day of sampling and a resident's code shows: the pages' own queries
// (the dashboard's counts) run on PostgreSQL too.
func TestConsolePagesOnBothEngines(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			// No simulated history: the dashboard counts what this test does
			// on top of the demo's own scenes (a hall's queue machine reads
			// codes shown to it).
			e := &env{Server: servertest.Start(t, engine, servertest.WithWorkers(), servertest.WithConfig(withFacts(&recorder{})),
				servertest.WithDemoResidents(0)), t: t}
			c := consoleClient(t, e, "admin", adminPassword)
			tiles := func() map[string]int {
				t.Helper()
				_, body := e.get(c, "/console")
				out := map[string]int{}
				for _, m := range tileRe.FindAllStringSubmatch(body, -1) {
					out[m[2]], _ = strconv.Atoi(m[1])
				}
				return out
			}
			before := tiles()
			ctx := context.Background()
			admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
			name, addr, region := "测试采样点", "宁国市西津街道", "341881001"
			lat, lng, open := 30.6, 118.9, true
			site, err := e.App.NAT.CreateSite(ctx, admin, nat.SiteInput{Name: &name, Address: &addr, Region: &region, Lat: &lat, Lng: &lng, Open: &open})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.NAT.OpenTube(ctx, admin, "T0001", 1, site.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.NAT.AddSample(ctx, admin, "T0001", nat.SampleInput{IDType: "resident_id", IDNumber: rid("19480101", 11)}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.NAT.Seal(ctx, admin, "T0001"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.NAT.CreateTransfer(ctx, admin, []string{"T0001"}, "lab"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.NAT.PostResult(ctx, admin, "T0001", "negative", "lab"); err != nil {
				t.Fatal(err)
			}
			cps, err := e.App.Checkpoints.List(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.App.Checkins.RecordVerification(ctx, checkin.Verification{KeyID: cps.Checkpoints[0].APIKeyID,
				Checkpoint: cps.Checkpoints[0].ID, Person: 1, Valid: true, Color: rules.Green, Kind: "dynamic"}); err != nil {
				t.Fatal(err)
			}
			rc := residentClient(t, e, "13800000001")
			for _, p := range []string{"/me", "/me/tests", "/me/dependents", "/me/more"} {
				if st, _ := e.get(rc, p); st != 200 {
					t.Fatalf("%s: %d", p, st)
				}
			}
			for path, want := range map[string]string{
				"/console":                 "近14天采样",
				"/console/persons?all=1":   "张三丰",
				"/console/facts":           "事实类型",
				"/console/venues":          "宁国市人民医院",
				"/console/checkpoints":     "梅林镇",
				"/console/coverage":        "天湖街道",
				"/console/outbox":          "验证码",
				"/console/audit":           "operator.login", // newest first: this test's own login
				"/console/operators":       "sampler",
				"/console/nat/sites":       "测试采样点",
				"/console/nat/tubes":       "测试采样点",
				"/console/nat/tubes/T0001": "已出结果",
				"/console/nat/results":     "更正",
				"/console/nat/followup":    "应检未检名单",
				"/console/tracing":         "按病例追踪",
				"/console/tasks":           "网格任务",
				"/console/rules":           "fever_clinic",
				"/console/rules/1":         "试运行",
				"/console/appeals":         "待审核",
			} {
				st, body := e.get(c, path)
				if st != 200 || !strings.Contains(body, want) {
					t.Errorf("%s: %d, want %q on the page", path, st, want)
				}
			}
			after := tiles()
			for _, label := range []string{"近14天采样", "近24小时亮码", "核验次数（近24小时）"} {
				if after[label] != before[label]+1 {
					t.Errorf("the dashboard's %s went from %d to %d, want one more", label, before[label], after[label])
				}
			}
		})
	}
}
