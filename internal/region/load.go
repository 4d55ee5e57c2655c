package region

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// The CSV files are embedded as strings rather than through an embed.FS so
// that names can be substrings of the read-only data: loading 44k regions
// then allocates little beyond the index.
var (
	//go:embed data/provinces.csv
	provincesCSV string
	//go:embed data/cities.csv
	citiesCSV string
	//go:embed data/areas.csv
	areasCSV string
	//go:embed data/streets.csv
	streetsCSV string
)

func load() (*Table, error) {
	files := []struct {
		name  string
		data  string
		level Level
	}{
		{"provinces.csv", provincesCSV, Province},
		{"cities.csv", citiesCSV, City},
		{"areas.csv", areasCSV, County},
		{"streets.csv", streetsCSV, Street},
	}
	// Each file is sorted by code; merging them keeps the whole sorted
	// without the cost of a sort (half the load time otherwise).
	var rs []Region
	for _, f := range files {
		part, err := parseCSV(make([]Region, 0, strings.Count(f.data, "\n")), f.data, f.level)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if !slices.IsSortedFunc(part, byCode) {
			slices.SortFunc(part, byCode)
		}
		rs = merge(rs, part)
	}
	t, err := newTable(rs)
	if err != nil {
		return nil, fmt.Errorf("embedded region table: %w", err)
	}
	return t, nil
}

// parseCSV appends the rows of one file. Columns are code, name and then
// the parents' codes, the direct parent first (cities: provinceCode; areas:
// cityCode; streets: areaCode). The format is fixed and known, so a small
// reader that fails loudly on anything unexpected (a quote inside a name)
// beats encoding/csv, which copies every field.
func parseCSV(rs []Region, data string, level Level) ([]Region, error) {
	var fields [5]string
	header := true
	for line := range strings.Lines(data) {
		line = strings.TrimRight(line, "\r\n")
		if header {
			header = false
			continue
		}
		if line == "" {
			continue
		}
		nf, err := splitRow(line, fields[:])
		if err != nil {
			return nil, err
		}
		want := 3
		if level == Province {
			want = 2
		}
		if nf < want {
			return nil, fmt.Errorf("row %q: %d fields, want at least %d", line, nf, want)
		}
		r := Region{Code: fields[0], Name: fields[1], Level: level}
		if level != Province {
			r.Parent = fields[2]
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// splitRow splits one CSV row into fields (quoted or bare), returning how
// many it found.
func splitRow(line string, fields []string) (int, error) {
	n := 0
	for {
		if n == len(fields) {
			return 0, fmt.Errorf("row %q: more than %d fields", line, len(fields))
		}
		var f string
		if strings.HasPrefix(line, `"`) {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return 0, fmt.Errorf("row %q: unterminated quote", line)
			}
			f, line = line[1:1+end], line[2+end:]
			if line != "" && line[0] != ',' {
				return 0, fmt.Errorf("row %q: quote inside a field", line)
			}
		} else {
			end := strings.IndexByte(line, ',')
			if end < 0 {
				end = len(line)
			}
			f, line = line[:end], line[end:]
			if strings.Contains(f, `"`) {
				return 0, fmt.Errorf("row %q: quote inside a field", f)
			}
		}
		fields[n] = f
		n++
		if line == "" {
			return n, nil
		}
		line = line[1:] // the comma
	}
}
