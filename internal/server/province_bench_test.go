package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/tracing"
)

// queryBudget is what every list, search and count an operator, a grid
// worker or a unit uses must answer within, at province size, on both
// engines (docs/PERFORMANCE.md, "Operator queries at province size").
const queryBudget = 100 * time.Millisecond

// provinceResidents is the population of the operator-query benchmark:
// HEALTHCODE_BENCH_PROVINCE_RESIDENTS, default 20,000 (seconds to set up);
// the figures in the docs are at 1,000,000 and 10,000,000.
func provinceResidents(b *testing.B) int {
	if v := os.Getenv("HEALTHCODE_BENCH_PROVINCE_RESIDENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("HEALTHCODE_BENCH_PROVINCE_RESIDENTS=%q: a whole number, 1000 or more", v)
		}
		return n
	}
	return 20_000
}

// BenchmarkOperatorQueries builds a province (Anhui: the demo county's
// towns hold 30 % of the residents, every other town of the province the
// rest) with a month of events on a fresh database of each engine, then
// runs every list, search and count of the console and the API through
// the services, as the province's operator and as a town's, several times
// each. It reports each query's p50 and max and fails naming every query
// whose slowest run took longer than queryBudget.
//
//	HEALTHCODE_PG_BIN=/usr/lib/postgresql/15/bin HEALTHCODE_BENCH_PROVINCE_RESIDENTS=1000000 \
//	  go test -run '^$' -bench BenchmarkOperatorQueries -benchtime 1x -timeout 0 ./internal/server/
func BenchmarkOperatorQueries(b *testing.B) {
	n := provinceResidents(b)
	runs := 5
	if v, err := strconv.Atoi(os.Getenv("HEALTHCODE_BENCH_PROVINCE_RUNS")); err == nil && v > 0 {
		runs = v
	}
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			s := servertest.Start(b, e, servertest.WithConfig(func(c *server.Config) { c.Region = "34" }))
			start := time.Now()
			p := seedProvince(b, s.App, n)
			b.Logf("%s: %d residents, %d towns, a month of events set up in %v", e, n, len(p.towns), time.Since(start).Round(time.Second))
			b.ResetTimer()
			for range b.N {
				p.measure(b, runs)
			}
		})
	}
}

// province is what seedProvince built and the queries ask about.
type province struct {
	app   *server.Server
	now   time.Time
	towns []string // every town with residents; towns[0] is the town operator's
	n     int
	// A resident of the town operator's town, and one elsewhere.
	townPerson, farPerson benchPerson
	venueOfTown           string
}

type benchPerson struct {
	id, idNumber, phone, name string
}

// benchResident is resident i: an identity number born on one of 20,000
// days with a sequence of 1,000 a day (unique to 20M residents), a phone
// and a name drawn from a few hundred, as a real population shares names.
func benchResident(i int) benchPerson {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/1000)%20_000)
	prefix := "341881"
	if i >= 20_000_000 {
		prefix = "340102"
	}
	first17 := fmt.Sprintf("%s%s%03d", prefix, birth.Format("20060102"), i%1000)
	c, _ := idnum.ResidentCheckChar(first17)
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")
	name := string([]rune{surnames[i%len(surnames)], given[(i/20)%len(given)], given[(i/600)%len(given)]})
	return benchPerson{idNumber: first17 + string(c), phone: fmt.Sprintf("199%08d", i), name: name}
}

// townOf spreads residents: 30 % over the demo county's towns, the rest
// over the province's other towns.
func townOf(i int, demo, rest []string) string {
	if i%10 < 3 {
		return demo[(i/10)%len(demo)]
	}
	return rest[(i/10)%len(rest)]
}

