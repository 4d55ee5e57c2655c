package trip_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/secret"
)

// A synthetic population for the trip benchmarks: residents who live in one
// of a few cities and check in a few times a day at a handful of regular
// places there (and now and then at one in another city), and whose phones
// the carrier sees in a city for a few hours to a couple of days at a time.
// Every draw is a hash of what it decides, so the rows can be generated in
// whatever order the engine stores them: by place on SQLite (the check-ins'
// clustered key), by day on PostgreSQL (the partitions).

// benchCities are the cities places and residents are spread over.
var benchCities = []string{"341881", "320102", "310115", "340102", "330203", "440305", "110105", "320505"}

const (
	homePlaces = 5    // regular places in the home city
	awayVisits = 0.05 // a day's chance of a check-in at the one regular place in another city
	benchDays  = 30
)

// tripCity sizes the population from the rows wanted.
type tripCity struct {
	residents int // person numbers 1..residents; phone i+1 is resident i+1's
	places    int // place numbers are 1..places (PlaceOf numbers them in order)
	checkins  int // about
	stays     int // exactly staysEach*residents
	staysEach int
	homeP     float64 // a regular home place's chance of a check-in on a day
	now       time.Time
	start     int64 // unix ms of the first day's midnight (UTC)
	keys      *secret.Keyring
	regulars  [][]int32 // by place index: the residents (index) who go there
}

func newTripCity(checkins, stays int, now time.Time, keys *secret.Keyring) *tripCity {
	c := &tripCity{residents: max(checkins/(2*benchDays), 100), now: now, keys: keys}
	c.places = max(checkins/2500, 4*len(benchCities))
	c.places -= c.places % len(benchCities)
	c.staysEach = max(stays/c.residents, 1)
	c.stays = c.staysEach * c.residents
	// Two check-ins a day on average: five home places and the away one.
	c.homeP = (2 - awayVisits) / homePlaces
	c.start = now.Add(-benchDays*24*time.Hour).UnixMilli() / 86400_000 * 86400_000
	c.regulars = make([][]int32, c.places)
	for r := range c.residents {
		for k := range homePlaces + 1 {
			p := c.regular(r, k)
			c.regulars[p] = append(c.regulars[p], int32(r))
		}
	}
	c.checkins = int(float64(c.residents*benchDays) * 2)
	return c
}

func mix(xs ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, x := range xs {
		h ^= x
		h += 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func (c *tripCity) home(r int) int { return int(mix(1, uint64(r)) % uint64(len(benchCities))) }

// regular is resident r's k-th regular place (index); the last is in
// another city. Places of city i are the indexes ≡ i (mod cities).
func (c *tripCity) regular(r, k int) int {
	n := len(benchCities)
	city := c.home(r)
	if k == homePlaces {
		city = (city + 1 + int(mix(2, uint64(r))%uint64(n-1))) % n
	}
	return city + n*int(mix(3, uint64(r), uint64(k))%uint64(c.places/n))
}

// visits appends the check-ins at place p on day d (sorted by time).
func (c *tripCity) visits(out []checkin.ImportRow, p, d int) []checkin.ImportRow {
	from := len(out)
	n := len(benchCities)
	for _, r := range c.regulars[p] {
		chance := c.homeP
		if p%n != c.home(int(r)) {
			chance = awayVisits
		}
		h := mix(4, uint64(p), uint64(d), uint64(r))
		if unit(h) >= chance {
			continue
		}
		// Between 07:00 and 22:00 Beijing time.
		at := c.start + int64(d)*86400_000 - 8*3600_000 + 7*3600_000 + int64(mix(5, h)%(15*3600_000))
		if at > c.now.UnixMilli() {
			continue
		}
		out = append(out, checkin.ImportRow{Place: int64(p + 1), At: at, Person: int64(r) + 1})
	}
	slices.SortFunc(out[from:], func(a, b checkin.ImportRow) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return int(a.Person - b.Person)
	})
	return out
}

func (c *tripCity) phone(r int) []byte {
	return c.keys.BlindIndex("phone", fmt.Sprintf("139%08d", r+1))
}

// staysOf are the carrier's stays of resident r's phone: staysEach of
// them spread over the days, most in the home city, from an hour to two
// days long.
func (c *tripCity) staysOf(r int, fn func(city string, first, last int64)) {
	slot := int64(benchDays) * 86400_000 / int64(c.staysEach)
	for k := range c.staysEach {
		h := mix(6, uint64(r), uint64(k))
		city := benchCities[c.home(r)]
		if unit(h) < 0.2 {
			city = benchCities[int(mix(7, h)%uint64(len(benchCities)))]
		}
		first := c.start + int64(k)*slot + int64(mix(8, h)%uint64(slot/2))
		length := 3600_000 + int64(mix(9, h)%uint64(min(slot, 48*3600_000)))
		fn(city[:4], first, first+length)
	}
}

// registerPlaces numbers the places 1..places in order.
func (c *tripCity) registerPlaces(ctx context.Context, tb testing.TB, ci *checkin.Service) {
	for p := range c.places {
		n, err := ci.PlaceOf(ctx, checkin.PlaceVenue, fmt.Sprintf("v%d", p))
		if err != nil {
			tb.Fatal(err)
		}
		if n != int64(p+1) {
			tb.Fatalf("place v%d numbered %d", p, n)
		}
	}
}

// stayIndexes are the stays' secondary indexes exactly as migrations 1800
// and 4701 create them: the fixture builds them after loading, which
// sorting does faster than inserting into three trees row by row.
func stayIndexes(e db.Engine) []struct{ name, def string } {
	city := `CREATE INDEX trip_stays_city ON trip_stays (city_code, last_seen, first_seen, phone_hash)`
	if e == db.Postgres {
		city = `CREATE INDEX trip_stays_city ON trip_stays (city_code, last_seen) INCLUDE (first_seen, phone_hash)`
	}
	return []struct{ name, def string }{
		{"trip_stays_phone", `CREATE INDEX trip_stays_phone ON trip_stays (phone_hash, last_seen)`},
		{"trip_stays_city", city},
		{"trip_stays_last", `CREATE INDEX trip_stays_last ON trip_stays (last_seen)`},
	}
}

// The check-ins' PostgreSQL secondary indexes as migration 0300 creates
// them (SQLite: checkin.BulkImport does the same for its own).
var checkinIndexesPG = []struct{ name, def string }{
	{"checkins_place", `CREATE INDEX checkins_place ON checkins (place, at, person)`},
	{"checkins_person", `CREATE INDEX checkins_person ON checkins (person, at, place)`},
}

func dropIndexes(ctx context.Context, tb testing.TB, d *db.DB, ixs []struct{ name, def string }) {
	for _, ix := range ixs {
		if _, err := d.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			tb.Fatal(err)
		}
	}
}

