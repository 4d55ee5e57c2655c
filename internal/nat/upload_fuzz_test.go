package nat

import (
	"math"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/region"
)

// FuzzReadCSV: whatever bytes a lab or an operator uploads, the reader
// returns lines numbered as an editor shows them (rising, within the file)
// and a line either has fields or a reason, never both or neither.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"barcode,result\nNG1,阴性\n", "\xef\xbb\xbfh1,h2\r\n\r\na,b\n", "\"x\ny\n\xff,1\n", "a,\"b\"\"c\",d\n\n\n",
		"name,address,lat,lng\n核酸点,\"宁国市, 1号\",30.6,118.9\n", "\"", ",,,\n\t\"q\"\t,z",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines := readCSV(body)
		newlines := strings.Count(string(body), "\n")
		last := 0
		for _, ln := range lines {
			if ln.num <= last || ln.num > newlines+2 {
				t.Fatalf("line number %d after %d in a file of %d newlines", ln.num, last, newlines)
			}
			last = ln.num
			if (ln.err == nil) == (ln.fields == nil) {
				t.Fatalf("line %d: fields %q and error %v", ln.num, ln.fields, ln.err)
			}
		}
	})
}

// FuzzUploadLine: the two fields of a results upload are refused with a
// precise error or read into values that read back the same.
func FuzzUploadLine(f *testing.F) {
	for _, s := range [][2]string{{"NG20220401001", "阴性"}, {"ng-1", "positive"}, {"", ""}, {" NG1 ", "阳性"}, {"NG\u202e1", "neg"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, barcode, result string) {
		if b, err := ParseBarcode(barcode); err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("barcode %q: %v is not an error the lab can act on", barcode, err)
			}
		} else if again, err := ParseBarcode(b); err != nil || again != b {
			t.Fatalf("barcode %q read as %q, which reads as %q %v", barcode, b, again, err)
		}
		if w, err := ParseResult(result); err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("result %q: %v is not an error the lab can act on", result, err)
			}
		} else if again, err := ParseResult(w); err != nil || again != w {
			t.Fatalf("result %q read as %q, which reads as %q %v", result, w, again, err)
		}
	})
}

// FuzzSiteLine: a line of a sampling-site import becomes a site that
// passes the same checks as one entered by hand, or a precise refusal.
func FuzzSiteLine(f *testing.F) {
	for _, s := range []string{
		"核酸点,宁国市1号,0563-1234567,8:00-17:00,30.6,118.9,341881001,是",
		"a,b,,,NaN,118.9,,", "a,b,,,91,0,,", "x,y,,,1e308,-1e308,341881,关闭", "\"q\"\"\",\"\",,,0,0,,maybe",
	} {
		f.Add(s)
	}
	s := &Service{regions: region.Default(), cfg: Config{Region: "341881"}}
	head := []string{"name", "address", "phone", "hours", "lat", "lng", "region", "open"}
	cols := header(head, siteAliases)
	f.Fuzz(func(t *testing.T, line string) {
		fields, err := splitCSV(line)
		st, err := s.siteFromLine(csvLine{num: 2, fields: fields, err: err}, cols, len(head), "341881")
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("%q: %v is not an error the operator can act on", line, err)
			}
			return
		}
		if math.IsNaN(st.Lat) || math.IsNaN(st.Lng) || st.Lat < -90 || st.Lat > 90 || st.Lng < -180 || st.Lng > 180 ||
			st.Name == "" || st.Address == "" || s.regions.Validate(st.Region) != nil {
			t.Fatalf("%q accepted as %+v", line, st)
		}
	})
}
