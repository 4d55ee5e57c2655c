package region

import (
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// readCSV reads a data file with encoding/csv, independently of the loader.
func readCSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open("data/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func TestTableMatchesCSV(t *testing.T) {
	tab := Default()
	total := 0
	for _, f := range []struct {
		name  string
		level Level
	}{{"provinces.csv", Province}, {"cities.csv", City}, {"areas.csv", County}, {"streets.csv", Street}} {
		rows := readCSV(t, f.name)
		total += len(rows)
		for _, row := range rows {
			r, ok := tab.Lookup(row[0])
			if !ok {
				t.Fatalf("%s: %s %s missing", f.name, row[0], row[1])
			}
			parent := ""
			if f.level != Province {
				parent = row[2]
			}
			if want := (Region{Code: row[0], Name: row[1], Level: f.level, Parent: parent}); r != want {
				t.Fatalf("%s: Lookup(%s) = %+v, want %+v", f.name, row[0], r, want)
			}
		}
	}
	if tab.Len() != total || total != 31+342+2978+41352 {
		t.Fatalf("table has %d regions, CSV files %d", tab.Len(), total)
	}
}

// TestPrefixInvariant is what Contains and Bounds rest on: walking up by
// Parent and cutting the code give the same chain, level by level.
func TestPrefixInvariant(t *testing.T) {
	tab := Default()
	prev := ""
	for r := range tab.All() {
		if r.Code <= prev {
			t.Fatalf("All is not in code order: %s after %s", r.Code, prev)
		}
		prev = r.Code
		if LevelOf(r.Code) != r.Level {
			t.Fatalf("%s has level %s", r.Code, r.Level)
		}
		if r.Level == Province {
			if r.Parent != "" {
				t.Fatalf("province %s has parent %s", r.Code, r.Parent)
			}
			continue
		}
		if !strings.HasPrefix(r.Code, r.Parent) {
			t.Fatalf("%s (%s) does not start with its parent's code %s", r.Code, r.Name, r.Parent)
		}
		p, ok := tab.Lookup(r.Parent)
		if !ok || p.Level != r.Level-1 {
			t.Fatalf("%s: parent %s missing or at level %s", r.Code, r.Parent, p.Level)
		}
		if !slices.Contains(tab.Children(r.Parent), r) {
			t.Fatalf("%s is not among its parent's children", r.Code)
		}
	}
}

func TestLookup(t *testing.T) {
	tab := Default()
	for code, want := range map[string]Region{
		"34":        {"34", "安徽省", Province, ""},
		"3418":      {"3418", "宣城市", City, "34"},
		"341881":    {"341881", "宁国市", County, "3418"},
		"341881001": {"341881001", "西津街道", Street, "341881"},
		"1101":      {"1101", "市辖区", City, "11"},
		"441900":    {"441900", "东莞市", County, "4419"},
	} {
		got, ok := tab.Lookup(code)
		if !ok || got != want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "3", "341", "341882999", "71", "81", "3418810010", "34188１"} {
		if r, ok := tab.Lookup(code); ok {
			t.Errorf("Lookup(%q) = %+v", code, r)
		}
	}
}

func TestChildren(t *testing.T) {
	tab := Default()
	provinces := tab.Children("")
	if len(provinces) != 31 || provinces[0].Code != "11" || provinces[30].Code != "65" {
		t.Fatalf("Children(\"\") = %d regions, from %v", len(provinces), provinces[:1])
	}

	var want []Region
	for _, row := range readCSV(t, "streets.csv") {
		if row[2] == "341881" {
			want = append(want, Region{Code: row[0], Name: row[1], Level: Street, Parent: "341881"})
		}
	}
	got := tab.Children("341881")
	if len(got) != 19 || !slices.Equal(got, want) {
		t.Fatalf("Children(341881) = %v\nwant the 19 streets of streets.csv: %v", got, want)
	}
	if !slices.IsSortedFunc(got, func(a, b Region) int { return strings.Compare(a.Code, b.Code) }) {
		t.Fatal("children are not sorted by code")
	}

	if n := len(tab.Children("3418")); n != 8 {
		t.Errorf("宣城市 has %d counties, want 8", n)
	}
	if c := tab.Children("341881001"); len(c) != 0 {
		t.Errorf("a street has children: %v", c)
	}
	if c := tab.Children("999999"); c != nil {
		t.Errorf("an unknown code has children: %v", c)
	}
	// The result is a copy: changing it does not change the table.
	got[0].Name = "changed"
	if r, _ := tab.Lookup(got[0].Code); r.Name == "changed" {
		t.Fatal("Children exposes the table's storage")
	}
}

func TestAncestorsAndFullName(t *testing.T) {
	tab := Default()
	var codes []string
	for _, a := range tab.Ancestors("341881001") {
		codes = append(codes, a.Code)
	}
	if !slices.Equal(codes, []string{"34", "3418", "341881"}) {
		t.Errorf("Ancestors(341881001) = %v", codes)
	}
	if a := tab.Ancestors("34"); a != nil {
		t.Errorf("Ancestors of a province = %v", a)
	}
	if a := tab.Ancestors("nope"); a != nil {
		t.Errorf("Ancestors of an unknown code = %v", a)
	}

	for code, want := range map[string]string{
		"341881001": "安徽省宣城市宁国市西津街道",
		"341881":    "安徽省宣城市宁国市",
		"34":        "安徽省",
		"110101":    "北京市东城区",
		"110101001": "北京市东城区东华门街道",
		"500229":    "重庆市城口县",
		"429004":    "湖北省仙桃市",
		"659001":    "新疆维吾尔自治区石河子市",
		"441900003": "广东省东莞市东城街道",
		"1101":      "北京市",
		"999999":    "",
	} {
		if got := tab.FullName(code); got != want {
			t.Errorf("FullName(%s) = %q, want %q", code, got, want)
		}
	}
}

func TestContains(t *testing.T) {
	tab := Default()
	tests := []struct {
		scope, code string
		want        bool
	}{
		{"", "34", true},
		{"", "341881001", true},
		{"34", "34", true},
		{"34", "3418", true},
		{"34", "341881", true},
		{"34", "341881001", true},
		{"3418", "341881001", true},
		{"341881", "341881001", true},
		{"341881001", "341881001", true},
		{"341881", "3418", false},      // parent is not inside the child
		{"341881", "341882", false},    // sibling
		{"341881", "341882001", false}, // sibling's street
		{"34", "35", false},
		{"35", "3418", false},
		{"", "999999", false},     // unknown code
		{"", "", false},           // the country is not a region
		{"3499", "349901", false}, // unknown scope
		{"34188", "341881", false},
		{"3418", "341881999", false}, // unknown code under a known scope
	}
	for _, tt := range tests {
		if got := tab.Contains(tt.scope, tt.code); got != tt.want {
			t.Errorf("Contains(%q, %q) = %v, want %v", tt.scope, tt.code, got, tt.want)
		}
	}
}

// checkBounds verifies that the range of scope holds exactly the codes
// Contains puts in it, over the whole table.
func checkBounds(t *testing.T, tab *Table, scope string) {
	t.Helper()
	lo, hi := tab.Bounds(scope)
	if !isDigits(lo) || !isDigits(hi) || lo >= hi {
		t.Fatalf("Bounds(%q) = %q, %q", scope, lo, hi)
	}
	for r := range tab.All() {
		in := lo <= r.Code && r.Code < hi
		if in != tab.Contains(scope, r.Code) {
			t.Fatalf("Bounds(%q) = [%s, %s): %s in range = %v, Contains = %v", scope, lo, hi, r.Code, in, !in)
		}
	}
}

func TestBounds(t *testing.T) {
	tab := Default()
	// Against Contains over the whole table: the country, every province,
	// and codes at each level including ones ending in 9 and 0.
	checkBounds(t, tab, "")
	for _, p := range tab.Children("") {
		checkBounds(t, tab, p.Code)
	}
	for _, code := range []string{"3418", "341881", "341881001", "341881400", "6590", "659001", "4190", "1101", "110119", "5002"} {
		checkBounds(t, tab, code)
	}

	// Every other scope, by counting: each code lies in the range of itself
	// and of each ancestor, and each range holds no more codes than that
	// subtree has. Together: the range is exactly the subtree.
	codes := make([]string, 0, tab.Len())
	size := map[string]int{}
	for r := range tab.All() {
		codes = append(codes, r.Code)
		for _, s := range append(tab.Ancestors(r.Code), r) {
			lo, hi := tab.Bounds(s.Code)
			if r.Code < lo || r.Code >= hi {
				t.Fatalf("%s is outside Bounds(%s) = [%s, %s)", r.Code, s.Code, lo, hi)
			}
			size[s.Code]++
		}
	}
	for _, scope := range codes {
		lo, hi := tab.Bounds(scope)
		i, _ := slices.BinarySearch(codes, lo)
		j, _ := slices.BinarySearch(codes, hi)
		if j-i != size[scope] {
			t.Fatalf("Bounds(%s) = [%s, %s) holds %d codes, the subtree %d", scope, lo, hi, j-i, size[scope])
		}
	}

	// Scopes ending in 9: the next code up must not become the bound.
	ext, err := tab.With(
		Region{Code: "3499", Name: "测试市"},
		Region{Code: "349999", Name: "测试县"},
		Region{Code: "349999999", Name: "测试镇"},
		Region{Code: "341899", Name: "测试区"},
	)
	if err != nil {
		t.Fatal(err)
	}
	for scope, want := range map[string][2]string{
		"3499":      {"3499", "35"},
		"349999":    {"349999", "35"},
		"349999999": {"349999999", "35"},
		"341899":    {"341899", "3419"},
		"3418":      {"3418", "3419"},
		"34":        {"34", "35"},
	} {
		lo, hi := ext.Bounds(scope)
		if lo != want[0] || hi != want[1] {
			t.Errorf("Bounds(%s) = %s, %s; want %s, %s", scope, lo, hi, want[0], want[1])
		}
		checkBounds(t, ext, scope)
	}
	if lo, hi := tab.Bounds("34x"); lo < hi {
		t.Errorf("Bounds of a malformed scope = [%s, %s), want an empty range", lo, hi)
	}
}

func TestValidate(t *testing.T) {
	tab := Default()
	for _, code := range []string{"34", "3418", "341881", "341881001"} {
		if err := tab.Validate(code); err != nil {
			t.Errorf("Validate(%s): %v", code, err)
		}
	}
	for _, code := range []string{"", "341881006", "99", "34188", "abc", "341881001 "} {
		if err := tab.Validate(code); !errors.Is(err, ErrUnknown) {
			t.Errorf("Validate(%q) = %v, want region_unknown", code, err)
		}
	}
}

func TestWith(t *testing.T) {
	base := Default()
	// 天湖街道 has no code in the published table; a deployment gives it one.
	tianhu := Region{Code: "341881006", Name: "天湖街道"}
	ext, err := base.With(tianhu)
	if err != nil {
		t.Fatal(err)
	}
	want := Region{Code: "341881006", Name: "天湖街道", Level: Street, Parent: "341881"}
	if r, ok := ext.Lookup("341881006"); !ok || r != want {
		t.Fatalf("Lookup in the extended table = %+v, %v", r, ok)
	}
	if n := len(ext.Children("341881")); n != 20 {
		t.Errorf("宁国市 has %d children after the addition, want 20", n)
	}
	if got := ext.FullName("341881006"); got != "安徽省宣城市宁国市天湖街道" {
		t.Errorf("FullName = %q", got)
	}
	if !ext.Contains("3418", "341881006") || base.Contains("3418", "341881006") {
		t.Error("Contains does not follow the extension, or the base table changed")
	}
	if _, ok := base.Lookup("341881006"); ok || len(base.Children("341881")) != 19 || base.Len() != ext.Len()-1 {
		t.Fatal("With changed the table it was called on")
	}

	// A new county and its street in one call, in either order.
	if _, err := base.With(Region{Code: "341881777001", Name: "x"}); !errors.Is(err, ErrFormat) {
		t.Errorf("12-digit code: %v", err)
	}
	both, err := base.With(Region{Code: "341899001", Name: "新镇"}, Region{Code: "341899", Name: "新区", Level: County, Parent: "3418"})
	if err != nil {
		t.Fatal(err)
	}
	if got := both.FullName("341899001"); got != "安徽省宣城市新区新镇" {
		t.Errorf("FullName = %q", got)
	}

	bad := []struct {
		name string
		r    Region
		want error
	}{
		{"unknown parent", Region{Code: "341899001", Name: "x"}, ErrParentUnknown},
		{"orphan county", Region{Code: "999901", Name: "x"}, ErrParentUnknown},
		{"province", Region{Code: "90", Name: "x"}, ErrFormat},
		{"malformed", Region{Code: "34188100A", Name: "x"}, ErrFormat},
		{"wrong length", Region{Code: "3418810", Name: "x"}, ErrFormat},
		{"level mismatch", Region{Code: "341881006", Name: "x", Level: County}, ErrFormat},
		{"parent mismatch", Region{Code: "341881006", Name: "x", Parent: "341882"}, ErrFormat},
		{"no name", Region{Code: "341881006", Name: "  "}, ErrFormat},
		{"clash", Region{Code: "341881001", Name: "西津街道"}, ErrExists},
	}
	for _, tt := range bad {
		_, err := base.With(tt.r)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: With(%+v) = %v, want %v", tt.name, tt.r, err, tt.want)
		}
	}
	if _, err := base.With(tianhu, tianhu); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate additions: %v", err)
	}
	// Extending an extension keeps both additions.
	ext2, err := ext.With(Region{Code: "341881007", Name: "另一街道"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ext2.Lookup("341881006"); !ok {
		t.Error("the first extension was lost")
	}
}

func TestLevelOf(t *testing.T) {
	for code, want := range map[string]Level{
		"34": Province, "3418": City, "341881": County, "341881001": Street,
		"": 0, "3": 0, "341": 0, "3418810": 0, "34188100": 0, "3418810011": 0, "3a": 0,
	} {
		if got := LevelOf(code); got != want {
			t.Errorf("LevelOf(%q) = %v, want %v", code, got, want)
		}
	}
	if Province.String() != "province" || Street.String() != "street" || Level(9).String() != "unknown" {
		t.Error("Level.String")
	}
}

func TestDefaultIsSharedAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	tables := make([]*Table, 8)
	for i := range tables {
		wg.Go(func() {
			tables[i] = Default()
			_ = tables[i].FullName("341881001")
		})
	}
	wg.Wait()
	for _, tab := range tables {
		if tab != tables[0] {
			t.Fatal("Default returned different tables")
		}
	}
}

