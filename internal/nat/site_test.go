package nat_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/nat"
)

func TestSites(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// The fixture's site is in 西津街道 at (30.6335, 118.9830).
		south := f.newSite("南山街道卫生服务中心", "341881002", 30.6100, 118.9900)
		far := f.newSite("港口镇卫生院", "341881100", 30.7400, 119.0500)

		// Validation, each with its own code.
		for name, tc := range map[string]struct {
			in   nat.SiteInput
			code string
		}{
			"no name":      {nat.SiteInput{Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(118.0)}, "site_name_missing"},
			"blank name":   {nat.SiteInput{Name: ptr("  "), Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(118.0)}, "site_name_invalid"},
			"no lat":       {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lng: ptr(118.0)}, "site_lat_missing"},
			"lat 91":       {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lat: ptr(91.0), Lng: ptr(118.0)}, "site_lat_invalid"},
			"lng -181":     {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(-181.0)}, "site_lng_invalid"},
			"null island":  {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lat: ptr(0.0), Lng: ptr(0.0)}, "site_coordinates_missing"},
			"phone +86":    {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(118.0), Phone: ptr("+86 563 4012345")}, "site_phone_invalid"},
			"bad region":   {nat.SiteInput{Name: ptr("x"), Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(118.0), Region: ptr("341899")}, "region_unknown"},
			"control char": {nat.SiteInput{Name: ptr("x\x07"), Address: ptr("a"), Lat: ptr(30.0), Lng: ptr(118.0)}, "site_name_invalid"},
		} {
			_, err := f.svc.CreateSite(f.ctx, f.admin, tc.in)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			wantErr(t, err, 400, tc.code)
		}
		// Same name in the same region: 409. Outside the operator's scope: 403 on create.
		_, err := f.svc.CreateSite(f.ctx, f.admin, nat.SiteInput{Name: ptr(south.Name), Address: ptr("x"), Lat: ptr(30.0), Lng: ptr(118.0), Region: ptr("341881002")})
		wantErr(t, err, 409, "site_exists")
		officer := *f.officer // 西津街道 only
		_, err = f.svc.CreateSite(f.ctx, &officer, nat.SiteInput{Name: ptr("x"), Address: ptr("x"), Lat: ptr(30.0), Lng: ptr(118.0), Region: ptr("341881002")})
		wantErr(t, err, 403, "out_of_scope")
		_, err = f.svc.CreateSite(f.ctx, f.lab, nat.SiteInput{Name: ptr("x"), Address: ptr("x"), Lat: ptr(30.0), Lng: ptr(118.0)})
		wantErr(t, err, 403, "forbidden")
		// An operator's site defaults to their own region.
		own := must[*nat.Site](t)(f.svc.CreateSite(f.ctx, &officer, nat.SiteInput{Name: ptr("西津社区"), Address: ptr("x"), Lat: ptr(30.63), Lng: ptr(118.98)}))
		if own.Region != "341881001" || !own.Open || own.RegionName != "安徽省宣城市宁国市西津街道" {
			t.Fatalf("default region/open: %+v", own)
		}

		// Updating: close a site; out of scope is not found.
		_, err = f.svc.UpdateSite(f.ctx, &officer, far.ID, nat.SiteInput{Open: ptr(false)})
		wantErr(t, err, 404, "site_not_found")
		closed := must[*nat.Site](t)(f.svc.UpdateSite(f.ctx, f.admin, far.ID, nat.SiteInput{Open: ptr(false), Hours: ptr("暂停服务")}))
		if closed.Open || closed.Hours != "暂停服务" || closed.Name != far.Name {
			t.Fatalf("update: %+v", closed)
		}
		_, err = f.svc.UpdateSite(f.ctx, f.admin, far.ID, nat.SiteInput{Lat: ptr(100.0)})
		wantErr(t, err, 400, "site_lat_invalid")
		entries, err := audit.List(f.ctx, d, audit.Filter{Subject: "site:" + far.ID, Limit: 10})
		if err != nil || len(entries) != 2 || entries[0].Action != "site.update" || entries[0].Detail["open"] != false {
			t.Fatalf("audit of the update: %+v %v", entries, err)
		}
		// Opening a tube at a closed site is refused.
		_, err = f.svc.OpenTube(f.ctx, f.sampler, f.barcode(), 10, far.ID)
		wantErr(t, err, 409, "site_closed")

		// Listing: all, by region, open only, nearest first.
		all := must[[]*nat.Site](t)(f.svc.ListSites(f.ctx, nat.SiteQuery{}))
		if len(all) != 4 {
			t.Fatalf("%d sites", len(all))
		}
		xijin := must[[]*nat.Site](t)(f.svc.ListSites(f.ctx, nat.SiteQuery{Region: "341881001"}))
		if len(xijin) != 2 || xijin[0].Region != "341881001" {
			t.Fatalf("by region: %+v", xijin)
		}
		open := must[[]*nat.Site](t)(f.svc.ListSites(f.ctx, nat.SiteQuery{Open: ptr(true)}))
		if len(open) != 3 {
			t.Fatalf("open: %d", len(open))
		}
		_, err = f.svc.ListSites(f.ctx, nat.SiteQuery{Region: "3418x"})
		wantErr(t, err, 400, "region_unknown")
		// Standing just south of 南山 (30.6050, 118.9900).
		near := must[[]*nat.Site](t)(f.svc.ListSites(f.ctx, nat.SiteQuery{Near: &geo.LatLng{Lat: 30.6050, Lng: 118.9900}, Limit: 3}))
		if len(near) != 3 || near[0].ID != south.ID || near[1].ID != f.site.ID && near[1].ID != own.ID {
			t.Fatalf("nearest: %v", names(near))
		}
		// 0.005° of latitude is 556 m.
		if d := *near[0].DistanceM; d < 550 || d > 562 {
			t.Fatalf("distance to 南山: %d m", d)
		}
		for i := 1; i < len(near); i++ {
			if *near[i].DistanceM < *near[i-1].DistanceM {
				t.Fatalf("not sorted by distance: %v", names(near))
			}
		}

		// CSV: a header and one row per site, readable by a CSV reader.
		var buf bytes.Buffer
		if err := nat.WriteSitesCSV(&buf, near, true); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 4 {
			t.Fatalf("csv: %v %v", recs, err)
		}
		if strings.Join(recs[0], ",") != "id,name,address,phone,hours,lat,lng,region,region_name,open,updated_at,distance_m" {
			t.Fatalf("csv header: %v", recs[0])
		}
		if recs[1][0] != south.ID || recs[1][1] != south.Name || recs[1][5] != "30.61" || recs[1][6] != "118.99" || recs[1][9] != "true" || recs[1][11] == "" {
			t.Fatalf("csv row: %v", recs[1])
		}

	})
}

