package grid_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
)

var admin = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}

func newService(t testing.TB, d *db.DB) *grid.Service {
	t.Helper()
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	return grid.New(d, persons, region.Default(), nil, nil, nil)
}

// rid is a valid resident ID number of Ningguo, one per seq.
func rid(seq int) string {
	first17 := fmt.Sprintf("341881%s%03d", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, seq/1000).Format("20060102"), seq%1000)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// population is a residents list of n persons, 3 to a household, 50
// households to a grid, 10 grids to a community.
func population(n int) string {
	var b strings.Builder
	b.WriteString("town,community,grid,household,name,id_number\n")
	for i := range n {
		h := i / 3
		g := h / 50
		fmt.Fprintf(&b, "341881001,%03d,%03d,%d,居民%d,%s\n", g/10+1, g%10+1, h, i, rid(i))
	}
	return b.String()
}

func count(t testing.TB, d *db.DB, table string) int {
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A population list in GBK with a faulty line is imported, the faulty line
// reported; importing it again registers nobody and moves nobody.
func TestImportResidents(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(t, d)
		text := population(200) + "341881001,001,001,9,坏行,12345\n"
		file, err := simplifiedchinese.GBK.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		var seen []int64
		imp, err := s.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, []byte(file), func(i *grid.Import) { seen = append(seen, i.Done) })
		if err != nil {
			t.Fatal(err)
		}
		if imp.Encoding != "gbk" || imp.Good != 200 || imp.Bad != 1 || imp.Created != 200 || len(imp.Errors) != 1 || imp.Errors[0].Line != 202 {
			t.Fatalf("import: %+v", imp)
		}
		if len(seen) == 0 || seen[len(seen)-1] != 201 {
			t.Errorf("progress %v", seen)
		}
		if n := count(t, d, "grids"); n != 2 {
			t.Errorf("%d grids, want 2 (67 households)", n)
		}
		again, err := s.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, []byte(population(200)), nil)
		if err != nil || again.Created != 0 || again.Good != 200 || count(t, d, "persons") != 200 || count(t, d, "grid_members") != 200 {
			t.Fatalf("again: %+v %v", again, err)
		}
	})
}

// A file refused as a whole leaves nothing: no import recorded, nobody
// registered.
func TestImportRefusals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(t, d)
		viewer := &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer, Region: "341881"}
		worker := &auth.Principal{Kind: auth.Operator, ID: "g", Role: auth.GridWorker, Region: "341881001001001"}
		for _, tc := range []struct {
			name string
			by   *auth.Principal
			spec grid.Spec
			file string
			want error
		}{
			{"a viewer", viewer, grid.Spec{Kind: grid.Residents}, population(3), auth.ErrForbidden},
			{"a grid worker", worker, grid.Spec{Kind: grid.Residents}, population(3), auth.ErrForbidden},
			{"an unknown kind", admin, grid.Spec{Kind: "people"}, population(3), grid.ErrKindInvalid},
			{"an unknown source", admin, grid.Spec{Kind: grid.Cases, Source: "gossip"}, "id_number,at,case_id\n1,2,3\n", grid.ErrSourceInvalid},
			{"neither UTF-8 nor GBK", admin, grid.Spec{Kind: grid.Residents}, "town\n\xff\xff\xff\n", grid.ErrEncodingInvalid},
			{"no header", admin, grid.Spec{Kind: grid.Residents}, "341881001,001\n", grid.ErrHeaderInvalid},
			{"only a header", admin, grid.Spec{Kind: grid.Residents}, "town,community,grid,household,name,id_number\n", grid.ErrEmpty},
		} {
			if _, err := s.Import(ctx, tc.by, tc.spec, []byte(tc.file), nil); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if n := count(t, d, "imports") + count(t, d, "persons"); n != 0 {
			t.Errorf("refused files left %d rows", n)
		}
	})
}

// An import scoped to one town refuses lines of another, line by line.
func TestImportOutOfScope(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		town := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.HealthOfficer, Region: "341881002"}
		imp, err := s.Import(context.Background(), town, grid.Spec{Kind: grid.Residents}, []byte(population(2)), nil)
		if err != nil || imp.Good != 0 || imp.Bad != 2 || imp.Errors[0].Code != "out_of_scope" || count(t, d, "persons") != 0 {
			t.Fatalf("%+v %v", imp, err)
		}
	})
}