func TestSplitRow(t *testing.T) {
	var f [5]string
	n, err := splitRow(`341881001,"西津街道",341881,34,3418`, f[:])
	if err != nil || n != 5 || f[1] != "西津街道" || f[4] != "3418" {
		t.Fatalf("splitRow = %d %q %v", n, f, err)
	}
	n, err = splitRow(`1,"a, b",`, f[:])
	if err != nil || n != 3 || f[1] != "a, b" || f[2] != "" {
		t.Fatalf("splitRow with comma in quotes = %d %q %v", n, f[:n], err)
	}
	for _, bad := range []string{`1,"a""b",2`, `1,"unterminated`, `1,a"b,2`, `1,2,3,4,5,6`} {
		if _, err := splitRow(bad, f[:]); err == nil {
			t.Errorf("splitRow(%q) accepted", bad)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	tab := Default()
	for b.Loop() {
		if _, ok := tab.Lookup("341881001"); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkFullName(b *testing.B) {
	tab := Default()
	for b.Loop() {
		_ = tab.FullName("341881001")
	}
}

func TestNewTableRefusesBrokenData(t *testing.T) {
	ok := []Region{
		{Code: "34", Name: "安徽省", Level: Province},
		{Code: "3418", Name: "宣城市", Level: City, Parent: "34"},
	}
	for _, tt := range []struct {
		name string
		r    Region
		want error
	}{
		{"parent is not the prefix", Region{Code: "341881", Name: "宁国市", Level: County, Parent: "3417"}, ErrFormat},
		{"parent missing", Region{Code: "341781", Name: "x", Level: County, Parent: "3417"}, ErrParentUnknown},
		{"skips a level", Region{Code: "341881001", Name: "x", Level: Street, Parent: "3418"}, ErrFormat},
		{"level does not match the code", Region{Code: "341881", Name: "x", Level: Street, Parent: "3418"}, ErrFormat},
		{"province with a parent", Region{Code: "35", Name: "x", Level: Province, Parent: "3"}, ErrFormat},
		{"no name", Region{Code: "341881", Level: County, Parent: "3418"}, ErrFormat},
		{"duplicate", Region{Code: "3418", Name: "again", Level: City, Parent: "34"}, ErrExists},
	} {
		_, err := newTable(append(slices.Clone(ok), tt.r))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: newTable = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := newTable(slices.Clone(ok)); err != nil {
		t.Fatal(err)
	}
}