func names(ss []*nat.Site) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestImportSites(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		body := "\xef\xbb\xbf名称,地址,电话,开放时间,纬度,经度,区划代码,是否开放,备注\n" +
			"宁国市人民医院采样点,宁国市人民路1号,0563-4011111,24小时,30.6335,118.9830,341881001,是,更新\n" + // line 2: updates the fixture's site
			"\"汪溪街道便民采样点, 东门\",汪溪路8号,,07:00-11:00,30.6401,119.0012,341881004,是,\n" + // 3: created; quoted comma
			"\n" + // 4: blank
			"坏坐标,某路,,,北纬30度,118.9,341881004,是,\n" + // 5
			"区划不存在,某路,,,30.6,118.9,341899001,是,\n" + // 6
			"外地采样点,某路,,,30.9,118.7,341802001,是,\n" + // 7: Xuanzhou, outside the sampler's... (admin may; see below)
			"\"引号没完,某路,,,30.6,118.9,341881004,是,\n" + // 8
			"汪溪街道便民采样点, 东门,重复,,,30.6,118.9,341881004,是\n" + // 9: an unquoted comma shifts the columns
			"\"汪溪街道便民采样点, 东门\",汪溪路9号,,,30.6,118.9,341881004,否,\n" + // 10: duplicate of line 3
			"暂停点,某路,,,30.61,118.91,341881004,暂停,\n" + // 11: created closed
			"多一列,某路,,,30.6,118.9,341881004,是,,多余\n" // 12: more fields than the header
		officer := *f.officer
		officer.Region = "341881"
		rep := must[*nat.ImportReport](t)(f.svc.ImportSites(f.ctx, &officer, []byte(body)))
		want := map[int]string{2: "updated", 3: "created", 5: "refused:site_lat_invalid", 6: "refused:region_unknown",
			7: "refused:out_of_scope", 8: "refused:csv_malformed", 9: "refused:site_lat_invalid", 10: "refused:duplicate_line", 11: "created",
			12: "refused:csv_malformed"}
		if len(rep.Report) != len(want) {
			t.Fatalf("report has %d lines, want %d: %+v", len(rep.Report), len(want), rep.Report)
		}
		for _, l := range rep.Report {
			got := l.Status
			if l.Code != "" {
				got += ":" + l.Code
			}
			if want[l.Line] != got {
				t.Errorf("line %d: %s (%s), want %s", l.Line, got, l.Message, want[l.Line])
			}
		}
		if rep.Created != 2 || rep.Updated != 1 || rep.Refused != 7 || rep.Lines != 10 {
			t.Fatalf("summary: %+v", rep)
		}
		updated := must[*nat.Site](t)(f.svc.GetSite(f.ctx, f.site.ID))
		if updated.Address != "宁国市人民路1号" || updated.Hours != "24小时" || updated.Phone != "0563-4011111" {
			t.Fatalf("not updated: %+v", updated)
		}
		wx := must[[]*nat.Site](t)(f.svc.ListSites(f.ctx, nat.SiteQuery{Region: "341881004"}))
		if len(wx) != 2 || wx[0].Name != "暂停点" || wx[0].Open || wx[1].Name != "汪溪街道便民采样点, 东门" || !wx[1].Open {
			t.Fatalf("created: %+v", wx)
		}
		// The header is required.
		_, err := f.svc.ImportSites(f.ctx, &officer, []byte("a,b\n1,2\n"))
		wantErr(t, err, 400, "csv_header")
		_, err = f.svc.ImportSites(f.ctx, &officer, []byte("\n\n"))
		wantErr(t, err, 400, "csv_empty")
	})
}

func TestCSVTextIsSafeInSpreadsheets(t *testing.T) {
	var buf bytes.Buffer
	st := &nat.Site{ID: "x", Name: "=HYPERLINK(\"http://evil\")", Address: "@SUM(A1)", Hours: "-1+2", Lat: 30, Lng: 118}
	if err := nat.WriteSitesCSV(&buf, []*nat.Site{st}, false); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	for _, i := range []int{1, 2, 4} {
		if !strings.HasPrefix(recs[1][i], "'") {
			t.Errorf("field %d %q would start a formula", i, recs[1][i])
		}
	}
}