// seedProvince fills the store. Persons go through person.Service (sealed
// columns and blind indexes as registration writes them); everything else
// goes straight into the tables in multi-row INSERTs, with the indexes the
// migrations define.
func seedProvince(b *testing.B, app *server.Server, n int) *province {
	ctx := context.Background()
	d := app.DB
	now := time.Now().UTC().Truncate(time.Millisecond)
	month := now.Add(-30 * 24 * time.Hour)
	admin := &auth.Principal{Kind: auth.Operator, ID: "bench", Name: "bench", Role: auth.Admin, Region: "34"}

	var demo, rest []string
	for r := range app.Regions.All() {
		if r.Level != region.Street || !strings.HasPrefix(r.Code, "34") {
			continue
		}
		if strings.HasPrefix(r.Code, "341881") {
			demo = append(demo, r.Code)
		} else {
			rest = append(rest, r.Code)
		}
	}
	if len(demo) == 0 || len(rest) == 0 {
		b.Fatalf("no towns: %d in 341881, %d elsewhere in 34", len(demo), len(rest))
	}
	p := &province{app: app, now: now, n: n, towns: append(slices.Clone(demo), rest...)}

	// SQLite's writer keeps 64 MiB of pages: past about a million persons the
	// indexes on random keys (the blind indexes, the public id) outgrow it and
	// every insert reads several pages back through a system call, 7 times
	// the cost a person of the first 50,000 (2026-12-06, issue 21). The
	// set-up writes with a cache that holds them, and gives the writer back
	// its own before the queries are measured.
	if d.Engine() == db.SQLite {
		var pages int64
		if err := d.Writer().QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&pages); err != nil {
			b.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `PRAGMA cache_size = -4194304`); err != nil {
			b.Fatal(err)
		}
		defer func() {
			if _, err := d.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, pages)); err != nil {
				b.Fatal(err)
			}
		}()
	}

	// Persons, 5,000 a call, as an import registers them; a transaction
	// each on PostgreSQL. On SQLite a transaction holds fifty calls: each
	// commit writes every page it dirtied to the WAL, and past a few million
	// persons an index on random keys (the blind indexes, the public id)
	// has a page dirtied per person in a transaction of 5,000, so the
	// set-up wrote a page per person and index (2026-12-06: over an hour
	// for 10M). In 250,000 the same pages take many persons each.
	nums := make([]int64, 0, n)
	const chunk = 5000
	perTx := 1
	if d.Engine() == db.SQLite {
		perTx = 50
	}
	for from := 0; from < n; from += chunk * perTx {
		err := d.InTx(ctx, func(tx db.Tx) error {
			for lo := from; lo < min(from+chunk*perTx, n); lo += chunk {
				cs := make([]person.Checked, 0, chunk)
				for i := lo; i < min(lo+chunk, n); i++ {
					r := benchResident(i)
					c, err := app.Persons.Check(admin, person.Input{Name: r.name, IDType: string(idnum.ResidentID), IDNumber: r.idNumber, Phone: r.phone, Region: townOf(i, demo, rest)})
					if err != nil {
						return fmt.Errorf("resident %d: %w", i, err)
					}
					cs = append(cs, c)
				}
				got, _, err := app.Persons.Ensure(ctx, tx, admin, cs)
				if err != nil {
					return err
				}
				nums = append(nums, got...)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	regionOf := func(i int) string { return townOf(i, demo, rest) }
	at := func(i, spread int) int64 { // a time in the last month, spread over the rows
		return month.UnixMilli() + int64(i)*(30*24*3600_000)/int64(max(spread, 1))
	}

	l := loader{b: b, ctx: ctx, d: d}
	// Colours: 5 % yellow, 1 % red, each with the fact that decided it.
	var colourNums []int
	l.rows("status", "person_num, region_code, color, rule_id, reason_zh, reason_en, advice_zh, advice_en, next_eval_at, version, rules_version, evaluated_at, updated_at",
		n, func(i int, add func(...any)) {
			c := colourOf(i)
			if c == rules.Green {
				return
			}
			colourNums = append(colourNums, i)
			add(nums[i], regionOf(i), int64(c), "bench", "基准", "bench", "居家", "stay home", nil, 0, 1, at(i, n), at(i, n))
		})
	factBase := l.counter("facts", len(colourNums))
	l.rows("facts", "person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by", len(colourNums), func(j int, add func(...any)) {
		i := colourNums[j]
		kind := "contact.close"
		if colourOf(i) == rules.Yellow {
			kind = "pharmacy.purchase"
		}
		add(nums[i], factBase+int64(j), kind, at(i, n), nil, "{}", "bench", nil, at(i, n), "system")
	})

	// Follow-up: a colour task per yellow or red resident (most visited, a
	// tenth escalated), companion tasks for 2 % of residents.
	tasks := len(colourNums) + n/50
	taskBase := l.counter("followup_tasks", tasks)
	l.rows("followup_tasks", "id, kind, person_num, region_code, run_id, case_num, exposure_at, status, operator_id, note, created_at, assigned_at, assigned_by, visited_at, visited_by, reason, advice, color, due_at, escalated_at, outcome",
		tasks, func(j int, add func(...any)) {
			i, kind, color := j*50%n, tracing.TaskCompanion, int64(rules.Yellow)
			if j < len(colourNums) {
				i, kind, color = colourNums[j], tracing.TaskColour, int64(colourOf(colourNums[j]))
			}
			created := at(j, tasks)
			status, op, assigned, visited := tracing.TaskVisited, any("op-grid"), any(created+3600_000), any(created+7200_000)
			switch j % 10 {
			case 0:
				status, op, assigned, visited = tracing.TaskOpen, nil, nil, nil
			case 1:
				status, visited = tracing.TaskAssigned, nil
			}
			var escalated any
			if j%10 == 0 && j%20 == 0 {
				escalated = created + 86400_000
			}
			var by any
			if op != nil {
				by = "operator:bench"
			}
			var vby any
			if visited != nil {
				vby = "operator:op-grid"
			}
			add(taskBase+int64(j), kind, nums[i], regionOf(i), "run-bench", int64(0), created, status, op, "", created,
				assigned, by, visited, vby, "基准", "居家", color, created+86400_000, escalated, "")
		})

	// Appeals: one resident in 200 appealed; a tenth still pending.
	appeals := n / 200
	l.rows("appeals", "id, person_num, region_code, account_id, reason, evidence, color, rule_id, state, auto, note, until_at, decided_by, decided_at, created_at",
		appeals, func(j int, add func(...any)) {
			i := j * 200
			state, decidedBy, decidedAt := "granted", "operator:bench", any(at(j, appeals)+3600_000)
			switch j % 10 {
			case 0:
				state, decidedBy, decidedAt = "pending", "", nil
			case 1, 2:
				state = "rejected"
			}
			add(fmt.Sprintf("appeal-%08d", j), nums[i], regionOf(i), "acct-bench", "误判", "[]", int64(rules.Yellow), "bench", state, false, "",
				nil, decidedBy, decidedAt, at(j, appeals))
		})

	// Venues (one per 100 residents), their tokens and places; checkpoints
	// (one per 5,000, at least 20).
	venues := max(n/100, 50)
	placeBase := l.counter("places", venues+max(n/5000, 20))
	l.rows("venues", "id, unit_id, name, kind, address, region_code, created_at, created_by, disabled", venues, func(j int, add func(...any)) {
		add(fmt.Sprintf("ven%07d", j), nil, fmt.Sprintf("场所 %d", j), "restaurant", "地址", p.towns[j%len(p.towns)], at(j, venues), "operator:bench", false)
	})
	l.rows("venue_tokens", "token, venue_id, created_at, revoked_at", venues, func(j int, add func(...any)) {
		add(fmt.Sprintf("tok%07d", j), fmt.Sprintf("ven%07d", j), at(j, venues), nil)
	})
	checkpoints := max(n/5000, 20)
	l.rows("places", "num, kind, ref, created_at", venues+checkpoints, func(j int, add func(...any)) {
		if j < venues {
			add(placeBase+int64(j), "venue", fmt.Sprintf("ven%07d", j), at(j, venues))
		} else {
			add(placeBase+int64(j), "checkpoint", fmt.Sprintf("cp%05d", j-venues), month.UnixMilli())
		}
	})
	l.rows("checkpoints", "id, seq, name, region_code, address, built, enabled, api_key_id, created_at, created_by", checkpoints, func(j int, add func(...any)) {
		add(fmt.Sprintf("cp%05d", j), int64(j+1), fmt.Sprintf("卡口 %d", j), p.towns[j%len(p.towns)], "道路", true, j%5 != 0, nil, month.UnixMilli(), "operator:bench")
	})
	p.venueOfTown = "ven0000000"

	// A month of presence: two check-ins and two verifications per resident.
	if err := app.Checkins.EnsureDays(ctx, month.Add(-24*time.Hour), now.Add(72*time.Hour)); err != nil {
		b.Fatal(err)
	}
	events := 2 * n
	l.rows("checkins", "place, at, person", events, func(j int, add func(...any)) {
		add(placeBase+int64(j%venues), at(j, events), nums[(j*7919)%n])
	})
	l.rows("verifications", "at, place, person, key_id, valid, reason, color, kind", events, func(j int, add func(...any)) {
		i := (j * 7919) % n
		add(at(j, events), placeBase+int64(venues+j%checkpoints), nums[i], "k1", true, "", int64(colourOf(i)), "dynamic")
	})

	// Codes shown per hour and town, the month long.
	hours := 30 * 24
	first := month.Truncate(time.Hour).UnixMilli()
	l.rows("code_shows", "hour, region_code, shows", hours*len(p.towns), func(j int, add func(...any)) {
		add(first+int64(j/len(p.towns))*3600_000, p.towns[j%len(p.towns)], int64(1+j%50))
	})
	l.rows("populations", "region_code, name, population, published_target, source", len(p.towns), func(j int, add func(...any)) {
		add(p.towns[j], app.Regions.FullName(p.towns[j]), int64(n/len(p.towns)+100), nil, "bench")
	})

	// The outbox: every resident's login code, and a notice per colour.
	msgs := n + len(colourNums)
	msgBase := l.counter("sms_outbox", msgs)
	l.rows("sms_outbox", "id, to_hash, to_enc, region_code, purpose, body, created_at, state, provider, attempts, next_at, expires_at, sent_at, done_at, report, last_error",
		msgs, func(j int, add func(...any)) {
			i, purpose, body := j, sms.KindLoginCode, "【健康码】验证码 123456，5分钟内有效。"
			if j >= n {
				i, purpose, body = colourNums[j-n], sms.KindColourChange, "【健康码】您的健康码已变为黄码。"
			}
			id := msgBase + int64(j)
			phone := benchResident(i).phone
			state := "delivered"
			if j%97 == 0 {
				state = "failed"
			}
			created := at(j, msgs)
			add(id, app.Keys.BlindIndex("phone", phone), app.Keys.SealString(phone, fmt.Sprintf("sms_outbox.to:%d", id)), regionOf(i), purpose, body,
				created, state, "outbox", int64(1), created, created+300_000, created+1000, created+2000, int64(1), "")
		})

	// Testing: one resident in ten swabbed in the last two days, ten to a
	// tube at one site; nine tubes in ten negative, the rest awaiting
	// their result. (A mass-testing round swabs everyone: "Not done".)
	sampled := n / 10
	tubes := (sampled + 9) / 10
	swabbed := func(t int) int64 { return now.Add(-47*time.Hour).UnixMilli() + int64(t)*(46*3600_000)/int64(tubes) }
	l.rows("nat_sites", "id, name, address, phone, hours, lat, lng, region_code, open, created_at, created_by, updated_at", 1, func(_ int, add func(...any)) {
		add("site-bench", "采样点", "地址", "0563-0000000", "8:00-18:00", 30.6, 118.9, demo[0], true, month.UnixMilli(), "operator:bench", month.UnixMilli())
	})
	l.rows("nat_tubes", "barcode, capacity, site_id, region_code, samples, opened_at, opened_by, sealed_at, sealed_by, result, result_version, result_at", tubes, func(t int, add func(...any)) {
		result, version, resultAt := any("negative"), int64(1), any(swabbed(t)+6*3600_000)
		if t%10 == 9 {
			result, version, resultAt = nil, int64(0), nil
		}
		add(fmt.Sprintf("T%09d", t), int64(10), "site-bench", demo[0], int64(10), swabbed(t), "operator:bench", swabbed(t)+600_000, "operator:bench",
			result, version, resultAt)
	})
	l.rows("nat_samples", "id, barcode, person_num, position, sampled_at, method, bound_by", sampled, func(j int, add func(...any)) {
		t := j / 10
		add(fmt.Sprintf("S%09d", j), fmt.Sprintf("T%09d", t), nums[(j*10+j%10)%n], int64(j%10+1), swabbed(t), "dynamic", "operator:bench")
	})

	// The audit log: one entry per two residents over the month (searches,
	// reads, decisions), chained as Append chains them.
	entries := n / 2
	var head int64
	var prev string
	if err := d.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head, &prev); err != nil {
		b.Fatal(err)
	}
	l.rows("audit_log", "seq, at, actor, action, subject, region_code, detail, prev_hash, hash", entries, func(j int, add func(...any)) {
		i := (j * 31) % n
		subject := "persons"
		if j%3 == 0 {
			subject = fmt.Sprintf("person:%d", nums[i])
		}
		sum := sha256.Sum256([]byte(prev + strconv.Itoa(j)))
		h := hex.EncodeToString(sum[:])
		add(head+int64(j+1), at(j, entries), "operator:bench", "person.read", subject, regionOf(i), "{}", prev, h)
		prev = h
	})
	if _, err := d.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, head+int64(entries), prev); err != nil {
		b.Fatal(err)
	}
	// Each tested resident's latest sampling times, as the testing service
	// keeps them while samples and results arrive (and migration 3800 first
	// filled them).
	if _, err := d.ExecContext(ctx, `INSERT INTO nat_tested (person_num, region_code, last_negative, last_pending)
		SELECT s.person_num, p.region_code, MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END),
			MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END)
		FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode JOIN persons p ON p.num = s.person_num
		GROUP BY s.person_num, p.region_code`); err != nil {
		b.Fatal(err)
	}
	// Their latest negatives per city and hour, as the testing service
	// keeps them beside (and migration 4756 first filled them).
	if _, err := d.ExecContext(ctx, `INSERT INTO nat_negative_hours (city_code, hour, n)
		SELECT substr(region_code, 1, 4), last_negative / 3600000 * 3600000, COUNT(*) FROM nat_tested WHERE last_negative IS NOT NULL
		GROUP BY substr(region_code, 1, 4), last_negative / 3600000 * 3600000`); err != nil {
		b.Fatal(err)
	}
	// The swabs per region, day and result, as the testing service keeps
	// them (by the days of Asia/Shanghai, as migration 3802 first filled them).
	if _, err := d.ExecContext(ctx, `INSERT INTO nat_swabs (region_code, day, result, swabs)
		SELECT t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000, COALESCE(t.result, ''), COUNT(*)
		FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		GROUP BY t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000, COALESCE(t.result, '')`); err != nil {
		b.Fatal(err)
	}
	// The registrations folded into the counts per region, as the server's
	// worker does every minute.
	if err := app.Persons.FoldCounts(ctx); err != nil {
		b.Fatal(err)
	}
	// The verifications folded into the counts per hour, as the server's
	// worker does.
	if err := app.Checkins.FoldVerifications(ctx); err != nil {
		b.Fatal(err)
	}
	// The colours folded into the counts per region, as the server's
	// worker does: the first fold counts the status rows.
	if err := app.Status.FoldColours(ctx); err != nil {
		b.Fatal(err)
	}
	// Statistics as a running deployment has them: PostgreSQL's autovacuum
	// analyses a table that grew. SQLite has none unless asked.
	if d.Engine() == db.Postgres {
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}

	town := demo[0]
	p.towns = slices.DeleteFunc(p.towns, func(t string) bool { return t == town })
	p.towns = append([]string{town}, p.towns...)
	for _, pick := range []struct {
		dst   *benchPerson
		match func(i int) bool
	}{
		{&p.townPerson, func(i int) bool { return regionOf(i) == town }},
		{&p.farPerson, func(i int) bool { return !strings.HasPrefix(regionOf(i), "341881") }},
	} {
		for i := n / 2; i < n; i++ {
			if pick.match(i) {
				*pick.dst = benchResident(i)
				ps, err := app.Persons.Search(ctx, admin, person.Query{IDNumber: pick.dst.idNumber})
				if err != nil || len(ps) != 1 {
					b.Fatalf("resident %d not found: %v", i, err)
				}
				pick.dst.id = ps[0].ID
				break
			}
		}
	}
	return p
}

// colourOf is resident i's colour: 1 in 100 red, 1 in 20 yellow.
func colourOf(i int) rules.Color {
	switch {
	case i%100 == 37:
		return rules.Red
	case i%20 == 3:
		return rules.Yellow
	}
	return rules.Green
}

// loader writes generated rows in multi-row INSERTs of 20,000 rows, a
// transaction each on PostgreSQL and of 500,000 rows on SQLite (for the
// pages of the indexes on random keys, as with the persons above).
type loader struct {
	b   *testing.B
	ctx context.Context
	d   *db.DB
}

func (l loader) rows(table, cols string, n int, gen func(i int, add func(...any))) {
	l.b.Helper()
	ncol := len(strings.Split(cols, ","))
	ins := db.Insert{Head: "INSERT INTO " + table + " (" + cols + ") VALUES ", Cols: ncol}
	rows := 20_000
	if l.d.Engine() == db.SQLite {
		rows = 500_000
	}
	args := make([]any, 0, rows*ncol)
	flush := func() {
		if len(args) == 0 {
			return
		}
		err := l.d.InTx(l.ctx, func(tx db.Tx) error {
			for lo := 0; lo < len(args); lo += 20_000 * ncol {
				if _, err := ins.Exec(l.ctx, tx, l.d.Engine(), args[lo:min(lo+20_000*ncol, len(args))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			l.b.Fatalf("load %s: %v", table, err)
		}
		args = args[:0]
	}
	add := func(v ...any) {
		if len(v) != ncol {
			l.b.Fatalf("load %s: %d values for %d columns", table, len(v), ncol)
		}
		args = append(args, v...)
	}
	for i := range n {
		gen(i, add)
		if len(args) >= rows*ncol {
			flush()
		}
	}
	flush()
}

// counter takes n numbers of the named counter and returns the first.
func (l loader) counter(name string, n int) int64 {
	var last int64
	err := l.d.InTx(l.ctx, func(tx db.Tx) error {
		var err error
		last, err = db.NextVal(l.ctx, tx, name, int64(n))
		return err
	})
	if err != nil {
		l.b.Fatal(err)
	}
	return last - int64(n) + 1
}

// operatorQuery is one list, search or count as the console or the API
// makes it, for one operator.
type operatorQuery struct {
	name string
	run  func(ctx context.Context, by *auth.Principal) error
}

func (p *province) queries() []operatorQuery {
	app := p.app
	dayAgo := p.now.Add(-24 * time.Hour)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		shanghai = time.FixedZone("CST", 8*3600)
	}
	// The dashboard's charts per hour start at the first of their 24
	// hours (web.hours): a whole hour, which the kept counts answer
	// without reading that hour's events.
	firstHour := p.now.In(shanghai).Truncate(time.Hour).Add(-23 * time.Hour)
	search := func(q person.Query) func(context.Context, *auth.Principal) error {
		return func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Persons.Search(ctx, by, q)
			return err
		}
	}
	return []operatorQuery{
		{"persons: by ID number", search(person.Query{IDNumber: p.townPerson.idNumber})},
		{"persons: by ID number, elsewhere", search(person.Query{IDNumber: p.farPerson.idNumber})},
		{"persons: by phone", search(person.Query{Phone: p.townPerson.phone})},
		{"persons: by name", search(person.Query{Name: p.townPerson.name})},
		{"persons: first page", search(person.Query{})},
		{"persons: page of the town", search(person.Query{Region: p.towns[0]})},
		{"person: one, with status", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Persons.Lookup(ctx, by, p.townPerson.id)
			return err
		}},
		{"tasks: all", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Tracing.Tasks(ctx, by, tracing.TaskFilter{})
			return err
		}},
		{"tasks: open", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Tracing.Tasks(ctx, by, tracing.TaskFilter{Status: tracing.TaskOpen})
			return err
		}},
		{"tasks: escalated colour", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Tracing.Tasks(ctx, by, tracing.TaskFilter{Kind: tracing.TaskColour, Escalated: true})
			return err
		}},
		{"tasks: of a grid worker", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Tracing.Tasks(ctx, by, tracing.TaskFilter{OperatorID: "op-grid", Status: tracing.TaskAssigned})
			return err
		}},
		{"appeals: pending", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Status.AppealQueue(ctx, by, "pending", 100)
			return err
		}},
		{"appeals: granted", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Status.AppealQueue(ctx, by, "granted", 100)
			return err
		}},
		{"audit: newest", func(ctx context.Context, by *auth.Principal) error {
			_, err := audit.ListFor(ctx, app.DB, by, audit.Filter{})
			return err
		}},
		{"audit: of a subject", func(ctx context.Context, by *auth.Principal) error {
			_, err := audit.ListFor(ctx, app.DB, by, audit.Filter{Subject: "tasks"})
			return err
		}},
		{"outbox: newest", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Outbox.ListFor(ctx, by, sms.Filter{})
			return err
		}},
		{"outbox: to a phone", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Outbox.ListFor(ctx, by, sms.Filter{To: p.townPerson.phone})
			return err
		}},
		{"outbox: failed", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Outbox.ListFor(ctx, by, sms.Filter{State: "failed"})
			return err
		}},
		{"venues", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Venues.List(ctx, by, 200)
			return err
		}},
		{"venue: check-ins per hour", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Checkins.Counts(ctx, by, p.venueOfTown, dayAgo, p.now)
			return err
		}},
		{"checkpoints", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Checkpoints.List(ctx, by)
			return err
		}},
		{"operators", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Auth.Operators(ctx, by)
			return err
		}},
		{"coverage: registration", func(ctx context.Context, by *auth.Principal) error {
			_, err := rollout.Compute(ctx, app.DB, app.Persons, by, 0.9)
			return err
		}},
		{"dashboard: colours per town", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Status.Stats(ctx, by)
			return err
		}},
		{"dashboard: codes shown per hour", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.Codes.ShowsPerHour(ctx, by, firstHour)
			return err
		}},
		{"dashboard: verifications per hour", func(ctx context.Context, by *auth.Principal) error {
			t, err := app.Checkpoints.List(ctx, by)
			if err != nil {
				return err
			}
			ids := make([]string, len(t.Checkpoints))
			for i, c := range t.Checkpoints {
				ids[i] = c.ID
			}
			_, err = app.Checkins.VerificationsPerHour(ctx, ids, firstHour)
			return err
		}},
		{"dashboard: swabs per day", func(ctx context.Context, by *auth.Principal) error {
			// The dashboard's fortnight: from the local midnight 13 days ago.
			y, m, d := p.now.In(shanghai).Date()
			_, err := app.NAT.SwabsPerDay(ctx, by, time.Date(y, m, d-13, 0, 0, 0, 0, shanghai))
			return err
		}},
		{"testing: untested residents", func(ctx context.Context, by *auth.Principal) error {
			_, err := app.NAT.Coverage(ctx, by, nat.CoverageQuery{Hours: 48, Limit: 50})
			return err
		}},
		{"testing: retest tasks", func(ctx context.Context, by *auth.Principal) error {
			_, _, err := app.NAT.Tasks(ctx, by, nat.ListQuery{Open: true, Limit: 50})
			return err
		}},
		{"testing: alerts", func(ctx context.Context, by *auth.Principal) error {
			_, _, err := app.NAT.Alerts(ctx, by, nat.ListQuery{Limit: 50})
			return err
		}},
	}
}