func createIndexes(ctx context.Context, tb testing.TB, d *db.DB, ixs []struct{ name, def string }) {
	for _, ix := range ixs {
		if _, err := d.ExecContext(ctx, ix.def); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// load writes the check-ins and the carrier's stays.
func (c *tripCity) load(ctx context.Context, tb testing.TB, d *db.DB, ci *checkin.Service) {
	c.registerPlaces(ctx, tb, ci)
	start := time.Now()
	if err := ci.EnsureDays(ctx, time.UnixMilli(c.start-86400_000), c.now); err != nil {
		tb.Fatal(err)
	}
	rows := 0
	if d.Engine() == db.SQLite {
		err := ci.BulkImport(ctx, func(add func([]checkin.ImportRow) error) error {
			batch := make([]checkin.ImportRow, 0, 1<<20)
			for p := range c.places {
				for day := range benchDays + 1 {
					batch = c.visits(batch, p, day)
				}
				if len(batch) >= 1<<20-50000 || p == c.places-1 {
					rows += len(batch)
					if err := add(batch); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	} else {
		dropIndexes(ctx, tb, d, checkinIndexesPG)
		var day []checkin.ImportRow
		for dd := range benchDays + 1 {
			day = day[:0]
			for p := range c.places {
				day = c.visits(day, p, dd)
			}
			rows += len(day)
			copyRows(ctx, tb, d, "checkins", []string{"place", "at", "person"}, len(day), func(i int) []any {
				return []any{day[i].Place, day[i].At, day[i].Person}
			})
		}
		createIndexes(ctx, tb, d, checkinIndexesPG)
	}
	c.checkins = rows
	tb.Logf("%d check-ins at %d places by %d residents in %v", rows, c.places, c.residents, time.Since(start).Round(time.Second))

	start = time.Now()
	dropIndexes(ctx, tb, d, stayIndexes(d.Engine()))
	const chunk = 1 << 18
	type stay struct {
		hash        []byte
		city        string
		first, last int64
	}
	buf := make([]stay, 0, chunk+c.staysEach)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if d.Engine() == db.Postgres {
			copyRows(ctx, tb, d, "trip_stays", []string{"phone_hash", "city_code", "first_seen", "last_seen", "source", "recorded_at"}, len(buf),
				func(i int) []any { s := buf[i]; return []any{s.hash, s.city, s.first, s.last, "carrier", s.first} })
		} else {
			const per = 500
			err := d.InTx(ctx, func(tx db.Tx) error {
				stmt, err := tx.PrepareContext(ctx, d.Engine().Positional(`INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at) VALUES `+db.Rows(0, per, 6)))
				if err != nil {
					return err
				}
				defer stmt.Close()
				args := make([]any, 0, 6*per)
				rest := buf
				for len(rest) >= per {
					args = args[:0]
					for _, s := range rest[:per] {
						args = append(args, s.hash, s.city, s.first, s.last, "carrier", s.first)
					}
					if _, err := stmt.ExecContext(ctx, args...); err != nil {
						return err
					}
					rest = rest[per:]
				}
				for _, s := range rest {
					if _, err := tx.ExecContext(ctx, `INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)`,
						s.hash, s.city, s.first, s.last, "carrier", s.first); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
		buf = buf[:0]
	}
	for r := range c.residents {
		h := c.phone(r)
		c.staysOf(r, func(city string, first, last int64) { buf = append(buf, stay{h, city, first, last}) })
		if len(buf) >= chunk {
			flush()
		}
	}
	flush()
	createIndexes(ctx, tb, d, stayIndexes(d.Engine()))
	tb.Logf("%d carrier stays in %v", c.stays, time.Since(start).Round(time.Second))
}

// copyRows streams n rows into a PostgreSQL table with COPY.
func copyRows(ctx context.Context, tb testing.TB, d *db.DB, table string, cols []string, n int, row func(i int) []any) {
	conn, err := d.Writer().Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		got, err := pc.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i >= n {
					return nil, nil
				}
				i++
				return row(i - 1), nil
			}
		}()))
		if err == nil && got != int64(n) {
			err = fmt.Errorf("copied %d of %d rows", got, n)
		}
		return err
	})
	if err != nil {
		tb.Fatalf("copy into %s: %v", table, err)
	}
}
