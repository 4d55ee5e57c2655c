package grid_test

import (
	"context"
	"errors"
	"fmt"
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