// measure runs every query runs times as each operator and fails naming
// those whose slowest run exceeded the budget.
func (p *province) measure(b *testing.B, runs int) {
	ctx := context.Background()
	operators := []*auth.Principal{
		{Kind: auth.Operator, ID: "bench-province", Name: "province", Role: auth.Admin, Region: "34"},
		{Kind: auth.Operator, ID: "bench-town", Name: "town", Role: auth.Admin, Region: p.towns[0]},
	}
	var lines []string
	for _, q := range p.queries() {
		for _, by := range operators {
			took := make([]time.Duration, runs)
			for r := range runs {
				start := time.Now()
				if err := q.run(ctx, by); err != nil {
					b.Fatalf("%s as %s: %v", q.name, by.Name, err)
				}
				took[r] = time.Since(start)
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			p50, worst := took[len(took)/2], took[len(took)-1]
			mark := ""
			if worst > queryBudget {
				mark = "  OVER"
				b.Errorf("%s as the %s operator: %v (p50 %v) is over %v", q.name, by.Name, worst.Round(time.Millisecond/10), p50.Round(time.Millisecond/10), queryBudget)
			}
			lines = append(lines, fmt.Sprintf("%-36s %-9s p50 %9.2f ms  max %9.2f ms%s", q.name, by.Name,
				float64(p50.Microseconds())/1000, float64(worst.Microseconds())/1000, mark))
		}
	}
	b.Logf("%d residents, %d runs each:\n%s", p.n, runs, strings.Join(lines, "\n"))
}