func FuzzImportResidents(f *testing.F) {
	f.Add([]byte(population(3)))
	f.Add([]byte("town,community,grid,household,name,id_number\n\"341881001\",\"0\"01,001,1,a,b\n"))
	f.Add([]byte("\xef\xbb\xbftown,community,grid,household,name,id_number\n\xb9\xfa,1,2,3,4,5\n"))
	d := dbtest.NewSQLite(f)
	s := newService(f, d)
	f.Fuzz(func(t *testing.T, file []byte) {
		imp, err := s.Import(context.Background(), admin, grid.Spec{Kind: grid.Residents}, file, nil)
		if err == nil && imp.Good+imp.Bad > imp.Lines {
			t.Fatalf("%d good and %d bad of %d lines", imp.Good, imp.Bad, imp.Lines)
		}
	})
}

// BenchmarkImportResidents imports a population list of b.N lines in one
// file; ns/op is per line (a million lines take 1e6 times that).
//
//	go test ./internal/grid -run XXX -bench ImportResidents -benchtime 20000x
func BenchmarkImportResidents(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			s := newService(b, dbtest.New(b, e))
			file := []byte(population(b.N))
			b.ResetTimer()
			imp, err := s.Import(context.Background(), admin, grid.Spec{Kind: grid.Residents}, file, nil)
			if err != nil || imp.Good != int64(b.N) {
				b.Fatalf("%+v %v", imp, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkImportPopulation registers a population by import, as a
// province loads its census: HEALTHCODE_BENCH_IMPORT_RESIDENTS residents
// (default 200,000) in files of HEALTHCODE_BENCH_IMPORT_FILE lines
// (default 100,000), one after another, over the county's towns. It
// reports the rate of the whole and of the first and the last file, and
// last/first, which falls below 1 if registering costs more as the
// population grows; the log has every file's rate.
//
//	HEALTHCODE_BENCH_IMPORT_RESIDENTS=10000000 HEALTHCODE_BENCH_IMPORT_FILE=500000 \
//	  go test ./internal/grid -run XXX -bench ImportPopulation/postgres -benchtime 1x -timeout 0
func BenchmarkImportPopulation(b *testing.B) {
	total := envInt(b, "HEALTHCODE_BENCH_IMPORT_RESIDENTS", 200_000)
	per := envInt(b, "HEALTHCODE_BENCH_IMPORT_FILE", 100_000)
	var towns []string
	for r := range region.Default().All() {
		if r.Level == region.Street && strings.HasPrefix(r.Code, "341881") {
			towns = append(towns, r.Code)
		}
	}
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.New(b, e)
			s := newService(b, d)
			ctx := context.Background()
			for b.Loop() {
				var rates []float64
				var lines []string
				began := time.Now()
				for from := 0; from < total; from += per {
					file := []byte(townPopulation(from, min(per, total-from), towns))
					start := time.Now()
					imp, err := s.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, file, nil)
					if err != nil || imp.Good != int64(min(per, total-from)) || imp.Bad != 0 {
						b.Fatalf("file from line %d: %+v %v", from, imp, err)
					}
					took := time.Since(start)
					rates = append(rates, float64(imp.Good)/took.Seconds())
					lines = append(lines, fmt.Sprintf("%10d residents  %7.0f lines/s  %v", from+int(imp.Good), rates[len(rates)-1], took.Round(time.Millisecond)))
					// A run of millions takes most of an hour: each file's
					// rate is printed as it ends, so a run stopped early
					// still says how far it got and how fast.
					fmt.Fprintf(os.Stderr, "%s %s  load %s\n", e, lines[len(lines)-1], loadAverage())
				}
				if got := count(b, d, "persons"); got != total {
					b.Fatalf("%d persons after importing %d", got, total)
				}
				b.ReportMetric(float64(total)/time.Since(began).Seconds(), "lines/s")
				b.ReportMetric(rates[0], "first-lines/s")
				b.ReportMetric(rates[len(rates)-1], "last-lines/s")
				b.ReportMetric(rates[len(rates)-1]/rates[0], "last/first")
				b.Logf("%s, files of %d lines:\n%s", e, per, strings.Join(lines, "\n"))
			}
		})
	}
}

