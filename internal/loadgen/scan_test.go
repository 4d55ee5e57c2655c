package loadgen

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every code is scanned once or twice, never more; the Rescan share twice,
// the second time later and at another checkpoint (or an organisation's
// other key, through the gateway).
func TestScanList(t *testing.T) {
	for _, c := range []struct {
		path   string
		rescan float64
	}{{PathVerify, 0}, {PathVerify, 0.3}, {PathVerify, 0.5}, {PathVerify, 1}, {PathScan, 0.5}} {
		rescan := c.rescan
		g := &gen{cfg: &Config{URL: "http://x", Rescan: rescan, Concurrency: 4},
			pop: &population{keys: []string{"k1", "k2", "k3"}, orgKeys: []string{"o1", "o2"}}}
		codes := make([]string, 1000)
		for i := range codes {
			codes[i] = fmt.Sprintf("JKM1:%04d", i)
		}
		scans := g.scanList(codes, c.path)
		for _, r := range scans {
			if want := map[string]string{PathVerify: "http://x/api/v1/verify", PathScan: "http://x/gateway/v1/scan"}[c.path]; r.url != want ||
				r.path != c.path || (c.path == PathScan) != strings.HasPrefix(r.token, "o") {
				t.Fatalf("%s: a scan to %s with %s", c.path, r.url, r.token)
			}
		}
		seen := map[string][]int{}
		keyOf := map[string]string{}
		for i, r := range scans {
			c := strings.TrimSuffix(codeOf(r.body), `\r\n`)
			seen[c] = append(seen[c], i)
			if len(seen[c]) == 2 && keyOf[c] == r.token {
				t.Fatalf("rescan %v: %s scanned twice at the same checkpoint", rescan, c)
			}
			keyOf[c] = r.token
		}
		twice := 0
		for _, c := range codes {
			switch n := len(seen[c]); n {
			case 1:
			case 2:
				twice++
				if seen[c][1]-seen[c][0] < 2 {
					t.Errorf("rescan %v: %s scanned again at once", rescan, c)
				}
			default:
				t.Fatalf("rescan %v: %s scanned %d times", rescan, c, n)
			}
		}
		if want := int(rescan * 1000); twice < want-1 || twice > want+1 {
			t.Errorf("rescan %v: %d of 1000 codes scanned twice", rescan, twice)
		}
		if len(scans) != 1000+twice {
			t.Errorf("rescan %v: %d scans", rescan, len(scans))
		}
	}
}

func TestSpread(t *testing.T) {
	got := spread([]string{"v", "v", "v", "v", "c", "c", "k"})
	count := map[string]int{}
	for _, x := range got {
		count[x]++
	}
	if len(got) != 7 || count["v"] != 4 || count["c"] != 2 || count["k"] != 1 {
		t.Fatalf("spread lost or made kinds: %v", got)
	}
	if got[0] == got[1] && got[1] == got[2] {
		t.Fatalf("not spread: %v", got)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1070; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 535}, {0.95, 1017}, {0.99, 1060}, {1, 1070}, {0.001, 2}, {0, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v of 1..1070 = %d, want %d", c.p*100, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("p99 of one = %d", got)
	}
}
