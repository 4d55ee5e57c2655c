package clientaddr

import (
	"net/http/httptest"
	"testing"
)

func TestResolve(t *testing.T) {
	var p Proxies
	if err := p.Set("10.0.0.0/8, 192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer, xff, want string
	}{
		{"direct", "203.0.113.5:4000", "", "203.0.113.5"},
		{"an untrusted peer's header is ignored", "203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},
		{"behind a trusted proxy", "10.1.2.3:80", "198.51.100.1", "198.51.100.1"},
		{"a forged left-most entry is not believed", "10.1.2.3:80", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"two trusted hops", "192.0.2.7:80", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:80", "198.51.100.1, nonsense", "10.1.2.3"},
		{"IPv6 is its /64", "[2001:db8:1:2:aaaa::1]:443", "", "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:203.0.113.5]:443", "", "203.0.113.5"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := p.Resolve(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if err := p.Set("not an address"); err == nil {
		t.Error("a bad proxy accepted")
	}
}