// townPopulation is lines from to from+n of a population spread over the
// towns: 3 to a household, 50 households to a grid, 10 grids to a
// community, communities dealt to the towns in turn.
func townPopulation(from, n int, towns []string) string {
	var b strings.Builder
	b.WriteString("town,community,grid,household,name,id_number\n")
	for i := from; i < from+n; i++ {
		h := i / 3
		g := h / 50
		c := g / 10
		fmt.Fprintf(&b, "%s,%03d,%03d,%d,居民%d,%s\n", towns[c%len(towns)], c/len(towns)+1, g%10+1, h, i, rid(i))
	}
	return b.String()
}

// loadAverage is the machine's one-minute load average, beside a rate.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: a whole number, 1 or more", name, v)
	}
	return n
}

// residentLine is a line of a residents list: person seq in the household
// h of grid g of community 001.
func residentLine(seq, g int, h string) string {
	return fmt.Sprintf("341881001,001,%03d,%s,居民%d,%s\n", g, h, seq, rid(seq))
}

// TestImportsBesideEachOther runs two imports of the same residents at
// once, as two town offices uploading their lists would: each must take the
// rows of grids, households and members in the order the other does, or
// PostgreSQL ends one of them as a deadlock. On PostgreSQL the test holds
// rows both imports need until both wait for them, so that they meet: the
// first to get them then needs a row the other already took.
func TestImportsBesideEachOther(t *testing.T) {
	const n = 8
	cases := []struct {
		name   string
		before string // the list imported first, registering everyone
		a, b   string
		hold   string // locks the rows both wait for
		args   []any
		rounds int
	}{{
		// Each moves the residents to a grid of its own, one in the
		// residents' order and the other backwards.
		name: "residents listed in opposite orders",
		before: func() string {
			s := "town,community,grid,household,name,id_number\n"
			for i := range n {
				s += residentLine(i, 1, "1")
			}
			return s
		}(),
		a: func() string {
			s := "town,community,grid,household,name,id_number\n"
			for i := range n {
				s += residentLine(i, 2, "1")
			}
			return s
		}(),
		b: func() string {
			s := "town,community,grid,household,name,id_number\n"
			for i := n - 1; i >= 0; i-- {
				s += residentLine(i, 3, "1")
			}
			return s
		}(),
		hold:   `SELECT person_num FROM grid_members WHERE person_num = (SELECT MIN(person_num) FROM grid_members) FOR UPDATE`,
		rounds: 1,
	}, {
		// The same list twice, a resident in each of n grids: the grids go
		// in the order the import sets them out in, which must not be Go's
		// order of a map's keys, a different one each time. An import that
		// started elsewhere than the other holds the grids between, and
		// they meet when the other's walk reaches them: often enough, over
		// the rounds, to fail every time.
		name: "the same grids",
		before: func() string {
			s := "town,community,grid,household,name,id_number\n"
			for i := range n {
				s += residentLine(i, i+1, "1")
			}
			return s
		}(),
		hold:   `SELECT code FROM grids WHERE code = $1 FOR UPDATE`,
		args:   []any{fmt.Sprintf("341881001001%03d", n/2)},
		rounds: 12,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				s := newService(t, d)
				if imp, err := s.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, []byte(tc.before), nil); err != nil || imp.Status != grid.Done {
					t.Fatalf("first import: %+v %v", imp, err)
				}
				a, b := tc.a, tc.b
				if a == "" {
					a, b = tc.before, tc.before
				}
				for round := range tc.rounds {
					imps := make([]*grid.Import, 2)
					var imports []func() error
					for i, file := range []string{a, b} {
						imports = append(imports, func() error {
							var err error
							imps[i], err = s.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, []byte(file), nil)
							return err
						})
					}
					for i, err := range dbtest.Contend(t, d, tc.hold, tc.args, imports...) {
						if imp := imps[i]; err != nil || imp.Status != grid.Done || imp.Good != n || imp.Bad != 0 {
							t.Fatalf("round %d: %+v %v", round, imp, err)
						}
					}
				}
				if got := count(t, d, "grid_members"); got != n {
					t.Errorf("%d grid members, want %d", got, n)
				}
			})
		})
	}
}
